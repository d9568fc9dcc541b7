"""Send limits per destination and per account, counted from the codes actually sent.

They are read in the transaction that would send, under the destination's lock, so they hold
exactly across every process and node. Each refusal says when a slot frees up: when the
oldest send that keeps the window full ages out of it.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from limits import RateLimitItem
from sqlalchemy import ColumnElement, func, select

from honnin.codes.models import Code
from honnin.db import Tx
from honnin.errors import RateLimited
from honnin.limits.service import too_many_sends


class SendLimits:
    def __init__(self, destination: list[RateLimitItem], account: list[RateLimitItem]) -> None:
        self.destination = destination
        self.account = account

    async def check(
        self, tx: Tx, *, destination_digest: bytes, account_id: uuid.UUID | None, now: datetime
    ) -> None:
        await self._check(
            tx, Code.destination_digest == destination_digest, self.destination, now, "destination"
        )
        if account_id is not None:
            await self._check(tx, Code.account_id == account_id, self.account, now, "account")

    async def _check(
        self,
        tx: Tx,
        scope: ColumnElement[bool],
        items: list[RateLimitItem],
        now: datetime,
        name: str,
    ) -> None:
        if not items:
            return
        starts = [now - timedelta(seconds=item.get_expiry()) for item in items]
        counts = (
            await tx.session.execute(
                select(*(func.count().filter(Code.created_at > start) for start in starts)).where(
                    scope, Code.created_at > min(starts)
                )
            )
        ).one()
        for item, start, count in zip(items, starts, counts, strict=True):
            if count >= item.amount:
                # the window frees a slot when the oldest send that keeps it full ages out
                oldest = await tx.session.scalar(
                    select(Code.created_at)
                    .where(scope, Code.created_at > start)
                    .order_by(Code.created_at)
                    .offset(count - item.amount)
                    .limit(1)
                )
                assert oldest is not None
                free_at = oldest + timedelta(seconds=item.get_expiry())
                retry_after = max(1, math.ceil((free_at - now).total_seconds()))
                raise RateLimited(too_many_sends(retry_after), retry_after, scope=name)
