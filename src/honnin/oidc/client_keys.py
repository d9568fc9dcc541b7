"""The public keys of clients that authenticate with signed assertions (`private_key_jwt`),
read from their `jwks_uri` and kept a few minutes.

They are read before the endpoint's transaction begins (`OidcProvider._read_client_keys`),
never inside it: a client's server that answers slowly (up to 10 s) must not hold a
transaction, nor SQLite's write lock, meanwhile. Inside, Authlib's check finds them kept.

An assertion naming a key the kept set lacks (the client rotated its keys) reads the set
again, but a set is read at most once a minute, whether the read worked or not, and one read
at a time: assertions naming made-up keys (anyone can send one, before any signature is
checked) cost honnin no more than that.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from honnin.clock import Clock
from honnin.oidc.clients import UNREADABLE, Fetch, fetch_json

log = logging.getLogger("honnin.oidc")

KEEP = timedelta(minutes=5)
REREAD_AFTER = timedelta(minutes=1)  # the soonest a set is read again (worked or not)


@dataclass(frozen=True)
class _Read:
    keys: KeySet | None  # as last read well (None: never)
    read_at: datetime | None
    tried_at: datetime  # the last read, whether it worked or not


class ClientKeys:
    def __init__(self, clock: Clock, *, fetch: Fetch = fetch_json) -> None:
        self.clock = clock
        self.fetch = fetch
        self._read: dict[str, _Read] = {}
        self._reading: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def kept(self, jwks_uri: str) -> KeySet | None:
        """The set as last read well, while it is kept (no read here)."""
        found = self._read.get(jwks_uri)
        if found is None or found.read_at is None or self.clock.now() - found.read_at >= KEEP:
            return None
        return found.keys

    async def read(self, jwks_uri: str, kid: str | None) -> None:
        """Read the client's set, unless it is kept (holding `kid`, if given) or was read
        less than a minute ago; one read at a time."""
        async with self._reading[jwks_uri]:
            now = self.clock.now()
            found = self._read.get(jwks_uri)
            if found is not None and now - found.tried_at < REREAD_AFTER:
                return
            keys = self.kept(jwks_uri)
            if keys is not None and (kid is None or _holds(keys, kid)):
                return
            try:
                keys = KeySet.import_key_set(await self.fetch(jwks_uri))  # type: ignore[arg-type]
            except (*UNREADABLE, JoseError, TypeError, KeyError) as error:
                log.warning("a client's keys at %s could not be read: %s", jwks_uri, error)
                before = found or _Read(None, None, now)
                self._read[jwks_uri] = _Read(before.keys, before.read_at, now)
                return
            self._read[jwks_uri] = _Read(keys, now, now)


def _holds(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys)
