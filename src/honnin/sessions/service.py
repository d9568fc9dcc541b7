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
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, insert, select, update

from honnin.accounts.models import Account, SignInName
from honnin.clients.models import Client
from honnin.clock import Clock
from honnin.crypto import Keyring
from honnin.db import Database, Prepared, Tx, new_id, table_of
from honnin.destinations.kinds import mask
from honnin.sessions.models import Session

TOUCH_EVERY = timedelta(minutes=10)
_sessions = table_of(Session)
_NO_SESSION = uuid.UUID(int=0)
_names = table_of(SignInName)
_accounts = table_of(Account)
_s = _sessions.c
_n = _names.c


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID
    account_id: uuid.UUID
    name: str  # the account's first sign-in name, for the account picker
    name_kind: str  # email or phone: how it is masked
    method: str
    created_at: datetime
    expires_at: datetime
    verified_at: datetime  # when the person last proved who they are in this session
    fresh: bool  # verified within the re-authentication age: may see their own info in full
    # with what: "password", "proof:<id>"…, and how ("how:sms": `HOW`)
    verified_with: tuple[str, ...] = ()
    last_seen_at: datetime | None = None
    time_zone: str | None = None  # the account's: its pages show times in it

    @property
    def shown_name(self) -> str:
        """The account's name as its pages show it: in full only while the session is fresh."""
        return self.name if self.fresh else mask(self.name_kind, self.name)


