from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, new_id


class Session(Base):
    """A signed-in account, server-side and revocable.

    A browser session belongs to a device (the browser's device cookie, stored only as a keyed
    digest); one device may hold sessions of several accounts at once. An API session is found
    by the digest of its bearer token instead.
    """

    __tablename__ = "sessions"
    __table_args__ = (Index(None, "device_digest", "revoked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    token_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    # an API session belongs to the application that completed the flow
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id"))
    method: Mapped[str] = mapped_column(String(32))  # how it was proven: password, code, …
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(index=True)
    # ended by signing out in its own browser: the browser is still the person's (a known
    # device for `honnin.flows.guesses`), unlike one whose session was revoked from elsewhere
    signed_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    # the person's last proof of who they are in this session (the sign-in, or a later
    # "verify your identity"): when, and with what — "password" and "proof:<id>" tokens
    verified_at: Mapped[datetime | None]
    verified_with: Mapped[str | None] = mapped_column(String(200))
    # where it was signed in from, as the security page shows it: the IP address, the browser
    # ("Chrome on Windows") or the application; and when it was last seen in use
    ip: Mapped[str | None] = mapped_column(String(45))
    agent: Mapped[str | None] = mapped_column(String(120))
    last_seen_at: Mapped[datetime | None]
    # when the new-browser notice of this session was used to secure the account (once)
    secured_at: Mapped[datetime | None]
