"""Durable delivery over real SMTP: retries, permanent failures, outages, crashes, TLS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from honnin.config import Settings, SmtpTarget
from honnin.courier.channels.base import Outcome, Outgoing
from honnin.courier.channels.smtp import SmtpChannel, SmtpTimeouts
from honnin.courier.models import Message, MessageEvent
from honnin.courier.service import MessageView
from honnin.courier.worker import Courier, CourierConfig
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock, StoppedClock
from tests.support.pages import PageClient
from tests.support.smtp import Sink, StallingRelay, free_port
from tests.support.tls import make_server_tls

ADDRESS = "emma@example.com"
SENDER = "account-security-noreply@accountprotection.example.com"
NO_RETRY_SOON = {"courier_retry_base_seconds": 60, "courier_retry_max_seconds": 120}


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


async def test_a_timeline_is_read_at_one_moment_even_as_the_courier_writes(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Support staff never see a message's newest event beside its older status (on
    PostgreSQL each statement of a read-committed transaction sees the newest commits)."""
    await request_code(api)
    accepted = await wait_for_status(runtime, "accepted")
    read_row = AsyncSession.get

    async def get_then_courier_writes(self: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        row = await read_row(self, *args, **kwargs)
        monkeypatch.undo()
        async with runtime.db.transaction() as tx:  # committed between the two reads
            await tx.session.execute(update(Message).values(status="failed"))
            event = {"message_id": accepted.id, "at": runtime.clock.now(), "kind": "failed"}
            await tx.session.execute(insert(MessageEvent).values(event))
        return row

    monkeypatch.setattr(AsyncSession, "get", get_then_courier_writes)
    seen = await runtime.messages.show(str(accepted.id))

    assert (seen.status, kinds(seen)) == ("accepted", ["queued", "accepted"])
    now = await the_message(runtime)
    assert (now.status, kinds(now)) == ("failed", ["queued", "accepted", "failed"])


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
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.refuse_next("550 5.1.1 No such user here", at="RCPT")
    verification = await request_code(api)

    message = await wait_for_status(runtime, "failed")

    assert kinds(message) == ["queued", "failed"]
    assert message.next_attempt_at is None
    await nothing_is_due_later(runtime, clock)
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


async def test_connections_are_reused_between_messages(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    for n in range(3):
        await request_code(api, f"person{n}@example.com")
        await sink.wait_for(f"person{n}@example.com")
        # recorded once the relay's reply is in: the connection is back in the pool by then
        # (the sink has the message a moment before the courier has its reply)
        await wait_for_status(runtime, "accepted")
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


# the first email's next try stays well after the clock's jump (at least 96 s away): with the
# suite's retries of 0.2-1 s, the courier could send it between the relay's return and the
# resend (it did once on PostgreSQL), and there would be nothing left to drop
@pytest.mark.parametrize(
    "settings_overrides",
    [{"courier_retry_base_seconds": 120, "courier_retry_max_seconds": 600}],
)
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

    dropped = await runtime.messages.show(str(first.id))
    assert dropped.status == "failed"
    assert dropped.next_attempt_at is None
    assert "superseded by a newer code" in (dropped.events[-1].detail or "")
    assert len(sink.to(ADDRESS)) == 1
    path = f"/api/v1/verifications/{verification}/check"
    assert (await api.post(path, json={"code": mail.code})).status_code == 200
    await nothing_is_due_later(runtime, clock)
    assert len(sink.to(ADDRESS)) == 1


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
    assert message.next_attempt_at is not None  # due at once, for another courier
    sink.release.set()


@pytest.mark.parametrize("settings_overrides", [NO_RETRY_SOON])
async def test_stopping_after_the_end_of_a_message_went_out_records_it_as_unknown(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    sink.answer_slowly()  # the relay has the whole message; its reply is late
    await request_code(api)
    await sink.wait_for(ADDRESS)
    courier = runtime.courier
    assert courier is not None
    for _ in range(1000):  # the courier notes that the end went out as soon as it writes it
        if courier._on_the_wire:
            break
        await asyncio.sleep(0.01)

    await courier.stop(grace=0.1)

    message = await the_message(runtime)
    assert message.status == "unknown"
    assert message.attempts == 1
    assert kinds(message) == ["queued", "unknown"]
    assert (message.events[-1].detail or "").startswith(
        "the courier stopped while waiting for the reply to the end of the message: the relay "
        "may have taken it — sent once more at "
    )
    assert message.next_attempt_at is not None
    assert message.next_attempt_at >= message.updated_at + timedelta(seconds=48)  # not at once
    assert message.header_message_id == sink.to(ADDRESS)[0].message["Message-ID"]


# --- a slow relay: per-step timeouts, "unknown", one retry, the claim kept alive -------------


def the_second_courier(runtime: Runtime, sink: Sink, settings: Settings) -> Courier:
    """Another courier on the same database, as another process would run: it takes over any
    message whose claim expires."""
    channel = SmtpChannel(SmtpTarget.parse(sink.url), timeouts=SmtpTimeouts.from_settings(settings))
    assert runtime.courier is not None
    config = replace(CourierConfig.from_settings(settings), poll_interval=0.05)
    return Courier(runtime.db, runtime.clock, runtime.keyring, {"email": [channel]},
                   runtime.courier.composers, config, actor="second-courier")  # fmt: skip


@pytest.mark.parametrize("settings_overrides", [{"courier_enabled": False}])
async def test_a_courier_on_its_own_works_through_a_backlog_without_waiting_for_its_next_poll(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    """Messages queued with no courier in the app wait for a courier of its own (`honnin
    courier`): one that takes one at a time looks again as each send ends, not a poll later."""
    addresses = [f"person{n}@example.com" for n in range(4)]
    for address in addresses:
        await request_code(api, address)
    courier = runtime.make_courier()  # as `honnin courier` makes it
    courier.config = replace(courier.config, concurrency=1, poll_interval=3600)
    await courier.start()
    try:
        for address in addresses:
            await sink.wait_for(address)
    finally:
        await courier.stop()
    assert [len(sink.to(address)) for address in addresses] == [1, 1, 1, 1]


async def wait_for_events(runtime: Runtime, count: int, timeout: float = 10) -> MessageView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await the_message(runtime)
        if len(message.events) >= count:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} events: {message.events}")


@pytest.mark.parametrize("settings_overrides", [{"smtp_timeout_seconds": 0.2}])
async def test_the_reply_to_the_end_of_a_message_is_waited_for_longer_than_a_command(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    sink.answer_slowly()  # it takes the message; its reply comes when the test says
    await request_code(api)
    await sink.wait_for(ADDRESS)
    await asyncio.sleep(1.0)  # five command timeouts: the reply to the "." has ten minutes

    assert (await the_message(runtime)).status == "sending"
    sink.answer.set()
    message = await wait_for_status(runtime, "accepted")

    assert kinds(message) == ["queued", "accepted"]
    assert len(sink.to(ADDRESS)) == 1


UNANSWERED = {"smtp_final_reply_timeout_seconds": 0.2, **NO_RETRY_SOON}
LATER = 150  # seconds: past any retry of NO_RETRY_SOON (at most 120 s + 20 % jitter)


class TestHeartbeat:
    @pytest.fixture
    def clock(self) -> StoppedClock:
        return StoppedClock()

    @pytest.mark.parametrize("settings_overrides", [{"courier_claim_seconds": 60}])
    async def test_a_send_slower_than_its_claim_is_never_taken_over(
        self, api: httpx.AsyncClient, sink: Sink, runtime: Runtime, settings: Settings,
        clock: StoppedClock,
    ) -> None:  # fmt: skip
        courier = runtime.courier
        assert courier is not None
        sink.answer_slowly()  # the relay has the message and takes its time to say so
        await request_code(api)
        await sink.wait_for(ADDRESS)
        second = the_second_courier(runtime, sink, settings)

        clock.advance(seconds=45)
        assert await courier.renew_claims() == 1  # one beat
        async with runtime.db.transaction(write=False) as tx:
            row = (await tx.session.scalars(select(Message))).one()
        assert row.claim_expires_at == clock.now() + timedelta(seconds=60)
        clock.advance(seconds=45)  # past the first claim (60 s), within the renewed one
        assert (await second._claim_due(10))[0] == []
        clock.advance(seconds=16)  # past the renewed claim too: only a dead courier's expires
        assert [c.id for c in (await second._claim_due(10))[0]] == [row.id]


@pytest.mark.parametrize("settings_overrides", [UNANSWERED])
async def test_a_slow_relay_gets_the_code_once_and_the_timeline_says_unknown(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.answer_slowly()  # it takes the message, then answers after the timeout
    verification = await request_code(api)
    message = await wait_for_status(runtime, "unknown")

    assert kinds(message) == ["queued", "unknown"]
    unknown = message.events[-1]
    assert unknown.attempt == 1
    assert runtime.courier is not None
    assert unknown.actor == runtime.courier.actor
    assert unknown.reply_code is None
    assert (unknown.detail or "").startswith(
        "no reply to the end of the message within 0.2 s: the relay may have taken it — sent "
        "once more at "
    )
    assert (unknown.detail or "").endswith(
        "UTC unless its code is used or replaced first; this may deliver it twice"
    )
    assert message.next_attempt_at is not None
    status = (await api.get(f"/api/v1/verifications/{verification}")).json()["delivery"]
    assert (status["status"], status["trouble"]) == ("unknown", None)
    assert status["next_attempt_at"] is not None
    (mail,) = sink.to(ADDRESS)

    # the code came back, so the email arrived: its retry would be a duplicate
    check = await api.post(f"/api/v1/verifications/{verification}/check", json={"code": mail.code})
    assert check.status_code == 200
    message = await the_message(runtime)
    assert message.status == "unknown"
    assert message.next_attempt_at is None
    assert kinds(message) == ["queued", "unknown", "retry_cancelled"]
    assert message.events[-1].detail == (
        "not sent again: no longer needed: the code was already used"
    )
    await nothing_is_due_later(runtime, clock)
    assert len(sink.to(ADDRESS)) == 1


async def nothing_is_due_later(runtime: Runtime, clock: ShiftableClock) -> None:
    """No courier will ever send anything again, however long it waits: no message is due,
    and no claim is left to expire."""
    courier = runtime.courier
    assert courier is not None
    for _ in range(500):  # it records the relay's answer a moment after the sink has the mail
        if not courier._holding:
            break
        await asyncio.sleep(0.01)
    clock.advance(days=1)
    assert await courier._anything_due() is False


@pytest.mark.parametrize("settings_overrides", [UNANSWERED])
async def test_an_unknown_outcome_is_sent_once_more_and_never_again(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.answer_slowly(count=2)
    await request_code(api)
    await wait_for_status(runtime, "unknown")
    clock.advance(seconds=LATER)  # the retry is due: the poller sends it

    message = await wait_for_events(runtime, 3)

    assert kinds(message) == ["queued", "unknown", "unknown"]
    assert message.status == "unknown"
    assert message.next_attempt_at is None
    assert message.attempts == 2
    assert (message.events[-1].detail or "").endswith(
        "— not sent again: an earlier attempt may have delivered it"
    )
    assert len(sink.to(ADDRESS)) == 2  # the duplicate the timeline warned of
    async with runtime.db.transaction(write=False) as tx:
        row = (await tx.session.scalars(select(Message))).one()
    assert row.sealed is None  # not needed any more
    await nothing_is_due_later(runtime, clock)
    assert kinds(await the_message(runtime)) == ["queued", "unknown", "unknown"]


@pytest.mark.parametrize("settings_overrides", [UNANSWERED])
async def test_the_retry_of_an_unknown_message_that_gets_a_4xx_is_retried_as_usual(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.answer_slowly()
    await request_code(api)
    await wait_for_status(runtime, "unknown")
    sink.refuse_next("451 4.3.0 Mailbox busy, try again later")  # nothing goes out this time
    clock.advance(seconds=LATER)

    message = await wait_for_status(runtime, "deferred")

    assert kinds(message) == ["queued", "unknown", "deferred"]
    assert message.next_attempt_at is not None
    assert message.events[-1].reply_code == 451
    clock.advance(seconds=LATER)
    message = await wait_for_status(runtime, "accepted")
    assert kinds(message) == ["queued", "unknown", "deferred", "accepted"]
    assert message.attempts == 3
    assert len(sink.to(ADDRESS)) == 2  # the unanswered copy, and this one


@pytest.mark.parametrize("settings_overrides", [UNANSWERED])
async def test_the_retry_of_an_unknown_message_with_the_relay_down_is_retried_as_usual(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.answer_slowly()
    await request_code(api)
    await wait_for_status(runtime, "unknown")
    sink.stop()
    clock.advance(seconds=LATER)

    message = await wait_for_status(runtime, "deferred")

    assert kinds(message) == ["queued", "unknown", "deferred"]
    assert message.next_attempt_at is not None
    assert message.trouble == "our_side"
    sink.start()
    clock.advance(seconds=LATER)
    message = await wait_for_status(runtime, "accepted")
    assert kinds(message) == ["queued", "unknown", "deferred", "accepted"]


@pytest.mark.parametrize("settings_overrides", [UNANSWERED])
async def test_the_retry_of_an_unknown_message_that_gets_a_5xx_ends_it(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.answer_slowly()
    await request_code(api)
    await wait_for_status(runtime, "unknown")
    sink.refuse_next("554 5.7.1 Rejected")
    clock.advance(seconds=LATER)

    message = await wait_for_events(runtime, 3)

    assert kinds(message) == ["queued", "unknown", "unknown"]
    assert message.status == "unknown"
    assert message.next_attempt_at is None
    assert message.events[-1].detail == (
        "554 5.7.1 Rejected — not sent again: an earlier attempt may have delivered it"
    )
    await nothing_is_due_later(runtime, clock)


@pytest.mark.parametrize("settings_overrides", [UNANSWERED])
async def test_a_newer_code_cancels_the_retry_of_an_unknown_one(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, clock: ShiftableClock
) -> None:
    sink.answer_slowly()
    verification = await request_code(api)
    first = await wait_for_status(runtime, "unknown")
    assert first.next_attempt_at is not None
    clock.advance(seconds=31)

    assert await request_code(api) == verification
    await sink.wait_for(ADDRESS, count=2)

    first = await runtime.messages.show(str(first.id))
    assert first.status == "unknown"
    assert first.next_attempt_at is None
    assert kinds(first) == ["queued", "unknown", "retry_cancelled"]
    assert first.events[-1].detail == "not sent again: superseded by a newer code"


async def test_a_relay_that_stops_taking_the_message_never_gets_its_end() -> None:
    """A block that times out is never followed by the final ".": it is written on its own,
    only after every block was taken, and the connection is aborted, not flushed and closed."""
    relay = StallingRelay()
    channel = SmtpChannel(SmtpTarget.parse(relay.url), timeouts=SmtpTimeouts(data_block=0.2))
    body = (b"x" * 76 + b"\r\n") * (16 * 1024 * 1024 // 78)  # more than the kernel buffers
    went_out: list[bool] = []
    try:
        result = await channel.send(
            Outgoing(ADDRESS, b"Subject: big\r\n\r\n" + body, {"sender": SENDER}),
            lambda: went_out.append(True),
        )
    finally:
        await asyncio.to_thread(relay.stop)  # it reads on while this loop runs

    assert result.outcome is Outcome.UNAVAILABLE
    assert result.reply.startswith(
        "the relay did not take the message within 0.2 s (its end was never sent): TimeoutError"
    )
    assert went_out == []
    assert relay.got_end is False  # nothing more was written once the block timed out
    assert 0 < relay.bytes_after_354 < len(body)


# --- fencing: a late result after another courier took the message over --------------------


@pytest.mark.parametrize("settings_overrides", [{"courier_poll_seconds": 60}])  # no poller
async def test_a_result_after_the_claim_was_taken_over_is_kept_as_a_note_and_changes_nothing(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime, settings: Settings,
    clock: ShiftableClock,
) -> None:  # fmt: skip
    sink.hold(at="DATA")  # the first courier's send hangs after the message went out
    await request_code(api)
    assert await asyncio.to_thread(sink.holding.wait, 10)
    clock.advance(seconds=settings.courier_claim_seconds + 1)  # as if it stalled past its claim
    second = the_second_courier(runtime, sink, settings)
    (claimed,), _found = await second._claim_due(1)

    sink.release.set()  # the first courier's send completes, too late
    sink.hold_at = None
    message = await wait_for_events(runtime, 3)

    assert kinds(message) == ["queued", "taken_over", "late_result"]
    late = message.events[-1]
    assert runtime.courier is not None
    assert late.actor == runtime.courier.actor
    assert late.attempt == 1
    assert late.reply_code == 250
    assert late.detail == (
        "accepted: 250 2.0.0 OK: queued as test (after another courier took the message "
        "over; this result changes nothing)"
    )
    async with runtime.db.transaction(write=False) as tx:
        row = (await tx.session.scalars(select(Message))).one()
    assert (row.status, row.claimed_by, row.claim_token) == ("sending", "second-courier",
                                                              claimed.token)  # fmt: skip
    assert (row.attempts, row.accepted_at, row.last_reply) == (2, None, None)
    assert row.sealed is not None  # still needed by the courier that holds the claim

    await second.deliver(claimed)
    message = await the_message(runtime)
    assert kinds(message) == ["queued", "taken_over", "late_result", "accepted"]
    assert (message.status, message.events[-1].actor, message.events[-1].attempt) == (
        "accepted", "second-courier", 2,
    )  # fmt: skip


# --- "didn't get the code?" says whose side a delay is on ----------------------------------

PASSWORD = "correct horse battery staple"
HELP_OUR_SIDE = (
    "Sending the email to em*****@example.com is delayed on our side: it is waiting to go out. "
    "We keep trying; the code will arrive, or you can resend it."
)
HELP_MAIL_SERVER = (
    "Delivering the email to em*****@example.com is delayed: the receiving mail server asked "
    "us to try again later. We keep trying; the code will arrive, or you can resend it."
)


async def sign_up_over_the_api(api: httpx.AsyncClient) -> str:
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_up"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    details = {"action": "submit_details", "email": ADDRESS, "password": PASSWORD}
    assert (await api.post(url, json=details)).json()["state"] == "code"
    return url


@pytest.mark.parametrize("settings_overrides", [NO_RETRY_SOON])
async def test_with_our_relay_down_the_help_says_the_email_waits_on_our_side(
    api: httpx.AsyncClient, browser: PageClient, sink: Sink, runtime: Runtime
) -> None:
    sink.stop()  # connection refused
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=ADDRESS, password=PASSWORD)
    url = await sign_up_over_the_api(api)
    verification = await request_code(api, "someone@example.com")
    for message in await runtime.messages.recent():
        await wait_for_message(runtime, message.id, "deferred")

    page = await browser.get(page.path)
    assert HELP_OUR_SIDE in page.text
    assert "receiving mail server" not in page.text
    delivery = (await api.get(url)).json()["code"]["delivery"]
    assert (delivery["status"], delivery["trouble"]) == ("deferred", "our_side")
    assert delivery["last_reply"].startswith(
        f"SMTPConnectError: Error connecting to 127.0.0.1 on port {sink.port}"
    )
    delivery = (await api.get(f"/api/v1/verifications/{verification}")).json()["delivery"]
    assert (delivery["status"], delivery["trouble"]) == ("deferred", "our_side")


@pytest.mark.parametrize("settings_overrides", [NO_RETRY_SOON])
async def test_a_4xx_reply_makes_the_help_say_the_mail_server_asked_to_try_later(
    api: httpx.AsyncClient, browser: PageClient, sink: Sink, runtime: Runtime
) -> None:
    sink.refuse_next("451 4.7.1 Greylisted, try again later", at="RCPT")
    sink.refuse_next("451 4.7.1 Greylisted, try again later", at="RCPT")
    page = await browser.get("/signup")
    page = await browser.submit(page, "submit_details", email=ADDRESS, password=PASSWORD)
    url = await sign_up_over_the_api(api)
    for message in await runtime.messages.recent():
        await wait_for_message(runtime, message.id, "deferred")

    page = await browser.get(page.path)
    assert HELP_MAIL_SERVER in page.text
    assert "on our side" not in page.text
    delivery = (await api.get(url)).json()["code"]["delivery"]
    assert delivery["status"] == "deferred"
    assert delivery["trouble"] == "mail_server"
    assert delivery["last_reply"] == "451 4.7.1 Greylisted, try again later"


async def wait_for_message(
    runtime: Runtime, message_id: uuid.UUID, status: str, timeout: float = 10
) -> MessageView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await runtime.messages.show(str(message_id))
        if message.status == status:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"message still {message.status}, not {status}: {message.events}")


# --- 32 codes, each delivered exactly once through 451s, a closed port and kill -9 ------------


@contextlib.contextmanager
def honnin_server(settings: Settings, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`honnin serve` in its own process group (its courier inside), on the test's database."""
    env = {
        **os.environ,
        "HONNIN_SECRET_KEY": settings.resolve_secret().decode(),
        "HONNIN_DATABASE_URL": settings.effective_database_url,
        "HONNIN_SMTP_URL": settings.smtp_url,
        "HONNIN_MAIL_FROM": settings.mail_from,
        "HONNIN_DATA_DIR": str(settings.data_dir),
        "HONNIN_LIMIT_CLIENT_SENDS": "100000/hour",
        "HONNIN_LIMIT_CLIENT_CHECKS": "100000/hour",
        "HONNIN_COURIER_POLL_SECONDS": "0.2",
        "HONNIN_COURIER_CLAIM_SECONDS": "2",
        "HONNIN_COURIER_RETRY_BASE_SECONDS": "0.2",
        "HONNIN_COURIER_RETRY_MAX_SECONDS": "1",
        "HONNIN_COURIER_MAX_ATTEMPTS": "100",
        "HONNIN_SMTP_CONNECT_TIMEOUT_SECONDS": "2",
        "HONNIN_SMTP_TIMEOUT_SECONDS": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "honnin", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "honnin serve exited"
            assert time.monotonic() < deadline, "honnin serve did not open its port"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


async def in_order(runtime: Runtime) -> list[MessageView]:
    """Every message, oldest first."""
    return list(reversed(await runtime.messages.recent(limit=100)))


async def wait_until(check: Callable[[list[MessageView]], bool], runtime: Runtime) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if check(await in_order(runtime)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached: {await in_order(runtime)}")


@pytest.mark.slow
@pytest.mark.parametrize("settings_overrides", [{"courier_enabled": False}])
async def test_32_codes_arrive_exactly_once_through_451s_a_closed_port_and_kill_9(
    sink: Sink, runtime: Runtime, settings: Settings, api_key: str
) -> None:
    addresses = [f"person{n:02d}@example.com" for n in range(32)]
    verifications: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {api_key}"}

    async def request(client: httpx.AsyncClient, batch: list[str]) -> None:
        for address in batch:
            response = await client.post("/api/v1/verifications", json={"to": address})
            assert response.status_code == 201, response.text
            verifications[address] = response.json()["id"]

    def accepted(count: int) -> Callable[[list[MessageView]], bool]:
        return lambda messages: sum(m.status == "accepted" for m in messages) == count

    first_port, second_port = free_port(), free_port()
    with honnin_server(settings, first_port) as first:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{first_port}", headers=headers
        ) as client:
            for _ in range(8):  # the relay is busy: each of the first eight is refused once
                sink.refuse_next("451 4.3.0 Mailbox busy, try again later")
            await request(client, addresses[:8])
            await wait_until(accepted(8), runtime)

            sink.stop()  # the relay's port is closed
            await request(client, addresses[8:16])
            await wait_until(lambda ms: all(m.attempts > 1 for m in ms[8:16]), runtime)
            sink.start()
            await wait_until(accepted(16), runtime)

            sink.hold(at="RCPT")  # the next sends hang: the server dies in the middle of them
            await request(client, addresses[16:])
            assert await asyncio.to_thread(sink.holding.wait, 20)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
    sink.release.set()
    sink.hold_at = None

    with honnin_server(settings, second_port):
        await wait_until(accepted(32), runtime)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{second_port}", headers=headers
        ) as client:
            for address in addresses:
                (mail,) = sink.to(address)  # exactly once
                check = await client.post(
                    f"/api/v1/verifications/{verifications[address]}/check",
                    json={"code": mail.code},
                )
                assert check.status_code == 200, (address, check.text)

    timelines = [await runtime.messages.show(str(m.id)) for m in await in_order(runtime)]
    assert len(timelines) == 32
    assert all(m.status == "accepted" for m in timelines)  # final: never claimed again
    assert [kinds(m).count("accepted") for m in timelines] == [1] * 32
    assert [k for m in timelines for k in kinds(m) if k in ("late_result", "unknown")] == []
    assert len(sink.received) == 32
    busy, closed, killed = timelines[:8], timelines[8:16], timelines[16:]
    assert sum(e.reply_code == 451 for m in busy for e in m.events) == 8
    assert all(
        any(e.kind == "deferred" and "Connect" in (e.detail or "") for e in m.events)
        for m in closed
    )
    assert ["taken_over" in kinds(m) for m in timelines] == [False] * 16 + [True] * 16
    for message in killed:  # taken over from the killed server, sent by the second one
        (taken_over,) = [e for e in message.events if e.kind == "taken_over"]
        assert f":{first.pid} expired" in (taken_over.detail or "")
        assert message.events[-1].actor == taken_over.actor
