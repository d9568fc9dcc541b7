"""Throttles on who is asking: per API client and per IP address.

They count in memory by default (per process: coarse, for the embedded default;
`honnin.limits.local`) or in Redis when `HONNIN_REDIS_URL` is set (shared by every node; the
`limits` library's moving window). The limits that
guard a destination or an account are counted in the database instead, by the code engine
(`honnin.codes.quotas`) and `honnin.limits.failures`, because they must hold across every
process and node — which is also why a Redis that does not answer lets requests through here
(logged as an error) instead of refusing everyone: those limits still hold.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from honnin.config import Settings
from honnin.errors import ConfigurationError, RateLimited
from honnin.i18n import LazyText, _, ngettext
from honnin.limits.local import LocalWindows

log = logging.getLogger("honnin.limits")


@dataclass(frozen=True)
class Requester:
    """Who is asking: an API client, or a person at an IP address (pages)."""

    client_id: uuid.UUID | None = None
    ip: str | None = None


def too_many_sends(retry_after: int) -> LazyText:
    return ngettext(
        "Too many codes were requested. Try again in {seconds} second.",
        "Too many codes were requested. Try again in {seconds} seconds.",
        retry_after,
        seconds=retry_after,
    )


def too_many_attempts(retry_after: int) -> LazyText:
    return ngettext(
        "Too many attempts. Try again in {seconds} second.",
        "Too many attempts. Try again in {seconds} seconds.",
        retry_after,
        seconds=retry_after,
    )


def too_many_requests(retry_after: int) -> LazyText:
    return ngettext(
        "Too many requests. Try again in {seconds} second.",
        "Too many requests. Try again in {seconds} seconds.",
        retry_after,
        seconds=retry_after,
    )


_REDIS_SCHEMES = ("redis", "rediss", "redis+unix")


def redis_storage_uri(redis_url: str) -> str:
    """`redis://…` (or `rediss://` for TLS, `redis+unix://`) as the `limits` library's
    asyncio storage URI, `async+redis://…`; `ConfigurationError` for any other scheme (the
    message does not repeat the URL: it may hold a password)."""
    scheme, sep, rest = redis_url.partition("://")
    scheme = scheme.removeprefix("async+")
    if not sep or scheme not in _REDIS_SCHEMES:
        raise ConfigurationError(
            _(
                "HONNIN_REDIS_URL must start with redis://, rediss:// or redis+unix:// "
                "(e.g. redis://127.0.0.1:6379/0)."
            )
        )
    return f"async+{scheme}://{rest}"


class Windows(Protocol):
    """Where the moving windows are counted."""

    async def hit(self, item: RateLimitItem, key: str) -> bool: ...

    async def retry_after(self, item: RateLimitItem, key: str) -> int: ...


class RedisWindows:
    """The windows in Redis, shared by every process and node."""

    def __init__(self, redis_url: str) -> None:
        storage = RedisStorage(redis_storage_uri(redis_url), wrap_exceptions=True)
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        # tests and counts in one step (a script in Redis): concurrent requests cannot all slip in
        return await self._limiter.hit(item, key)

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def make_windows(redis_url: str | None) -> Windows:
    return RedisWindows(redis_url) if redis_url else LocalWindows()


class Throttle:
    def __init__(self, settings: Settings, windows: Windows | None = None) -> None:
        self._windows = windows if windows is not None else make_windows(settings.redis_url)
        self._items = {
            ("send", "client"): settings.rate("client_sends"),
            ("send", "ip"): settings.rate("ip_sends"),
            ("check", "client"): settings.rate("client_checks"),
            ("check", "ip"): settings.rate("ip_checks"),
            # the password meter's questions (`web.strength`): a browser, as the person types
            ("meter", "client"): settings.rate("ip_meters"),
            ("meter", "ip"): settings.rate("ip_meters"),
            # OpenID Connect: browsers starting a sign-in or a logout for an application, and
            # applications' servers calling the token, revocation, introspection and userinfo
            # endpoints
            ("oidc_page", "ip"): settings.rate("ip_oidc_pages"),
            ("oidc_call", "ip"): settings.rate("ip_oidc_calls"),
        }

    async def send(self, requester: Requester) -> None:
        """Count one code sent for `requester`; `RateLimited` if that is one too many."""
        await self._hit("send", requester, too_many_sends)

    async def attempt(self, requester: Requester) -> None:
        """Count one code (or password) check by `requester`; `RateLimited` if one too many."""
        await self._hit("check", requester, too_many_attempts)

    async def meter(self, requester: Requester) -> None:
        """Count one question to the password meter; `RateLimited` if one too many."""
        await self._hit("meter", requester, too_many_attempts)

    async def oidc_page(self, requester: Requester) -> None:
        """Count one authorization or logout request from a browser."""
        await self._hit("oidc_page", requester, too_many_requests)

    async def oidc_call(self, requester: Requester) -> None:
        """Count one call of an application to the provider's endpoints."""
        await self._hit("oidc_call", requester, too_many_requests)

    async def _hit(
        self, action: str, requester: Requester, message: Callable[[int], LazyText]
    ) -> None:
        keys = [("client", requester.client_id), ("ip", requester.ip)]
        for scope, who in keys:
            if who is None:
                continue
            key = f"{action}:{scope}:{who}"
            for item in self._items[(action, scope)]:
                try:
                    allowed = await self._windows.hit(item, key)
                except StorageError as error:
                    log.error("the rate-limit store did not answer; %s not counted: %s", key, error)
                    return
                if not allowed:
                    retry_after = await self._windows.retry_after(item, key)
                    raise RateLimited(message(retry_after), retry_after, scope=f"{scope}")
