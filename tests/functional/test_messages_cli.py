"""`honnin messages`: support staff read a real delivery timeline."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from typer.testing import CliRunner

from honnin.cli.main import app
from honnin.config import Settings
from honnin.runtime import Runtime
from tests.support.smtp import Sink


async def test_the_timeline_shows_every_attempt_and_reply(
    api: httpx.AsyncClient,
    sink: Sink,
    runtime: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink.refuse_next("451 4.7.1 Greylisted, come back later")
    await api.post("/api/v1/verifications", json={"to": "emma@example.com"})
    await sink.wait_for("emma@example.com")
    for _ in range(100):
        (message,) = await runtime.messages.recent()
        if message.status == "accepted":
            break
        await asyncio.sleep(0.02)

    monkeypatch.setenv("HONNIN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("COLUMNS", "250")
    listing = await asyncio.to_thread(CliRunner().invoke, app, ["messages", "list"])
    shown = await asyncio.to_thread(CliRunner().invoke, app, ["messages", "show", str(message.id)])

    assert str(message.id) in listing.output
    assert "accepted" in listing.output
    out = shown.output
    assert shown.exit_code == 0, out
    assert "em*****@example.com" in out
    assert "451 4.7.1 Greylisted, come back later" in out
    assert "next attempt at" in out
    assert "250 2.0.0 OK: queued as test" in out
    timeline = out[out.index("timeline") :]
    assert timeline.index("deferred") < timeline.index("accepted")
