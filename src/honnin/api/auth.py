"""API clients authenticate with `Authorization: Bearer <api key>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from honnin.clients.service import ClientView
from honnin.errors import HonninError
from honnin.i18n import _
from honnin.runtime import runtime_of

_bearer = HTTPBearer(auto_error=False, description="An API key from `honnin clients create`.")


class Unauthorized(HonninError):
    code = "unauthorized"


async def current_client(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ClientView:
    if credentials is None:
        raise Unauthorized(_("Send an API key in the header: Authorization: Bearer <key>."))
    client = await runtime_of(request).clients.authenticate(credentials.credentials)
    if client is None:
        raise Unauthorized(_("This API key is not valid, or it was revoked."))
    return client


Client = Annotated[ClientView, Depends(current_client)]
