"""No account enumeration by timing: the steps that differ behind the scenes for a name with
an account and one without take the same time, as far as noise allows."""

from __future__ import annotations

import contextlib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from honnin.runtime import Runtime
from tests.support.journeys import PASSWORD
from tests.support.pages import PageClient
from tests.support.smtp import free_port


@pytest.fixture
def relay() -> Iterator[str]:
    """An SMTP server in its own process, as a real relay is: one in a thread of this
    process would steal time from the very requests being timed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
         "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        time.sleep(0.05)
    yield f"smtp://127.0.0.1:{port}"
    process.terminate()
    process.wait(5)


@pytest.fixture
def settings_overrides(relay: str) -> dict[str, Any]:
    return {"smtp_url": relay, "limit_ip_checks": "1000/hour"}


async def test_the_timing_is_the_same_within_noise(browser: PageClient, runtime: Runtime) -> None:
    """Each sample on a fresh name, so no limit or cooldown makes a path shorter; the time
    includes the page the browser is sent to next, when the courier is at work."""
    rounds = 9
    for n in range(rounds):
        await runtime.accounts.create(f"known{n}@example.com", PASSWORD, email_verified=True)

    async def timed(name: str) -> tuple[float, float]:
        page = await browser.get("/signin")
        page = await browser.submit(page, "submit_identifier", name=name)
        started = time.perf_counter()
        await browser.submit(page, "submit_password", password="wrong password")
        password = time.perf_counter() - started
        started = time.perf_counter()
        await browser.submit(page, "email_code")  # follows the redirect to the code page
        return password, time.perf_counter() - started

    samples: dict[str, list[tuple[float, float]]] = {"known": [], "unknown": []}
    for n in range(rounds):
        first, second = ("known", "unknown") if n % 2 else ("unknown", "known")
        for kind in (first, second):
            samples[kind].append(await timed(f"{kind}{n}@example.com"))
    for step in (0, 1):
        known_ms = statistics.median(s[step] for s in samples["known"][1:]) * 1000
        unknown_ms = statistics.median(s[step] for s in samples["unknown"][1:]) * 1000
        # noise on a shared 2-core machine: a few ms, or a fifth of the step
        assert abs(known_ms - unknown_ms) < max(4.0, 0.2 * max(known_ms, unknown_ms)), (
            step,
            known_ms,
            unknown_ms,
        )
