"""Password rules (NIST SP 800-63B §3.1.1.2) and Argon2id hashing.

Length of at least 8, no composition rules, long passphrases welcome, and refusal of
passwords that are common or easy to guess (zxcvbn's dictionaries and patterns, with the
person's own sign-in name as a hint).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from honnin.errors import InvalidInput
from honnin.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 256
_SCORED_PREFIX = 100  # zxcvbn is slow on very long input; the first 100 characters decide
_MIN_SCORE = 2

_hasher = PasswordHasher()  # Argon2id, RFC 9106 "second recommended" parameters


class WeakPassword(InvalidInput):
    code = "weak_password"


def check_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise `WeakPassword` with the reason a person can act on, or return."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            _("Use at least {length} characters for your password.", length=MIN_LENGTH)
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            _("Use at most {length} characters for your password.", length=MAX_LENGTH)
        )
    hints = [part for value in user_inputs for part in (value, value.partition("@")[0]) if part]
    lowered = password.lower()
    if any(len(h) >= 4 and h.lower() in lowered for h in hints):
        raise WeakPassword(_("Don't use your email address or name in your password."))
    if zxcvbn(password[:_SCORED_PREFIX], user_inputs=hints)["score"] < _MIN_SCORE:
        raise WeakPassword(
            _(
                "This password is too common or too easy to guess. Try a longer one, "
                "for example a few unrelated words."
            )
        )


async def hash_password(password: str) -> str:
    """Argon2id hash, computed off the event loop (it takes tens of milliseconds by design)."""
    return await asyncio.to_thread(_hasher.hash, password)


_dummy_hash: str | None = None


async def verify_nothing(password: str) -> None:
    """Spend the time of a real check (for a name without an account: no enumeration)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await hash_password("not a password anyone has")
    await verify_password(_dummy_hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)
