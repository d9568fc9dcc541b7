"""The courier at work: claim a message, send it, write down what happened.

Two ways in, one way through:
- the fast path: the outbox calls `notify(id)` after the transaction commits, and a sender
  task claims and sends it within milliseconds;
- the durable path: a poller claims what is due (queued but missed, deferred and due again,
  or claimed by a courier that died) in batches, `FOR UPDATE SKIP LOCKED` on PostgreSQL.

A claim is one conditional UPDATE that sets a fresh `claim_token` and a claim expiry; every
later write about the attempt is fenced by that token, so if a courier stalls past its claim
and another takes the message over, the first one's late result is dropped, not recorded
twice. Several processes may run couriers against one database.
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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from honnin.clock import Clock
from honnin.config import Settings
from honnin.courier.channels.base import Channel, Outcome, Result
from honnin.courier.mail import EmailComposer
from honnin.courier.models import Message, MessageEvent, MessageStatus
from honnin.courier.retry import backoff_seconds
from honnin.crypto import Keyring
from honnin.db import Database

log = logging.getLogger("honnin.courier")


@dataclass(frozen=True)
class CourierConfig:
    concurrency: int = 8
    poll_interval: float = 2.0
    claim_ttl: float = 120.0
    retry_base: float = 5.0
    retry_max: float = 900.0
    max_attempts: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> CourierConfig:
        return cls(
            concurrency=settings.courier_concurrency,
            poll_interval=settings.courier_poll_seconds,
            claim_ttl=settings.courier_claim_seconds,
            retry_base=settings.courier_retry_base_seconds,
            retry_max=settings.courier_retry_max_seconds,
            max_attempts=settings.courier_max_attempts,
        )


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    token: str
    attempt: int
    channel: str
    recipient: str
    template: str
    locale: str
    params: dict[str, Any]
    sealed: bytes | None
    expires_at: datetime | None


_CLAIM_COLUMNS = (
    Message.id,
    Message.attempts,
    Message.channel,
    Message.recipient,
    Message.template,
    Message.locale,
    Message.params,
    Message.sealed,
    Message.expires_at,
)


def default_actor() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


class Courier:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keyring: Keyring,
        channels: Mapping[str, Channel],
        composer: EmailComposer,
        config: CourierConfig,
        actor: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.channels = channels
        self.composer = composer
        self.config = config
        self.actor = actor or default_actor()
        self._jobs: asyncio.Queue[uuid.UUID | _Claimed] = asyncio.Queue()
        self._busy = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._wake = asyncio.Event()
        self._running = False

    # --- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        self._tasks = [
            asyncio.create_task(self._sender(), name=f"courier-sender-{n}")
            for n in range(self.config.concurrency)
        ]
        self._tasks.append(asyncio.create_task(self._poller(), name="courier-poller"))

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking work, finish what is in flight (up to `grace` s), hand back the rest."""
        self._running = False
        for timer in self._timers:
            timer.cancel()
        self._wake.set()
        pending: list[_Claimed] = []
        while not self._jobs.empty():
            job = self._jobs.get_nowait()
            if isinstance(job, _Claimed):
                pending.append(job)
        for _ in self._tasks:
            self._jobs.put_nowait(_STOP)
        _done, still_running = await asyncio.wait(self._tasks, timeout=grace)
        for task in still_running:
            task.cancel()
        await asyncio.gather(*still_running, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._release(pending)
        for channel in self.channels.values():
            await channel.close()

    def notify(self, message_id: uuid.UUID) -> None:
        """A message was committed to the outbox: send it now (the fast path)."""
        if self._running:
            self._jobs.put_nowait(message_id)

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
            self._busy += 1
            try:
                claimed = job if isinstance(job, _Claimed) else await self._claim_one(job)
                if claimed is not None:
                    await self.deliver(claimed)
            except asyncio.CancelledError:
                raise
            except Exception:
                # the claim expires and the message is taken over; nothing is lost
                log.exception("courier: unexpected error delivering %s", job)
            finally:
                self._busy -= 1

    async def _poller(self) -> None:
        while self._running:
            try:
                free = self.config.concurrency - self._busy - self._jobs.qsize()
                if free > 0:
                    for claimed in await self._claim_due(free):
                        self._jobs.put_nowait(claimed)
            except Exception:
                log.exception("courier: polling the outbox failed; will try again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)

    # --- claiming ---------------------------------------------------------------------

    def _claim_values(self, now: datetime, token: str) -> dict[str, Any]:
        return {
            "status": MessageStatus.SENDING,
            "claim_token": token,
            "claimed_by": self.actor,
            "claim_expires_at": now + timedelta(seconds=self.config.claim_ttl),
            "attempts": Message.attempts + 1,
            "updated_at": now,
        }

    @staticmethod
    def _claim_expired(now: datetime) -> Any:
        return and_(Message.status == MessageStatus.SENDING, Message.claim_expires_at <= now)

    async def _claim_one(self, message_id: uuid.UUID) -> _Claimed | None:
        now = self.clock.now()
        token = secrets.token_hex(16)
        async with self.db.transaction() as tx:
            row = (
                await tx.session.execute(
                    update(Message)
                    .where(
                        Message.id == message_id,
                        or_(
                            Message.status == MessageStatus.QUEUED,
                            and_(
                                Message.status == MessageStatus.DEFERRED,
                                Message.next_attempt_at <= now,
                            ),
                            self._claim_expired(now),
                        ),
                    )
                    .values(self._claim_values(now, token))
                    .returning(*_CLAIM_COLUMNS)
                )
            ).one_or_none()
            if row is None:
                return None
            claimed = self._claimed(row, token)
            await self._record_attempts(tx.session, [claimed], now)
        return claimed

    async def _claim_due(self, limit: int) -> list[_Claimed]:
        now = self.clock.now()
        token = secrets.token_hex(16)
        due = (
            select(Message.id)
            .where(
                or_(
                    and_(
                        Message.status.in_((MessageStatus.QUEUED, MessageStatus.DEFERRED)),
                        Message.next_attempt_at <= now,
                    ),
                    self._claim_expired(now),
                )
            )
            .order_by(Message.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as tx:
            rows = (
                await tx.session.execute(
                    update(Message)
                    .where(Message.id.in_(due.scalar_subquery()))
                    .values(self._claim_values(now, token))
                    .returning(*_CLAIM_COLUMNS)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            claimed = [self._claimed(row, token) for row in rows]
            if claimed:
                await self._record_attempts(tx.session, claimed, now)
        return claimed

    @staticmethod
    def _claimed(row: Any, token: str) -> _Claimed:
        return _Claimed(
            id=row.id,
            token=token,
            attempt=row.attempts,
            channel=row.channel,
            recipient=row.recipient,
            template=row.template,
            locale=row.locale,
            params=row.params,
            sealed=row.sealed,
            expires_at=row.expires_at,
        )

    async def _record_attempts(self, session: Any, claimed: list[_Claimed], now: datetime) -> None:
        await session.execute(
            insert(MessageEvent),
            [
                {
                    "message_id": c.id,
                    "at": now,
                    "kind": "attempt",
                    "attempt": c.attempt,
                    "actor": self.actor,
                    "detail": self._describe_channel(c.channel),
                }
                for c in claimed
            ],
        )

    def _describe_channel(self, name: str) -> str:
        channel = self.channels.get(name)
        return f"via {channel.describe()}" if channel else f"no channel {name!r} configured"

    async def _release(self, claimed: list[_Claimed]) -> None:
        """Give back claims we will not work on (shutting down), due at once for others."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            for c in claimed:
                await tx.session.execute(
                    update(Message)
                    .where(Message.id == c.id, Message.claim_token == c.token)
                    .values(
                        status=MessageStatus.DEFERRED,
                        next_attempt_at=now,
                        claim_token=None,
                        claim_expires_at=None,
                        updated_at=now,
                    )
                )

    # --- one delivery -----------------------------------------------------------------

    async def deliver(self, claimed: _Claimed) -> None:
        now = self.clock.now()
        if claimed.expires_at is not None and now >= claimed.expires_at:
            await self._finish(
                claimed, Result(Outcome.PERMANENT, "expired before it could be delivered")
            )
            return
        channel = self.channels.get(claimed.channel)
        if channel is None:
            await self._finish(claimed, Result(Outcome.TEMPORARY, "channel not configured"))
            return
        try:
            secret_params = (
                json.loads(self.keyring.unseal(claimed.sealed, str(claimed.id)))
                if claimed.sealed
                else {}
            )
            outgoing, header_id = self.composer.outgoing(
                template=claimed.template,
                locale=claimed.locale,
                params={**claimed.params, **secret_params},
                recipient=claimed.recipient,
                now=now,
            )
        except Exception as error:
            log.exception("courier: could not build message %s", claimed.id)
            reason = f"could not build the message: {type(error).__name__}"
            await self._finish(claimed, Result(Outcome.PERMANENT, reason))
            return
        try:
            result = await channel.send(outgoing)
        except (
            Exception
        ) as error:  # a channel bug must not strand the message until its claim expires
            log.exception("courier: channel %s failed on %s", claimed.channel, claimed.id)
            result = Result(Outcome.TEMPORARY, f"{type(error).__name__}: {error}"[:500])
        await self._finish(claimed, result, header_id)

    async def _finish(
        self, claimed: _Claimed, result: Result, header_id: str | None = None
    ) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {
            "updated_at": now,
            "last_reply": result.reply[:1000],
            "claim_token": None,
            "claim_expires_at": None,
        }
        if header_id:
            values["header_message_id"] = header_id
        detail = result.reply
        retry_at: datetime | None = None
        if result.outcome is Outcome.ACCEPTED:
            kind = values["status"] = MessageStatus.ACCEPTED
            values["accepted_at"] = now
        elif result.outcome is Outcome.TEMPORARY:
            retry_at, give_up = self._next_attempt(claimed, now)
            if give_up:
                kind = values["status"] = MessageStatus.FAILED
                detail = f"{result.reply} — {give_up}"
            else:
                kind = values["status"] = MessageStatus.DEFERRED
                values["next_attempt_at"] = retry_at
                detail = f"{result.reply} — next attempt at {retry_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            kind = values["status"] = MessageStatus.FAILED
        if kind != MessageStatus.DEFERRED:
            values["sealed"] = None  # the code inside is no longer needed by anyone
        async with self.db.transaction() as tx:
            fenced = await tx.session.execute(
                update(Message)
                .where(Message.id == claimed.id, Message.claim_token == claimed.token)
                .values(values)
            )
            if fenced.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("courier: lost the claim on %s; its result is dropped", claimed.id)
                return
            tx.session.add(
                MessageEvent(
                    message_id=claimed.id,
                    at=now,
                    kind=str(kind),
                    attempt=claimed.attempt,
                    reply_code=result.reply_code,
                    detail=detail[:1000],
                    actor=self.actor,
                )
            )
        log.info("courier: %s %s (attempt %d): %s", claimed.id, kind, claimed.attempt, result.reply)
        if retry_at is not None and kind == MessageStatus.DEFERRED:
            self._retry_later(claimed.id, retry_at, now)

    def _next_attempt(self, claimed: _Claimed, now: datetime) -> tuple[datetime, str | None]:
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
        loop = asyncio.get_running_loop()
        delay = max(0.0, (at - now).total_seconds())

        def fire() -> None:
            self._timers.discard(handle)
            self.notify(message_id)

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)


_STOP: Any = object()
