"""Wrong passwords and codes, counted per sign-in name in the database.

The key is a keyed digest of the name as typed (normalised), whether or not an account has
it: an unknown name is throttled exactly like a known one, so throttling tells nothing about
which names exist. Counted in the database, the limit holds across every process and node.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from limits import RateLimitItem
from sqlalchemy import bindparam, delete, func, insert, select

from honnin.db import Prepared, Tx, table_of
from honnin.db.locks import lock_key
from honnin.errors import RateLimited
from honnin.limits.models import FailedAttempt
from honnin.limits.service import too_many_attempts
from honnin.limits.windows import seconds_until_free

_failures = table_of(FailedAttempt)
_f = _failures.c
# run straight on the driver (honnin.db.prepared)
_RECORD = Prepared(insert(_failures).returning(_f.id))
_RELEASE = Prepared(delete(_failures).where(_f.id == bindparam("b_id")))


class FailureLimits:
    def __init__(self, items: list[RateLimitItem]) -> None:
        self.items = items
        windows = [_f.at > bindparam(f"b_start{i}") for i in range(len(items))]
        self._count = Prepared(
            select(*(func.count().filter(w) for w in windows)).where(
                _f.key_digest.in_(bindparam("b_keys", expanding=True)),
                _f.at > bindparam("b_earliest"),
            )
        )

    async def check(self, tx: Tx, keys: Sequence[bytes], now: datetime) -> None:
        """`RateLimited` while the key has had too many failures in any window.

        `keys`: the key's digest under every secret (the current first), so that a rotation of
        the secret does not start the count again."""
        if not self.items:
            return
        starts = [now - timedelta(seconds=item.get_expiry()) for item in self.items]
        params: dict[str, object] = {f"b_start{i}": start for i, start in enumerate(starts)}
        params.update(b_keys=list(keys), b_earliest=min(starts))
        counts = (await tx.run(self._count, params)).one()
        for item, count in zip(self.items, counts, strict=True):
            if count >= item.amount:
                retry_after = await seconds_until_free(
                    tx, at=_f.at, scope=_f.key_digest, keys=keys, item=item, count=count, now=now
                )
                raise RateLimited(too_many_attempts(retry_after), retry_after, scope="name")

    async def reserve(self, tx: Tx, keys: Sequence[bytes], now: datetime) -> int:
        """Count an attempt before it is judged, under the key's lock: `RateLimited` if the key
        is over its limit, else the id of the attempt, to `release` if it turns out right.

        Counting first is what makes the limit hold when guesses arrive all at once."""
        await lock_key(tx, keys[0])
        await self.check(tx, keys, now)
        row = (await tx.run(_RECORD, {"key_digest": keys[0], "at": now})).one()
        return int(row.id)

    async def release(self, tx: Tx, attempt: int) -> None:
        """The attempt was right (or not a guess at all): it is no failure."""
        await tx.run(_RELEASE, {"b_id": attempt})
