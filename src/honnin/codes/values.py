"""What a code looks like: how one is made, and how what a person typed is read."""

from __future__ import annotations

import re
import secrets
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー－・.]")


def new_code(length: int) -> str:
    """A uniformly random code of `length` decimal digits, leading zeros included."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def read_code(typed: str, length: int) -> str | None:
    """The digits of a typed or pasted code, or None if it cannot be a code of `length`.

    Accepts spaces and dashes between digits ("123 456", "123-456") and full-width digits
    from a Japanese input method ("１２３４５６").
    """
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", typed))
    if len(digits) != length or not digits.isascii() or not digits.isdigit():
        return None
    return digits
