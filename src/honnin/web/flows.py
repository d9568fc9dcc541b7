"""Sign-in and sign-up pages: each renders its flow's state and posts actions to it.

After a successful action the browser is redirected to the flow's page (post/redirect/get),
so reloading never repeats an action; an error is shown on the same page, in place.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from honnin.audit.agents import describe
from honnin.codes.service import code_burned, code_expired
from honnin.courier.reasons import reason_text
from honnin.errors import HonninError
from honnin.flows.errors import FlowExpired, FlowNotFound
from honnin.flows.service import ActionResult, Binding
from honnin.flows.views import FlowView
from honnin.flows.ways import BY_CHANNEL
from honnin.http.status import STATUS_BY_ERROR, headers_of, status_of
from honnin.i18n import LazyText, _
from honnin.localtime import TZ_COOKIE
from honnin.runtime import runtime_of
from honnin.web.browser import browser
from honnin.web.fielderrors import FieldErrors
from honnin.web.pages import page, redirect, signed_in, with_current, with_device
from honnin.web.security import allowing_form_target
from honnin.web.templating import page_locale

router = APIRouter(include_in_schema=False)

PATHS = {
    "sign_in": "/signin",
    "sign_up": "/signup",
    "settings": "/account/security",
    "password_reset": "/password/reset",
    "recovery": "/recovery",
}
RESET_PAGES = ("identifier", "ways", "new_password", "done")  # the rest: the sign-in's
RECOVERY_PAGES = ("identifier", "password", "new_way", "confirm", "started")
# states that share a page with another
TEMPLATES = {"second_password": "password", "verify_code": "code"}
# what to tell the person after an action (shown once, on the page it leads to)
NOTICES = {"resend": "resent"}


async def _binding(request: Request, kind: str) -> Binding:
    """This browser, where the request came from, and — for a signed-in kind of flow (the
    security info page) — the current account's session."""
    binding = replace(browser(request).binding, agent=describe(request.headers.get("user-agent")))
    if kind == "settings":
        _sessions, current = await signed_in(request, browser(request))
        binding = replace(binding, session=current)
    return binding


async def _start(request: Request, kind: str) -> Response:
    binding = await _binding(request, kind)
    if kind == "settings" and binding.session is None:
        return redirect("/signin")
    view = await runtime_of(request).flows.create(kind, binding, page_locale(request))
    return redirect(f"{PATHS[kind]}/{view.id}")


async def start_sign_in(
    request: Request, return_to: str, login_hint: str | None, *, two_steps: bool = False
) -> Response:
    """A sign-in for an application's request: its pages come back to `return_to` once it
    completes, it starts from the name the application gave, and it takes two steps if the
    application asked."""
    binding = await _binding(request, "sign_in")
    view = await runtime_of(request).flows.create(
        "sign_in",
        binding,
        page_locale(request),
        return_to=return_to,
        login_hint=login_hint,
        two_steps=two_steps,
    )
    return redirect(f"{PATHS['sign_in']}/{view.id}")


def _after(view: FlowView) -> str:
    """Where a completed flow's pages go: the application waiting for it, or the account."""
    return view.return_to or "/account"


async def _continuing_to(request: Request, view: FlowView) -> tuple[str, str] | None:
    """The application a flow signs in for (its name, its redirect URI), if any."""
    return await _application_waiting(request, view.return_to)


async def _application_waiting(request: Request, path: str | None) -> tuple[str, str] | None:
    """The application whose sign-in waits at `path` in this browser (its name, its redirect
    URI); None for any other path."""
    if not path or not path.startswith("/oauth/authorize/"):
        return None
    runtime = runtime_of(request)
    digests = runtime.sessions.device_digests(browser(request).device_token)
    return await runtime.oidc.describe_request(path.rsplit("/", 1)[1], digests)


async def _show(request: Request, kind: str, flow_id: str) -> Response:
    try:
        binding = await _binding(request, kind)
        view = await runtime_of(request).flows.get(flow_id, binding, kind=kind)
    except (FlowNotFound, FlowExpired) as error:
        return await _gone(request, kind, error)
    if view.done and view.kind != "password_reset":
        return redirect(_after(view))
    return await _render(request, view, notice=request.query_params.get("notice"))


