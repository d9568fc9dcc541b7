"""The one exception type every layer understands.

A `HonninError` carries a stable machine-readable `code` (what API clients switch on) and a
translatable message (what people read). The web and API layers decide how to show it; the CLI
prints it as one line.
"""

from __future__ import annotations

from typing import Any

from honnin.i18n import LazyText


class HonninError(Exception):
    code: str = "error"

    def __init__(self, message: LazyText, **details: Any) -> None:
        super().__init__(message.msgid)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message.render()


class NotFound(HonninError):
    code = "not_found"


class InvalidInput(HonninError):
    code = "invalid_request"


class Conflict(HonninError):
    code = "conflict"


class RateLimited(HonninError):
    """Refused for now; `retry_after` says, in whole seconds, when trying again can work."""

    code = "rate_limited"

    def __init__(self, message: LazyText, retry_after: int, scope: str) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after
        self.scope = scope


class ConfigurationError(HonninError):
    code = "configuration_error"
