"""Durable delivery over real SMTP: retries, permanent failures, outages, crashes, TLS."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from honnin.config import Settings
from honnin.courier.models import Message
from honnin.courier.service import MessageView
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink
from tests.support.tls import make_server_tls

ADDRESS = "emma@example.com"


async def request_code(api: httpx.AsyncClient, to: str = ADDRESS) -> str:
    """Ask for a code to be sent to `to`; the verification's id."""
    response = await api.post("/api/v1/verifications", json={"to": to})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def the_message(runtime: Runtime) -> MessageView:
    (latest,) = await runtime.messages.recent(limit=1)
    return await runtime.messages.show(str(latest.id))


async def wait_for_status(runtime: Runtime, *statuses: str, timeout: float = 10) -> MessageView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await the_message(runtime)
        if message.status in statuses:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"message still {message.status}, not {statuses}: {message.events}")


def kinds(message: MessageView) -> list[str]:
    return [event.kind for event in message.events]


async def test_a_message_is_delivered_at_once_and_its_timeline_says_so(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    await request_code(api)
    await sink.wait_for(ADDRESS)
    message = await wait_for_status(runtime, "accepted")

    assert kinds(message) == ["queued", "accepted"]
    accepted = message.events[-1]
    assert accepted.attempt == 1
    assert accepted.via == sink.url
    assert accepted.reply_code == 250
    assert accepted.detail == "250 2.0.0 OK: queued as test"
    assert message.header_message_id == sink.to(ADDRESS)[0].message["Message-ID"]


async def test_a_4xx_reply_is_retried_and_the_timeline_shows_both_attempts(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    sink.refuse_next("451 4.3.0 Mailbox busy, try again later")
    await request_code(api)

    mail = await sink.wait_for(ADDRESS)
    message = await wait_for_status(runtime, "accepted")

    assert kinds(message) == ["queued", "deferred", "accepted"]
    deferred = message.events[1]
    assert deferred.reply_code == 451
    assert "Mailbox busy" in (deferred.detail or "")
    assert "next attempt at" in (deferred.detail or "")
    assert message.attempts == 2
    assert mail.code.isdigit()


async def test_a_5xx_reply_fails_the_message_without_retrying(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    sink.refuse_next("550 5.1.1 No such user here", at="RCPT")
    verification = await request_code(api)

    message = await wait_for_status(runtime, "failed")
    await asyncio.sleep(0.6)  # longer than a retry would take

    message = await the_message(runtime)
    assert message.status == "failed"
    assert kinds(message) == ["queued", "failed"]
    assert message.events[-1].reply_code == 550
    assert sink.received == []
    status = (await api.get(f"/api/v1/verifications/{verification}")).json()
    assert status["delivery"]["status"] == "failed"
    assert status["delivery"]["last_reply"] == "550 5.1.1 No such user here"


async def test_a_server_that_is_down_at_send_time_gets_the_message_when_back(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    sink.stop()
    await request_code(api)
    deferred = await wait_for_status(runtime, "deferred")
    assert "Connect" in (deferred.events[-1].detail or "") or "refused" in (
        deferred.events[-1].detail or ""
    )

    sink.start()
    await sink.wait_for(ADDRESS, timeout=15)
    message = await wait_for_status(runtime, "accepted")

    assert kinds(message)[:2] == ["queued", "deferred"]
    assert kinds(message)[-1] == "accepted"
    assert len(sink.to(ADDRESS)) == 1


@pytest.mark.parametrize("settings_overrides", [{"courier_max_attempts": 2}])
async def test_the_courier_gives_up_after_the_last_attempt(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    for _ in range(3):
        sink.refuse_next("421 4.7.0 Too many connections")
    await request_code(api)

    message = await wait_for_status(runtime, "failed")

    assert kinds(message) == ["queued", "deferred", "failed"]
    assert "gave up after 2 attempts" in (message.events[-1].detail or "")


async def test_a_code_that_expires_before_delivery_is_not_sent_late(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.stop()
    await request_code(api)
    await wait_for_status(runtime, "deferred")
    clock.advance(minutes=11)
    sink.start()

    message = await wait_for_status(runtime, "failed")

    assert "expired before it could be delivered" in (message.events[-1].detail or "")
    assert sink.received == []


async def test_connections_are_reused_between_messages(api: httpx.AsyncClient, sink: Sink) -> None:
    for n in range(3):
        await request_code(api, f"person{n}@example.com")
        await sink.wait_for(f"person{n}@example.com")
    assert sink.ehlo_count == 1


async def test_the_sealed_code_is_erased_once_the_message_is_accepted(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    await request_code(api)
    code = await sink.wait_for_code(ADDRESS)
    await wait_for_status(runtime, "accepted")
    async with runtime.db.transaction(write=False) as tx:
        row = (await tx.session.scalars(select(Message))).one()
    assert row.sealed is None
    assert code not in str(row.params)


class TestStartTls:
    @pytest.fixture
    def tls(self, tmp_path: Path) -> Any:
        return make_server_tls(tmp_path)

    @pytest.fixture
    def sink(self, tls: Any) -> Iterator[Sink]:
        context, _ca = tls
        server = Sink(tls_context=context, require_starttls=True).start()
        yield server
        server.stop()

    @pytest.fixture
    def settings_overrides(self, tls: Any) -> dict[str, Any]:
        return {"smtp_require_starttls": True, "smtp_ca_file": tls[1]}

    async def test_mail_goes_over_starttls(self, api: httpx.AsyncClient, sink: Sink) -> None:
        await request_code(api)
        mail = await sink.wait_for(ADDRESS)
        assert mail.tls


class TestRelayLogin:
    @pytest.fixture
    def sink(self) -> Iterator[Sink]:
        server = Sink(credentials=("honnin", "s3cret:pass")).start()
        yield server
        server.stop()

    @pytest.fixture
    def settings_overrides(self, sink: Sink, request: pytest.FixtureRequest) -> dict[str, Any]:
        password = "s3cret%3Apass" if "right" in request.node.name else "wrong"
        return {"smtp_url": f"smtp://honnin:{password}@127.0.0.1:{sink.port}"}

    async def test_the_right_login_delivers(self, api: httpx.AsyncClient, sink: Sink) -> None:
        await request_code(api)
        assert (await sink.wait_for(ADDRESS)).code.isdigit()

    async def test_a_refused_login_is_temporary_not_a_lost_message(
        self, api: httpx.AsyncClient, sink: Sink, runtime: Runtime
    ) -> None:
        await request_code(api)
        message = await wait_for_status(runtime, "deferred")
        detail = message.events[-1].detail or ""
        assert "relay refused the session: 535" in detail
        assert "wrong" not in detail  # the password is never written down
        assert sink.received == []


@pytest.mark.parametrize("settings_overrides", [{"smtp_require_starttls": True}])
async def test_required_starttls_that_is_not_offered_defers_with_the_reason(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    await request_code(api)
    message = await wait_for_status(runtime, "deferred")
    assert "STARTTLS" in (message.events[-1].detail or "")
    assert sink.received == []


# --- a courier process killed mid-send ------------------------------------------------


def start_courier(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HONNIN_SECRET_KEY": settings.resolve_secret().decode(),
        "HONNIN_DATABASE_URL": settings.effective_database_url,
        "HONNIN_SMTP_URL": settings.smtp_url,
        "HONNIN_MAIL_FROM": settings.mail_from,
        "HONNIN_COURIER_POLL_SECONDS": "0.2",
        "HONNIN_COURIER_CLAIM_SECONDS": "2",
        "HONNIN_SMTP_TIMEOUT_SECONDS": "0.5",
        "HONNIN_COURIER_RETRY_BASE_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "honnin", "courier"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
@pytest.mark.parametrize("settings_overrides", [{"courier_enabled": False}])
async def test_a_message_survives_a_courier_killed_mid_send(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, settings: Settings
) -> None:
    sink.hold(at="RCPT")
    await request_code(api)
    first = start_courier(settings)
    try:
        assert await asyncio.to_thread(sink.holding.wait, 20), "the courier never sent"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert (await the_message(runtime)).status == "sending"
        sink.release.set()
        sink.hold_at = None

        second = start_courier(settings)
        try:
            mail = await sink.wait_for(ADDRESS, timeout=20)
            message = await wait_for_status(runtime, "accepted")
        finally:
            second.send_signal(signal.SIGTERM)
            output = second.communicate(timeout=10)[0].decode()
    finally:
        if first.poll() is None:
            first.kill()
    assert mail.code.isdigit()
    assert kinds(message) == ["queued", "taken_over", "accepted"]
    taken_over, accepted = message.events[1:]
    assert f":{first.pid} expired" in (taken_over.detail or "")
    assert accepted.attempt == 2
    assert accepted.actor == taken_over.actor != f"{first.pid}"
    assert len(sink.to(ADDRESS)) == 1
    assert "courier" in output


async def test_a_resend_drops_the_earlier_email_that_has_not_gone_out(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.stop()
    verification = await request_code(api)
    first = await wait_for_status(runtime, "deferred")
    clock.advance(seconds=31)
    sink.start()
    assert await request_code(api) == verification

    mail = await sink.wait_for(ADDRESS)
    await asyncio.sleep(0.5)  # longer than the first message's retry would take

    dropped = await runtime.messages.show(str(first.id))
    assert dropped.status == "failed"
    assert "superseded by a newer code" in (dropped.events[-1].detail or "")
    assert len(sink.to(ADDRESS)) == 1
    path = f"/api/v1/verifications/{verification}/check"
    assert (await api.post(path, json={"code": mail.code})).status_code == 200


async def test_stopping_hands_back_the_messages_in_flight(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    sink.hold(at="RCPT")
    await request_code(api)
    assert await asyncio.to_thread(sink.holding.wait, 10)
    courier = runtime.courier
    assert courier is not None

    await courier.stop(grace=0.1)

    message = await the_message(runtime)
    assert message.status == "deferred"
    assert message.attempts == 0  # nothing was sent: the attempt does not count
    sink.release.set()
