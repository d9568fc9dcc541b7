from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, new_id


class JobStatus(StrEnum):
    PENDING = "pending"  # waits for `due_at`, or for a runner after a crash
    DONE = "done"
    CANCELLED = "cancelled"


class Job(Base):
    """One piece of scheduled work. A runner claims it (`claimed_by` until `claim_expires_at`)
    and then does the work and marks it done in one transaction: a crash before the commit
    leaves nothing done and the job pending; after it, the job is done — never twice."""

    __tablename__ = "jobs"
    __table_args__ = (Index(None, "status", "due_at"), Index(None, "account_id", "status"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
