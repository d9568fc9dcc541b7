"""Keys derived from the one server secret, and the two things done with them.

- `digest`: a keyed hash (HMAC-SHA256) for values we must recognise but never store in clear
  (security codes, destinations used as rate-limit keys, API keys).
- `seal` / `unseal`: authenticated encryption (AES-256-GCM) for the few secrets that must be
  readable once more later, e.g. a code waiting in the outbox until the courier sends it.

Each use gets its own sub-key (HKDF with a label), so a digest of one kind can never stand in
for another.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


def _derive(secret: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(secret)


class Keyring:
    def __init__(self, secret: bytes) -> None:
        self._digest_keys: dict[str, bytes] = {}
        self._secret = secret
        self._aead = AESGCM(_derive(secret, "honnin/seal/v1"))

    def _digest_key(self, purpose: str) -> bytes:
        key = self._digest_keys.get(purpose)
        if key is None:
            key = self._digest_keys[purpose] = _derive(self._secret, f"honnin/digest/{purpose}")
        return key

    def digest(self, purpose: str, *parts: str) -> bytes:
        """HMAC-SHA256 of `parts` (unambiguously joined) under the sub-key for `purpose`."""
        message = b"\x00".join(part.encode() for part in parts)
        return hmac.new(self._digest_key(purpose), message, hashlib.sha256).digest()

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt and authenticate; `context` (e.g. a message id) must match when unsealing."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def unseal(self, sealed: bytes, context: str) -> bytes:
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context.encode())


def same(a: bytes, b: bytes) -> bool:
    """Constant-time equality."""
    return hmac.compare_digest(a, b)
