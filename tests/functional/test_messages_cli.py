"""`honnin messages`: support staff read a real delivery timeline."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from honnin.cli.main import app
from honnin.config import Settings
from honnin.courier.service import MessageView
from honnin.runtime import Runtime
from tests.support.smtp import Sink


@pytest.fixture
async def greylisted(
    api: httpx.AsyncClient,
    sink: Sink,
    runtime: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> MessageView:
    """A code sent by email, deferred once by the relay and accepted at the second attempt."""
    sink.refuse_next("451 4.7.1 Greylisted, come back later")
    await api.post("/api/v1/verifications", json={"to": "emma@example.com"})
    await sink.wait_for("emma@example.com")
    for _ in range(100):
        (message,) = await runtime.messages.recent()
        if message.status == "accepted":
            break
        await asyncio.sleep(0.02)
    assert message.status == "accepted"
    monkeypatch.setenv("HONNIN_DATABASE_URL", settings.effective_database_url)
    return message


async def honnin(columns: int, *args: str) -> tuple[int, str]:
    """Run the CLI in a terminal `columns` wide (in a thread: the app's loop keeps running)."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, list(args), env={"COLUMNS": str(columns)}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_the_timeline_shows_every_attempt_and_reply(greylisted: MessageView) -> None:
    code, listing = await honnin(250, "messages", "list")
    assert code == 0, listing
    assert str(greylisted.id) in listing
    assert "accepted" in listing
    code, out = await honnin(250, "messages", "show", str(greylisted.id))
    assert code == 0, out
    assert "em*****@example.com" in out
    assert "451 4.7.1 Greylisted, come back later" in out
    assert "next attempt at" in out
    assert "250 2.0.0 OK: queued as test" in out
    timeline = out[out.index("timeline") :]
    assert timeline.index("deferred") < timeline.index("accepted")


async def test_the_list_fits_an_80_column_terminal(greylisted: MessageView) -> None:
    code, out = await honnin(80, "messages", "list")
    assert code == 0, out
    lines = [line.rstrip() for line in out.splitlines()]
    assert max(len(line) for line in out.splitlines()) == 80
    assert lines == [
        "id                                    created      to                   status",
        f"{greylisted.id}  {greylisted.created_at:%m-%d %H:%M}  em*****@example.com  accepted",
        "times in UTC; --wide for every column",
    ]


async def test_the_wide_list_has_every_column(greylisted: MessageView) -> None:
    code, out = await honnin(250, "messages", "list", "--wide")
    assert code == 0, out
    header, row = (line.replace("┃", "│") for line in out.splitlines() if line[0] in "┃│")
    assert [cell.strip() for cell in header.strip("│ ").split("│")] == [
        "id", "created (UTC)", "channel", "to", "template", "locale", "status", "attempts",
        "next attempt (UTC)", "last reply",
    ]  # fmt: skip
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        str(greylisted.id),
        f"{greylisted.created_at:%Y-%m-%d %H:%M:%S}",
        "email",
        "em*****@example.com",
        greylisted.template,
        "en",
        "accepted",
        "2",
        "",
        "250 2.0.0 OK: queued as test",
    ]


async def test_json_for_scripts(greylisted: MessageView, runtime: Runtime) -> None:
    summary = {
        "id": str(greylisted.id),
        "channel": "email",
        "recipient_hint": "em*****@example.com",
        "template": "code",
        "locale": "en",
        "status": "accepted",
        "attempts": 2,
        "created_at": iso(greylisted.created_at),
        "updated_at": iso(greylisted.updated_at),
        "next_attempt_at": None,
        "accepted_at": iso(greylisted.accepted_at),
        "last_reply": "250 2.0.0 OK: queued as test",
        "trouble": None,  # only a deferred or failed message says where it is stuck
        "header_message_id": greylisted.header_message_id,
        "provider": 0,  # the first (here the only) provider of its channel
        "provider_ref": None,
        "reason": None,
    }
    code, out = await honnin(40, "messages", "list", "--json")  # a narrow terminal wraps nothing
    assert code == 0, out
    assert json.loads(out) == [summary]
    assert list(json.loads(out)[0]) == list(summary)  # stable keys, in this order
    assert await honnin(40, "messages", "list", "--json", "--status", "accepted") == (0, out)
    assert await honnin(40, "messages", "list", "--json", "--status", "deferred") == (0, "[]\n")

    code, out = await honnin(40, "messages", "show", "--json", str(greylisted.id))
    assert code == 0, out
    shown = json.loads(out)
    events = shown.pop("events")
    assert shown == summary
    timeline = (await runtime.messages.show(str(greylisted.id))).events
    assert events == [
        {
            "at": iso(e.at),
            "kind": e.kind,
            "attempt": e.attempt,
            "reply_code": e.reply_code,
            "detail": e.detail,
            "actor": e.actor,
            "via": e.via,
        }
        for e in timeline
    ]
    assert [(e["kind"], e["attempt"], e["reply_code"]) for e in events] == [
        ("queued", None, None),
        ("deferred", 1, 451),
        ("accepted", 2, 250),
    ]
    assert events[0]["at"].endswith("Z")
