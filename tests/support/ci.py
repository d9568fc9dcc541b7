"""Parts of the suite that need a service (a browser, PostgreSQL, Redis) skip without it and
say why; in CI (`CI=true`) that is a failure instead, so a broken install cannot pass as green."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip, saying why; in CI fail."""
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}", pytrace=False)
    pytest.skip(reason)
