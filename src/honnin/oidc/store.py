"""The provider's records, each read and written inside the caller's transaction: waiting
authorization requests, codes, grants with their refresh tokens, consents and subjects.

Codes and refresh tokens are stored as their digests (`oidc.clients.digest`): a leaked table
holds nothing a client could present.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from honnin.db import Base, Tx, id_in
from honnin.oidc.clients import OidcClientView, digest
from honnin.oidc.models import (
    AuthorizationCode,
    AuthorizationRequest,
    Consent,
    Grant,
    OidcClient,
    PairwiseSubject,
    RefreshToken,
    SpentAssertion,
)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# -- authorization requests waiting for their person


async def add_request(
    tx: Tx,
    client_id: uuid.UUID,
    device_digest: bytes,
    params: dict[str, str],
    now: datetime,
    ttl: timedelta,
    *,
    account_hint: uuid.UUID | None = None,
) -> uuid.UUID:
    row = AuthorizationRequest(
        client_id=client_id,
        device_digest=device_digest,
        params=params,
        account_hint=account_hint,
        created_at=now,
        expires_at=now + ttl,
    )
    tx.session.add(row)
    await tx.session.flush()
    return row.id


async def waiting_request(
    tx: Tx, request_id: str, device_digests: tuple[bytes, ...], now: datetime
) -> AuthorizationRequest | None:
    """The request, if it is this browser's and has not expired."""
    key = id_in(request_id)
    row = None if key is None else await tx.session.get(AuthorizationRequest, key)
    if row is None or row.expires_at <= now or row.device_digest not in device_digests:
        return None
    return row


async def end_request(tx: Tx, request_id: uuid.UUID) -> None:
    await tx.session.execute(
        delete(AuthorizationRequest).where(AuthorizationRequest.id == request_id)
    )


# -- codes


@dataclass(frozen=True)
class CodeGrant:
    """What a code carries to its exchange."""

    account_id: uuid.UUID
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: datetime
    amr: tuple[str, ...]
    acr: str
    sid: uuid.UUID


async def add_code(
    tx: Tx, code: str, client_id: uuid.UUID, grant: CodeGrant, now: datetime, ttl: timedelta
) -> None:
    tx.session.add(
        AuthorizationCode(
            digest=digest(code),
            client_id=client_id,
            account_id=grant.account_id,
            redirect_uri=grant.redirect_uri,
            scope=grant.scope,
            nonce=grant.nonce,
            code_challenge=grant.code_challenge,
            code_challenge_method=grant.code_challenge_method,
            auth_time=grant.auth_time,
            amr=" ".join(grant.amr),
            acr=grant.acr,
            sid=grant.sid,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await tx.session.flush()


async def take_code(
    tx: Tx, code: str, client_id: uuid.UUID, now: datetime
) -> AuthorizationCode | None:
    """The code, spent now, if it is the client's, alive and unused. A code used before
    revokes the grant its first exchange made (RFC 6749 §4.1.2: it leaked)."""
    row = await tx.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.digest == digest(code)).with_for_update()
    )
    if row is None or row.client_id != client_id:
        return None
    if row.used_at is not None:
        if row.grant_id is not None:
            await revoke_grant(tx, row.grant_id, now)
        return None
    if row.expires_at <= now:
        return None
    row.used_at = now
    return row


async def nonce_used(tx: Tx, client_id: uuid.UUID, nonce: str, now: datetime) -> bool:
    """Whether a live code of this client carries the nonce already (a replayed request)."""
    found = await tx.session.scalar(
        select(AuthorizationCode.digest)
        .where(
            AuthorizationCode.client_id == client_id,
            AuthorizationCode.nonce == nonce,
            AuthorizationCode.expires_at > now,
        )
        .limit(1)
    )
    return found is not None


# -- grants and their refresh tokens


async def add_grant(tx: Tx, code: AuthorizationCode, scope: str, now: datetime) -> uuid.UUID:
    """The grant a code's exchange makes, which its tokens name; the code remembers it (a
    second exchange revokes it)."""
    grant = Grant(
        client_id=code.client_id,
        account_id=code.account_id,
        scope=scope,
        auth_time=code.auth_time,
        amr=code.amr,
        acr=code.acr,
        created_at=now,
    )
    tx.session.add(grant)
    await tx.session.flush()
    code.grant_id = grant.id
    return grant.id


async def add_refresh_token(
    tx: Tx, grant_id: uuid.UUID, token: str, now: datetime, ttl: timedelta
) -> None:
    tx.session.add(
        RefreshToken(digest=digest(token), grant_id=grant_id, created_at=now, expires_at=now + ttl)
    )
    await tx.session.flush()


async def take_refresh_token(
    tx: Tx, token: str, client_id: uuid.UUID, now: datetime
) -> Grant | None:
    """The live grant of a refresh token that is the client's, alive and unused; the token is
    spent now (its successor comes with the response). A token used before was copied: its
    whole grant is revoked (RFC 9700 §4.14.2)."""
    row = await tx.session.scalar(
        select(RefreshToken).where(RefreshToken.digest == digest(token)).with_for_update()
    )
    if row is None:
        return None
    grant = await tx.session.get(Grant, row.grant_id, with_for_update=True)
    if grant is None or grant.client_id != client_id:
        return None
    if row.used_at is not None:
        await revoke_grant(tx, grant.id, now)
        return None
    if row.expires_at <= now or grant.revoked_at is not None:
        return None
    row.used_at = now
    return grant


@dataclass(frozen=True)
class HeldToken:
    """A refresh token as revocation and introspection see it (not spent by looking)."""

    grant: Grant
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    def alive(self, now: datetime) -> bool:
        """Unspent, unexpired, and its grant not revoked."""
        return self.used_at is None and self.expires_at > now and self.grant.revoked_at is None


