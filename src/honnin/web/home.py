"""Pages around the flows: the front page, the language switch, health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from honnin.i18n import LOCALES
from honnin.runtime import runtime_of
from honnin.web.browser import browser, set_cookie_header
from honnin.web.pages import form_fields, page, redirect, signed_in

router = APIRouter(include_in_schema=False)

LANG_COOKIE = "lang"


@router.get("/")
async def home(request: Request) -> Response:
    _sessions, current = await signed_in(request, browser(request))
    if current is not None:
        return redirect("/account")
    return await page(request, "home.html")


@router.post("/lang")
async def language(request: Request) -> Response:
    fields = await form_fields(request)
    locale = fields.get("locale", "")
    target = fields.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"  # only our own pages: never an open redirect
    response = redirect(target)
    if locale in LOCALES:
        settings = runtime_of(request).settings
        response.headers.append(
            "set-cookie", set_cookie_header(settings, LANG_COOKIE, locale, 365 * 86_400)
        )
    return response


@router.get("/healthz")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
