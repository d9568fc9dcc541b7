from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
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


class AuthorizationRequest(Base):
    """An authorization request waiting for its person (`/oauth/authorize`): kept while they
    sign in, pick an account or consent, in this browser only (its device digest)."""

    __tablename__ = "oidc_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    # moved with the browser's other records when it signs in (`FlowService.complete`)
    device_digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    params: Mapped[dict[str, str]] = mapped_column(JSON)  # as the client sent them
    # the session it is for, once chosen (the account picker) or signed in for it
    session_id: Mapped[uuid.UUID | None]
    # the account an `id_token_hint` names: only its session answers without a page
    account_hint: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuthorizationCode(Base):
    """A code given to a client's redirect URI: exchanged once, soon, by that client, with
    that redirect URI (and its PKCE verifier). Stored as its digest; a second exchange revokes
    the grant the first one made."""

    __tablename__ = "oidc_codes"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    auth_time: Mapped[datetime]
    amr: Mapped[str] = mapped_column(String(100))  # space-separated, RFC 8176
    acr: Mapped[str] = mapped_column(String(64))
    sid: Mapped[uuid.UUID]  # the honnin session it was given in
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    grant_id: Mapped[uuid.UUID | None]  # what its exchange made


class Grant(Base):
    """What one exchanged code gave a client: its scope and how the person signed in, and the
    family of refresh tokens that carries it on. Revoking it ends them all."""

    __tablename__ = "oidc_grants"
    __table_args__ = (Index(None, "account_id", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=random_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(200))
    auth_time: Mapped[datetime]
    amr: Mapped[str] = mapped_column(String(100))
    acr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)  # pruned by it (housekeeping)
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    """One refresh token of a grant, stored as its digest. Used once: its use gives the next
    one; a second use (a stolen copy, or the thief's) revokes the grant."""

    __tablename__ = "oidc_refresh_tokens"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oidc_grants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class Consent(Base):
    """What a person let an application see, remembered until they take it back from their
    account page (which also revokes the application's grants)."""

    __tablename__ = "oidc_consents"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oidc_clients.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime]


class PairwiseSubject(Base):
    """An account's subject for one sector (OpenID Connect Core §8.1): random, made on first
    use, so that applications on different hosts can't join their users by it — and nothing
    derived from the service's secret, which may rotate."""

    __tablename__ = "oidc_subjects"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), unique=True)


class SpentAssertion(Base):
    """A client's signed assertion (`private_key_jwt`), by its `jti`, until it expires: one
    presented again is a replay (RFC 7523 §3, item 7)."""

    __tablename__ = "oidc_spent_assertions"

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("oidc_clients.id", ondelete="CASCADE"), primary_key=True
    )
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
