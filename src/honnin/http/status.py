"""The HTTP status and headers of each error, for both skins (pages and JSON API)."""

from __future__ import annotations

from honnin.errors import HonninError

STATUS_BY_ERROR = {
    "invalid_request": 422,
    "invalid_email": 422,
    "invalid_phone": 422,
    "phone_not_accepted": 422,
    "phone_cannot_text": 422,
    "channel_unavailable": 422,
    "forbidden": 403,
    "weak_password": 422,
    "invalid_code": 400,
    "code_expired": 400,
    "code_superseded": 400,
    "too_many_attempts": 400,
    "not_pending": 409,
    "conflict": 409,
    "not_found": 404,
    "rate_limited": 429,
    "unauthorized": 401,
    "configuration_error": 503,
    "invalid_credentials": 400,
    "passkey_refused": 400,
    "passkey_not_verified": 400,
    "wrong_address": 400,
    "no_pending_code": 409,
    "action_not_allowed": 409,
    "address_taken": 409,
    "flow_not_found": 404,
    "flow_expired": 410,
    "csrf_rejected": 403,
    "no_second_factor": 403,
    "no_session": 401,
    "not_signed_in": 401,
    "change_pending": 409,
    "verification_needed": 403,
    "link_not_valid": 410,
    "two_ways_needed": 409,
    "two_step_off": 409,
    "two_step_needs_two": 409,
    "recovery_waiting": 409,
}


def status_of(error: HonninError) -> int:
    return STATUS_BY_ERROR.get(error.code, 400)


def headers_of(error: HonninError) -> dict[str, str] | None:
    """The headers an error's response carries: when to come back, how to authenticate."""
    if "retry_after" in error.details and error.details["retry_after"] is not None:
        return {"Retry-After": str(error.details["retry_after"])}
    if error.code == "unauthorized":
        return {"WWW-Authenticate": "Bearer"}
    return None
