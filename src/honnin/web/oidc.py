"""The pages of an application's sign-in (OpenID Connect): `/oauth/authorize` takes the
request, and `/oauth/authorize/{id}` carries it on — the account picker, the consent page —
until a code goes back to the application; and its sign-out, `/oauth/logout`.

Every page on the way allows, in its Content-Security-Policy's `form-action`, the client's
redirect URI: Chromium checks the redirects that follow a form's POST against the policy of
the page that posted it, and the last POST (a sign-in's, a consent's) ends at the client.
"""

from __future__ import annotations

import base64
import json

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from honnin.i18n import LOCALES, _
from honnin.oidc.provider import (
    GONE,
    LOGOUT_GONE,
    LOGOUT_PARAMS,
    Ask,
    Logout,
    Outcome,
    Pick,
    Refused,
    SignIn,
    ToClient,
)
from honnin.runtime import runtime_of
from honnin.web.account import sign_out_here
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
        return _refused(request, outcome)
    if isinstance(outcome, SignIn):
        path = f"/oauth/authorize/{outcome.request_id}"
        response: Response = await start_sign_in(
            request, path, outcome.login_hint, two_steps=outcome.two_steps
        )
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


def _in_wanted_language(request: Request, response: Response, ui_locales: str | None) -> Response:
    """The application's wish for the language (`ui_locales`), unless the person chose one
    here."""
    wanted = [tag for tag in (ui_locales or "").split() if tag in LOCALES]
    if wanted and request.cookies.get("lang") not in LOCALES:
        response.set_cookie("lang", wanted[0], max_age=365 * 86_400, samesite="lax", secure=True)
    return response


@router.get("/oauth/authorize")
async def authorize(request: Request) -> Response:
    who = browser(request)
    await runtime_of(request).codes.throttle.oidc_page(who.binding.requester)
    sessions, current = await signed_in(request, who)
    oidc = runtime_of(request).oidc
    digest = runtime_of(request).sessions.device_digest(who.device_token)
    items = _request_items(request)
    if items is None:
        return await _answer(request, Refused(GONE))
    outcome = await oidc.start(items, digest, sessions, current)
    response = await _answer(request, outcome)
    return _in_wanted_language(request, response, dict(items).get("ui_locales"))


@router.post("/oauth/authorize")
async def authorize_by_post(request: Request) -> Response:
    """An authorization request sent as a form POST (OpenID Connect Core §3.1.2.1): the same
    request as a GET (see `browser.CROSS_SITE_POSTS`)."""
    return await _as_get(request)


async def _as_get(request: Request) -> Response:
    """The posted request, sealed into its GET (`POSTED_PARAMETER`): an ID token or a name an
    application posted is not written in clear into the browser's history."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    runtime = runtime_of(request)
    until = runtime.clock.now().timestamp() + POSTED_SECONDS
    plain = json.dumps({"items": items, "until": until}).encode()
    sealed = runtime.keyring.seal(plain, f"{POSTED}:{request.url.path}")
    posted = base64.urlsafe_b64encode(sealed).decode().rstrip("=")
    return RedirectResponse(f"{request.url.path}?{POSTED_PARAMETER}={posted}", status_code=303)


def _request_items(request: Request) -> list[tuple[str, str]] | None:
    """A GET's parameters, or the ones a POST sealed into it (None: altered or expired)."""
    posted = request.query_params.get(POSTED_PARAMETER)
    if posted is None:
        return list(request.query_params.multi_items())
    runtime = runtime_of(request)
    try:
        sealed = base64.urlsafe_b64decode(posted + "=" * (-len(posted) % 4))
        found = json.loads(runtime.keyring.unseal(sealed, f"{POSTED}:{request.url.path}"))
    except (ValueError, InvalidTag):
        return None
    if found["until"] < runtime.clock.now().timestamp():
        return None
    return [(str(k), str(v)) for k, v in found["items"]]


