from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from honnin.db import Base, random_id


class SigningKey(Base):
    """A key that signs ID tokens and access tokens (`oidc.keys`): published in the JWKS from
    its creation, signing from `active_from`, retired when the next one starts, and published
    until every token it signed has expired. Its private half is sealed."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # the JWK's thumbprint
    alg: Mapped[str] = mapped_column(String(8))  # RS256, ES256
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary(4096))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    active_from: Mapped[datetime]  # signs from then (published ahead of it)
    # signs no more from then (its successor signs); published until every token it signed
    # has expired: `oidc.keys`, with today's token lifetimes
    retired_at: Mapped[datetime | None] = mapped_column(index=True)


class OidcClient(Base):
    """An application that signs its users in with honnin (OpenID Connect). Its secret, if it
    has one (a confidential client), is stored only as a digest; a public client has none and
    must use PKCE."""

    __tablename__ = "oidc_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)  # client_id
    name: Mapped[str] = mapped_column(String(100))
    public: Mapped[bool]
    secret_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    subject_type: Mapped[str] = mapped_column(String(16))  # pairwise, public
    sector: Mapped[str] = mapped_column(String(255))  # the host pairwise subjects are per
    sector_identifier_uri: Mapped[str | None] = mapped_column(String(2000))
    id_token_alg: Mapped[str] = mapped_column(String(8))  # RS256, ES256
    jwks_uri: Mapped[str | None] = mapped_column(String(2000))  # private_key_jwt's keys
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
