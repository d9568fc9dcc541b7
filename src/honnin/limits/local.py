"""Moving-window counts kept in this process's memory: the per-client and per-IP throttles of
the embedded default (no Redis).

Why not the `limits` library's `aio` MemoryStorage: on every hit that finds its expiry task
done it starts a new one, which hands every key to a thread (`asyncio.to_thread`) to find the
expired entries; on the verification bench that was a sixth of the server's CPU. Here a hit
prunes only its own key, in place, on the event loop (no await: two concurrent requests cannot
both slip through), and keys that went quiet are dropped by a sweep at most once a minute.

The window is a moving one, as with `limits`' MovingWindowRateLimiter (and Redis here): a hit
is allowed while fewer than `amount` hits of that key fall in the last `expiry` seconds. Times
are monotonic, so a wall clock that jumps neither frees nor blocks anybody.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from time import monotonic

from limits import RateLimitItem

SWEEP_SECONDS = 60.0

_Key = tuple[str, int, int]


class LocalWindows:
    """Hits per key and limit in the last window; memory bounded by the hits still in a window."""

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self._clock = clock
        self._hits: dict[_Key, deque[float]] = {}
        self._next_sweep = clock() + SWEEP_SECONDS

    def __len__(self) -> int:
        """How many key-and-limit windows are held (for tests of the sweep)."""
        return len(self._hits)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one hit of `key` under `item`; False (and not counted) if the window is full."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        window = item.get_expiry()
        hits = self._hits.get(slot := (key, item.amount, window))
        if hits is None:
            hits = self._hits[slot] = deque()
        else:
            _prune(hits, now - window)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        return True

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        """Whole seconds (at least 1) until `key`'s window under `item` has room again."""
        now = self._clock()
        window = item.get_expiry()
        hits = self._hits.get((key, item.amount, window))
        if hits is None:
            return 1
        _prune(hits, now - window)
        if len(hits) < item.amount:
            return 1
        # the hit that must age out for one more to fit
        frees_at = hits[len(hits) - item.amount] + window
        return max(1, math.ceil(frees_at - now))

    def _sweep(self, now: float) -> None:
        """Drop the windows whose newest hit has aged out: keys that went quiet."""
        self._next_sweep = now + SWEEP_SECONDS
        quiet = [slot for slot, hits in self._hits.items() if not hits or hits[-1] <= now - slot[2]]
        for slot in quiet:
            del self._hits[slot]


def _prune(hits: deque[float], start: float) -> None:
    while hits and hits[0] <= start:
        hits.popleft()
