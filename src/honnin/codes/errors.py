"""Why a code was refused: each a distinct error, because each needs a different next step."""

from __future__ import annotations

from honnin.errors import Conflict, HonninError, InvalidInput


class InvalidCode(HonninError):
    code = "invalid_code"


class CodeExpired(HonninError):
    code = "code_expired"


class CodeSuperseded(HonninError):
    code = "code_superseded"


class TooManyAttempts(HonninError):
    code = "too_many_attempts"


class MalformedCode(InvalidInput):
    code = "invalid_request"


class NotPending(Conflict):
    code = "not_pending"
