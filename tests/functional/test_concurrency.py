"""Single use under concurrency: of simultaneous checks of one right code, exactly one wins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from honnin.clock import SystemClock
from honnin.codes.service import ChallengeState, CheckOutcome, CodeService
from honnin.config import Settings
from honnin.crypto import Keyring
from honnin.db import Database, Prepared, Tx
from honnin.db.prepared import Rows
from honnin.verifications.service import VerificationService
from tests.support.smtp import Sink

ADDRESS = "emma@example.com"


async def test_fifty_simultaneous_checks_of_one_code_approve_once(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)

    path = f"/api/v1/verifications/{created['id']}/check"
    responses = await asyncio.gather(*(api.post(path, json={"code": code}) for _ in range(50)))

    assert sorted(r.status_code for r in responses) == [200] + [409] * 49
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"not_pending"}


async def test_checks_from_separate_connection_pools_approve_once(
    api: httpx.AsyncClient, sink: Sink, settings: Settings, runtime: Any
) -> None:
    """As if from 10 separate processes, 5 checks each at once: 50 checks, one approval."""
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)
    client = await runtime.clients.authenticate(api.headers["Authorization"].split()[1])
    assert client is not None

    databases = [Database(settings.effective_database_url, pool_size=5) for _ in range(10)]
    keyring = Keyring(settings.resolve_secret())

    def service(db: Database) -> VerificationService:
        codes = CodeService(
            runtime.codes.policy, keyring, SystemClock(), runtime.codes.throttle,
            runtime.codes.quotas, runtime.outbox,
        )  # fmt: skip
        return VerificationService(db, SystemClock(), codes)

    async def attempt(db: Database) -> str:
        try:
            return (await service(db).check(client, created["id"], code)).status
        except Exception as error:
            return type(error).__name__

    try:
        outcomes = await asyncio.gather(*(attempt(db) for db in databases for _ in range(5)))
    finally:
        for db in databases:
            await db.dispose()
    assert sorted(outcomes) == ["NotPending"] * 49 + ["approved"]


async def test_simultaneous_creates_for_one_address_open_one_verification(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    responses = await asyncio.gather(
        *(api.post("/api/v1/verifications", json={"to": ADDRESS}) for _ in range(4))
    )
    created = [r.json() for r in responses if r.status_code == 201]
    refused = [r.json() for r in responses if r.status_code != 201]
    assert len(created) == 1  # the others resend into it and meet the cooldown
    assert {r["error"] for r in refused} == {"rate_limited"}
    await sink.wait_for(ADDRESS)
    await asyncio.sleep(0.2)
    assert len(sink.to(ADDRESS)) == 1


async def test_a_check_racing_a_resend_never_approves_a_superseded_code(
    api: httpx.AsyncClient, sink: Sink, clock: Any
) -> None:
    """Whichever commits first, the old code must not approve once the new one exists."""
    for n in range(5):
        to = f"race{n}@example.com"
        created = (await api.post("/api/v1/verifications", json={"to": to})).json()
        old_code = await sink.wait_for_code(to)
        clock.advance(seconds=31)
        check, resend = await asyncio.gather(
            api.post(f"/api/v1/verifications/{created['id']}/check", json={"code": old_code}),
            api.post("/api/v1/verifications", json={"to": to}),
        )
        if check.status_code == 200:  # the check went first: the resend finds nothing pending
            assert resend.status_code == 201
            assert resend.json()["id"] != created["id"]
        else:  # the resend went first: the old code is superseded
            assert check.json()["error"] == "code_superseded"
            assert resend.json()["id"] == created["id"]


# --- interleavings, made deterministic -------------------------------------------------------
# Checks on one database take turns (SQLite: one writer at a time; PostgreSQL: the challenge's
# row lock), so the conditions in the UPDATEs that approve a challenge and use a code are the
# last guard, for a check that acts on what it read before another one wrote. Racing threads
# find that order only by luck, and never on SQLite. These tests build it: a check reads the
# challenge and its codes from a snapshot taken *before* the other work, and writes *after* it
# committed, with the engine's own SQL (`CodeService.check`) on the real database.


class _SplitTx(Tx):
    """Reads from a snapshot taken earlier, writes in a transaction opened now."""

    def __init__(self, reads: AsyncConnection, writes: Tx) -> None:
        super().__init__(writes.conn)
        self.reads, self.writes = Tx(reads), writes

    async def run(self, statement: Prepared, params: Any = None) -> Rows:
        target = self.writes if getattr(statement.statement, "is_dml", False) else self.reads
        return await target.run(statement, params or {})


@asynccontextmanager
async def snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """A read transaction whose view of the database is fixed by its first read (SQLite in WAL
    mode does that for any read transaction; PostgreSQL needs REPEATABLE READ)."""
    async with db.read_engine.connect() as conn:
        if not db.is_sqlite:
            await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn


class StaleCheck:
    """A check of `code` that reads now and writes when `finish` is called."""

    def __init__(self, runtime: Any, reads: AsyncConnection, challenge: ChallengeState) -> None:
        self.runtime, self.reads, self.challenge = runtime, reads, challenge

    @classmethod
    async def read(cls, runtime: Any, reads: AsyncConnection, challenge_id: str) -> StaleCheck:
        challenge = await runtime.codes.peek(Tx(reads), uuid.UUID(challenge_id))
        assert challenge is not None
        assert challenge.status == "pending"
        return cls(runtime, reads, challenge)

    async def finish(self, code: str) -> CheckOutcome:
        async with self.runtime.db.transaction() as tx:
            split = _SplitTx(self.reads, tx)
            result = await self.runtime.codes.check(split, self.challenge, code)
        outcome: CheckOutcome = result.outcome
        return outcome


async def _status(api: httpx.AsyncClient, verification: str) -> str:
    status: str = (await api.get(f"/api/v1/verifications/{verification}")).json()["status"]
    return status


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


async def test_two_checks_that_both_read_before_either_writes_approve_once(
    api: httpx.AsyncClient, sink: Sink, runtime: Any
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)

    async with snapshot(runtime.db) as reads:
        first = await StaleCheck.read(runtime, reads, created["id"])
        second = await StaleCheck.read(runtime, reads, created["id"])
        outcomes = [await first.finish(code), await second.finish(code)]

    assert outcomes == [CheckOutcome.APPROVED, CheckOutcome.NOT_PENDING]
    assert await _status(api, created["id"]) == "approved"


async def test_a_check_that_read_before_a_resend_cannot_approve_with_the_old_code(
    api: httpx.AsyncClient, sink: Sink, runtime: Any, clock: Any
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    old_code = await sink.wait_for_code(ADDRESS)

    async with snapshot(runtime.db) as reads:
        stale = await StaleCheck.read(runtime, reads, created["id"])
        clock.advance(seconds=31)
        resent = await api.post("/api/v1/verifications", json={"to": ADDRESS})
        assert (resent.status_code, resent.json()["send_count"]) == (201, 2)
        outcome = await stale.finish(old_code)

    assert outcome == CheckOutcome.NOT_PENDING
    assert await _status(api, created["id"]) == "pending"
    new_code = await sink.wait_for_code(ADDRESS, count=2)
    check = await api.post(f"/api/v1/verifications/{created['id']}/check", json={"code": new_code})
    assert check.json()["status"] == "approved"


async def test_a_check_that_read_before_the_code_burned_cannot_approve_it(
    api: httpx.AsyncClient, sink: Sink, runtime: Any, settings: Settings
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)
    path = f"/api/v1/verifications/{created['id']}/check"

    async with snapshot(runtime.db) as reads:
        stale = await StaleCheck.read(runtime, reads, created["id"])
        errors = [
            (await api.post(path, json={"code": _wrong(code)})).json()["error"]
            for _ in range(settings.code_max_attempts)
        ]
        assert errors == ["invalid_code"] * 4 + ["too_many_attempts"]
        outcome = await stale.finish(code)

    assert outcome == CheckOutcome.NOT_PENDING
    assert await _status(api, created["id"]) == "pending"
    assert (await api.post(path, json={"code": code})).json()["error"] == "too_many_attempts"
