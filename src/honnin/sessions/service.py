"""Starting, finding and ending sessions.

Browsers carry a device token in a cookie (only its keyed digest is stored) and may hold
sessions of several accounts at once; API clients get a bearer token (also stored as a digest)
when a flow completes.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, update

from honnin.accounts.models import SignInName
from honnin.clients.models import Client
from honnin.clock import Clock
from honnin.crypto import Keyring
from honnin.db import Database, Tx
from honnin.masks import mask_email
from honnin.sessions.models import Session


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID
    account_id: uuid.UUID
    name: str  # the account's first sign-in name, for the account picker
    method: str
    created_at: datetime
    expires_at: datetime
    verified_at: datetime  # when the person last proved who they are in this session
    fresh: bool  # verified within the re-authentication age: may see their own info in full

    @property
    def shown_name(self) -> str:
        """The account's name as its pages show it: in full only while the session is fresh."""
        return self.name if self.fresh else mask_email(self.name)


def _live(now: datetime) -> ColumnElement[bool]:
    """The one definition of a live session: neither ended nor expired."""
    return and_(Session.revoked_at.is_(None), Session.expires_at > now)


@dataclass(frozen=True)
class LiveSession:
    """A live session as someone else may see it (support staff): nothing that could resume
    it, no token and no device digest."""

    id: uuid.UUID
    method: str  # how the sign-in was proven: password, code, password+code, sign_up, …
    created_at: datetime
    expires_at: datetime
    browser: int | None  # which browser: 1, 2, … in the order they first signed in; None: API
    client: str | None  # the application's name, for an API session


async def live_sessions(tx: Tx, account_id: uuid.UUID, now: datetime) -> list[LiveSession]:
    """The account's live sessions, oldest first.

    Browsers are told apart by their device digest: every row of one browser carries the same
    one, because each sign-in moves all of the browser's rows to its new token's digest under
    the current secret key (`SessionService.rotate_device`), so a key rotation does not make
    one browser look like two."""
    rows = await tx.session.execute(
        select(Session, Client.name)
        .outerjoin(Client, Client.id == Session.client_id)
        .where(Session.account_id == account_id, _live(now))
        .order_by(Session.created_at, Session.id)
    )
    browsers: dict[bytes, int] = {}
    sessions = []
    for session, client in rows:
        browser = None
        if session.device_digest is not None:
            browser = browsers.setdefault(session.device_digest, len(browsers) + 1)
        sessions.append(
            LiveSession(
                session.id, session.method, session.created_at, session.expires_at, browser, client
            )
        )
    return sessions


