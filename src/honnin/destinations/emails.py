"""Email addresses: validated and put in one canonical form before they are stored or compared."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from honnin.errors import InvalidInput
from honnin.i18n import _

MAX_LENGTH = 254


class InvalidEmail(InvalidInput):
    code = "invalid_email"


def normalize_email(raw: str) -> str:
    """The canonical form of an address, or `InvalidEmail` saying what is wrong.

    The domain is lower-cased and IDNA-normalised (kept in Unicode for display) and, as large
    mail providers do, the local part is lower-cased too: `Emma@Example.COM` and
    `emma@example.com` are one address. No DNS lookup is made.
    """
    candidate = raw.strip()
    if not candidate:
        raise InvalidEmail(_("Enter an email address."))
    if len(candidate) > MAX_LENGTH:
        raise InvalidEmail(_("This email address is too long."))
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        raise InvalidEmail(
            _(
                "“{address}” is not a valid email address. Check it and try again.",
                address=candidate,
            )
        ) from None
    return f"{result.local_part.lower()}@{result.domain}"
