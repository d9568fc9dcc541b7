"""Rate limits on sending codes and on checking them.

Two kinds of counter, each where it holds:

- per destination and per account: counted from the `codes` table in the same transaction
  that would send, so they hold across every process and node (DESIGN.md: counters that
  guard security live in the database);
- per client and per IP: the `limits` library, in memory by default (per process; coarse) or
  in Redis when `HONNIN_REDIS_URL` is set (shared by every node).

Every refusal is a `RateLimited` error saying, in seconds, when trying again can work.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import ColumnElement, func, select

from honnin.clock import Clock
from honnin.codes.models import Code
from honnin.config import Settings
from honnin.db import Tx
from honnin.errors import RateLimited
from honnin.i18n import LazyText, _


@dataclass(frozen=True)
class Requester:
    """Who is asking: an API client, or a person at an IP address (pages)."""

    client_id: uuid.UUID | None = None
    ip: str | None = None


def _too_many_sends(retry_after: int) -> LazyText:
    return _("Too many codes were requested. Try again in {seconds} seconds.", seconds=retry_after)


def _too_many_checks(retry_after: int) -> LazyText:
    return _("Too many attempts. Try again in {seconds} seconds.", seconds=retry_after)


def make_storage(redis_url: str | None) -> Storage:
    if redis_url:
        return RedisStorage(redis_url.replace("redis://", "async+redis://", 1))
    return MemoryStorage()


class Limiter:
    def __init__(self, settings: Settings, clock: Clock, storage: Storage | None = None) -> None:
        self.clock = clock
        self._limiter = MovingWindowRateLimiter(storage or make_storage(settings.redis_url))
        self._destination = settings.rate("destination_sends")
        self._account = settings.rate("account_sends")
        self._client_sends = settings.rate("client_sends")
        self._ip_sends = settings.rate("ip_sends")
        self._client_checks = settings.rate("client_checks")
        self._ip_checks = settings.rate("ip_checks")

    async def check_send(
        self,
        tx: Tx,
        *,
        destination_digest: bytes,
        account_id: uuid.UUID | None,
        requester: Requester,
    ) -> None:
        """Refuse a send that would go over any limit; count it if it goes ahead."""
        await self._check_recent_codes(
            tx, Code.destination_digest == destination_digest, self._destination, "destination"
        )
        if account_id is not None:
            await self._check_recent_codes(
                tx, Code.account_id == account_id, self._account, "account"
            )
        await self._hit(self._requester_keys(requester, "send"), _too_many_sends)

    async def check_attempt(self, requester: Requester) -> None:
        """Count one code (or password) check by this requester; refuse if over the limit."""
        await self._hit(self._requester_keys(requester, "check"), _too_many_checks)

    def _requester_keys(
        self, requester: Requester, action: str
    ) -> list[tuple[list[RateLimitItem], str]]:
        keys: list[tuple[list[RateLimitItem], str]] = []
        if requester.client_id is not None:
            items = self._client_sends if action == "send" else self._client_checks
            keys.append((items, f"{action}:client:{requester.client_id}"))
        if requester.ip is not None:
            items = self._ip_sends if action == "send" else self._ip_checks
            keys.append((items, f"{action}:ip:{requester.ip}"))
        return keys

    async def _hit(
        self,
        keys: list[tuple[list[RateLimitItem], str]],
        message: Callable[[int], LazyText],
    ) -> None:
        for items, key in keys:
            for item in items:
                if not await self._limiter.test(item, key):
                    stats = await self._limiter.get_window_stats(item, key)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    raise RateLimited(message(retry_after), retry_after, scope=key)
        for items, key in keys:
            for item in items:
                await self._limiter.hit(item, key)

    async def _check_recent_codes(
        self, tx: Tx, condition: ColumnElement[bool], items: list[RateLimitItem], scope: str
    ) -> None:
        now = self.clock.now()
        for item in items:
            window_start = now - timedelta(seconds=item.get_expiry())
            recent = select(Code.created_at).where(condition, Code.created_at > window_start)
            count = await tx.session.scalar(select(func.count()).select_from(recent.subquery()))
            if count is not None and count >= item.amount:
                # the window frees a slot when the oldest send that keeps it full ages out
                oldest = await tx.session.scalar(
                    recent.order_by(Code.created_at).offset(count - item.amount).limit(1)
                )
                assert oldest is not None
                free_at = oldest + timedelta(seconds=item.get_expiry())
                retry_after = max(1, math.ceil((free_at - now).total_seconds()))
                raise RateLimited(_too_many_sends(retry_after), retry_after, scope=scope)
