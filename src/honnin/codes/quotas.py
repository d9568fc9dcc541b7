"""Send quotas per destination and per account, counted from the codes actually sent.

They are read in the transaction that would send, under the destination's lock, so they hold
exactly across every process and node. Each refusal says when a slot frees up: when the
oldest send that keeps the window full ages out of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItem
from sqlalchemy import bindparam, func, select

from honnin.codes.models import Code
from honnin.db import Prepared, Tx
from honnin.errors import RateLimited
from honnin.limits.service import too_many_sends
from honnin.limits.windows import seconds_until_free


def _counts(scope: Any, items: list[RateLimitItem]) -> Prepared:
    """Sends within each item's window, in one statement (windows are bound parameters)."""
    windows = [Code.created_at > bindparam(f"b_start{i}") for i in range(len(items))]
    return Prepared(
        select(*(func.count().filter(window) for window in windows)).where(
            scope.in_(bindparam("b_scope", expanding=True)),
            Code.created_at > bindparam("b_earliest"),
        )
    )


# No row has the nil account id: counting under it costs what counting a real account does,
# for a send that must look like one with an account (a decoy) but spend nobody's quota.
NOBODY = uuid.UUID(int=0)


class SendQuotas:
    def __init__(self, destination: list[RateLimitItem], account: list[RateLimitItem]) -> None:
        self.destination = destination
        self.account = account
        self._scopes = {
            "destination": (Code.destination_digest, destination),
            "account": (Code.account_id, account),
        }
        self._count = {
            name: _counts(column, items) for name, (column, items) in self._scopes.items() if items
        }

    async def check(
        self,
        tx: Tx,
        *,
        destination_digests: Sequence[bytes],
        account_id: uuid.UUID | None,
        now: datetime,
    ) -> None:
        """`destination_digests`: under every secret key, so a rotation restarts no count.
        `account_id`: None for sends that belong to no account (the verification API)."""
        await self._check(tx, "destination", destination_digests, now)
        if account_id is not None:
            await self._check(tx, "account", [account_id], now)

    async def _check(self, tx: Tx, name: str, keys: Sequence[object], now: datetime) -> None:
        column, items = self._scopes[name]
        if not items:
            return
        starts = [now - timedelta(seconds=item.get_expiry()) for item in items]
        params: dict[str, object] = {f"b_start{i}": start for i, start in enumerate(starts)}
        params.update(b_scope=list(keys), b_earliest=min(starts))
        counts = (await tx.run(self._count[name], params)).one()
        for item, count in zip(items, counts, strict=True):
            if count >= item.amount:
                retry_after = await seconds_until_free(
                    tx, at=Code.created_at, scope=column, keys=keys, item=item, count=count, now=now
                )
                raise RateLimited(too_many_sends(retry_after), retry_after, scope=name)
