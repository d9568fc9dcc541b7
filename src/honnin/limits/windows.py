"""When a full sliding window frees a slot: the one computation behind every "try again in"
of the limits counted in the database (sends per destination and account, wrong guesses)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItem
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import QueryableAttribute

from honnin.db import Tx


async def seconds_until_free(
    tx: Tx,
    *,
    at: ColumnElement[datetime] | QueryableAttribute[datetime],
    scope: ColumnElement[Any] | QueryableAttribute[Any],
    keys: Sequence[object],
    item: RateLimitItem,
    count: int,
    now: datetime,
) -> int:
    """Seconds (at least 1) until the window of `item`, which holds `count` rows of `keys`
    (`count` ≥ `item.amount`), has room for one more: when the oldest row that keeps it full
    ages out of it. `at`: the rows' time column; `scope`: the column `keys` are values of."""
    start = now - timedelta(seconds=item.get_expiry())
    oldest = await tx.conn.scalar(
        select(at)
        .where(scope.in_(keys), at > start)
        .order_by(at)
        .offset(count - item.amount)
        .limit(1)
    )
    assert oldest is not None
    free_at = oldest + timedelta(seconds=item.get_expiry())
    return max(1, math.ceil((free_at - now).total_seconds()))
