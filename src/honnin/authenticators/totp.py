"""Authenticator apps (TOTP, RFC 6238): the rules of their codes, apart from where the apps are
kept.

- 6 digits, 30-second steps, one step of drift either side (a phone's clock a little off).
- A code whose step was already accepted is refused: the app's last accepted step is kept with
  it, so a code read over a shoulder, or replayed from a proxy, is worth nothing once used —
  nor is any older one.
- The secret is 160 random bits (RFC 4226 §4: the HMAC-SHA1 key length), shown once: as a QR
  code of an `otpauth://` URI drawn as inline SVG, and in groups of four letters for typing. It
  is kept sealed (AES-GCM under a key derived from the service's secret, `Keyring.seal`, bound
  to the app's id), and never logged.
- Every candidate step is compared, in constant time, whichever one matches.
"""

from __future__ import annotations

import hmac
import math
from datetime import datetime

import pyotp
import segno

from honnin.codes.values import read_code
from honnin.crypto import Keyring

DIGITS = 6
PERIOD = 30  # seconds a code lasts
DRIFT = 1  # steps accepted either side of the current one
_SECRET_CHARS = 32  # base32: 5 bits each, 160 bits
_SEALED_FOR = "totp-secret"


def new_secret() -> str:
    """A new shared secret, in base32 (what apps are given)."""
    return pyotp.random_base32(length=_SECRET_CHARS)


def grouped(secret: str) -> str:
    """The secret as people type it: "ABCD EFGH …"."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://totp/…` URI an app scans: the issuer (the service) and the account's
    name label the entry in the app."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as a QR code, inline SVG markup (no image file, no script: the pages' CSP
    allows it as it is); dark on white, with the quiet zone scanners need, in dark mode too."""
    return str(
        segno.make(uri, error="m").svg_inline(scale=4, border=4, omitsize=True, light="#fff")
    )


def seal(keyring: Keyring, secret: str, app_id: str) -> bytes:
    """The secret as it is stored: sealed, and bound to its app (moved to another row, it
    opens nowhere)."""
    return keyring.seal(secret.encode(), f"{_SEALED_FOR}:{app_id}")


def unseal(keyring: Keyring, sealed: bytes, app_id: str) -> str:
    return keyring.unseal(sealed, f"{_SEALED_FOR}:{app_id}").decode()


def step_at(moment: datetime) -> int:
    """The 30-second step a moment falls in (RFC 6238's T)."""
    return math.floor(moment.timestamp() / PERIOD)


def accepted_step(secret: str, typed: str, now: datetime, last_step: int | None) -> int | None:
    """The step of the code typed, if it is right for a step within the drift and later than
    the last one accepted (`last_step`); None otherwise. Keep the step it returns as the new
    `last_step`, in the transaction that accepts the code."""
    code = read_code(typed, DIGITS)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = step_at(now)
    found: int | None = None
    for step in range(current - DRIFT, current + DRIFT + 1):  # all compared, whatever matches
        expected = totp.generate_otp(step)
        right = hmac.compare_digest(expected, code or "000000x")
        fresh = last_step is None or step > last_step
        if right and fresh and found is None:
            found = step
    return found