async def _act(request: Request, kind: str, flow_id: str) -> Response:
    who = browser(request)
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    flows = runtime_of(request).flows
    binding = await _binding(request, kind)
    try:
        who.check_csrf(fields.pop("csrf", None))
        action = fields.pop("action", "")
        # the zone the browser says it is in
        if action in ("submit_details", "set_time_zone", "start_recovery"):
            fields["time_zone"] = request.cookies.get(TZ_COOKIE, "")
        outcome = await flows.act(
            flow_id, binding, action, fields, locale=page_locale(request), kind=kind
        )
    except (FlowNotFound, FlowExpired) as error:
        return await _gone(request, kind, error)
    except HonninError as error:  # refused before anything was written
        try:
            view = await flows.get(flow_id, binding, kind=kind)
        except (FlowNotFound, FlowExpired) as gone:
            return await _gone(request, kind, gone)
        return await _render(request, view, error=error, fields=fields)
    if outcome.error is not None:
        return await _render(request, outcome.view, error=outcome.error, fields=fields)
    if outcome.recovery_code is not None:  # shown in this response only, never again
        return await _recovery_code(request, outcome)
    if outcome.view.state == "closed":  # its session ended with it: shown now, not after
        return with_current(request, await _render(request, outcome.view), None)
    if outcome.view.done and kind != "password_reset":
        # signed in with one of its ways while a recovery waits: where it can be canceled
        waiting = outcome.view.notice == "recovery_waiting"
        target = "/account/security" if waiting else _after(outcome.view)
        response = with_current(request, redirect(target), str(outcome.view.session_id))
        return with_device(request, response, outcome.device_token)
    notice = NOTICES.get(action)
    return redirect(f"{PATHS[kind]}/{flow_id}" + (f"?notice={notice}" if notice else ""))


async def _render(
    request: Request,
    view: FlowView,
    *,
    error: HonninError | None = None,
    notice: str | None = None,
    fields: dict[str, str] | None = None,
) -> Response:
    if view.done and view.kind != "password_reset":  # an old tab: go where it led
        return redirect(_after(view))
    locale = page_locale(request)
    status = status_of(error) if error else 200
    message = error.message.render(locale) if error else None
    continuing = await _continuing_to(request, view)
    if fields is None and view.login_hint and view.state == "identifier":
        fields = {"name": view.login_hint}
    response = await page(
        request,
        _template(view),
        status_code=status,
        flow=view,
        path=f"{PATHS[view.kind]}/{view.id}",
        error=message,
        error_code=error.code if error else None,
        errors=FieldErrors(error.code if error else None, message),
        notice=notice,
        fields={k: v for k, v in (fields or {}).items() if k in ("name", "email", "address")},
        security=view.security,
        sender=runtime_of(request).settings.mail_from_address,
        resend_in=_seconds_until(request, view.code.resend_available_at) if view.code else 0,
        code_way=BY_CHANNEL[view.code.channel].name if view.code else "email_code",
        call_in=_seconds_until(request, view.code.call_offer_at)
        if view.code and view.code.call_offer_at and "resend" in view.actions
        else None,
        delivery_reason=reason_text(view.code.delivery.reason or "").render(locale)
        if view.code and view.code.delivery
        else "",
        code_state=_code_state(view).render(locale) if view.code and not view.code.usable else "",
        continuing_to=continuing[0] if continuing else None,
    )
    response.headers.update((headers_of(error) if error else None) or {})
    return allowing_form_target(response, continuing[1] if continuing else None)


async def _recovery_code(request: Request, outcome: ActionResult) -> Response:
    """A new recovery code, on the page that answers the action (no redirect: the code is
    kept nowhere to show it again); then on to where the flow leads."""
    view = outcome.view
    following = "/account" if view.done else f"{PATHS[view.kind]}/{view.id}"
    response = await page(
        request, "recovery_code.html", code=outcome.recovery_code, next=following, flow=view
    )
    response.headers["Cache-Control"] = "no-store"
    if view.done:
        with_current(request, response, str(view.session_id))
        with_device(request, response, outcome.device_token)
    return response


def _template(view: FlowView) -> str:
    if view.kind == "settings":  # its code steps look like any other's
        if view.state in ("verify_code", "add_code"):
            return "flows/code.html"
        if view.state in ("verify_app", "verify_passkey"):
            return f"flows/{view.state}.html"
        return f"flows/settings/{view.state}.html"
    if view.kind == "password_reset" and view.state in RESET_PAGES:
        return f"flows/password_reset/{view.state}.html"
    if view.kind == "recovery" and view.state in RECOVERY_PAGES:
        return f"flows/recovery/{view.state}.html"
    if view.kind == "recovery" and view.state == "new_code":
        return "flows/code.html"
    if view.kind in ("sign_in", "recovery") and view.state == "new_password":
        return "flows/password_reset/new_password.html"  # after "this wasn't me"
    return f"flows/{TEMPLATES.get(view.state, view.state)}.html"


