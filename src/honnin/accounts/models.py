from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from honnin.db import Base, random_id


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # two-step verification: a code to one of the security info after the password
    two_step: Mapped[bool] = mapped_column(default=False, server_default=false())
    # two-step verification's recovery code, as a keyed digest (`security.recovery_codes`)
    recovery_code_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # the IANA zone times are shown and sent in (None: the language's: `honnin.localtime`)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # "this wasn't me": the password may be known to someone else, so the password alone no
    # longer signs in, and the next sign-in (by a code) asks for a new one
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    # "sign in with a passkey next time?", offered after a sign-in by a sent code: declined then
    passkey_offer_declined_at: Mapped[datetime | None]

    sign_in_names: Mapped[list[SignInName]] = relationship(
        back_populates="account", order_by="SignInName.created_at", cascade="all, delete-orphan"
    )


class SignInName(Base):
    """An alias: one of the names (email addresses now, phone numbers later) to sign in with."""

    __tablename__ = "sign_in_names"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime]

    account: Mapped[Account] = relationship(back_populates="sign_in_names")
