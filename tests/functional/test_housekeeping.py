"""Housekeeping: what is pruned and what is kept, at the edge of each age.

Every age is kept up to and including its edge, and pruned a microsecond after it: a flow (with
its challenges and codes) and a challenge of no flow a day after they expired (longer if a send
limit looks back further), a failed attempt as long as the longest failure limit, a session 30
days after it expired or was signed out, a finished message (with its timeline)
`HONNIN_MESSAGE_HISTORY_SECONDS` after it was written. Every table goes in batches, one
transaction each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, insert, select, update

from honnin.codes.models import Challenge, Code
from honnin.courier.models import Message, MessageEvent
from honnin.errors import NotFound
from honnin.flows.models import Flow
from honnin.housekeeping import Pruned, prune
from honnin.limits.models import FailedAttempt
from honnin.oidc import store
from honnin.oidc.clients import Registration
from honnin.oidc.models import Grant
from honnin.runtime import Runtime
from honnin.sessions.models import Session
from tests.support.clock import ShiftableClock, StoppedClock
from tests.support.journeys import EMMA, PASSWORD

TICK = timedelta(microseconds=1)
DAY = timedelta(days=1)
NOTHING = Pruned(flows=0, failed_attempts=0, sessions=0, challenges=0)


@pytest.fixture
def clock() -> ShiftableClock:
    return StoppedClock()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"courier_enabled": False}  # the messages are not what this is about


HISTORY = timedelta(days=90)  # HONNIN_MESSAGE_HISTORY_SECONDS' default


async def rows(runtime: Runtime) -> dict[str, int]:
    counts = {}
    async with runtime.db.transaction(write=False) as tx:
        for model in (Flow, Challenge, Code, FailedAttempt, Session):
            query = select(func.count()).select_from(model)
            counts[model.__tablename__] = int(await tx.conn.scalar(query) or 0)
    return counts


async def prune_at(runtime: Runtime, clock: StoppedClock, when: datetime) -> Pruned:
    clock.offset = when - clock.start
    return await prune(runtime.db, runtime.clock, runtime.settings)


async def one(runtime: Runtime, column: Any) -> datetime:
    async with runtime.db.transaction(write=False) as tx:
        value: datetime = (await tx.conn.execute(select(column))).scalar_one()
    return value


async def sign_in_flow(api: httpx.AsyncClient) -> str:
    created = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{created['id']}"
    assert (await api.post(url, json={"action": "submit_identifier", "name": EMMA})).is_success
    return url


async def test_a_flow_and_its_codes_are_kept_a_day_after_it_expired(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    assert (await api.post(url, json={"action": "email_code"})).status_code == 200
    edge = await one(runtime, Flow.expires_at) + DAY
    assert await rows(runtime) == {
        "flows": 1, "challenges": 1, "codes": 1, "failed_attempts": 0, "sessions": 0,
    }  # fmt: skip

    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await rows(runtime))["codes"] == 1
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(1, 0, 0, 0)
    assert await rows(runtime) == {
        "flows": 0, "challenges": 0, "codes": 0, "failed_attempts": 0, "sessions": 0,
    }  # fmt: skip


@pytest.mark.parametrize(
    "settings_overrides",
    [{"courier_enabled": False, "limit_destination_sends": "5/hour;10/2day"}],
)
async def test_codes_are_kept_while_the_longest_send_limit_counts_them(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock
) -> None:
    """A verification's challenge (it has no flow) ages the same way: here two days."""
    assert (await api.post("/api/v1/verifications", json={"to": EMMA})).status_code == 201
    edge = await one(runtime, Challenge.expires_at) + 2 * DAY

    assert await prune_at(runtime, clock, edge - DAY + TICK) == NOTHING  # past a day: kept
    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await rows(runtime))["codes"] == 1
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(0, 0, 0, 1)
    assert ((await rows(runtime))["challenges"], (await rows(runtime))["codes"]) == (0, 0)


