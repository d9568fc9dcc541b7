from __future__ import annotations

from honnin.courier.retry import backoff_seconds


def test_backoff_doubles_within_jitter() -> None:
    for attempt, expected in [(1, 5), (2, 10), (3, 20), (4, 40)]:
        delays = [backoff_seconds(attempt, base=5, cap=900) for _ in range(200)]
        assert min(delays) >= expected * 0.8
        assert max(delays) <= expected * 1.2
        assert max(delays) > min(delays)  # jittered


def test_backoff_is_capped() -> None:
    assert all(backoff_seconds(30, base=5, cap=900) <= 900 * 1.2 for _ in range(100))
