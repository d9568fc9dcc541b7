"""Wrong passwords and codes, counted per sign-in name in the database.

The key is a keyed digest of the name as typed (normalised), whether or not an account has
it: an unknown name is throttled exactly like a known one, so throttling tells nothing about
which names exist. Counted in the database, the limit holds across every process and node.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItem
from sqlalchemy import bindparam, delete, func, insert, select

from honnin.db import Prepared, Tx, table_of
from honnin.db.locks import lock_keys
from honnin.errors import RateLimited
from honnin.limits.models import FailedAttempt
from honnin.limits.service import too_many_attempts
from honnin.limits.windows import first_full, seconds_until_free

_failures = table_of(FailedAttempt)
_f = _failures.c
# run straight on the driver (honnin.db.prepared)
_RELEASE = Prepared(delete(_failures).where(_f.id.in_(bindparam("b_ids", expanding=True))))
_RECORD: dict[int, Prepared] = {}  # by the number of keys counted at once
_COUNT: dict[tuple[int, ...], Prepared] = {}  # by the number of windows of each key


def _record(keys: int) -> Prepared:
    """One row per key, in one statement."""
    if keys not in _RECORD:
        rows: list[dict[str, Any]] = [
            {"key_digest": bindparam(f"b_key{j}"), "at": bindparam("b_at")} for j in range(keys)
        ]
        _RECORD[keys] = Prepared(insert(_failures).values(rows).returning(_f.id))
    return _RECORD[keys]


def _count(shape: tuple[int, ...]) -> Prepared:
    """The failures of each key (`b_keys{j}`: its digests) in each of its windows (since
    `b_start{j}_{i}`), in one statement."""
    if shape not in _COUNT:
        counts = [
            func.count().filter(
                _f.key_digest.in_(bindparam(f"b_keys{j}", expanding=True)),
                _f.at > bindparam(f"b_start{j}_{i}"),
            )
            for j, windows in enumerate(shape)
            for i in range(windows)
        ]
        _COUNT[shape] = Prepared(
            select(*counts).where(
                _f.key_digest.in_(bindparam("b_keys", expanding=True)),
                _f.at > bindparam("b_earliest"),
            )
        )
    return _COUNT[shape]


class FailureLimits:
    def __init__(self, items: list[RateLimitItem]) -> None:
        self.items = items

    async def reserve(self, tx: Tx, keys: Sequence[bytes], now: datetime) -> int:
        """Count an attempt before it is judged, under the key's lock: `RateLimited` if the key
        is over its limit, else the id of the attempt, to `release` if it turns out right.

        `keys`: the key's digest under every secret (the current first), so that a rotation of
        the secret does not start the count again. Counting first is what makes the limit hold
        when guesses arrive all at once."""
        (attempt,) = await reserve_together(tx, [(self, keys)], now)
        return attempt

    async def release(self, tx: Tx, *attempts: int) -> None:
        """The attempts were right (or not guesses at all): they are no failures."""
        if attempts:
            await tx.run(_RELEASE, {"b_ids": list(attempts)})


async def reserve_together(
    tx: Tx, counted: Sequence[tuple[FailureLimits, Sequence[bytes]]], now: datetime
) -> tuple[int, ...]:
    """`FailureLimits.reserve` for one attempt counted under several keys, each with its own
    limits, in one count and one insert whatever their number (on PostgreSQL after one
    statement that locks the keys): `RateLimited` (nothing counted) if any key is over a limit,
    else the attempt's rows, one per key, in no particular order (they are released together)."""
    await lock_keys(tx, [keys[0] for _limits, keys in counted])
    starts = [
        [now - timedelta(seconds=item.get_expiry()) for item in limits.items]
        for limits, _keys in counted
    ]
    if any(starts):
        params: dict[str, object] = {
            f"b_start{j}_{i}": start for j, key_starts in enumerate(starts)
            for i, start in enumerate(key_starts)
        }  # fmt: skip
        params.update({f"b_keys{j}": list(keys) for j, (_limits, keys) in enumerate(counted)})
        params["b_keys"] = [key for _limits, keys in counted for key in keys]
        params["b_earliest"] = min(start for key_starts in starts for start in key_starts)
        counts = (await tx.run(_count(tuple(map(len, starts))), params)).one()
        full = first_full([limits.items for limits, _keys in counted], counts)
        if full is not None:
            key, item, count = full
            retry_after = await seconds_until_free(
                tx, at=_f.at, scope=_f.key_digest, keys=counted[key][1], item=item, count=count,
                now=now,
            )  # fmt: skip
            raise RateLimited(too_many_attempts(retry_after), retry_after, scope="name")
    record = {f"b_key{j}": keys[0] for j, (_limits, keys) in enumerate(counted)}
    rows = await tx.run(_record(len(counted)), {**record, "b_at": now})
    return tuple(row.id for row in rows)
