"""The signed-in side: the account page, the account picker, signing out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from honnin.web.browser import browser
from honnin.web.pages import (
    form_fields,
    page,
    redirect,
    runtime_of,
    signed_in,
    with_current,
    with_device,
)

router = APIRouter(include_in_schema=False)


@router.get("/account")
async def account(request: Request) -> Response:
    _sessions, current = await signed_in(request, browser(request))
    if current is None:
        return redirect("/signin")
    view = await runtime_of(request).accounts.show_own(current.account_id)
    return await page(request, "account.html", account=view)


@router.post("/account/switch")
async def switch(request: Request) -> Response:
    fields = await form_fields(request)
    sessions, _current = await signed_in(request, browser(request))
    chosen = next((s for s in sessions if str(s.id) == fields.get("session")), None)
    if chosen is None:  # signed out meanwhile, in another tab
        return redirect("/account")
    return with_current(request, redirect("/account"), str(chosen.id))


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """Sign out of the current account (`scope=this`) or of every account in this browser."""
    fields = await form_fields(request)
    who = browser(request)
    _sessions, current = await signed_in(request, who)
    next_current, new_device = await runtime_of(request).sessions.sign_out(
        who.device_token, current, everyone=fields.get("scope") == "all"
    )
    target = "/account" if next_current else "/signin"
    response = with_current(request, redirect(target), str(next_current) if next_current else None)
    return with_device(request, response, new_device)