# a posted request's parameters, sealed into its GET for this long (a redirect's time)
POSTED_SECONDS = 300
POSTED = "oidc-posted"
POSTED_PARAMETER = "honnin_posted"  # no OpenID Connect parameter's name


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
        return await _answer(request, await oidc.another_account(request_id, _digests(request)))
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


# -- RP-initiated logout


@router.get("/oauth/logout")
async def logout(request: Request) -> Response:
    """An application asks to sign the person out (OpenID Connect RP-Initiated Logout). With
    an ID token honnin issued (`id_token_hint`), the account it names is signed out of this
    browser at once; without one, the person confirms first (anyone can send a browser
    here)."""
    who = browser(request)
    await runtime_of(request).codes.throttle.oidc_page(who.binding.requester)
    items = _request_items(request)
    if items is None:
        return _refused(request, Refused(LOGOUT_GONE), sign_out=True)
    params = [(k, v) for k, v in items if k in LOGOUT_PARAMS]
    checked = await runtime_of(request).oidc.end_session(params)
    response = await _logged_out(request, checked, params)
    return _in_wanted_language(request, response, dict(params).get("ui_locales"))


@router.post("/oauth/logout")
async def logout_by_post(request: Request) -> Response:
    """A logout request sent as a form POST (allowed by RP-Initiated Logout §2): the same
    request as a GET, where the browser's cookies come with it (`browser.CROSS_SITE_POSTS`).
    No CSRF token: the application's page sends it, as it may send a GET."""
    return await _as_get(request)


@router.post("/oauth/logout/confirm")
async def confirm_logout(request: Request) -> Response:
    """The person confirmed: every account in this browser is signed out."""
    fields = await form_fields(request)
    params = [(k, fields[k]) for k in LOGOUT_PARAMS if k in fields]
    checked = await runtime_of(request).oidc.end_session(params)
    return await _logged_out(request, checked, params, confirmed=True)


async def _logged_out(
    request: Request,
    checked: Logout | Refused,
    params: list[tuple[str, str]],
    *,
    confirmed: bool = False,
) -> Response:
    if isinstance(checked, Refused):
        return _refused(request, checked, sign_out=True)
    sessions, current = await signed_in(request, browser(request))
    named = next((s for s in sessions if checked.hinted and s.id == checked.sid), None)
    if named is not None:  # the session the ID token was given in: no question
        signed_out = await sign_out_here(request, current, named, everyone=False)
        return signed_out.applied(request, await _after_logout(request, checked))
    if checked.hinted and all(s.account_id != checked.account_id for s in sessions):
        return await _after_logout(request, checked)  # signed out already: nothing to end
    if sessions and not confirmed:
        # no ID token, or one of an earlier sign-in of the account: the person says
        kept = [(k, v) for k, v in params if k not in ("id_token_hint", "client_id")]
        client = [("client_id", checked.client_id)] if checked.client_id else []
        response = await page(
            request, "oidc/logout.html", app=checked.client_name, params=[*kept, *client]
        )
        return allowing_form_target(response, checked.redirect_uri)
    signed_out = await sign_out_here(request, current, None, everyone=True)
    return signed_out.applied(request, await _after_logout(request, checked))


def _refused(request: Request, refused: Refused, *, sign_out: bool = False) -> Response:
    """The page of a request that can't be answered at the application (never followed)."""
    reason = refused.reason
    message = (
        _("This sign-out request can't be used: {reason}", reason=reason)
        if sign_out
        else _("This sign-in request can't be used: {reason}", reason=reason)
    )
    return error_page(request, 400, message.render(page_locale(request)))


async def _after_logout(request: Request, checked: Logout) -> Response:
    """Back to the application's registered post-logout URI, or our page that says so."""
    if checked.redirect_uri:
        return RedirectResponse(checked.redirect_uri, status_code=303)
    return await page(request, "oidc/signed_out.html")
