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


class Passkey(Base):
    """A passkey (a WebAuthn credential) of an account: its public key, the counts and flags
    its authenticator reports, named by its person and by its authenticator (`aaguid`)."""

    __tablename__ = "passkeys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))  # COSE
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    aaguid: Mapped[str] = mapped_column(String(36))
    # backup eligible: it may be synced to other devices (a "multi-device" credential)
    backup_eligible: Mapped[bool]
    backed_up: Mapped[bool]
    transports: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
