"""Masked hints: enough to recognise a destination, never enough to learn it or its length.

Used by every layer that shows a destination (security info, codes, the courier's timeline).
"""

from __future__ import annotations

MASK = "*****"


def mask_email(address: str) -> str:
    """`emma@example.com` → `em*****@example.com`.

    The first two characters of the local part (the only one, if it has one), five asterisks
    whatever the real length, then the whole domain. Plus-address tags are hidden like the rest.
    """
    local, _sep, domain = address.rpartition("@")
    return f"{local[:2]}{MASK}@{domain}"


def mask_phone(e164: str) -> str:
    """`+819012345699` → `******99`: the last two digits only."""
    digits = [c for c in e164 if c.isdigit()]
    return "******" + "".join(digits[-2:])


def mask_destination(channel: str, destination: str) -> str:
    """The hint for a destination of any channel (an address has an @, a number has not)."""
    return mask_email(destination) if "@" in destination else mask_phone(destination)
