"""Rendering pages: Jinja2 with the same gettext catalogs as everything else."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from honnin.audit.actions import describe
from honnin.audit.places import country_name
from honnin.i18n import LOCALES, negotiate, template_environment
from honnin.localtime import TZ_COOKIE, duration, local_times_for
from honnin.runtime import runtime_of


def page_locale(request: Request) -> str:
    """The language of a page: the switcher's cookie, else Accept-Language."""
    chosen = request.cookies.get("lang")
    if chosen in LOCALES:
        return chosen
    default = runtime_of(request).settings.default_locale
    return negotiate(request.headers.get("accept-language"), default)


def _zone_of(request: Request, current: Any) -> str | None:
    zone = getattr(current, "time_zone", None)
    return zone if isinstance(zone, str) else request.cookies.get(TZ_COOKIE)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = page_locale(request)
    html = (
        template_environment("honnin.web", locale)
        .get_template(template)
        .render(
            request=request,
            locale=locale,
            settings=runtime_of(request).settings,
            # every time on a page goes through it: in the signed-in account's zone, else
            # in the one the browser says it is in
            times=local_times_for(_zone_of(request, context.get("current")), locale),
            duration=lambda seconds: duration(seconds).render(locale),
            # a line of the audit log, its masked address left as "{hint}" (`with_address`)
            activity_text=lambda action: describe(action, "{hint}").render(locale),
            country_name=lambda code: country_name(code, locale),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
