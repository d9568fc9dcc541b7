from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, random_id


class Proof(Base):
    """One piece of security info; it counts only once `verified_at` is set."""

    __tablename__ = "proofs"
    __table_args__ = (UniqueConstraint("account_id", "kind", "value"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
