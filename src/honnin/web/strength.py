"""The password meter's answers: how strong the password being typed is, and why.

The pages that choose a password (sign-up, a change, a reset, a new one after "this wasn't
me") post what is typed here as the person types (`static/honnin.js`), with the page's CSRF
token and its flow, whose account decides the rules (its names; 8 characters with two-step
verification on, else 15). Counted per IP address (`HONNIN_LIMIT_IP_METERS`); the password is
never logged or kept.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from honnin.accounts.strength import assess
from honnin.errors import HonninError
from honnin.http.status import headers_of, status_of
from honnin.i18n import LazyText
from honnin.runtime import runtime_of
from honnin.web.browser import browser
from honnin.web.pages import form_fields, signed_in
from honnin.web.templating import page_locale

router = APIRouter(include_in_schema=False)


def _answer(request: Request, score: int, acceptable: bool, reason: LazyText) -> JSONResponse:
    text = reason.render(page_locale(request))
    return JSONResponse({"score": score, "acceptable": acceptable, "reason": text})


@router.post("/password/strength")
async def strength(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    who = browser(request)
    try:
        fields = await form_fields(request)
        await runtime.codes.throttle.meter(who.binding.requester)
        _sessions, current = await signed_in(request, who)
        names, only_factor = await runtime.flows.password_rules(
            fields.get("flow", ""),
            replace(who.binding, session=current),
            typed_name=fields.get("email", ""),
        )
    except HonninError as error:
        response = JSONResponse(
            {"error": error.code, "message": error.message.render(page_locale(request))},
            status_code=status_of(error),
        )
        response.headers.update(headers_of(error) or {})
        return response
    found = assess(fields.get("password", ""), names, only_factor=only_factor)
    return _answer(request, found.score, found.acceptable, found.reason)
