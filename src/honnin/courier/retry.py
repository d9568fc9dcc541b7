"""When to try again after a temporary failure: exponential backoff with jitter, bounded."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, base: float, cap: float, jitter: float = 0.2) -> float:
    """Delay after failed attempt number `attempt` (1-based): base·2^(attempt-1), at most `cap`,
    spread by ±`jitter` so that messages deferred together do not retry together."""
    delay: float = min(cap, base * 2.0 ** (attempt - 1))
    spread: float = random.uniform(-jitter, jitter)  # noqa: S311 - not security
    return delay * (1 + spread)
