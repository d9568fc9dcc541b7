"""A clock that runs like the real one but can be moved forward (expiry without sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ShiftableClock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class StoppedClock(ShiftableClock):
    """Time moves only when the test moves it: a "try again in N seconds" is exact."""

    def __init__(self) -> None:
        super().__init__()
        self.start = datetime.now(UTC)

    def now(self) -> datetime:
        return self.start + self.offset
