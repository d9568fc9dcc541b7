"""`/api/v1/verifications`: send a code to an address, check it, see how delivery went."""

from __future__ import annotations

from fastapi import APIRouter, Request

from honnin.api.auth import Client
from honnin.api.errors import request_locale
from honnin.api.schemas import (
    BODY_TOO_LARGE,
    Problem,
    Verification,
    VerificationCheck,
    VerificationCreate,
)
from honnin.runtime import runtime_of

router = APIRouter(prefix="/api/v1/verifications", tags=["verifications"])

_ERRORS: dict[int | str, dict[str, object]] = {
    **{
        code: {"model": Problem, "description": text}
        for code, text in {
            400: "invalid_code, code_expired, code_superseded or too_many_attempts",
            401: "unauthorized: missing or unknown API key",
            404: "not_found",
            409: "not_pending: already approved, expired or canceled",
            422: "invalid_request or invalid_email: the body is malformed",
            429: "rate_limited: see retry_after (seconds) and the Retry-After header",
        }.items()
    },
    **BODY_TOO_LARGE,
}


@router.post("", status_code=201, response_model=Verification, responses=_ERRORS)
async def create_verification(
    body: VerificationCreate, client: Client, request: Request
) -> Verification:
    """Send a code to `to`. Sending again to the same address while one is pending resends:
    a new code, and every earlier one stops working."""
    view = await runtime_of(request).verifications.create(
        client, to=body.to, channel=body.channel, locale=body.locale or request_locale(request)
    )
    return Verification.of(view)


@router.post("/{verification_id}/check", response_model=Verification, responses=_ERRORS)
async def check_verification(
    verification_id: str, body: VerificationCheck, client: Client, request: Request
) -> Verification:
    """Check a code. On success the verification is `approved`; otherwise a 4xx says why."""
    view = await runtime_of(request).verifications.check(client, verification_id, body.code)
    return Verification.of(view)


@router.get("/{verification_id}", response_model=Verification, responses=_ERRORS)
async def get_verification(verification_id: str, client: Client, request: Request) -> Verification:
    """The verification's status and the delivery status of its latest message."""
    return Verification.of(await runtime_of(request).verifications.get(client, verification_id))