async def test_a_failed_attempt_is_kept_as_long_as_the_longest_failure_limit(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    """HONNIN_LIMIT_NAME_FAILURES is 10/15minutes,100/day: a day."""
    url = await sign_in_flow(api)
    wrong = await api.post(url, json={"action": "submit_password", "password": "not it"})
    assert wrong.status_code == 400
    edge = await one(runtime, FailedAttempt.at) + DAY

    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await rows(runtime))["failed_attempts"] == 1
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(0, 1, 0, 0)
    # the flow it was typed in expired half an hour after it: it stays that much longer
    assert await rows(runtime) == {
        "flows": 1, "challenges": 0, "codes": 0, "failed_attempts": 0, "sessions": 0,
    }  # fmt: skip


async def test_a_session_is_kept_30_days_after_it_expired(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    done = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    assert done.json()["state"] == "done"
    edge = await one(runtime, Session.expires_at) + timedelta(days=30)

    assert (await prune_at(runtime, clock, edge)).sessions == 0
    assert (await rows(runtime))["sessions"] == 1
    assert (await prune_at(runtime, clock, edge + TICK)).sessions == 1
    assert (await rows(runtime))["sessions"] == 0


@pytest.mark.parametrize(
    "settings_overrides", [{"courier_enabled": False, "session_ttl_seconds": 90 * 86_400}]
)
async def test_a_signed_out_session_is_kept_30_days_after_it_was_signed_out(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    done = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
    headers = {"X-Session-Token": done.json()["session_token"]}
    clock.advance(days=1)
    assert (await api.delete("/api/v1/sessions/current", headers=headers)).status_code == 204
    edge = await one(runtime, Session.revoked_at) + timedelta(days=30)
    assert await one(runtime, Session.expires_at) > edge + TICK  # not expired by then

    assert (await prune_at(runtime, clock, edge)).sessions == 0
    assert (await prune_at(runtime, clock, edge + TICK)).sessions == 1
    assert (await rows(runtime))["sessions"] == 0


async def test_what_is_still_in_use_is_never_pruned(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    url = await sign_in_flow(api)
    await api.post(url, json={"action": "submit_password", "password": "not it"})
    await api.post(url, json={"action": "email_code"})
    before = await rows(runtime)

    assert await prune_at(runtime, clock, clock.now()) == NOTHING
    assert await rows(runtime) == before == {
        "flows": 1, "challenges": 1, "codes": 1, "failed_attempts": 1, "sessions": 0,
    }  # fmt: skip


# --- delivery timelines -------------------------------------------------------------------


async def add_message(
    runtime: Runtime, status: str, *, retry: bool = False, events: int = 2
) -> uuid.UUID:
    """A message written now with `events` lines of timeline; `retry`: one more send is due."""
    now = runtime.clock.now()
    message_id = uuid.uuid4()
    async with runtime.db.transaction() as tx:
        await tx.conn.execute(
            insert(Message).values(
                id=message_id, channel="email", recipient=EMMA, template="code", locale="en",
                params={}, status=status, attempts=events, created_at=now, updated_at=now,
                next_attempt_at=now + timedelta(minutes=5) if retry else None,
            )
        )  # fmt: skip
        for _ in range(events):
            event_row = {"message_id": message_id, "at": now, "kind": status, "attempt": 1}
            await tx.conn.execute(insert(MessageEvent).values(event_row))
    return message_id


async def message_rows(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.transaction(write=False) as tx:
        messages = await tx.conn.scalar(select(func.count()).select_from(Message))
        events = await tx.conn.scalar(select(func.count()).select_from(MessageEvent))
    return int(messages or 0), int(events or 0)


async def test_a_finished_message_and_its_timeline_are_kept_for_the_history_setting(
    runtime: Runtime, clock: StoppedClock
) -> None:
    """Accepted, failed, and unknown with no retry left: nothing will send them again."""
    finished = [await add_message(runtime, s) for s in ("accepted", "failed", "unknown")]
    edge = clock.now() + HISTORY

    assert await prune_at(runtime, clock, edge) == NOTHING
    assert await message_rows(runtime) == (3, 6)
    assert (await runtime.messages.show(str(finished[0]))).status == "accepted"
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(0, 0, 0, 0, messages=3)
    assert await message_rows(runtime) == (0, 0)
    with pytest.raises(NotFound):
        await runtime.messages.show(str(finished[0]))


@pytest.mark.parametrize(
    "settings_overrides",
    [{"courier_enabled": False, "message_history_seconds": 2 * 86_400}],
)
async def test_the_history_is_a_setting(runtime: Runtime, clock: StoppedClock) -> None:
    await add_message(runtime, "accepted")
    edge = clock.now() + 2 * DAY

    assert await prune_at(runtime, clock, edge) == NOTHING
    assert (await prune_at(runtime, clock, edge + TICK)).messages == 1


@pytest.mark.parametrize(
    ("status", "retry"),
    [("queued", True), ("sending", False), ("deferred", True), ("unknown", True)],
)
async def test_a_message_that_may_still_be_sent_is_never_pruned(
    runtime: Runtime, clock: StoppedClock, status: str, retry: bool
) -> None:
    await add_message(runtime, status, retry=retry)

    assert await prune_at(runtime, clock, clock.now() + 10 * HISTORY) == NOTHING
    assert await message_rows(runtime) == (1, 2)


@pytest.mark.parametrize(
    "settings_overrides",
    [{"courier_enabled": False, "message_history_seconds": 86_400}],
)
async def test_a_message_stays_while_its_code_is_kept(
    api: httpx.AsyncClient, runtime: Runtime, clock: StoppedClock
) -> None:
    """A code points at its message: the message goes with the code, not before."""
    assert (await api.post("/api/v1/verifications", json={"to": EMMA})).status_code == 201
    async with runtime.db.transaction() as tx:  # as if the courier had delivered it
        await tx.conn.execute(update(Message).values(status="accepted", next_attempt_at=None))
    code_edge = await one(runtime, Challenge.expires_at) + DAY
    message_edge = await one(runtime, Message.created_at) + DAY
    assert message_edge < code_edge

    assert await prune_at(runtime, clock, message_edge + TICK) == NOTHING
    assert await message_rows(runtime) == (1, 0)
    assert await prune_at(runtime, clock, code_edge + TICK) == Pruned(0, 0, 0, 1, messages=1)
    assert (await message_rows(runtime), (await rows(runtime))["codes"]) == ((0, 0), 0)


# --- batches ------------------------------------------------------------------------------


@pytest.fixture
def deletes(runtime: Runtime) -> Iterator[list[tuple[int, str, int]]]:
    """Each DELETE run: (the number of the transaction it ran in, its table, rows deleted)."""
    seen: list[tuple[int, str, int]] = []
    transactions = 0
    engine = runtime.db.write_engine.sync_engine

    def began(connection: Any) -> None:
        nonlocal transactions
        transactions += 1

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        if words[:2] == ["DELETE", "FROM"]:
            seen.append((transactions, words[2], cursor.rowcount))

    event.listen(engine, "begin", began)
    event.listen(engine, "after_cursor_execute", executed)
    yield seen
    event.remove(engine, "begin", began)
    event.remove(engine, "after_cursor_execute", executed)


async def test_messages_are_pruned_in_batches_one_transaction_each(
    runtime: Runtime, clock: StoppedClock, deletes: list[tuple[int, str, int]]
) -> None:
    for _ in range(5):
        await add_message(runtime, "accepted", events=1)

    pruned = await prune(runtime.db, runtime.clock, runtime.settings, batch=2)
    assert pruned == NOTHING
    deletes.clear()
    clock.advance(days=91)
    pruned = await prune(runtime.db, runtime.clock, runtime.settings, batch=2)

    assert pruned.messages == 5
    batches = [(tx, rowcount) for tx, table, rowcount in deletes if table == "messages"]
    assert [rowcount for _, rowcount in batches] == [2, 2, 1]
    assert len({tx for tx, _ in batches}) == 3  # three transactions, not one
    assert await message_rows(runtime) == (0, 0)


async def test_every_table_is_pruned_in_batches(
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: StoppedClock,
    emma: Any,
    deletes: list[tuple[int, str, int]],
) -> None:
    """Here three wrong passwords (failed attempts) in batches of two."""
    url = await sign_in_flow(api)
    for _ in range(3):
        wrong = await api.post(url, json={"action": "submit_password", "password": "not it"})
        assert wrong.status_code == 400
    clock.advance(days=2)

    pruned = await prune(runtime.db, runtime.clock, runtime.settings, batch=2)

    assert pruned == Pruned(1, 3, 0, 0)
    batches = [(tx, n) for tx, table, n in deletes if table == "failed_attempts"]
    assert [n for _, n in batches] == [2, 1]
    assert len({tx for tx, _ in batches}) == 2


async def test_finished_jobs_are_kept_for_the_history_setting(
    runtime: Runtime, clock: StoppedClock
) -> None:
    """Done and canceled jobs (their payloads: masked hints, sealed links) go with the message
    history; a pending one stays, however old."""
    ran: list[str] = []

    async def work(tx: Any, job: Any, now: Any) -> None:
        ran.append(job.kind)

    runtime.jobs.register("test", work)
    async with runtime.db.transaction() as tx:
        await runtime.jobs.schedule(tx, "test", clock.now())
        canceled = await runtime.jobs.schedule(tx, "test", clock.now() + HISTORY * 2)
        await runtime.jobs.schedule(tx, "test", clock.now() + HISTORY * 3)  # stays pending
        await runtime.jobs.cancel(tx, canceled)
    assert await runtime.jobs.run_due("test") == 1
    edge = clock.now() + HISTORY
    assert await prune_at(runtime, clock, edge) == NOTHING
    assert await prune_at(runtime, clock, edge + TICK) == Pruned(0, 0, 0, 0, jobs=2)
    async with runtime.db.transaction(write=False) as tx:
        assert len(await runtime.jobs.pending(tx)) == 1


async def test_the_providers_records_go_once_they_have_expired(
    runtime: Runtime, clock: StoppedClock, emma: Any
) -> None:
    """A waiting request, a used code, a refresh token, a spent assertion: each kept to its
    expiry (a used code or token is how its reuse is caught), then pruned; the grant goes with
    its last refresh token (a day after it was made, at the earliest)."""
    client = await runtime.oidc_clients.create(
        Registration(name="Example app", redirect_uris=["https://app.example/callback"])
    )
    client_id, now = client.client.id, clock.now()
    minute, month = timedelta(seconds=60), timedelta(days=30)
    async with runtime.db.transaction() as tx:
        await store.add_request(tx, client_id, b"d" * 32, {}, now, minute)
        grant = store.CodeGrant(
            emma.id, "https://app.example/callback", "openid", None, None, None, now,
            ("pwd",), "urn:honnin:acr:1fa", uuid.uuid4(),
        )  # fmt: skip
        await store.add_code(tx, "the-code", client_id, grant, now, minute)
        code = await store.take_code(tx, "the-code", client_id, now)
        assert code is not None
        grant_id = await store.add_grant(tx, code, "openid offline_access", now)
        await store.add_refresh_token(tx, grant_id, "the-token", now, month)
        assert await store.spend_assertion(tx, client_id, "jti-1", now + minute, now)
    assert await prune_at(runtime, clock, now + minute) == NOTHING
    assert (await prune_at(runtime, clock, now + minute + TICK)).oidc == 3
    assert await prune_at(runtime, clock, now + month) == NOTHING
    assert (await prune_at(runtime, clock, now + month + TICK)).oidc == 2  # token, grant
    async with runtime.db.transaction(write=False) as tx:
        assert await tx.session.get(Grant, grant_id) is None
