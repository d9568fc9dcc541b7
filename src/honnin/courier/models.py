from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, new_id


class MessageStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a courier right now
    ACCEPTED = "accepted"  # the relay/provider took it (final)
    DEFERRED = "deferred"  # a temporary failure; another attempt is scheduled
    UNKNOWN = "unknown"  # sent, but the relay never answered: it may have been delivered.
    # With a `next_attempt_at`, it is sent once more (a duplicate, perhaps) unless its code is
    # used, replaced or expires first; without, it is final.
    FAILED = "failed"  # given up: permanent refusal, too many attempts, or expired; or the
    # provider reported that it could not send it on (final)
    DELIVERED = "delivered"  # the provider reported it delivered to the phone (final)
    UNDELIVERED = "undelivered"  # the provider reported that the carrier could not deliver it


FINAL = (
    MessageStatus.ACCEPTED, MessageStatus.FAILED, MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
)  # fmt: skip
"""Statuses nothing will change by sending again (a report may still turn accepted into one of
the others)."""


class Trouble(StrEnum):
    OUR_SIDE = "our_side"
    MAIL_SERVER = "mail_server"
    PROVIDER = "provider"  # an SMS or voice provider, or the carrier behind it, refused it


class Message(Base):
    """An outbox row: written in the transaction that needs the message, sent afterwards.

    Secrets in it (a security code) are sealed in `sealed` and erased once the message is final.
    """

    __tablename__ = "messages"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    last_reply: Mapped[str | None] = mapped_column(String(1000))
    # where a deferred or failed message is stuck: "our_side" (our relay could not be reached,
    # the courier could not build it in time) or "mail_server" (a 4xx or 5xx reply to it)
    trouble: Mapped[str | None] = mapped_column(String(16))
    header_message_id: Mapped[str | None] = mapped_column(String(255))
    # which provider of the channel has it (0: the first); see migration 0006
    provider: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    reported_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))


class MessageEvent(Base):
    """One line of a message's delivery timeline: usually the outcome of one attempt.

    "queued" is not stored (it is the message's `created_at`); "taken_over" records that a
    courier found another's claim expired; "failed" also records a message made pointless
    before it was sent (a newer code, an approved challenge).
    """

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int | None]
    reply_code: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(String(1000))
    actor: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str | None] = mapped_column(String(100))
