"""The sliding windows of the limits counted in the database (sends per destination and account,
wrong guesses): which window is full, and when it frees a slot — the one computation behind
every "try again in"."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItem
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import QueryableAttribute

from honnin.db import Tx


def first_full(
    groups: Sequence[Sequence[RateLimitItem]], counts: Sequence[int]
) -> tuple[int, RateLimitItem, int] | None:
    """The first full window: its group's index, its item and its count. `counts` holds each
    group's windows in turn, as one statement counts them for several keys or scopes."""
    position = 0
    for group, items in enumerate(groups):
        for item in items:
            if counts[position] >= item.amount:
                return group, item, counts[position]
            position += 1
    return None


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