def _code_state(view: FlowView) -> LazyText:
    """Why the code on the page can no longer be entered."""
    return code_burned() if view.code and view.code.burned else code_expired()


def _seconds_until(request: Request, moment: datetime) -> int:
    now = runtime_of(request).clock.now()
    return max(0, math.ceil((moment - now).total_seconds()))


# a flow that can't go on: a heading and what happened ("Start again" is the button's)
GONE: dict[str, tuple[LazyText, LazyText]] = {
    FlowExpired.code: (
        _("This page has expired"),
        _("For your security, these pages work for a limited time. Your account is unchanged."),
    ),
    FlowNotFound.code: (
        _("This page isn't available"),
        _("It belongs to a sign-in or sign-up started in another browser, or one that ended."),
    ),
}


async def _gone(request: Request, kind: str, error: HonninError) -> HTMLResponse:
    locale = page_locale(request)
    heading, message = GONE[error.code]
    return await page(
        request,
        "flows/gone.html",
        status_code=STATUS_BY_ERROR[error.code],
        heading=heading.render(locale),
        message=message.render(locale),
        restart=PATHS[kind],
    )


@router.get("/signin")
async def sign_in(request: Request) -> Response:
    return await _start(request, "sign_in")


@router.get("/signup")
async def sign_up(request: Request) -> Response:
    """A new account; with `continue`, for the application whose sign-in waits there (the
    link on its sign-in page): the new account goes on to it."""
    waiting = request.query_params.get("continue")
    if await _application_waiting(request, waiting) is None:
        return await _start(request, "sign_up")
    binding = await _binding(request, "sign_up")
    view = await runtime_of(request).flows.create(
        "sign_up", binding, page_locale(request), return_to=waiting
    )
    return redirect(f"{PATHS['sign_up']}/{view.id}")


@router.get("/account/security")
async def security_info(request: Request) -> Response:
    return await _start(request, "settings")


@router.post("/account/security/passkey")
async def add_passkey_now(request: Request) -> Response:
    """ "Add a passkey", offered after a sign-in by a code: the security info's flow, at the
    passkey's creation (or first "verify your identity", if the session needs it)."""
    who = browser(request)
    form = await request.form()
    who.check_csrf(str(form.get("csrf") or ""))
    binding = await _binding(request, "settings")
    if binding.session is None:
        return redirect("/signin")
    flows = runtime_of(request).flows
    view = await flows.create("settings", binding, page_locale(request))
    await flows.act(str(view.id), binding, "add_passkey", {}, locale=page_locale(request))
    return redirect(f"{PATHS['settings']}/{view.id}")


@router.get("/account/security/{flow_id}")
async def show_security_info(request: Request, flow_id: str) -> Response:
    return await _show(request, "settings", flow_id)


@router.post("/account/security/{flow_id}")
async def act_on_security_info(request: Request, flow_id: str) -> Response:
    return await _act(request, "settings", flow_id)


@router.get("/recovery")
async def recovery(request: Request) -> Response:
    return await _start(request, "recovery")


@router.get("/recovery/{flow_id}")
async def show_recovery(request: Request, flow_id: str) -> Response:
    return await _show(request, "recovery", flow_id)


@router.post("/recovery/{flow_id}")
async def act_on_recovery(request: Request, flow_id: str) -> Response:
    return await _act(request, "recovery", flow_id)


@router.get("/password/reset")
async def password_reset(request: Request) -> Response:
    return await _start(request, "password_reset")


@router.get("/password/reset/{flow_id}")
async def show_password_reset(request: Request, flow_id: str) -> Response:
    return await _show(request, "password_reset", flow_id)


@router.post("/password/reset/{flow_id}")
async def act_on_password_reset(request: Request, flow_id: str) -> Response:
    return await _act(request, "password_reset", flow_id)


@router.get("/signin/{flow_id}")
async def show_sign_in(request: Request, flow_id: str) -> Response:
    return await _show(request, "sign_in", flow_id)


@router.get("/signup/{flow_id}")
async def show_sign_up(request: Request, flow_id: str) -> Response:
    return await _show(request, "sign_up", flow_id)


@router.post("/signin/{flow_id}")
async def act_sign_in(request: Request, flow_id: str) -> Response:
    return await _act(request, "sign_in", flow_id)


@router.post("/signup/{flow_id}")
async def act_sign_up(request: Request, flow_id: str) -> Response:
    return await _act(request, "sign_up", flow_id)
