from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, new_id


class Challenge(Base):
    """A request to prove control of one destination, for one purpose.

    It may be answered by any code sent for it, but only the newest one works: each send
    raises `send_count`, and a code whose `seq` is lower has been superseded.
    """

    __tablename__ = "challenges"
    __table_args__ = (
        Index(None, "destination_digest", "purpose", "status"),
        Index(None, "flow_id", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(320))
    destination_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    locale: Mapped[str] = mapped_column(String(8))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id"))
    # the flow it belongs to: a code asked for in one sign-in never answers another
    flow_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    send_count: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None]


class Code(Base):
    """One code sent: only its keyed digest is kept. Also the row that send limits count."""

    __tablename__ = "codes"
    __table_args__ = (
        UniqueConstraint("challenge_id", "seq"),
        Index(None, "destination_digest", "created_at"),
        Index(None, "account_id", "created_at"),
        Index("ix_codes_phone_prefix", "phone_prefix", "created_at"),
        Index("ix_codes_phone_country", "phone_country", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    challenge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    seq: Mapped[int]
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    # what the send quotas count it under: the destination's digest, or the key of a quota of
    # its own (`CodeService.send`'s `quota_key`: a browser that signed in to the account before)
    destination_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    account_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # a phone's: what the SMS-pumping limits count it under (migration 0007)
    phone_prefix: Mapped[str | None] = mapped_column(String(16))
    phone_country: Mapped[str | None] = mapped_column(String(3))
