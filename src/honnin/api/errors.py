"""How errors look on the API: always JSON `{"error", "message", …}`, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from honnin.errors import HonninError
from honnin.http.status import headers_of, status_of
from honnin.i18n import _, negotiate
from honnin.runtime import runtime_of

log = logging.getLogger("honnin.api")


def request_locale(request: Request) -> str:
    default = runtime_of(request).settings.default_locale
    return negotiate(request.headers.get("accept-language"), default)


def problem(
    status: int, error: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": error, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers)


async def honnin_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HonninError)
    return problem(
        status_of(error),
        error.code,
        error.message.render(request_locale(request)),
        headers_of(error),
        **error.details,
    )


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]}
        for e in error.errors()
    ]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details)
    message = _("The request is not valid: {summary}", summary=summary)
    return problem(422, "invalid_request", message.render(request_locale(request)), details=details)


async def http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    messages = {
        404: _("There is nothing at this address."),
        405: _("This method is not allowed here."),
    }
    text = messages.get(error.status_code, _("The request could not be handled."))
    return problem(
        error.status_code,
        "not_found" if error.status_code == 404 else "http_error",
        text.render(request_locale(request)),
        getattr(error, "headers", None),
    )


async def unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    message = _("Something went wrong on our side. Try again in a moment.")
    return problem(500, "internal_error", message.render(request_locale(request)))
