"""`/api/v1/sessions/current`: the account behind a session token, and signing it out.

A session token comes from a completed flow (`/api/v1/flows`) and belongs to the application
that completed it; it travels in the `X-Session-Token` header, beside the application's key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel

from honnin.api.auth import Client
from honnin.api.schemas import BODY_TOO_LARGE, Problem
from honnin.errors import HonninError
from honnin.i18n import _
from honnin.runtime import runtime_of

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


class NoSession(HonninError):
    code = "no_session"


class SessionState(BaseModel):
    id: str
    account_id: str
    name: str
    method: str
    created_at: datetime
    expires_at: datetime


Token = Annotated[str, Header(alias="X-Session-Token", max_length=100)]
OptionalToken = Annotated[str | None, Header(alias="X-Session-Token", max_length=100)]
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem},
    422: {"model": Problem},
    **BODY_TOO_LARGE,
}


def no_session() -> NoSession:
    return NoSession(_("This session token is not valid: it expired, or was signed out."))


@router.get("/current", response_model=SessionState, responses=_ERRORS)
async def current_session(client: Client, token: Token, request: Request) -> SessionState:
    session = await runtime_of(request).sessions.by_token(token, client.id)
    if session is None:
        raise no_session()
    return SessionState(
        id=str(session.id),
        account_id=str(session.account_id),
        name=session.name,
        method=session.method,
        created_at=session.created_at,
        expires_at=session.expires_at,
    )


@router.delete("/current", status_code=204, responses=_ERRORS)
async def sign_out(client: Client, token: Token, request: Request) -> Response:
    """Sign out: the token stops working at once."""
    if not await runtime_of(request).sessions.revoke_token(token, client.id):
        raise no_session()
    return Response(status_code=204)
