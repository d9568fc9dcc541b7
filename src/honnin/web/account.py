"""The signed-in side: the account page, the account picker, signing out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from honnin.audit.agents import describe
from honnin.runtime import runtime_of
from honnin.sessions.service import SessionView
from honnin.web.browser import browser
from honnin.web.pages import (
    form_fields,
    page,
    redirect,
    signed_in,
    with_current,
    with_device,
)

router = APIRouter(include_in_schema=False)
R = TypeVar("R", bound=Response)


def _named(sessions: list[SessionView], session_id: str | None) -> SessionView | None:
    return next((s for s in sessions if str(s.id) == session_id), None)


@router.get("/account")
async def account(request: Request) -> Response:
    _sessions, current = await signed_in(request, browser(request))
    if current is None:
        return redirect("/signin")
    runtime = runtime_of(request)
    async with runtime.db.transaction(write=False) as tx:
        # a recovery waits: the limited mode shows none of the security info
        waiting = await runtime.security.recovery_waiting(tx, current.account_id)
        offer = waiting is None and await runtime.authenticators.passkey_offered(
            tx,
            current.account_id,
            current.method,
            available=runtime.flows.relying_party.available,
        )
    view = await runtime.accounts.show_own(current.account_id, fresh=current.fresh)
    apps = await runtime.oidc.consents(current.account_id)
    return await page(
        request, "account.html", account=view, recovery=waiting, offer_passkey=offer, apps=apps
    )


@router.post("/account/apps")
async def remove_app_access(request: Request) -> Response:
    """ "Remove access" of an application that can sign the person in (`client`)."""
    fields = await form_fields(request)
    _sessions, current = await signed_in(request, browser(request))
    if current is None:
        return redirect("/signin")
    origin = replace(browser(request).binding, agent=describe(request.headers.get("user-agent")))
    await runtime_of(request).oidc.withdraw(
        current.account_id, fields.get("client", ""), origin.origin
    )
    return redirect("/account")


@router.post("/account/passkey-offer")
async def decline_passkey_offer(request: Request) -> Response:
    """ "Not now" to the offer of a passkey: not offered again."""
    await form_fields(request)
    _sessions, current = await signed_in(request, browser(request))
    if current is None:
        return redirect("/signin")
    runtime = runtime_of(request)
    async with runtime.db.transaction() as tx:
        await runtime.authenticators.decline_passkey_offer(tx, current.account_id)
    return redirect("/account")


@router.post("/account/switch")
async def switch(request: Request) -> Response:
    fields = await form_fields(request)
    sessions, _current = await signed_in(request, browser(request))
    chosen = _named(sessions, fields.get("session"))
    if chosen is None:  # signed out meanwhile, in another tab
        return redirect("/account")
    return with_current(request, redirect("/account"), str(chosen.id))


@router.get("/signout")
async def confirm_sign_out(request: Request) -> Response:
    """Ask first, naming the account (`?session=`) or listing them all (`?scope=all`): a sign-out
    is one tap away from a switch, and works without JavaScript."""
    sessions, current = await signed_in(request, browser(request))
    if current is None:
        return redirect("/signin")
    if request.query_params.get("scope") == "all":
        return await page(request, "signout.html", chosen=None)
    chosen = _named(sessions, request.query_params.get("session") or str(current.id))
    if chosen is None:  # signed out meanwhile, in another tab
        return redirect("/account")
    return await page(request, "signout.html", chosen=chosen)


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """Sign out of the account the confirmation named (`session`; the current one without it),
    or of every account in this browser (`scope=all`)."""
    fields = await form_fields(request)
    who = browser(request)
    sessions, current = await signed_in(request, who)
    everyone = fields.get("scope") == "all"
    chosen = current
    if not everyone and "session" in fields:
        chosen = _named(sessions, fields["session"])
        if chosen is None:  # already signed out, in another tab
            return redirect("/account" if current else "/signin")
    signed_out = await sign_out_here(request, current, chosen, everyone=everyone)
    target = "/account" if signed_out.current else "/signin"
    return signed_out.applied(request, redirect(target))


@dataclass(frozen=True)
class SignedOut:
    """What a sign-out leaves in this browser: the account now current (another one still
    signed in), and a new device token after signing out of everyone."""

    current: uuid.UUID | None
    new_device: str | None

    def applied(self, request: Request, response: R) -> R:
        response = with_current(request, response, str(self.current) if self.current else None)
        return with_device(request, response, self.new_device)


async def sign_out_here(
    request: Request, current: SessionView | None, chosen: SessionView | None, *, everyone: bool
) -> SignedOut:
    """Sign out of one account in this browser (`chosen`), or of every account."""
    next_current, new_device = await runtime_of(request).sessions.sign_out(
        browser(request).device_token, chosen, everyone=everyone
    )
    if current is not None and chosen is not None and chosen.id != current.id:
        next_current = current.id  # signing out another account keeps the current one
    return SignedOut(next_current, new_device)
