"""Jobs kept in the database: due ones run once, on either database, whatever crashes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from honnin.audit import service as audit
from honnin.audit.models import AuditEvent
from honnin.db import Tx
from honnin.jobs.models import JobStatus
from honnin.jobs.service import CLAIM, RETRY, JobView
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """These tests run the jobs themselves: no runner in the app (it would run a job due now
    as soon as it is scheduled)."""
    return {"courier_enabled": False}


async def audit_lines(runtime: Runtime) -> int:
    async with runtime.db.transaction(write=False) as tx:
        return int(await tx.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def schedule(runtime: Runtime, emma: Any, kind: str, after: timedelta) -> Any:
    async with runtime.db.transaction() as tx:
        return await runtime.jobs.schedule(
            tx, kind, runtime.clock.now() + after, account_id=emma.id, note="x"
        )


async def test_a_job_runs_when_due_and_only_once(
    runtime: Runtime, emma: Any, clock: ShiftableClock
) -> None:
    ran: list[JobView] = []

    async def work(tx: Tx, job: JobView, now: Any) -> None:
        ran.append(job)
        await audit.record(tx, emma.id, "test", now)

    runtime.jobs.register("test", work)
    job_id = await schedule(runtime, emma, "test", timedelta(hours=1))
    assert await runtime.jobs.run_due("a") == 0
    clock.advance(hours=1)
    assert await runtime.jobs.run_due("a") == 1
    assert await runtime.jobs.run_due("b") == 0
    assert [j.id for j in ran] == [job_id]
    assert ran[0].payload == {"note": "x"}
    assert await audit_lines(runtime) == 1
    async with runtime.db.transaction(write=False) as tx:
        done = await runtime.jobs.get(tx, job_id)
    assert done is not None
    assert done.status == JobStatus.DONE


async def test_a_job_that_fails_leaves_nothing_and_is_tried_again_later(
    runtime: Runtime, emma: Any, clock: ShiftableClock
) -> None:
    """Its writes (a notice, a log line) roll back with it: when it works, they happen once."""
    fail = [True]

    async def work(tx: Tx, job: JobView, now: Any) -> None:
        await audit.record(tx, emma.id, "test", now)
        if fail[0]:
            raise RuntimeError("the process died here")

    runtime.jobs.register("test", work)
    job_id = await schedule(runtime, emma, "test", timedelta(0))
    assert await runtime.jobs.run_due("a") == 0
    assert await audit_lines(runtime) == 0
    async with runtime.db.transaction(write=False) as tx:
        failed = await runtime.jobs.get(tx, job_id)
    assert failed is not None
    assert failed.status == JobStatus.PENDING
    assert failed.last_error == "RuntimeError: the process died here"
    fail[0] = False
    assert await runtime.jobs.run_due("a") == 0  # not before its retry
    clock.advance(seconds=RETRY.total_seconds())
    assert await runtime.jobs.run_due("a") == 1
    assert await audit_lines(runtime) == 1


async def test_a_runner_that_went_quiet_loses_its_claim_and_the_job_runs_once(
    runtime: Runtime, emma: Any, clock: ShiftableClock
) -> None:
    runs: list[str] = []

    async def work(tx: Tx, job: JobView, now: Any) -> None:
        runs.append("ran")

    runtime.jobs.register("test", work)
    job_id = await schedule(runtime, emma, "test", timedelta(0))
    assert await runtime.jobs._claim("a") == job_id  # a claims it, then stalls
    assert await runtime.jobs.run_due("b") == 0  # claimed: b leaves it
    clock.advance(seconds=CLAIM.total_seconds())
    assert await runtime.jobs.run_due("b") == 1  # a's claim expired: b takes it over
    assert await runtime.jobs._run(job_id, "a") == 0  # a wakes up: it is not a's any more
    assert runs == ["ran"]


async def test_a_cancelled_job_never_runs(
    runtime: Runtime, emma: Any, clock: ShiftableClock
) -> None:
    async def never(tx: Tx, job: JobView, now: Any) -> None:
        raise AssertionError("a cancelled job ran")

    runtime.jobs.register("test", never)
    job_id = await schedule(runtime, emma, "test", timedelta(minutes=1))
    async with runtime.db.transaction() as tx:
        assert await runtime.jobs.cancel(tx, job_id) is not None
        assert await runtime.jobs.cancel(tx, job_id) is None  # once
    clock.advance(minutes=2)
    assert await runtime.jobs.run_due("a") == 0


@pytest.mark.parametrize("settings_overrides", [{}])  # the app's own runner, as in production
async def test_a_job_due_now_runs_at_once_not_at_the_next_poll(
    runtime: Runtime, emma: Any, clock: ShiftableClock
) -> None:
    """`HONNIN_JOBS_POLL_SECONDS` is 30 s; a job due now (a recovery request's account work) is
    run as soon as its transaction commits."""
    ran = asyncio.Event()

    async def work(tx: Tx, job: JobView, now: Any) -> None:
        ran.set()

    runtime.jobs.register("test", work)
    assert runtime.settings.jobs_poll_seconds == 30
    await asyncio.sleep(0.1)  # the runner's first look is over: it sleeps for 30 s
    await schedule(runtime, emma, "test", timedelta(0))
    await asyncio.wait_for(ran.wait(), 5)
