"""API keys for applications: shown once, stored as a digest, checked in constant time.

A key is `hnn_<prefix>_<secret>`; the prefix finds the row, the digest of the whole key is
compared. Keys carry 256 random bits, so a plain SHA-256 digest is enough (a slow password
hash would add nothing against guessing and cost every API call).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from honnin.clients.models import Client
from honnin.clock import Clock
from honnin.crypto import same
from honnin.db import Database
from honnin.errors import InvalidInput
from honnin.i18n import _

KEY_PREFIX = "hnn_"
CACHE_SECONDS = 10.0  # a revoked key keeps working this long in a process that just saw it
CACHE_SIZE = 1024


@dataclass(frozen=True)
class ClientView:
    id: uuid.UUID
    name: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class NewClient:
    client: ClientView
    api_key: str


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _view(row: Client) -> ClientView:
    return ClientView(row.id, row.name, row.key_prefix, row.created_at, row.revoked_at)


class ClientService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        # digest of a key → (client, valid until): API calls skip the lookup on repeat calls
        self._recent: dict[bytes, tuple[ClientView, float]] = {}

    async def create(self, name: str) -> NewClient:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(_("Give the application a name of 1 to 100 characters."))
        prefix = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        async with self.db.transaction() as tx:
            row = Client(
                name=name, key_prefix=prefix, key_digest=_digest(key), created_at=self.clock.now()
            )
            tx.session.add(row)
        return NewClient(_view(row), key)

    async def authenticate(self, key: str) -> ClientView | None:
        """The client a key belongs to, or None for a malformed, unknown or revoked key."""
        if not key.startswith(KEY_PREFIX):
            return None
        prefix, _sep, rest = key[len(KEY_PREFIX) :].partition("_")
        if not prefix or not rest:
            return None
        digest = _digest(key)
        cached = self._recent.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with self.db.transaction(write=False) as tx:
            row = await tx.session.scalar(select(Client).where(Client.key_prefix == prefix))
        if row is None or row.revoked_at is not None or not same(row.key_digest, digest):
            return None
        if len(self._recent) >= CACHE_SIZE:
            self._recent.clear()
        view = _view(row)
        self._recent[digest] = (view, time.monotonic() + CACHE_SECONDS)
        return view

    async def listed(self) -> list[ClientView]:
        async with self.db.transaction(write=False) as tx:
            rows = await tx.session.scalars(select(Client).order_by(Client.created_at))
            return [_view(row) for row in rows]

    async def disable(self, client_id: uuid.UUID) -> ClientView | None:
        """Revoke its API key (a process that checked it in the last `CACHE_SECONDS` accepts
        it that much longer); None: no such client."""
        async with self.db.transaction() as tx:
            row = await tx.session.get(Client, client_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = self.clock.now()
            return _view(row)
