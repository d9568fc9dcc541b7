"""Recovery codes: one per account with two-step verification, shown once, usable once.

25 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U/V), in groups of five:
about 122 bits, so a keyed digest (HMAC under the service's secret) is as safe to store as a
slow hash, and it is compared in constant time. A code typed with spaces, dashes, lower case or
full-width characters still counts.
"""

from __future__ import annotations

import secrets
import unicodedata

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"  # 29 symbols, none that reads as another
LENGTH = 25
GROUP = 5


def new_code() -> str:
    """A fresh code, grouped for reading: `ABCDE-FGH23-…`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(typed: str) -> str | None:
    """The code as stored (25 symbols, no separators), or None when it cannot be one."""
    text = unicodedata.normalize("NFKC", typed).upper()
    kept = "".join(c for c in text if c.isalnum())
    if len(kept) != LENGTH or any(c not in ALPHABET for c in kept):
        return None
    return kept