def _live(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """The one definition of a live session: neither ended nor expired (`now`: a moment, or
    the bind parameter a prepared statement takes it from)."""
    return and_(_s.revoked_at.is_(None), _s.expires_at > now)


# Statements built once and run straight on the driver (honnin.db.prepared). Digests are
# lists: one per secret key, so that a rotation of the key signs nobody out.
_INSERT = Prepared(insert(_sessions))
# what `SessionService._view` reads: the session and the account's name
_VIEW_COLUMNS = (
    _s.id,
    _s.account_id,
    _n.value.label("name"),
    _n.kind.label("name_kind"),
    _s.method,
    _s.created_at,
    _s.expires_at,
    _s.verified_at,
    _s.verified_with,
    _s.last_seen_at,
    _accounts.c.time_zone,
)
_FOR_DEVICE = Prepared(
    select(*_VIEW_COLUMNS)
    .join(_names, _n.account_id == _s.account_id)
    .join(_accounts, _accounts.c.id == _s.account_id)
    .where(
        _s.device_digest.in_(bindparam("b_devices", expanding=True)),
        _live(bindparam("b_now")),
    )
    .order_by(_s.created_at, _n.created_at)
)
_BY_TOKEN = Prepared(
    select(*_VIEW_COLUMNS)
    .join(_names, _n.account_id == _s.account_id)
    .join(_accounts, _accounts.c.id == _s.account_id)
    .where(
        _s.token_digest.in_(bindparam("b_tokens", expanding=True)),
        _s.client_id == bindparam("b_client"),
        _live(bindparam("b_now")),
    )
    .order_by(_n.created_at)
    .limit(1)
)
_ROTATE_DEVICE = Prepared(
    update(_sessions)
    .where(_s.device_digest.in_(bindparam("b_devices", expanding=True)))
    .values(device_digest=bindparam("b_new"))
)
_REVOKE_TOKEN = Prepared(
    update(_sessions)
    .where(
        _s.token_digest.in_(bindparam("b_tokens", expanding=True)),
        _s.client_id == bindparam("b_client"),
        _s.revoked_at.is_(None),
    )
    .values(revoked_at=bindparam("b_now"))
)
_VERIFIED = Prepared(
    update(_sessions)
    .where(_s.id == bindparam("b_id"))
    .values(verified_at=bindparam("b_now"), verified_with=bindparam("b_with"))
)
_VERIFICATION = Prepared(
    select(_s.created_at, _s.verified_at, _s.verified_with).where(_s.id == bindparam("b_id"))
)
_REVOKE_ACCOUNT = Prepared(
    update(_sessions)
    .where(
        _s.account_id == bindparam("b_account"),
        _s.id != bindparam("b_keep"),
        _s.revoked_at.is_(None),
    )
    .values(revoked_at=bindparam("b_now"))
)
_SIGN_OUT = (
    update(_sessions)
    .where(_s.device_digest.in_(bindparam("b_devices", expanding=True)), _s.revoked_at.is_(None))
    .values(revoked_at=bindparam("b_now"), signed_out=True)
)
_SIGN_OUT_ALL = Prepared(_SIGN_OUT)  # every account of the browser
_SIGN_OUT_ONE = Prepared(_SIGN_OUT.where(_s.account_id == bindparam("b_account")))


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
    ip: str | None = None  # where it signed in from
    agent: str | None = None  # "Chrome on Windows", "API: Example shop"
    last_seen_at: datetime | None = None


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
                session.id,
                session.method,
                session.created_at,
                session.expires_at,
                browser,
                client,
                session.ip,
                session.agent,
                session.last_seen_at or session.created_at,
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
        verified_with: tuple[str, ...] = (),
        ip: str | None = None,
        agent: str | None = None,
    ) -> tuple[uuid.UUID, str | None]:
        """A new session for a browser (`device_token`) or, without one, for an API client:
        its id and, for an API client, the bearer token (returned only this once).
        `verified_with`: the ways the sign-in used ("password", "proof:<id>")."""
        now = self.clock.now()
        token = None if device_token else secrets.token_urlsafe(32)
        session_id = new_id()
        await tx.run(
            _INSERT,
            {
                "id": session_id,
                "account_id": account_id,
                "device_digest": self.device_digest(device_token) if device_token else None,
                "token_digest": self._token_digest(token) if token else None,
                "client_id": client_id,
                "method": method,
                "created_at": now,
                "expires_at": now + self.ttl,
                "verified_at": now,
                "verified_with": ",".join(verified_with) or None,
                "ip": ip,
                "agent": agent[:120] if agent else None,
                "last_seen_at": now,
            },
        )
        return session_id, token

    async def revoke_account(
        self, tx: Tx, account_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
    ) -> int:
        """End every session of the account (but `keep`, the one making the change): after a
        new password, nobody who knew the old one stays signed in. How many ended."""
        params = {"b_account": account_id, "b_keep": keep or _NO_SESSION, "b_now": now}
        return int((await tx.run(_REVOKE_ACCOUNT, params)).rowcount or 0)

    async def end(
        self, tx: Tx, account_id: uuid.UUID, session_id: uuid.UUID, now: datetime
    ) -> bool:
        """End one of the account's sessions (from its security page: "sign out" of a browser
        or an application elsewhere). False if it had already ended."""
        result = await tx.session.execute(
            update(Session)
            .where(
                Session.id == session_id,
                Session.account_id == account_id,
                Session.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, session_id: uuid.UUID, seen: datetime) -> None:
        """Record that the session is in use now, at most every `TOUCH_EVERY` (a page view's
        write is worth it only once in a while)."""
        now = self.clock.now()
        if now - seen < TOUCH_EVERY:
            return
        async with self.db.transaction() as tx:
            await tx.session.execute(
                update(Session).where(Session.id == session_id).values(last_seen_at=now)
            )

    async def verified(
        self, tx: Tx, session_id: uuid.UUID, ways: tuple[str, ...], now: datetime
    ) -> None:
        """The person just proved who they are again in this session, with `ways`."""
        await tx.run(_VERIFIED, {"b_id": session_id, "b_now": now, "b_with": ",".join(ways)})

    async def verification(
        self, tx: Tx, session_id: uuid.UUID
    ) -> tuple[datetime, tuple[str, ...], bool]:
        """When the session's person last proved who they are, with what ways (not how), and
        whether that is still fresh — read again in `tx`, after whatever the transaction did."""
        row = (await tx.run(_VERIFICATION, {"b_id": session_id})).one()
        at = row.verified_at or row.created_at
        ways = ways_only(_ways(row.verified_with))
        return at, ways, self.clock.now() - at <= self.reauth_max_age

    async def for_device(self, device_token: str) -> list[SessionView]:
        """The accounts signed in in this browser, oldest first."""
        now = self.clock.now()
        async with self.db.transaction(write=False) as tx:
            params = {"b_devices": list(self.device_digests(device_token)), "b_now": now}
            rows = await tx.run(_FOR_DEVICE, params)
        views: dict[uuid.UUID, SessionView] = {}
        for row in rows:  # the account's first name: the first row of each session
            if row.id not in views:
                views[row.id] = self._view(row, now)
        # one session per account: the newest sign-in of an account replaces older ones
        newest: dict[uuid.UUID, SessionView] = {}
        for view in views.values():
            newest[view.account_id] = view
        return sorted(newest.values(), key=lambda v: v.created_at)

    async def rotate_device(self, tx: Tx, device_token: str) -> str:
        """A new device token for this browser; its sessions move to it (fixation defence)."""
        new_token = secrets.token_urlsafe(32)
        await tx.run(
            _ROTATE_DEVICE,
            {
                "b_devices": list(self.device_digests(device_token)),
                "b_new": self.device_digest(new_token),
            },
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
        params = {"b_tokens": list(self._token_digests(token)), "b_client": client_id, "b_now": now}
        async with self.db.transaction(write=False) as tx:
            row = (await tx.run(_BY_TOKEN, params)).first()
        return self._view(row, now) if row else None

    async def revoke_token(self, token: str, client_id: uuid.UUID) -> bool:
        """End an API session (sign out); False if there was none to end."""
        async with self.db.transaction() as tx:
            result = await tx.run(
                _REVOKE_TOKEN,
                {
                    "b_tokens": list(self._token_digests(token)),
                    "b_client": client_id,
                    "b_now": self.clock.now(),
                },
            )
        return bool(result.rowcount)

    async def _revoke(self, tx: Tx, device_token: str, account_id: uuid.UUID | None) -> None:
        params: dict[str, Any] = {
            "b_devices": list(self.device_digests(device_token)),
            "b_now": self.clock.now(),
        }
        if account_id is None:
            await tx.run(_SIGN_OUT_ALL, params)
        else:
            await tx.run(_SIGN_OUT_ONE, {**params, "b_account": account_id})

    def _view(self, row: Any, now: datetime) -> SessionView:
        """A session as read with `_VIEW_COLUMNS`."""
        verified_at = row.verified_at or row.created_at  # older rows: their sign-in
        return SessionView(
            row.id, row.account_id, row.name, row.name_kind, row.method, row.created_at,
            row.expires_at, verified_at, now - verified_at <= self.reauth_max_age,
            _ways(row.verified_with), row.last_seen_at or row.created_at, row.time_zone,
        )  # fmt: skip


# tokens beside the ways that say how they were used, for OpenID Connect's `amr`: the channel
# a code went by ("how:sms"), a passkey that verified its person ("how:user-verified")
HOW = "how:"


def _ways(stored: str | None) -> tuple[str, ...]:
    return tuple(way for way in (stored or "").split(",") if way)


def ways_only(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The ways of a session's tokens ("password", "proof:<id>"…), without the how."""
    return tuple(token for token in tokens if not token.startswith(HOW))
