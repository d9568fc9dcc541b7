"""Which form field an error is about, so that a page can mark it and put the focus there.

A page shows every error at its top; an error about one field is also repeated next to that
field, which is marked `aria-invalid` and described by the message, and gets the focus
(`autofocus`, which works without JavaScript). The mapping is here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

# error code -> the fields it can be about, by their names on the pages (a page has one of them)
ERROR_FIELDS: dict[str, tuple[str, ...]] = {
    "invalid_email": ("name", "email", "address"),
    "weak_password": ("password",),
    "invalid_credentials": ("password",),
    "wrong_address": ("address",),
    "invalid_code": ("code",),
    "code_superseded": ("code",),
    "invalid_request": ("code",),  # a code that is not the right number of digits
}


@dataclass(frozen=True)
class FieldErrors:
    """The error shown on a page (if any), as templates ask about it field by field."""

    code: str | None = None
    message: str | None = None

    def field(self, *names: str) -> str | None:
        """Of the fields a page has (`names`, in page order), the one the error is about."""
        about = ERROR_FIELDS.get(self.code or "", ())
        return next((name for name in names if name in about), None)