async def find_refresh_token(tx: Tx, token: str) -> HeldToken | None:
    """A refresh token and its grant, whatever their state."""
    row = await tx.session.get(RefreshToken, digest(token))
    if row is None:
        return None
    grant = await tx.session.get(Grant, row.grant_id)
    if grant is None:
        return None
    return HeldToken(grant, row.created_at, row.expires_at, row.used_at)


async def live_grant(tx: Tx, grant_id: uuid.UUID, client_id: uuid.UUID) -> Grant | None:
    """The client's grant, unless it was revoked."""
    grant = await tx.session.get(Grant, grant_id)
    if grant is None or grant.client_id != client_id or grant.revoked_at is not None:
        return None
    return grant


async def revoke_grant(tx: Tx, grant_id: uuid.UUID, now: datetime) -> None:
    await _revoke_grants(tx, now, Grant.id == grant_id)


async def _revoke_grants(tx: Tx, now: datetime, *which: ColumnElement[bool]) -> None:
    """Revoke the grants `which` selects (those not revoked already keep their time)."""
    await tx.session.execute(
        update(Grant).where(*which, Grant.revoked_at.is_(None)).values(revoked_at=now)
    )


# -- client assertions (private_key_jwt)


async def spend_assertion(
    tx: Tx, client_id: uuid.UUID, jti: str, expires_at: datetime, now: datetime
) -> bool:
    """Remember an assertion's `jti` until it expires; False: it was presented before (a
    replay). Two presenting it at once: one inserts, the other finds it (no error)."""
    key = (SpentAssertion.client_id == client_id, SpentAssertion.jti == jti)
    await tx.session.execute(
        delete(SpentAssertion).where(*key, SpentAssertion.expires_at <= now)
    )  # an expired one can't be replayed: its jti is free again
    return await _insert_unless_there(
        tx, SpentAssertion, client_id=client_id, jti=jti, expires_at=expires_at
    )


async def _insert_unless_there(tx: Tx, model: type[Base], **values: object) -> bool:
    """Insert a row unless one with its key is there (or being inserted by another
    transaction, which this waits for): True if this inserted it. No error to undo the
    caller's transaction."""
    insert = postgresql_insert if tx.engine.dialect.name == "postgresql" else sqlite_insert
    result = await tx.session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- consents


async def consented(tx: Tx, account_id: uuid.UUID, client_id: uuid.UUID) -> set[str]:
    """The scopes the person let this application have (none: never asked, or taken back)."""
    row = await tx.session.get(Consent, (account_id, client_id))
    return set(row.scope.split()) if row else set()


async def consent(
    tx: Tx, account_id: uuid.UUID, client_id: uuid.UUID, scopes: set[str], now: datetime
) -> None:
    """Remember what the person agreed to (adding to what they agreed to before)."""
    row = await tx.session.get(Consent, (account_id, client_id), with_for_update=True)
    if row is None:
        tx.session.add(
            Consent(
                account_id=account_id,
                client_id=client_id,
                scope=" ".join(sorted(scopes)),
                granted_at=now,
            )
        )
    else:
        row.scope = " ".join(sorted(set(row.scope.split()) | scopes))
        row.granted_at = now
    await tx.session.flush()


@dataclass(frozen=True)
class ConsentView:
    client_id: uuid.UUID
    client_name: str
    scopes: tuple[str, ...]
    granted_at: datetime


async def consents_of(tx: Tx, account_id: uuid.UUID) -> list[ConsentView]:
    """The applications the person lets sign them in, newest first."""
    rows = await tx.session.execute(
        select(Consent, OidcClient.name)
        .join(OidcClient, OidcClient.id == Consent.client_id)
        .where(Consent.account_id == account_id)
        .order_by(Consent.granted_at.desc())
    )
    return [
        ConsentView(row.client_id, name, tuple(row.scope.split()), row.granted_at)
        for row, name in rows
    ]


async def withdraw(tx: Tx, account_id: uuid.UUID, client_id: uuid.UUID, now: datetime) -> bool:
    """Take the consent back and revoke every grant the application holds: its refresh
    tokens stop at once, its access tokens at userinfo at once. False: there was none."""
    result = await tx.session.execute(
        delete(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
    )
    await _revoke_grants(tx, now, Grant.account_id == account_id, Grant.client_id == client_id)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- subjects


async def subject(tx: Tx, client: OidcClientView, account_id: uuid.UUID) -> str:
    """The account's `sub` for this client: its id (public), or its random subject in the
    client's sector (pairwise), made on first use."""
    if client.subject_type == "public":
        return str(account_id)
    key = (PairwiseSubject.account_id == account_id, PairwiseSubject.sector == client.sector)
    found = await tx.session.scalar(select(PairwiseSubject.subject).where(*key))
    if found is None:  # two first uses at once: one subject, whichever inserted first
        made = secrets.token_urlsafe(24)
        await _insert_unless_there(
            tx, PairwiseSubject, account_id=account_id, sector=client.sector, subject=made
        )
        found = await tx.session.scalar(select(PairwiseSubject.subject).where(*key))
    assert found is not None
    return found


async def account_of(tx: Tx, client: OidcClientView, sub: str) -> uuid.UUID | None:
    """Whose `sub` this is, as this client knows it."""
    if client.subject_type == "public":
        return id_in(sub)
    found = await tx.session.scalar(
        select(PairwiseSubject.account_id).where(
            PairwiseSubject.subject == sub, PairwiseSubject.sector == client.sector
        )
    )
    return found
