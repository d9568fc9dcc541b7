"""The courier at work: send what it holds a claim on, write down what happened.

Work arrives three ways:
- the fast path: the outbox writes the message already claimed by this process and hands it
  over once the transaction commits (and, in a request, once its response has been sent: see
  honnin.courier.handoff) — no further transaction before the send;
- retries: a deferred (or unknown) message comes back on a timer of this process;
- the durable path: a poller claims whatever is due — queued without a local courier,
  deferred and due again, or claimed by a courier whose claim expired (it died) — in
  batches, `FOR UPDATE SKIP LOCKED` on PostgreSQL.

A claim is a fresh `claim_token` with an expiry; every later write about the attempt is
fenced by the token, so if a courier stalls past its claim and another takes the message
over, the first one's late result is kept as a note but changes nothing. Several processes may
run couriers against one database. A live courier renews the claims it holds (a heartbeat,
every third of `courier_claim_seconds`), so that a slow send — RFC 5321 allows ten minutes for
the reply to the end of a message — is never taken over and sent again; only a courier that
died or hangs loses its claims.

A send whose outcome is unknown (the message went out, no reply came) is tried once more,
later, unless its code is used, replaced or expires first (the code engine cancels the retry):
the timeline says that this may deliver it twice. Should that retry send nothing (the relay
down, a 4xx), it is retried as usual. A courier that stops records a send cut short after the
message's end went out as unknown too, and hands back the rest, due at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    update,
)

from honnin.clock import Clock
from honnin.config import Settings
from honnin.courier.channels.base import Channel, Outcome, Result
from honnin.courier.channels.void import composed_as
from honnin.courier.composers import Composer
from honnin.courier.models import Message, MessageEvent, MessageStatus, Trouble
from honnin.courier.outbox import Claimed, LocalCourier
from honnin.courier.retry import backoff_seconds
from honnin.crypto import Keyring
from honnin.db import Database, Prepared, Tx, table_of

log = logging.getLogger("honnin.courier")

_messages = table_of(Message)
_events = table_of(MessageEvent)
_m = _messages.c
_CLAIM_COLUMNS = (
    _m.id, _m.attempts, _m.channel, _m.recipient, _m.template, _m.locale, _m.params, _m.sealed,
    _m.expires_at, _m.provider,
)  # fmt: skip


# Statements of the hot path, built once (see honnin.codes.service).
# Each kind of due message is looked for on its own, so that each lookup is a range of the
# index on (status, next_attempt_at) (or the few `sending` rows): ORed in one query with a
# LIMIT, PostgreSQL read the whole outbox history whenever nothing was due (seconds at 10M).
# Messages a courier may claim: due (again), or claimed by a courier that went quiet.


def _constant(status: MessageStatus) -> Any:
    """A status written into the SQL, not bound: from a prepared statement's sixth run on a
    connection PostgreSQL may use its generic plan, which cannot know which status is bound;
    it guessed a third of the outbox and scanned all of it (bench/size.py: 5.8 s at 10 million
    messages, each idle poll). Our own constants only: nothing from outside is written in."""
    return literal_column(f"'{status.value}'", String())


_AGAIN = (MessageStatus.QUEUED, MessageStatus.DEFERRED, MessageStatus.UNKNOWN)
_WAITING = (
    _m.status.in_([_constant(status) for status in _AGAIN]),
    _m.next_attempt_at <= bindparam("b_now"),
)
_ABANDONED = (
    _m.status == _constant(MessageStatus.SENDING),
    _m.claim_expires_at <= bindparam("b_now"),
)
_DUE = or_(and_(*_WAITING), and_(*_ABANDONED))  # for one message, by its id
_ANYTHING_DUE = Prepared(select(or_(exists().where(*_WAITING), exists().where(*_ABANDONED))))
_DUE_COLUMNS = (_m.id, _m.status, _m.claimed_by, _m.attempts)
_ABANDONED_DUE = (
    select(*_DUE_COLUMNS)
    .where(*_ABANDONED)
    .order_by(_m.claim_expires_at)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True)
)
_WAITING_DUE = (
    select(*_DUE_COLUMNS)
    .where(*_WAITING)
    .order_by(_m.next_attempt_at)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM = {
    "status": MessageStatus.SENDING,
    "claim_token": bindparam("b_token"),
    "claimed_by": bindparam("b_actor"),
    "claim_expires_at": bindparam("b_until"),
    "attempts": _m.attempts + 1,
    "updated_at": bindparam("b_now"),
}
_CLAIM_ONE = Prepared(
    update(_messages)
    .where(_m.id == bindparam("b_id"), _DUE)
    .values(_CLAIM)
    .returning(*_CLAIM_COLUMNS)
)
# A delivery report can come in while an attempt is being recorded (`honnin.courier.reports`):
# the provider took the message, whatever this attempt's outcome says, and the report wins —
# its status, its words, its reason; nothing is sent again.
_REPORTED = _m.reported_status.is_not(None)
_NOT_DELIVERED = (MessageStatus.UNDELIVERED.value, MessageStatus.FAILED.value)
_NEXT = case((_REPORTED, null()), else_=bindparam("b_next", type_=_m.next_attempt_at.type))
_FINISH_COMMON: dict[str, Any] = {
    "status": func.coalesce(_m.reported_status, bindparam("b_status")),
    "last_reply": case((_REPORTED, _m.last_reply), else_=bindparam("b_reply")),
    "trouble": case(
        (_m.reported_status.in_(_NOT_DELIVERED), literal(Trouble.PROVIDER.value, String())),
        (_REPORTED, null()),
        else_=bindparam("b_trouble", type_=String()),
    ),
    "reason": case((_REPORTED, _m.reason), else_=bindparam("b_reason", type_=String())),
    "updated_at": bindparam("b_now"),
    "claim_token": None,
    "claim_expires_at": None,
    "header_message_id": func.coalesce(bindparam("b_header", type_=String()), _m.header_message_id),
    "provider_ref": func.coalesce(bindparam("b_ref", type_=String()), _m.provider_ref),
}
_FINISH_EXTRA: dict[str, dict[str, Any]] = {
    MessageStatus.ACCEPTED: {"accepted_at": bindparam("b_now"), "sealed": None},
    MessageStatus.DEFERRED: {"next_attempt_at": _NEXT},
    MessageStatus.FAILED: {"sealed": None},  # the code inside is no longer needed
    # sent once more later (the code is kept for it), or not again (nor is the code)
    "unknown_retry": {"next_attempt_at": _NEXT},
    "unknown_final": {"next_attempt_at": None, "sealed": None},
    # refused for good, or given up, by one provider: the next provider of the channel has it,
    # with attempts of its own (queued again, due now)
    "handed_over": {"next_attempt_at": _NEXT, "provider": _m.provider + 1, "attempts": 0},
}
_FINISH_STATEMENTS = {
    key: update(_messages)
    .where(_m.id == bindparam("b_id"), _m.claim_token == bindparam("b_token"))
    .values({**_FINISH_COMMON, **extra})
    for key, extra in _FINISH_EXTRA.items()
}
_FINISH = {key: Prepared(statement) for key, statement in _FINISH_STATEMENTS.items()}
_RENEW = Prepared(
    update(_messages)
    .where(
        _m.status == MessageStatus.SENDING,
        _m.claim_token.in_(bindparam("b_tokens", expanding=True)),
    )
    .values(claim_expires_at=bindparam("b_until"))
)
_WAS_UNKNOWN = Prepared(
    select(_events.c.id)
    .where(_events.c.message_id == bindparam("b_id"), _events.c.kind == MessageStatus.UNKNOWN)
    .limit(1)
)
_INSERT_EVENT = Prepared(insert(_events))
_EVENT_COLUMNS = ("message_id", "at", "kind", "attempt", "reply_code", "detail", "actor", "via")


def _record_in_one_statement(finish: Any) -> Any:
    """PostgreSQL: the fenced update and the timeline line in one statement, atomic by itself,
    so it needs no BEGIN and COMMIT either (four round trips become one). The line says
    `late_result` when the fence held nobody's claim (`Courier._record`)."""
    fenced = finish.returning(_m.id).cte("fenced")
    lost = ~select(fenced.c.id).exists()
    column = _events.c

    def param(name: str) -> Any:
        return bindparam(f"e_{name}", type_=column[name].type)

    values = [param(name) for name in _EVENT_COLUMNS]
    values[2] = case((lost, literal("late_result", String())), else_=param("kind"))
    values[5] = case((lost, bindparam("e_late_detail", type_=String())), else_=param("detail"))
    return insert(_events).from_select(list(_EVENT_COLUMNS), select(*values)).returning(column.kind)


