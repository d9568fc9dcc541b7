"""The HTTP status of each error code, for both skins (pages and JSON API)."""

from __future__ import annotations

STATUS_BY_ERROR = {
    "invalid_request": 422,
    "invalid_email": 422,
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
    "wrong_address": 400,
    "no_pending_code": 409,
    "action_not_allowed": 409,
    "address_taken": 409,
    "flow_not_found": 404,
    "flow_expired": 410,
    "csrf_rejected": 403,
    "no_second_factor": 403,
    "no_session": 401,
}
