"""Keys derived from the server secret, and the two things done with them.

- `digest`: a keyed hash (HMAC-SHA256) for values we must recognise but never store in clear
  (security codes, destinations used as rate-limit keys, session and device tokens).
- `seal` / `unseal`: authenticated encryption (AES-256-GCM) for the few secrets that must be
  readable once more later, e.g. a code waiting in the outbox until the courier sends it.

Each use gets its own sub-key (HKDF with a label), so a digest of one kind can never stand in
for another.

Rotation: the current secret makes every new digest and seal; previous secrets
(`HONNIN_SECRET_KEY_PREVIOUS`) are still accepted for what was made under them, so that a
rotation signs nobody out and breaks no pending code. Whatever looks a value up by its digest
asks for `digests` (one per key, the current first) and matches any of them; whatever compares
asks `matches`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


def _derive(secret: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(secret)


class _Key:
    """One secret's sub-keys."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._digest_keys: dict[str, bytes] = {}
        self.aead = AESGCM(_derive(secret, "honnin/seal/v1"))

    def digest(self, purpose: str, message: bytes) -> bytes:
        key = self._digest_keys.get(purpose)
        if key is None:
            key = self._digest_keys[purpose] = _derive(self._secret, f"honnin/digest/{purpose}")
        return hmac.new(key, message, hashlib.sha256).digest()


class Keyring:
    def __init__(self, secret: bytes, previous: Sequence[bytes] = ()) -> None:
        """`secret` signs; `previous` secrets (newest first) are only accepted."""
        self._current = _Key(secret)
        self._keys = [self._current, *(_Key(old) for old in previous if old != secret)]

    def digest(self, purpose: str, *parts: str) -> bytes:
        """HMAC-SHA256 of `parts` (unambiguously joined) under the current key for `purpose`:
        what is stored."""
        return self._current.digest(purpose, _message(parts))

    def digests(self, purpose: str, *parts: str) -> tuple[bytes, ...]:
        """The digest under every key, the current one first: what a lookup matches."""
        message = _message(parts)
        return tuple(key.digest(purpose, message) for key in self._keys)

    def matches(self, stored: bytes, purpose: str, *parts: str) -> bool:
        """Whether `stored` is the digest of `parts` under any key (constant time, every key
        compared)."""
        return same_any(stored, self.digests(purpose, *parts))

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt and authenticate; `context` (e.g. a message id) must match when unsealing."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._current.aead.encrypt(nonce, plaintext, context.encode())

    def unseal(self, sealed: bytes, context: str) -> bytes:
        """Decrypt what any key sealed; `InvalidTag` if none did (or it was altered)."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        for key in self._keys:
            try:
                return key.aead.decrypt(nonce, ciphertext, context.encode())
            except InvalidTag:
                continue
        raise InvalidTag


def _message(parts: Sequence[str]) -> bytes:
    return b"\x00".join(part.encode() for part in parts)


def same(a: bytes, b: bytes) -> bool:
    """Constant-time equality."""
    return hmac.compare_digest(a, b)


def same_any(value: bytes, candidates: Sequence[bytes]) -> bool:
    """Whether `value` equals any candidate; every candidate is compared (no early exit)."""
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(value, candidate)
    return found
