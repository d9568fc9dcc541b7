"""Reading the outbox: what support staff, the CLI and the API are shown about deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, or_, select

from honnin.courier.channels.void import composed_as
from honnin.courier.models import Message, MessageEvent
from honnin.db import Database
from honnin.destinations.kinds import mask_for_channel
from honnin.errors import NotFound
from honnin.i18n import _


@dataclass(frozen=True)
class DeliveryStatus:
    status: str
    attempts: int
    updated_at: datetime
    next_attempt_at: datetime | None = None
    last_reply: str | None = None
    # a deferred, failed or undelivered message's: "our_side", "mail_server" or "provider"
    trouble: str | None = None
    reason: str | None = None  # why a text or a call did not arrive (`honnin.courier.reasons`)

    @classmethod
    def of(cls, row: Any, attempts: int | None = None) -> DeliveryStatus:
        """From a row with the message's status columns (`attempts` if it names it otherwise)."""
        return cls(
            row.status,
            row.attempts if attempts is None else attempts,
            row.updated_at,
            _next_attempt(row),
            row.last_reply,
            _trouble(row),
            _reason(row),
        )


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    attempt: int | None = None
    reply_code: int | None = None
    detail: str | None = None
    actor: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class MessageView:
    id: uuid.UUID
    channel: str
    recipient_hint: str
    template: str
    locale: str
    status: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    accepted_at: datetime | None
    last_reply: str | None
    trouble: str | None
    header_message_id: str | None
    provider: int  # which of its channel's providers has it (0: the first)
    provider_ref: str | None  # that provider's id of the message
    reason: str | None
    events: list[EventView]


def _next_attempt(row: Any) -> datetime | None:
    """Only a deferred message, or an unknown one sent once more, has a next attempt; for
    others the column is history."""
    return row.next_attempt_at if row.status in ("deferred", "unknown") else None


def _trouble(row: Any) -> str | None:
    """Where a deferred or failed message is stuck (None for those a newer code replaced)."""
    return row.trouble if row.status in ("deferred", "failed", "undelivered") else None


def _reason(row: Any) -> str | None:
    """Why it did not arrive, while that is still the news (not once it was delivered)."""
    return row.reason if row.status in ("deferred", "failed", "undelivered") else None


def _view(row: Message, events: list[EventView]) -> MessageView:
    return MessageView(
        id=row.id,
        channel=row.channel,
        recipient_hint=mask_for_channel(composed_as(row.channel), row.recipient),
        template=row.template,
        locale=row.locale,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=_next_attempt(row),
        accepted_at=row.accepted_at,
        last_reply=row.last_reply,
        trouble=_trouble(row),
        header_message_id=row.header_message_id,
        provider=row.provider,
        provider_ref=row.provider_ref,
        reason=_reason(row),
        events=events,
    )


class MessageService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recent(
        self,
        *,
        limit: int = 50,
        status: str | None = None,
        prefixes: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> list[MessageView]:
        """Newest first; `prefixes`: only to numbers starting so (`+819012`)."""
        query = select(Message).order_by(Message.created_at.desc()).limit(limit)
        if status:
            query = query.where(Message.status == status)
        if prefixes is not None:
            query = query.where(or_(false(), *(Message.recipient.startswith(p) for p in prefixes)))
        if since is not None:
            query = query.where(Message.created_at > since)
        async with self.db.transaction(write=False) as tx:
            return [_view(row, []) for row in await tx.session.scalars(query)]

    async def show(self, message_id: str) -> MessageView:
        try:
            key = uuid.UUID(message_id)
        except ValueError:
            raise NotFound(_("No message has the id {id}.", id=message_id)) from None
        # one moment for the row and its events: a courier may write both meanwhile
        async with self.db.transaction(write=False, snapshot=True) as tx:
            row = await tx.session.get(Message, key)
            if row is None:
                raise NotFound(_("No message has the id {id}.", id=message_id))
            events = await tx.session.scalars(
                select(MessageEvent)
                .where(MessageEvent.message_id == key)
                .order_by(MessageEvent.at, MessageEvent.id)
            )
            timeline = [EventView(row.created_at, "queued")]  # the row's birth is the first event
            timeline += [
                EventView(e.at, e.kind, e.attempt, e.reply_code, e.detail, e.actor, e.via)
                for e in events
            ]
            return _view(row, timeline)
