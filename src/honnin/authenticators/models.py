from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, random_id


class AuthenticatorApp(Base):
    """An authenticator app (TOTP) of an account; it counts once its first code came back
    (`verified_at`). The secret is kept sealed, bound to the row's id (`totp.seal`)."""

    __tablename__ = "authenticator_apps"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))  # the person's ("phone", "work phone")
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    # the step of the last code accepted: it and every older one are refused (no replay)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[datetime | None]