class SessionService:
    """Sessions, and the one rule of freshness: a session is *fresh* while its last
    verification is at most `reauth_max_age` old. Only a fresh session sees the account's own
    addresses in full; every page that shows them asks this, not the clock."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        keyring: Keyring,
        ttl: timedelta,
        *,
        reauth_max_age: timedelta,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.ttl = ttl
        self.reauth_max_age = reauth_max_age

    def device_digest(self, device_token: str) -> bytes:
        return self.keyring.digest("device", device_token)

    def device_digests(self, device_token: str) -> tuple[bytes, ...]:
        """Every digest the device's rows may carry (one per secret key, current first)."""
        return self.keyring.digests("device", device_token)

    def device_matches(self, stored: bytes, device_token: str) -> bool:
        """Whether a row's device digest is this device's, under any key (constant time)."""
        return self.keyring.matches(stored, "device", device_token)

    def _token_digest(self, token: str) -> bytes:
        return self.keyring.digest("session-token", token)

    def _token_digests(self, token: str) -> tuple[bytes, ...]:
        return self.keyring.digests("session-token", token)

    async def start(
        self,
        tx: Tx,
        account_id: uuid.UUID,
        *,
        method: str,
        device_token: str | None = None,
        client_id: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, str | None]:
        """A new session for a browser (`device_token`) or, without one, for an API client:
        its id and, for an API client, the bearer token (returned only this once)."""
        now = self.clock.now()
        token = None if device_token else secrets.token_urlsafe(32)
        session = Session(
            account_id=account_id,
            device_digest=self.device_digest(device_token) if device_token else None,
            token_digest=self._token_digest(token) if token else None,
            client_id=client_id,
            method=method,
            created_at=now,
            expires_at=now + self.ttl,
        )
        tx.session.add(session)
        await tx.session.flush()
        return session.id, token

    async def for_device(self, device_token: str) -> list[SessionView]:
        """The accounts signed in in this browser, oldest first."""
        now = self.clock.now()
        async with self.db.transaction(write=False) as tx:
            rows = await tx.session.execute(
                select(Session, SignInName.value)
                .join(SignInName, SignInName.account_id == Session.account_id)
                .where(
                    Session.device_digest.in_(self.device_digests(device_token)),
                    _live(now),
                )
                .order_by(Session.created_at, SignInName.created_at)
            )
            views: dict[uuid.UUID, SessionView] = {}
            for session, name in rows:
                views.setdefault(session.id, self._view(session, name, now))
        # one session per account: the newest sign-in of an account replaces older ones
        newest: dict[uuid.UUID, SessionView] = {}
        for view in views.values():
            newest[view.account_id] = view
        return sorted(newest.values(), key=lambda v: v.created_at)

    async def rotate_device(self, tx: Tx, device_token: str) -> str:
        """A new device token for this browser; its sessions move to it (fixation defence)."""
        new_token = secrets.token_urlsafe(32)
        await tx.conn.execute(
            update(Session)
            .where(Session.device_digest.in_(self.device_digests(device_token)))
            .values(device_digest=self.device_digest(new_token))
        )
        return new_token

    async def sign_out(
        self, device_token: str, current: SessionView | None, *, everyone: bool
    ) -> tuple[uuid.UUID | None, str | None]:
        """Sign out of the current account, or of every account in this browser.

        Returns the session that becomes current (another account still signed in, if any)
        and, after signing out of everyone, the browser's new device token."""
        if everyone or current is None:
            async with self.db.transaction() as tx:
                await self._revoke(tx, device_token, None)
                return None, await self.rotate_device(tx, device_token)
        async with self.db.transaction() as tx:
            await self._revoke(tx, device_token, current.account_id)
        others = [s for s in await self.for_device(device_token) if s.id != current.id]
        return (others[-1].id if others else None), None

    async def by_token(self, token: str, client_id: uuid.UUID) -> SessionView | None:
        """The API session of this bearer token, if it is live and belongs to `client_id`."""
        now = self.clock.now()
        async with self.db.transaction(write=False) as tx:
            row = (
                await tx.session.execute(
                    select(Session, SignInName.value)
                    .join(SignInName, SignInName.account_id == Session.account_id)
                    .where(
                        Session.token_digest.in_(self._token_digests(token)),
                        Session.client_id == client_id,
                        _live(now),
                    )
                    .order_by(SignInName.created_at)
                    .limit(1)
                )
            ).first()
        return self._view(row[0], row[1], now) if row else None

    async def revoke_token(self, token: str, client_id: uuid.UUID) -> bool:
        """End an API session (sign out); False if there was none to end."""
        async with self.db.transaction() as tx:
            result = await tx.conn.execute(
                update(Session)
                .where(
                    Session.token_digest.in_(self._token_digests(token)),
                    Session.client_id == client_id,
                    Session.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock.now())
            )
        return bool(result.rowcount)

    async def _revoke(self, tx: Tx, device_token: str, account_id: uuid.UUID | None) -> None:
        query = update(Session).where(
            Session.device_digest.in_(self.device_digests(device_token)),
            Session.revoked_at.is_(None),
        )
        if account_id is not None:
            query = query.where(Session.account_id == account_id)
        await tx.conn.execute(query.values(revoked_at=self.clock.now(), signed_out=True))

    def _view(self, session: Session, name: str, now: datetime) -> SessionView:
        # signing in is so far the only verification a session has: it starts fresh
        verified_at = session.created_at
        return SessionView(
            session.id, session.account_id, name, session.method, session.created_at,
            session.expires_at, verified_at, now - verified_at <= self.reauth_max_age,
        )  # fmt: skip
