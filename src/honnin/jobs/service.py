"""Scheduling jobs and running those that are due.

A runner claims one due job at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so runners on
several machines share the work; SQLite has one writer), then, in one transaction, locks it
again, checks that it is still pending and still its own, does the work and marks it done.
Whatever the work writes (a removal, the notices it sends through the outbox) commits with the
"done" or not at all: a crash mid-job leaves the job pending, its claim expires, and another
runner does it — once. A job that fails is tried again later, with its error kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from honnin.clock import Clock
from honnin.db import Database, Tx, new_id
from honnin.jobs.models import Job, JobStatus

log = logging.getLogger("honnin.jobs")

CLAIM = timedelta(minutes=5)  # a job takes well under a second; a runner gone quiet loses it
RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class JobView:
    id: uuid.UUID
    kind: str
    account_id: uuid.UUID | None
    payload: dict[str, Any]
    status: str
    created_at: datetime
    due_at: datetime
    finished_at: datetime | None
    attempts: int
    last_error: str | None


Handler = Callable[[Tx, JobView, datetime], Awaitable[None]]


def _view(job: Job) -> JobView:
    return JobView(
        job.id, job.kind, job.account_id, dict(job.payload), job.status, job.created_at,
        job.due_at, job.finished_at, job.attempts, job.last_error,
    )  # fmt: skip


class Jobs:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.handlers: dict[str, Handler] = {}
        # this process's runner, woken when a job due now commits (`JobRunner.start`)
        self.wake: Callable[[], None] | None = None

    def register(self, kind: str, handler: Handler) -> None:
        """`handler(tx, job, now)` does the job's work in `tx`; it raises to be tried later."""
        self.handlers[kind] = handler

    async def schedule(
        self,
        tx: Tx,
        kind: str,
        due_at: datetime,
        *,
        account_id: uuid.UUID | None = None,
        **payload: Any,
    ) -> uuid.UUID:
        job_id = new_id()
        if due_at <= self.clock.now() and self.wake is not None:
            tx.after_commit(self.wake)  # work to do now, not at the next poll
        tx.session.add(
            Job(
                id=job_id,
                kind=kind,
                account_id=account_id,
                payload=payload,
                status=JobStatus.PENDING,
                created_at=self.clock.now(),
                due_at=due_at,
                attempts=0,
            )
        )
        await tx.session.flush()
        return job_id

    async def cancel(self, tx: Tx, job_id: uuid.UUID) -> JobView | None:
        """Cancel a pending job (locked first: a runner doing it now finishes before, and then
        it is done, not cancelled). The job as cancelled; None if it was not pending."""
        job = await tx.session.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.status != JobStatus.PENDING:
            return None
        job.status = JobStatus.CANCELLED
        job.finished_at = self.clock.now()
        await tx.session.flush()
        return _view(job)

    async def get(self, tx: Tx, job_id: uuid.UUID, *, lock: bool = False) -> JobView | None:
        query = select(Job).where(Job.id == job_id)
        job = await tx.session.scalar(query.with_for_update() if lock else query)
        return _view(job) if job else None

    async def pending(
        self, tx: Tx, *, account_id: uuid.UUID | None = None, kinds: tuple[str, ...] = ()
    ) -> list[JobView]:
        """Pending jobs, soonest first: an account's, or everyone's (operators)."""
        query = select(Job).where(Job.status == JobStatus.PENDING).order_by(Job.due_at)
        if account_id is not None:
            query = query.where(Job.account_id == account_id)
        if kinds:
            query = query.where(Job.kind.in_(kinds))
        return [_view(job) for job in await tx.session.scalars(query)]

    async def run_due(self, actor: str, *, limit: int = 100) -> int:
        """Run up to `limit` due jobs, one at a time; how many were done."""
        done = 0
        for _ in range(limit):
            job_id = await self._claim(actor)
            if job_id is None:
                break
            done += await self._run(job_id, actor)
        return done

    async def _claim(self, actor: str) -> uuid.UUID | None:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            job_id = await tx.session.scalar(
                select(Job.id)
                .where(
                    Job.status == JobStatus.PENDING,
                    Job.due_at <= now,
                    or_(Job.claim_expires_at.is_(None), Job.claim_expires_at <= now),
                )
                .order_by(Job.due_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job_id is None:
                return None
            await tx.session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(claimed_by=actor, claim_expires_at=now + CLAIM, attempts=Job.attempts + 1)
            )
        return job_id

    async def _run(self, job_id: uuid.UUID, actor: str) -> int:
        try:
            async with self.db.transaction() as tx:
                job = await tx.session.scalar(select(Job).where(Job.id == job_id).with_for_update())
                if job is None or job.status != JobStatus.PENDING or job.claimed_by != actor:
                    return 0  # cancelled meanwhile, or taken over after our claim expired
                handler = self.handlers.get(job.kind)
                if handler is None:
                    raise LookupError(f"no handler for jobs of kind {job.kind!r}")
                now = self.clock.now()
                await handler(tx, _view(job), now)
                job.status = JobStatus.DONE
                job.finished_at = now
                job.claimed_by = None
                job.claim_expires_at = None
                return 1
        except Exception as error:
            log.exception("job %s failed; it will be tried again", job_id)
            async with self.db.transaction() as tx:
                await tx.session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.claimed_by == actor)
                    .values(
                        claimed_by=None,
                        claim_expires_at=None,
                        due_at=self.clock.now() + RETRY,
                        last_error=f"{type(error).__name__}: {error}"[:200],
                    )
                )
            return 0


class JobRunner:
    """Runs due jobs every `poll` seconds in a process that runs a courier."""

    def __init__(self, jobs: Jobs, actor: str, poll: float) -> None:
        self.jobs = jobs
        self.actor = actor
        self.poll = poll
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def start(self) -> None:
        self.jobs.wake = self._woken.set
        self._task = asyncio.create_task(self._loop(), name="jobs")

    async def _loop(self) -> None:
        while True:
            self._woken.clear()
            try:
                await self.jobs.run_due(self.actor)
            except Exception:
                log.exception("jobs: could not look for due jobs; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.poll)

    async def stop(self) -> None:
        if self.jobs.wake == self._woken.set:
            self.jobs.wake = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
