"""Masked hints: enough to recognise a destination, never enough to learn it or its length.

Used by every layer that shows a destination (security info, codes, the courier's timeline),
through `honnin.destinations.kinds.mask`, which picks the mask for the kind.
"""

from __future__ import annotations

EMAIL_MASK_WIDTH = 7
"""Characters shown before the `@` of every masked address, whatever the local part's length."""

EMAIL_MAX_REVEALED = 2
"""At most this many leading characters of a local part are shown (and never more than half)."""


def mask_email(address: str) -> str:
    """`emma@example.com` → `em*****@example.com`, `al@…` → `a******@…`, `e@…` → `*******@…`.

    The part before the `@` always has the same width, so a hint reveals nothing of the local
    part's length; it shows at most half of the local part (rounded down) and at most two
    characters, so a short name is never shown whole. Plus-address tags are hidden like the rest;
    the domain is shown in full.
    """
    local, _sep, domain = address.rpartition("@")
    shown = local[: min(EMAIL_MAX_REVEALED, len(local) // 2)]
    return f"{shown}{'*' * (EMAIL_MASK_WIDTH - len(shown))}@{domain}"


def mask_phone(e164: str) -> str:
    """`+819012345699` → `******99`: the last two digits only."""
    digits = [c for c in e164 if c.isdigit()]
    return "******" + "".join(digits[-2:])
