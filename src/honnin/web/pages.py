"""Rendering a page with what every page needs: the browser, its accounts, the CSRF token."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from honnin.runtime import runtime_of
from honnin.sessions.service import SessionView
from honnin.web.browser import (
    DEVICE_MAX_AGE,
    Browser,
    browser,
    cookie_names,
    set_cookie_header,
)
from honnin.web.templating import render

R = TypeVar("R", bound=Response)


async def signed_in(request: Request, who: Browser) -> tuple[list[SessionView], SessionView | None]:
    """The accounts signed in in this browser, and the current one."""
    service = runtime_of(request).sessions
    sessions = await service.for_device(who.device_token)
    current = next((s for s in sessions if s.id == who.current), None)
    if current is None and sessions:
        current = sessions[-1]  # the newest sign-in
    if current is not None and current.last_seen_at is not None:
        await service.touch(current.id, current.last_seen_at)  # its "last active" time
    return sessions, current


async def page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    who = browser(request)
    sessions, current = await signed_in(request, who)
    return render(
        request,
        template,
        status_code=status_code,
        csrf=who.csrf,
        sessions=sessions,
        current=current,
        **context,
    )


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form, after its CSRF token checked out."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    browser(request).check_csrf(fields.get("csrf"))
    return fields


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def with_device(request: Request, response: R, token: str | None) -> R:
    """Give this browser a new device token (after a sign-in, or signing everyone out)."""
    if token is not None:
        settings = runtime_of(request).settings
        name = cookie_names(settings)[0]
        response.headers.append(
            "set-cookie", set_cookie_header(settings, name, token, DEVICE_MAX_AGE)
        )
    return response


def with_current(request: Request, response: R, session_id: str | None) -> R:
    """Make `session_id` the current account of this browser (or forget the choice)."""
    settings = runtime_of(request).settings
    name = cookie_names(settings)[1]
    if session_id is None:
        response.headers.append("set-cookie", set_cookie_header(settings, name, "", 0))
    else:
        max_age = settings.session_ttl_seconds
        response.headers.append(
            "set-cookie", set_cookie_header(settings, name, session_id, max_age)
        )
    return response
