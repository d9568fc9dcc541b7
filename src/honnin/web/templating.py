"""Rendering pages: Jinja2 with the same gettext catalogs as everything else."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from honnin.i18n import LOCALES, gettext, negotiate


@functools.cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("honnin.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = functools.partial(gettext, locale)
    return env


def page_locale(request: Request) -> str:
    """The language of a page: the switcher's cookie, else Accept-Language."""
    chosen = request.cookies.get("lang")
    if chosen in LOCALES:
        return chosen
    return negotiate(request.headers.get("accept-language"))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = page_locale(request)
    html = (
        _environment(locale)
        .get_template(template)
        .render(
            request=request, locale=locale, settings=request.app.state.runtime.settings, **context
        )
    )
    return HTMLResponse(html, status_code=status_code)
