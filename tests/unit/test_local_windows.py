"""The in-memory moving windows of the per-client and per-IP throttles (no Redis)."""

from __future__ import annotations

import asyncio

from limits import parse

from honnin.limits.local import LocalWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_window_refuses_until_its_oldest_hit_ages_out() -> None:
    clock = Clock()
    windows = LocalWindows(clock)
    per_minute = parse("3/minute")

    async def run() -> None:
        for _ in range(3):
            assert await windows.hit(per_minute, "k")
            clock.now += 10  # hits at 1000, 1010, 1020
        assert not await windows.hit(per_minute, "k")  # at 1030: three in the last minute
        assert await windows.retry_after(per_minute, "k") == 30  # the hit at 1000 frees at 1060
        clock.now = 1059.5
        assert not await windows.hit(per_minute, "k")  # a refused hit is not counted
        assert await windows.retry_after(per_minute, "k") == 1
        clock.now = 1060.5
        assert await windows.hit(per_minute, "k")
        assert not await windows.hit(per_minute, "k")
        assert await windows.retry_after(per_minute, "k") == 10  # next: the hit at 1010

    asyncio.run(run())


def test_keys_and_limits_count_apart() -> None:
    windows = LocalWindows(Clock())
    one_a_second, two_an_hour = parse("1/second"), parse("2/hour")

    async def run() -> None:
        assert await windows.hit(one_a_second, "a")
        assert not await windows.hit(one_a_second, "a")
        assert await windows.hit(one_a_second, "b")
        assert await windows.hit(two_an_hour, "a")
        assert await windows.hit(two_an_hour, "a")
        assert not await windows.hit(two_an_hour, "a")

    asyncio.run(run())


def test_quiet_keys_are_dropped_so_memory_stays_bounded() -> None:
    clock = Clock()
    windows = LocalWindows(clock)
    per_second, per_hour = parse("5/second"), parse("5/hour")

    async def run() -> None:
        for ip in range(1000):
            await windows.hit(per_second, f"ip:{ip}")
        await windows.hit(per_hour, "client")
        assert len(windows) == 1001
        clock.now += 2
        await windows.hit(per_second, "ip:new")
        # the hourly window still holds its hit; the quiet per-second ones are gone
        assert len(windows) == 2
        clock.now += 3600
        await windows.hit(per_second, "ip:newer")
        assert len(windows) == 1
        assert await windows.retry_after(per_hour, "client") == 1  # room left: 1 of 5 used

    asyncio.run(run())


def test_a_limit_of_zero_refuses_every_hit_for_the_whole_window() -> None:
    windows = LocalWindows(Clock())
    none_an_hour = parse("0/hour")

    async def run() -> None:
        assert not await windows.hit(none_an_hour, "k")
        assert await windows.retry_after(none_an_hour, "k") == 3600

    asyncio.run(run())
