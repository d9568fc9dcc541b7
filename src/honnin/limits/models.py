from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base


class FailedAttempt(Base):
    """A wrong password or code, counted per sign-in name (known or not: no enumeration)."""

    __tablename__ = "failed_attempts"
    __table_args__ = (Index(None, "key_digest", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime] = mapped_column(index=True)
