"""The public keys of clients that authenticate with signed assertions (`private_key_jwt`),
read from their `jwks_uri` and kept a few minutes.

An assertion signed by a key the kept set lacks (the client rotated its keys) reads the set
again, but not more than once a minute per client: assertions naming unknown keys can't make
honnin fetch without end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from honnin.clock import Clock
from honnin.oidc.clients import UNREADABLE, Fetch, fetch_json

log = logging.getLogger("honnin.oidc")

KEEP = timedelta(minutes=5)
REREAD_AFTER = timedelta(minutes=1)  # the soonest a set is read again for a key it lacks


@dataclass(frozen=True)
class _Read:
    keys: KeySet
    at: datetime


class ClientKeys:
    def __init__(self, clock: Clock, *, fetch: Fetch = fetch_json) -> None:
        self.clock = clock
        self.fetch = fetch
        self._read: dict[str, _Read] = {}

    async def of(self, jwks_uri: str, kid: str | None) -> KeySet | None:
        """The client's key set, holding `kid` if the client publishes it; None: the set
        could not be read (or is no JWKS)."""
        now = self.clock.now()
        kept = self._read.get(jwks_uri)
        if kept is not None:
            fresh = now - kept.at < KEEP
            lacks = kid is not None and not _holds(kept.keys, kid)
            if fresh and not (lacks and now - kept.at >= REREAD_AFTER):
                return kept.keys
        try:
            keys = KeySet.import_key_set(await self.fetch(jwks_uri))  # type: ignore[arg-type]
        except (*UNREADABLE, JoseError, TypeError, KeyError) as error:
            log.warning("a client's keys at %s could not be read: %s", jwks_uri, error)
            return kept.keys if kept is not None and now - kept.at < KEEP else None
        self._read[jwks_uri] = _Read(keys, now)
        return keys


def _holds(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys)
