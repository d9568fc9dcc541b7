"""The provider's signing keys: one per algorithm signs at a time (RS256, the default, and
ES256, for the clients that choose it), and the JWKS publishes every key a client may meet.

- A new key is published at once and signs only after `HONNIN_OIDC_KEY_PUBLISH_AHEAD_SECONDS`:
  clients that cache the JWKS have seen it before any token it signed reaches them.
- The key it replaces signs until then, and stays published until every token it signed has
  expired (the longest token lifetime after it retired, as the settings say now: raising a
  lifetime keeps retired keys longer); then it leaves the JWKS.
- Private keys are sealed (`Keyring.seal`, bound to their kid); the kid is the key's RFC 7638
  thumbprint. The first key of each algorithm is made when first needed, active at once
  (nothing was signed before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, JWKRegistry, Key, KeyParameters, KeySet, RSAKey
from sqlalchemy import or_, select

from honnin.clock import Clock
from honnin.crypto import Keyring
from honnin.db import Database, Tx
from honnin.oidc.models import SigningKey

ALGORITHMS = ("RS256", "ES256")
VERIFIER_KEPT = timedelta(seconds=60)
_SEALED_FOR = "oidc-signing-key"


@dataclass(frozen=True)
class KeyView:
    kid: str
    alg: str
    created_at: datetime
    active_from: datetime
    retired_at: datetime | None
    published_until: datetime | None  # when it leaves the JWKS (None: not retired)

    def state(self, now: datetime) -> str:
        """published (not signing yet), signing, retired (published still), gone."""
        if self.published_until is not None and self.published_until <= now:
            return "gone"
        if self.retired_at is not None and self.retired_at <= now:
            return "retired"
        return "signing" if self.active_from <= now else "published"


@dataclass(frozen=True)
class _Signer:
    """The key `signing` chose for an algorithm, when, and until when it signs."""

    read_at: datetime
    kid: str
    retired_at: datetime | None


def _generate(alg: str) -> RSAKey | ECKey:
    parameters: KeyParameters = {"alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
    return ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)


class SigningKeys:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keyring: Keyring,
        *,
        publish_ahead: timedelta,
        longest_token: timedelta,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.publish_ahead = publish_ahead
        self.longest_token = longest_token  # how long a retired key stays published
        # `verifying`'s keys, each with when it leaves the JWKS, and when they were read
        self._verifier: tuple[datetime, list[tuple[datetime | None, Key]]] | None = None
        # private keys unsealed and loaded, by kid (a kid's key never changes): loading an RSA
        # key checks it, 36 ms of CPU, 40 times the rest of a code's exchange
        # (bench/oidc_exchange.py)
        self._opened: dict[str, RSAKey | ECKey] = {}
        self._signers: dict[str, _Signer] = {}  # `signing`'s choice per algorithm

    def _view(self, key: SigningKey) -> KeyView:
        until = key.retired_at + self.longest_token if key.retired_at else None
        return KeyView(key.kid, key.alg, key.created_at, key.active_from, key.retired_at, until)

    async def rotate(self) -> list[KeyView]:
        """A new key for each algorithm, published now, signing after the publish-ahead
        time; the keys signing now retire then."""
        await self._ensure()  # the keys it replaces, if none were made yet
        async with self.db.transaction() as tx:
            now = self.clock.now()
            starts = now + self.publish_ahead
            made = []
            for alg in ALGORITHMS:
                for old in await self._unretired(tx, alg):
                    old.retired_at = max(starts, old.active_from)
                made.append(self._view(await self._add(tx, alg, now, starts)))
        self._verifier = None
        self._signers = {}
        return made

    async def listed(self) -> list[KeyView]:
        """Every key still published (or waiting to sign), newest first."""
        async with self.db.transaction(write=False) as tx:
            return [self._view(key) for key in await self._published(tx, self.clock.now())]

    async def jwks(self) -> dict[str, Any]:
        """The public keys clients verify with: those signing, about to, or retired with
        tokens still alive. Made on first use."""
        await self._ensure()
        async with self.db.transaction(write=False) as tx:
            return await self.jwks_in(tx)

    async def jwks_in(self, tx: Tx) -> dict[str, Any]:
        """`jwks`, read in the caller's transaction."""
        keys = await self._published(tx, self.clock.now())
        return {"keys": [dict(key.public_jwk) for key in keys]}

    async def verifying(self, tx: Tx, kid: str | None = None) -> KeySet | None:
        """The keys published now, to verify honnin's own tokens with. They are read at most
        once per `VERIFIER_KEPT` per process, which is safe: a new key is published long
        before it signs (`publish_ahead`), and each key read is dropped from the set at the
        moment it leaves the JWKS (`published_until`), cached or not. The first key of an
        algorithm signs as soon as it is made (nothing was signed before it), perhaps by
        another process: a `kid` the set lacks reads it again, at most once a second."""
        now = self.clock.now()
        read_at = self._verifier[0] if self._verifier else None
        lacks = (
            kid is not None
            and self._verifier is not None
            and all(key.kid != kid for _, key in self._verifier[1])
        )
        if (
            read_at is None
            or not read_at <= now < read_at + VERIFIER_KEPT
            or (lacks and now - read_at >= timedelta(seconds=1))
        ):
            rows = await self._published(tx, now)
            read = [(self._view(row).published_until, JWKRegistry.import_key(row.public_jwk))
                    for row in rows]  # fmt: skip
            self._verifier = (now, read)
        assert self._verifier is not None
        keys = [key for until, key in self._verifier[1] if until is None or until > now]
        if not keys:
            self._verifier = None  # none made yet: read again when one is
            return None
        return KeySet(keys)

    async def signing(self, tx: Tx, alg: str) -> tuple[str, RSAKey | ECKey]:
        """The key that signs with `alg` now: its kid and its private half. Which one is
        read at most once per `VERIFIER_KEPT` per process (a code's exchange signs twice):
        a rotation elsewhere retires it `publish_ahead` ahead, long after this is read
        again, and the key it kept stops at its own `retired_at` here."""
        now = self.clock.now()
        kept = self._signers.get(alg)
        if (
            kept is not None
            and kept.read_at <= now < kept.read_at + VERIFIER_KEPT
            and (kept.retired_at is None or now < kept.retired_at)
            and kept.kid in self._opened
        ):
            return kept.kid, self._opened[kept.kid]
        found = await tx.session.scalar(
            select(SigningKey)
            .where(
                SigningKey.alg == alg,
                SigningKey.active_from <= now,
                or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now),
            )
            .order_by(SigningKey.active_from.desc())
            .limit(1)
        )
        if found is None:  # none was ever made (a key always signs once one exists)
            found = await self._add(tx, alg, now, now)
        key = self._opened.get(found.kid)
        if key is None:
            pem = self.keyring.unseal(found.private_sealed, f"{_SEALED_FOR}:{found.kid}")
            key_type = RSAKey if found.alg == "RS256" else ECKey
            parameters: KeyParameters = {"alg": found.alg, "use": "sig"}
            key = key_type.import_key(pem, parameters=parameters)
            self._opened[found.kid] = key
        self._signers[alg] = _Signer(now, found.kid, found.retired_at)
        return found.kid, key

    async def _ensure(self) -> None:
        async with self.db.transaction(write=False) as tx:
            present = set(await tx.session.scalars(select(SigningKey.alg).distinct()))
        if present >= set(ALGORITHMS):
            return
        async with self.db.transaction() as tx:
            now = self.clock.now()
            present = set(await tx.session.scalars(select(SigningKey.alg).distinct()))
            for alg in ALGORITHMS:
                if alg not in present:
                    await self._add(tx, alg, now, now)

    async def _add(self, tx: Tx, alg: str, now: datetime, active_from: datetime) -> SigningKey:
        key = _generate(alg)
        kid = str(key.kid)
        row = SigningKey(
            kid=kid,
            alg=alg,
            private_sealed=self.keyring.seal(key.as_pem(private=True), f"{_SEALED_FOR}:{kid}"),
            public_jwk=key.as_dict(private=False),
            created_at=now,
            active_from=active_from,
        )
        tx.session.add(row)
        await tx.session.flush()
        self._verifier = None  # read the published keys again (a first key signs at once)
        return row

    @staticmethod
    async def _unretired(tx: Tx, alg: str) -> list[SigningKey]:
        return list(
            await tx.session.scalars(
                select(SigningKey).where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))
            )
        )

    async def _published(self, tx: Tx, now: datetime) -> list[SigningKey]:
        """Signing, about to, or retired with tokens it signed still alive."""
        alive = now - self.longest_token
        return list(
            await tx.session.scalars(
                select(SigningKey)
                .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > alive))
                .order_by(SigningKey.created_at.desc(), SigningKey.kid)
            )
        )
