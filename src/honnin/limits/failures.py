"""Wrong passwords and codes, counted per sign-in name in the database.

The key is a keyed digest of the name as typed (normalised), whether or not an account has
it: an unknown name is throttled exactly like a known one, so throttling tells nothing about
which names exist. Counted in the database, the limit holds across every process and node.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from limits import RateLimitItem
from sqlalchemy import bindparam, func, insert, select

from honnin.db import Tx, table_of
from honnin.errors import RateLimited
from honnin.limits.models import FailedAttempt
from honnin.limits.service import too_many_attempts

_failures = table_of(FailedAttempt)
_f = _failures.c
_RECORD = insert(_failures)


class FailureLimits:
    def __init__(self, items: list[RateLimitItem]) -> None:
        self.items = items
        windows = [_f.at > bindparam(f"b_start{i}") for i in range(len(items))]
        self._count = select(*(func.count().filter(w) for w in windows)).where(
            _f.key_digest == bindparam("b_key"), _f.at > bindparam("b_earliest")
        )

    async def check(self, tx: Tx, key: bytes, now: datetime) -> None:
        """`RateLimited` while `key` has had too many failures in any window."""
        if not self.items:
            return
        starts = [now - timedelta(seconds=item.get_expiry()) for item in self.items]
        params: dict[str, object] = {f"b_start{i}": start for i, start in enumerate(starts)}
        params.update(b_key=key, b_earliest=min(starts))
        counts = (await tx.conn.execute(self._count, params)).one()
        for item, start, count in zip(self.items, starts, counts, strict=True):
            if count >= item.amount:
                oldest = await tx.conn.scalar(
                    select(_f.at)
                    .where(_f.key_digest == key, _f.at > start)
                    .order_by(_f.at)
                    .offset(count - item.amount)
                    .limit(1)
                )
                assert oldest is not None
                free_at = oldest + timedelta(seconds=item.get_expiry())
                retry_after = max(1, math.ceil((free_at - now).total_seconds()))
                raise RateLimited(too_many_attempts(retry_after), retry_after, scope="name")

    async def record(self, tx: Tx, key: bytes, now: datetime) -> None:
        await tx.conn.execute(_RECORD, {"key_digest": key, "at": now})
