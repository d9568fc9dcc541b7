from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, new_id


class AuditEvent(Base):
    """One change of an account's security (security info, password, two-step verification,
    recovery) and where it came from. `detail` holds masked hints and ids, never a code, a
    password or a full address; the rows go with the account."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "account_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    agent: Mapped[str | None] = mapped_column(String(120))  # "Chrome on Windows", an app