_RECORD_IN_ONE = {
    key: Prepared(_record_in_one_statement(finish)) for key, finish in _FINISH_STATEMENTS.items()
}


@dataclass(frozen=True)
class CourierConfig:
    concurrency: int = 32
    poll_interval: float = 2.0
    claim_ttl: float = 120.0
    retry_base: float = 5.0
    retry_max: float = 900.0
    max_attempts: int = 10
    provider_attempts: int = 3  # attempts at one provider before the next one takes over

    @classmethod
    def from_settings(cls, settings: Settings) -> CourierConfig:
        return cls(
            concurrency=settings.courier_concurrency,
            poll_interval=settings.courier_poll_seconds,
            claim_ttl=settings.courier_claim_seconds,
            retry_base=settings.courier_retry_base_seconds,
            retry_max=settings.courier_retry_max_seconds,
            max_attempts=settings.courier_max_attempts,
            provider_attempts=settings.courier_provider_attempts,
        )


def default_actor() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def _claimed(row: Any, token: str) -> Claimed:
    return Claimed(
        row.id, token, row.attempts, row.channel, row.recipient, row.template, row.locale,
        row.params, row.sealed, row.expires_at, row.provider,
    )  # fmt: skip


_STOP: Any = object()


class Courier:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keyring: Keyring,
        channels: Mapping[str, Sequence[Channel]],
        composers: Mapping[str, Composer],
        config: CourierConfig,
        actor: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.channels = channels
        self.composers = composers
        self.config = config
        self.actor = actor or default_actor()
        self._jobs: asyncio.Queue[uuid.UUID | Claimed] = asyncio.Queue()
        self._in_flight: dict[uuid.UUID, Claimed] = {}
        self._holding: dict[uuid.UUID, Claimed] = {}  # claims to renew: in flight or queued
        # sends in flight whose message the relay may already have (its end went out), with
        # the Message-ID header it carries
        self._on_the_wire: dict[uuid.UUID, str | None] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._wake = asyncio.Event()
        self._backlog = False  # the last poll claimed as many as it could take
        self._running = False
        self._heart: asyncio.Task[None] | None = None

    def local(self) -> LocalCourier:
        """How the outbox of this process hands messages to this courier."""
        return LocalCourier(self.actor, timedelta(seconds=self.config.claim_ttl), self.notify)

    # --- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        self._tasks = [
            asyncio.create_task(self._sender(), name=f"courier-sender-{n}")
            for n in range(self.config.concurrency)
        ]
        self._tasks.append(asyncio.create_task(self._poller(), name="courier-poller"))
        self._heart = asyncio.create_task(self._heartbeat(), name="courier-heartbeat")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking work, finish what is in flight (up to `grace` s), hand back the rest:
        a message not sent yet is due again at once (for another courier); one cut short after
        its end went out is recorded as unknown, so it is sent once more only later, like any
        unknown one (sending it at once could deliver it twice)."""
        self._running = False
        for timer in self._timers:
            timer.cancel()
        if self._heart is not None:
            self._heart.cancel()
            await asyncio.gather(self._heart, return_exceptions=True)
        self._wake.set()
        unstarted: list[Claimed] = []
        while not self._jobs.empty():
            job = self._jobs.get_nowait()
            if isinstance(job, Claimed):
                unstarted.append(job)
        for _ in self._tasks:
            self._jobs.put_nowait(_STOP)
        _done, still_running = await asyncio.wait(self._tasks, timeout=grace)
        for task in still_running:
            task.cancel()
        await asyncio.gather(*still_running, return_exceptions=True)
        cut_short = [c for c in self._in_flight.values() if c.id in self._on_the_wire]
        not_sent = [c for c in self._in_flight.values() if c.id not in self._on_the_wire]
        try:
            await self._release([*unstarted, *not_sent])
            for claimed in cut_short:
                why = "the courier stopped while waiting for the reply to the end of the message"
                result = Result(Outcome.UNKNOWN, f"{why}: the relay may have taken it")
                channel = self._provider(claimed)
                await self._finish(claimed, result, self._on_the_wire[claimed.id], channel)
        except Exception:
            log.exception("courier: could not hand back claims; they expire on their own")
        self._on_the_wire.clear()
        self._holding.clear()
        for providers in self.channels.values():
            for channel in providers:
                await channel.close()

    def notify(self, job: Claimed | uuid.UUID) -> None:
        """Send this now: a message claimed for us (fast path) or one due again (by id)."""
        if self._running:
            if isinstance(job, Claimed):
                self._holding[job.id] = job
            self._jobs.put_nowait(job)

    async def run_until_stopped(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    # --- workers ----------------------------------------------------------------------

    async def _sender(self) -> None:
        while True:
            job = await self._jobs.get()
            if job is _STOP:
                return
            message_id = job.id if isinstance(job, Claimed) else job
            try:
                claimed = job if isinstance(job, Claimed) else await self._claim_one(job)
                if claimed is not None:
                    self._in_flight[claimed.id] = self._holding[claimed.id] = claimed
                    await self.deliver(claimed)
                    self._in_flight.pop(claimed.id, None)
                    self._holding.pop(claimed.id, None)
                    self._on_the_wire.pop(claimed.id, None)
                    if self._backlog:
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                # the claim expires and the message is taken over; nothing is lost
                self._in_flight.pop(message_id, None)
                self._holding.pop(message_id, None)
                self._on_the_wire.pop(message_id, None)
                log.exception("courier: unexpected error delivering message %s", message_id)

    async def _poller(self) -> None:
        while self._running:
            try:
                free = self.config.concurrency - len(self._in_flight) - self._jobs.qsize()
                self._backlog = False
                if free > 0 and await self._anything_due():
                    batch, found = await self._claim_due(free)
                    for claimed in batch:
                        self._holding[claimed.id] = claimed
                        self._jobs.put_nowait(claimed)
                    # as many due as it could take: there may be more, look again as sends end
                    self._backlog = found == free
            except Exception:
                log.exception("courier: polling the outbox failed; will try again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)

    async def _heartbeat(self) -> None:
        """Renew every claim this courier holds, so that none expires while it is alive —
        however long a send takes. Fenced by the tokens: a claim lost meanwhile stays lost."""
        while self._running:
            await asyncio.sleep(self.config.claim_ttl / 3)
            try:
                await self.renew_claims()
            except Exception:
                log.exception("courier: renewing claims failed; will try again")

    async def renew_claims(self) -> int:
        """One beat: extend every claim held to a full `claim_ttl` from now; how many."""
        tokens = sorted({claimed.token for claimed in self._holding.values()})
        if not tokens:
            return 0  # an idle courier writes nothing
        until = self.clock.now() + timedelta(seconds=self.config.claim_ttl)
        async with self.db.transaction() as tx:
            renewed = await tx.run(_RENEW, {"b_tokens": tokens, "b_until": until})
        return int(renewed.rowcount)

    # --- claiming ---------------------------------------------------------------------

    async def _anything_due(self) -> bool:
        """A read first, so that idle pollers never take SQLite's write lock."""
        async with self.db.transaction(write=False) as tx:
            found = (await tx.run(_ANYTHING_DUE, {"b_now": self.clock.now()})).scalar()
        return bool(found)

    async def _claim_one(self, message_id: uuid.UUID) -> Claimed | None:
        now = self.clock.now()
        token = secrets.token_hex(16)
        params = {
            "b_id": message_id,
            "b_now": now,
            "b_token": token,
            "b_actor": self.actor,
            "b_until": now + timedelta(seconds=self.config.claim_ttl),
        }
        async with self.db.transaction() as tx:
            row = (await tx.run(_CLAIM_ONE, params)).one_or_none()
        return _claimed(row, token) if row else None

    async def _claim_due(self, limit: int) -> tuple[list[Claimed], int]:
        """Claim up to `limit` due messages; those claimed, and how many were found due (those
        that failed for good after too many attempts included)."""
        now = self.clock.now()
        token = secrets.token_hex(16)
        async with self.db.transaction() as tx:
            # abandoned claims first: their messages have waited longest
            due = list(await tx.conn.execute(_ABANDONED_DUE, {"b_now": now, "b_limit": limit}))
            if len(due) < limit:
                waiting = {"b_now": now, "b_limit": limit - len(due)}
                due += (await tx.conn.execute(_WAITING_DUE, waiting)).all()
            abandoned = [row for row in due if row.status == MessageStatus.SENDING]
            exhausted = [r.id for r in abandoned if r.attempts >= self.config.max_attempts]
            if exhausted:
                await self._fail_exhausted(tx, exhausted, now)
            ids = [row.id for row in due if row.id not in exhausted]
            if not ids:
                return [], len(due)
            claim = {
                "b_now": now,
                "b_token": token,
                "b_actor": self.actor,
                "b_until": now + timedelta(seconds=self.config.claim_ttl),
            }
            rows = (
                await tx.conn.execute(
                    update(_messages)
                    .where(_m.id.in_(ids))
                    .values(_CLAIM)
                    .returning(*_CLAIM_COLUMNS),
                    claim,
                )
            ).all()
            takeovers = [
                {
                    "message_id": row.id,
                    "at": now,
                    "kind": "taken_over",
                    "actor": self.actor,
                    "detail": f"the claim of {row.claimed_by} expired; it may have crashed",
                }
                for row in abandoned
                if row.id in ids
            ]
            if takeovers:
                await tx.session.execute(insert(_events), takeovers)
        return [_claimed(row, token) for row in rows], len(due)

    async def _fail_exhausted(self, tx: Tx, ids: list[uuid.UUID], now: datetime) -> None:
        reason = f"gave up after {self.config.max_attempts} attempts: couriers stopped responding"
        await tx.session.execute(
            update(_messages)
            .where(_m.id.in_(ids))
            .values(
                status=MessageStatus.FAILED,
                sealed=None,
                claim_token=None,
                claim_expires_at=None,
                last_reply=reason,
                updated_at=now,
            )
        )
        await tx.session.execute(
            insert(_events),
            [{"message_id": i, "at": now, "kind": "failed", "detail": reason} for i in ids],
        )

    async def _release(self, claimed: list[Claimed]) -> None:
        """Give back claims we will not work on (shutting down), due at once for others."""
        if not claimed:
            return
        now = self.clock.now()
        async with self.db.transaction() as tx:
            for c in claimed:
                await tx.session.execute(
                    update(_messages)
                    .where(_m.id == c.id, _m.claim_token == c.token)
                    .values(
                        status=MessageStatus.DEFERRED,
                        trouble=Trouble.OUR_SIDE,
                        next_attempt_at=now,
                        claim_token=None,
                        claim_expires_at=None,
                        attempts=_m.attempts - 1,
                        updated_at=now,
                    )
                )

    # --- one delivery -----------------------------------------------------------------

    def _provider(self, claimed: Claimed) -> Channel | None:
        """The provider of the message's channel that has it now (None: none configured)."""
        providers = self.channels.get(claimed.channel, ())
        return providers[claimed.provider] if claimed.provider < len(providers) else None

    def _next_provider(self, claimed: Claimed) -> Channel | None:
        providers = self.channels.get(claimed.channel, ())
        return providers[claimed.provider + 1] if claimed.provider + 1 < len(providers) else None

    async def deliver(self, claimed: Claimed) -> None:
        now = self.clock.now()
        channel = self._provider(claimed)
        if claimed.expires_at is not None and now >= claimed.expires_at:
            result = Result(Outcome.PERMANENT, "expired before it could be delivered")
            await self._finish(claimed, result, None, channel, ours=True)
            return
        if channel is None:
            await self._finish(claimed, Result(Outcome.UNAVAILABLE, "channel not configured"))
            return
        try:
            secret_params = (
                json.loads(self.keyring.unseal(claimed.sealed, str(claimed.id)))
                if claimed.sealed
                else {}
            )
            outgoing = self.composers[composed_as(claimed.channel)].compose(
                template=claimed.template,
                locale=claimed.locale,
                params={**claimed.params, **secret_params},
                recipient=claimed.recipient,
                now=now,
            )
            header_id = outgoing.reference
            outgoing = replace(outgoing, key=str(claimed.id))
        except Exception as error:
            log.exception("courier: could not build message %s", claimed.id)
            reason = f"could not build the message: {type(error).__name__}"
            await self._finish(claimed, Result(Outcome.PERMANENT, reason), None, channel, ours=True)
            return

        def on_the_wire() -> None:  # from now on the relay may have it (see `stop`)
            self._on_the_wire[claimed.id] = header_id

        try:
            result = await channel.send(outgoing, on_the_wire)
        except Exception as error:  # a channel bug must not strand the message in its claim
            log.exception("courier: channel %s failed on message %s", claimed.channel, claimed.id)
            result = Result(Outcome.UNAVAILABLE, f"{type(error).__name__}: {error}"[:500])
        await self._finish(claimed, result, header_id, channel)

    async def _finish(
        self,
        claimed: Claimed,
        result: Result,
        header_id: str | None = None,
        channel: Channel | None = None,
        *,
        ours: bool = False,
    ) -> None:
        """Record an attempt's result; `ours`: a failure on our side whatever its outcome
        (the courier could not build the message, or not send it in time)."""
        now = self.clock.now()
        detail = result.reply
        retry_at: datetime | None = None
        statement: str
        # after an attempt that may have delivered it, the one retry ends once this copy went
        # out too (accepted, unknown or refused for good); if nothing went out (unavailable, a
        # 4xx) it is tried again as usual, while its code is still wanted
        earlier_unknown = (
            result.outcome is not Outcome.ACCEPTED
            and claimed.attempt > 1
            and await self._was_unknown(claimed)
        )
        if result.outcome is Outcome.ACCEPTED:
            status = statement = MessageStatus.ACCEPTED
        elif earlier_unknown and result.outcome in (Outcome.UNKNOWN, Outcome.PERMANENT):
            status, statement = MessageStatus.UNKNOWN, "unknown_final"
            detail = f"{result.reply} — not sent again: an earlier attempt may have delivered it"
        elif result.outcome is Outcome.UNKNOWN:
            status = MessageStatus.UNKNOWN
            retry_at, give_up = self._next_attempt(claimed, now)
            if give_up:
                statement = "unknown_final"
                detail = f"{result.reply} — not sent again ({give_up})"
            else:
                statement = "unknown_retry"
                detail = (
                    f"{result.reply} — sent once more at {retry_at:%Y-%m-%d %H:%M:%S} UTC "
                    "unless its code is used or replaced first; this may deliver it twice"
                )
        elif result.outcome in (Outcome.TEMPORARY, Outcome.UNAVAILABLE):
            retry_at, give_up = self._next_attempt(claimed, now)
            if give_up and earlier_unknown:
                status, statement = MessageStatus.UNKNOWN, "unknown_final"
                detail = f"{result.reply} — {give_up}; an earlier attempt may have delivered it"
            elif give_up:
                status = statement = MessageStatus.FAILED
                detail = f"{result.reply} — {give_up}"
            else:
                status = statement = MessageStatus.DEFERRED
                detail = f"{result.reply} — next attempt at {retry_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            status = statement = MessageStatus.FAILED
        if statement in (MessageStatus.FAILED, "unknown_final"):
            retry_at = None
        next_provider = self._next_provider(claimed)
        if (
            next_provider is not None
            and not ours
            and not earlier_unknown
            and self._hand_over(claimed, result, statement, now)
        ):
            status, statement, retry_at = MessageStatus.QUEUED, "handed_over", now
            detail = f"{detail} — handed over to {next_provider.describe()}"
        trouble: Trouble | None = None
        if status in (MessageStatus.DEFERRED, MessageStatus.FAILED):
            ours = ours or result.outcome is Outcome.UNAVAILABLE
            trouble = Trouble.OUR_SIDE if ours else self._trouble(claimed)
        update_params = {
            "b_id": claimed.id,
            "b_token": claimed.token,
            "b_status": status,
            "b_reply": result.reply[:1000],
            "b_trouble": trouble,
            "b_now": now,
            "b_header": header_id,
            "b_next": retry_at,
            "b_ref": result.reference,
            "b_reason": result.reason,
        }
        event = {
            "message_id": claimed.id,
            "at": now,
            "kind": "handed_over" if statement == "handed_over" else str(status),
            "attempt": claimed.attempt,
            "reply_code": result.reply_code,
            "detail": detail[:1000],
            "actor": self.actor,
            "via": channel.describe()[:100] if channel else None,
        }
        kept = await self._record(claimed, statement, update_params, event)
        log.info(
            "courier: message %s %s (attempt %d): %s", claimed.id, status, claimed.attempt,
            result.reply,
        )  # fmt: skip
        if kept and retry_at is not None:
            self._retry_later(claimed.id, retry_at, now)

    def _hand_over(self, claimed: Claimed, result: Result, statement: str, now: datetime) -> bool:
        """Whether the next provider of the channel takes the message over after this
        attempt: the provider refused it for good, or has not taken it after its share of
        attempts, or would not get another before the message expires."""
        if claimed.expires_at is not None and now >= claimed.expires_at:
            return False
        if result.outcome is Outcome.PERMANENT:
            return True
        if result.outcome not in (Outcome.TEMPORARY, Outcome.UNAVAILABLE):
            return False  # accepted, or it may have been (unknown): never sent twice this way
        return statement == MessageStatus.FAILED or claimed.attempt >= self.config.provider_attempts

    def _trouble(self, claimed: Claimed) -> Trouble:
        """Whose answer a message is stuck on: the mail server's, or an SMS/voice provider's."""
        return Trouble.MAIL_SERVER if composed_as(claimed.channel) == "email" else Trouble.PROVIDER

    async def _was_unknown(self, claimed: Claimed) -> bool:
        """Whether an earlier attempt at this message went out without an answer."""
        async with self.db.transaction(write=False) as tx:
            return (await tx.run(_WAS_UNKNOWN, {"b_id": claimed.id})).scalar() is not None

    async def _record(
        self,
        claimed: Claimed,
        statement: str,
        params: dict[str, Any],
        event: dict[str, Any],
    ) -> bool:
        """Write the attempt's outcome, fenced by the claim; retried if the database falters
        (the message went out: losing this record would send it again). Whether the claim
        was still ours; if not, the timeline gets the result as a `late_result` note."""
        late_detail = (
            f"{event['kind']}: {event['detail']} (after another courier took the message over; "
            "this result changes nothing)"
        )[:1000]
        write = self._write_in_one if not self.db.is_sqlite else self._write_in_two
        for attempt in range(3):
            try:
                kept = await write(statement, params, event, late_detail)
                if not kept:
                    log.warning("courier: lost the claim on message %s", claimed.id)
                return kept
            except Exception:
                if attempt == 2:
                    raise
                log.exception("courier: recording message %s failed; retrying", claimed.id)
                await asyncio.sleep(0.5 * (attempt + 1))
        return False

    async def _write_in_one(
        self, statement: str, params: dict[str, Any], event: dict[str, Any], late_detail: str
    ) -> bool:
        values = {**params, **{f"e_{k}": v for k, v in event.items()}, "e_late_detail": late_detail}
        async with self.db.statement() as tx:
            kind = (await tx.run(_RECORD_IN_ONE[statement], values)).one()[0]
        return bool(kind != "late_result")

    async def _write_in_two(
        self, statement: str, params: dict[str, Any], event: dict[str, Any], late_detail: str
    ) -> bool:
        async with self.db.transaction() as tx:
            kept = (await tx.run(_FINISH[statement], params)).rowcount == 1
            if not kept:
                event = {**event, "kind": "late_result", "detail": late_detail}
            await tx.run(_INSERT_EVENT, event)
        return kept

    def _next_attempt(self, claimed: Claimed, now: datetime) -> tuple[datetime, str | None]:
        if claimed.attempt >= self.config.max_attempts:
            return now, f"gave up after {claimed.attempt} attempts"
        delay = backoff_seconds(claimed.attempt, self.config.retry_base, self.config.retry_max)
        retry_at = now + timedelta(seconds=delay)
        if claimed.expires_at is not None and retry_at >= claimed.expires_at:
            return now, "gave up: it would expire before the next attempt"
        return retry_at, None

    def _retry_later(self, message_id: uuid.UUID, at: datetime, now: datetime) -> None:
        """Come back to a deferred message ourselves; the poller is the fallback."""
        if not self._running:
            return
        delay = max(0.0, (at - now).total_seconds())

        def fire() -> None:
            self._timers.discard(handle)
            self.notify(message_id)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)
