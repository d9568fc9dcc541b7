"""The pages of an application's sign-in (OpenID Connect): `/oauth/authorize` takes the
request, and `/oauth/authorize/{id}` carries it on — the account picker, the consent page —
until a code goes back to the application.

Every page on the way allows, in its Content-Security-Policy's `form-action`, the client's
redirect URI: Chromium checks the redirects that follow a form's POST against the policy of
the page that posted it, and the last POST (a sign-in's, a consent's) ends at the client.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from honnin.i18n import LOCALES, _
from honnin.oidc.provider import GONE, Ask, Outcome, Pick, Refused, SignIn, ToClient
from honnin.runtime import runtime_of
from honnin.web.browser import browser
from honnin.web.errors import error_page
from honnin.web.flows import start_sign_in
from honnin.web.pages import form_fields, page, signed_in, with_current
from honnin.web.security import allowing_form_target
from honnin.web.templating import page_locale

router = APIRouter(include_in_schema=False)


def _digests(request: Request) -> tuple[bytes, ...]:
    return runtime_of(request).sessions.device_digests(browser(request).device_token)


async def _answer(request: Request, outcome: Outcome) -> Response:
    if isinstance(outcome, ToClient):
        return RedirectResponse(outcome.location, status_code=303)
    if isinstance(outcome, Refused):
        locale = page_locale(request)
        reason = outcome.reason.render(locale)
        message = _("This sign-in request can't be used: {reason}", reason=reason)
        return error_page(request, 400, message.render(locale))
    if isinstance(outcome, SignIn):
        path = f"/oauth/authorize/{outcome.request_id}"
        response: Response = await start_sign_in(request, path, outcome.login_hint)
    elif isinstance(outcome, Pick):
        response = await page(
            request,
            "oidc/pick.html",
            app=outcome.client_name,
            path=f"/oauth/authorize/{outcome.request_id}",
        )
    else:
        assert isinstance(outcome, Ask)
        response = await page(
            request,
            "oidc/consent.html",
            app=outcome.client_name,
            scopes=[s for s in outcome.scopes if s != "openid"],
            chosen=outcome.session,
            path=f"/oauth/authorize/{outcome.request_id}",
        )
    return allowing_form_target(response, outcome.redirect_uri)


@router.get("/oauth/authorize")
async def authorize(request: Request) -> Response:
    who = browser(request)
    sessions, current = await signed_in(request, who)
    oidc = runtime_of(request).oidc
    digest = runtime_of(request).sessions.device_digest(who.device_token)
    items = list(request.query_params.multi_items())
    outcome = await oidc.start(items, digest, sessions, current)
    response = await _answer(request, outcome)
    # the application's wish for the language, unless the person chose one here
    wanted = [tag for tag in request.query_params.get("ui_locales", "").split() if tag in LOCALES]
    if wanted and request.cookies.get("lang") not in LOCALES:
        response.set_cookie("lang", wanted[0], max_age=365 * 86_400, samesite="lax", secure=True)
    return response


@router.get("/oauth/authorize/{request_id}")
async def resume(request: Request, request_id: str) -> Response:
    sessions, current = await signed_in(request, browser(request))
    outcome = await runtime_of(request).oidc.resume(
        request_id, _digests(request), sessions, current
    )
    return await _answer(request, outcome)


@router.post("/oauth/authorize/{request_id}")
async def decide(request: Request, request_id: str) -> Response:
    """The picker's choice (`session`, or `another`), or the consent page's answer."""
    fields = await form_fields(request)
    sessions, current = await signed_in(request, browser(request))
    oidc = runtime_of(request).oidc
    action = fields.get("action", "")
    if action == "another":  # sign in to another account for it
        described = await oidc.describe_request(request_id, _digests(request))
        if described is None:
            return await _answer(request, Refused(GONE))
        return await _answer(request, SignIn(uuid.UUID(request_id), None, described[1]))
    # the account the page showed (picked, or consenting): not whichever is current now
    chosen = next((s for s in sessions if str(s.id) == fields.get("session")), None)
    consent = {"allow": True, "deny": False}.get(action)
    outcome = await oidc.resume(
        request_id,
        _digests(request),
        sessions,
        current,
        chosen=chosen.id if chosen else None,
        consent=consent,
        origin=browser(request).binding.origin,
    )
    response = await _answer(request, outcome)
    if chosen is not None and action == "pick":
        with_current(request, response, str(chosen.id))
    return response
