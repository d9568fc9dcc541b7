"""Moving-window counts kept in this process's memory: the per-client and per-IP throttles of
the embedded default (no Redis).

Why not the `limits` library's `aio` MemoryStorage: on every hit that finds its expiry task
done it starts a new one, which hands every key to a thread (`asyncio.to_thread`) to find the
expired entries; on the verification bench that was a sixth of the server's CPU. Here a hit
prunes only its own key, in place, on the event loop (no await: two concurrent requests cannot
both slip through), and the keys that went quiet are dropped as others are hit: the windows are
kept in the order they were last hit, so the quiet ones are at the front (no periodic sweep
that would walk a million IPs at once).

The window is a moving one, as with `limits`' MovingWindowRateLimiter (and Redis here): a hit
is allowed while fewer than `amount` hits of that key fall in the last `expiry` seconds. Times
are monotonic, so a wall clock that jumps neither frees nor blocks anybody.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable
from time import monotonic

from limits import RateLimitItem

_Key = tuple[str, int, int]


class LocalWindows:
    """Hits per key and limit in the last window. Memory is bounded by the keys hit within the
    longest window: a quiet window is dropped once every window hit before it is quiet too."""

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self._clock = clock
        self._hits: OrderedDict[_Key, deque[float]] = OrderedDict()  # least recently hit first

    def __len__(self) -> int:
        """How many key-and-limit windows are held (for tests of the clean-up)."""
        return len(self._hits)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one hit of `key` under `item`; False (and not counted) if the window is full."""
        now = self._clock()
        window = item.get_expiry()
        hits = self._hits.get(slot := (key, item.amount, window))
        if hits is None:
            hits = self._hits[slot] = deque()
        else:
            _prune(hits, now - window)
            self._hits.move_to_end(slot)
        self._drop_quiet(now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        return True

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        """Whole seconds (at least 1) until `key`'s window under `item` has room again."""
        now = self._clock()
        window = item.get_expiry()
        if item.amount <= 0:  # a limit of 0 (sends turned off): never room
            return max(1, math.ceil(window))
        hits = self._hits.get((key, item.amount, window))
        if hits is None:
            return 1
        _prune(hits, now - window)
        if len(hits) < item.amount:
            return 1
        # the hit that must age out for one more to fit
        frees_at = hits[len(hits) - item.amount] + window
        return max(1, math.ceil(frees_at - now))

    def _drop_quiet(self, now: float) -> None:
        """Drop the least recently hit windows while their newest hit has aged out."""
        while len(self._hits) > 1:
            slot, hits = next(iter(self._hits.items()))
            if hits and hits[-1] > now - slot[2]:
                return
            del self._hits[slot]


def _prune(hits: deque[float], start: float) -> None:
    while hits and hits[0] <= start:
        hits.popleft()
