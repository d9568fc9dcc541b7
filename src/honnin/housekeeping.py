"""Removing what nobody needs any more: finished and expired flows (with their challenges and
codes), expired challenges of no flow (verifications, security info), old failed attempts,
long-ended sessions, old delivery timelines, and the OpenID Connect provider's expired
records.

Everything is kept as long as a rule can still look at it: codes as long as the longest send
limit counts them (and at least a day), failed attempts as long as the longest failure limit,
ended sessions for 30 days (support sees them; a browser that signed in stays known to the
account that long: `flows.guesses`), a finished message and its timeline for
`HONNIN_MESSAGE_HISTORY_SECONDS` (support reads recent ones; a message with a retry pending, or
whose code is still kept, stays). Each age is kept up to and including its edge. Run by every
serving process every few minutes (`Runtime`), and by `honnin db prune`.

Every table is pruned in batches, one short transaction each: the ids of a batch chosen by a
LIMITed select, then those rows deleted by primary key. Pruning millions of rows (a first run,
a lowered setting) never holds a long transaction or long locks against the requests and
couriers writing meanwhile, and no batch reads more of a large table than it deletes (every
condition has an index: migration 0005). Rows are taken with `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so processes pruning at once share the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, and_, delete, exists, or_, select, tuple_

from honnin.clock import Clock
from honnin.codes.models import Challenge, Code
from honnin.config import Settings
from honnin.courier.models import FINAL, Message, MessageEvent, MessageStatus
from honnin.db import Database, table_of
from honnin.flows.models import Flow
from honnin.jobs.models import Job, JobStatus
from honnin.limits.models import FailedAttempt
from honnin.oidc.models import (
    AuthorizationCode,
    AuthorizationRequest,
    Grant,
    RefreshToken,
    SpentAssertion,
)
from honnin.sessions.models import Session

SESSION_HISTORY = timedelta(days=30)  # ended sessions stay visible to support this long
BATCH = 5_000  # rows per transaction: locks held well under a second, never minutes
# SQLite runs statements on the event loop (`db.inline_sqlite`): a batch there must take
# milliseconds, or every request of the process waits for it
SQLITE_BATCH = 250

_messages = table_of(Message)
_events = table_of(MessageEvent)


@dataclass(frozen=True)
class Pruned:
    flows: int
    failed_attempts: int
    sessions: int
    challenges: int = 0  # of no flow; a flow's go with it
    messages: int = 0  # finished ones, with their timelines
    jobs: int = 0  # done or canceled, as long ago as the messages (their payloads: hints, links)
    oidc: int = 0  # the provider's expired requests, codes, tokens, assertions and grants


def _longest(settings: Settings, *names: str) -> timedelta:
    seconds = [item.get_expiry() for name in names for item in settings.rate(name)]
    return timedelta(seconds=max(seconds, default=0))


async def _delete_in_batches(
    db: Database, table: Table, where: Any, batch: int, *, along: Sequence[Column[Any]] = ()
) -> int:
    """Delete the rows of `table` matching `where`, `batch` at a time, one transaction each:
    their keys first (a LIMITed select that stops at `batch` rows), then the rows of `along`
    that point at them (a message's events), then the rows themselves, found by primary key."""
    key = list(table.primary_key.columns)
    chosen = select(*key).where(where).limit(batch).with_for_update(skip_locked=True)
    total = 0
    while True:
        async with db.transaction() as tx:
            ids = [tuple(row) for row in await tx.conn.execute(chosen)]
            if ids:
                for column in along:  # of a table keyed by one column
                    await tx.conn.execute(delete(column.table).where(column.in_(i for (i,) in ids)))
                await tx.conn.execute(delete(table).where(tuple_(*key).in_(ids)))
        total += len(ids)
        if len(ids) < batch:
            return total
        await asyncio.sleep(0)  # SQLite's statements run on the loop: let it serve in between


def _finished_before(horizon: datetime) -> Any:
    """A message nothing will send again, older than `horizon`, whose code is no longer kept
    (a code points at its message)."""
    m = _messages.c
    return and_(
        m.created_at < horizon,
        or_(
            m.status.in_(FINAL),
            and_(m.status == MessageStatus.UNKNOWN, m.next_attempt_at.is_(None)),
        ),
        ~exists().where(Code.message_id == m.id),
    )


async def prune(
    db: Database, clock: Clock, settings: Settings, *, batch: int | None = None
) -> Pruned:
    """`batch`: rows per transaction (by default, `SQLITE_BATCH` or `BATCH`)."""
    batch = batch or (SQLITE_BATCH if db.is_sqlite else BATCH)
    now = clock.now()
    # a flow's codes count towards send limits: keep it while the longest limit looks back
    flow_horizon = now - max(
        timedelta(days=1), _longest(settings, "destination_sends", "account_sends")
    )
    failure_horizon = now - _longest(settings, "name_failures")
    session_horizon = now - SESSION_HISTORY
    flows = await _delete_in_batches(
        db, table_of(Flow), Flow.expires_at < flow_horizon, batch
    )  # with their challenges and codes (ON DELETE CASCADE)
    # a challenge's expiry moves on with each resend, and its codes are no newer than it
    challenges = await _delete_in_batches(
        db,
        table_of(Challenge),
        and_(Challenge.flow_id.is_(None), Challenge.expires_at < flow_horizon),
        batch,
    )
    failures = await _delete_in_batches(
        db, table_of(FailedAttempt), FailedAttempt.at < failure_horizon, batch
    )
    sessions = await _delete_in_batches(
        db,
        table_of(Session),
        or_(Session.expires_at < session_horizon, Session.revoked_at < session_horizon),
        batch,
    )
    # after the codes: a message goes once no code points at it
    message_horizon = now - timedelta(seconds=settings.message_history_seconds)
    messages = await _delete_in_batches(
        db, _messages, _finished_before(message_horizon), batch, along=[_events.c.message_id]
    )
    jobs = await _delete_in_batches(
        db,
        table_of(Job),
        and_(
            Job.status.in_((JobStatus.DONE, JobStatus.CANCELLED)), Job.finished_at < message_horizon
        ),
        batch,
    )
    oidc = await _prune_oidc(db, now, batch)
    return Pruned(flows, failures, sessions, challenges, messages, jobs, oidc)


async def _prune_oidc(db: Database, now: datetime, batch: int) -> int:
    """The provider's records once they can't be used: waiting requests, codes, refresh
    tokens and spent assertions past their expiry (a used code or token is kept until then,
    so that its reuse is caught), and grants that have no refresh token left, once a day old
    (their codes are long gone)."""
    removed = 0
    for model in (AuthorizationRequest, AuthorizationCode, RefreshToken, SpentAssertion):
        removed += await _delete_in_batches(
            db,
            table_of(model),
            model.expires_at < now,
            batch,
        )
    removed += await _delete_in_batches(
        db,
        table_of(Grant),
        and_(
            Grant.created_at < now - timedelta(days=1),
            ~exists().where(RefreshToken.grant_id == Grant.id),
        ),
        batch,
    )
    return removed
