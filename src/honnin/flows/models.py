from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, new_id


class Flow(Base):
    """One journey in progress. `data` holds the step's details (never a code or password)."""

    __tablename__ = "flows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32))
    # who may act on it: the browser's device (digest) or an API client
    device_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    locale: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    session_id: Mapped[uuid.UUID | None]


@dataclass
class FlowRecord:
    """A flow's row as an action reads and changes it; `FlowService` writes it back (plain
    statements: no ORM unit of work on the hot path)."""

    id: uuid.UUID
    kind: str
    state: str
    device_digest: bytes | None
    client_id: uuid.UUID | None
    account_id: uuid.UUID | None
    locale: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    session_id: uuid.UUID | None = None
