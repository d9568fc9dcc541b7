from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base


class SigningKey(Base):
    """A key that signs ID tokens and access tokens (`oidc.keys`): published in the JWKS from
    its creation, signing from `active_from`, retired when the next one starts, and published
    until `published_until` (every token it signed has expired). Its private half is sealed."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # the JWK's thumbprint
    alg: Mapped[str] = mapped_column(String(8))  # RS256, ES256
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary(4096))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    active_from: Mapped[datetime]  # signs from then (published ahead of it)
    retired_at: Mapped[datetime | None]  # signs no more from then (its successor signs)
    published_until: Mapped[datetime | None] = mapped_column(index=True)
