"""One account seen whole: its state, each piece of security info's status, its live sessions.

A read model for whoever must see an account at a glance: support staff (`honnin accounts
show`), and later the admin views and the holder's own security page. It reads accounts,
proofs, sessions, clients and the code engine's challenges, so it sits above all of them and
none of them depends on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from honnin.accounts.service import AccountService
from honnin.clients.models import Client
from honnin.clock import Clock
from honnin.codes.models import Challenge
from honnin.db import Database, Tx
from honnin.masks import mask_destination
from honnin.proofs.models import Proof
from honnin.sessions.models import Session

# the kind of security info a code sent on a channel proves
_KIND_OF_CHANNEL = {"email": "email", "sms": "phone", "voice": "phone"}


@dataclass(frozen=True)
class SecurityInfoStatus:
    id: uuid.UUID
    kind: str
    hint: str  # masked unless the reader may see the address itself
    verified: bool
    added_at: datetime
    verified_at: datetime | None
    # when a code sent to it was last accepted (sign-in, verification); None: never, or the
    # record of it is gone (housekeeping deletes old flows and their codes)
    last_used_at: datetime | None


@dataclass(frozen=True)
class ActiveSession:
    """A live session, without anything that could resume it (no token, no device digest)."""

    id: uuid.UUID
    started_at: datetime
    method: str  # how the sign-in was proven: password, code, password+code, sign_up, …
    expires_at: datetime
    device: str  # "browser" or "api"
    browser: int | None  # which browser: 1, 2, … in the order they first signed in
    client: str | None  # the application's name, for an API session


@dataclass(frozen=True)
class AccountOverview:
    id: uuid.UUID
    created_at: datetime
    status: str
    locale: str
    two_step: bool
    sign_in_names: list[str]
    security_info: list[SecurityInfoStatus]
    sessions: list[ActiveSession]


async def _security_info(
    tx: Tx, account_id: uuid.UUID, *, masked: bool
) -> list[SecurityInfoStatus]:
    used = await tx.session.execute(
        select(Challenge.channel, Challenge.destination, func.max(Challenge.approved_at))
        .where(Challenge.account_id == account_id, Challenge.approved_at.is_not(None))
        .group_by(Challenge.channel, Challenge.destination)
    )
    last_used: dict[tuple[str, str], datetime] = {}
    for channel, destination, at in used:
        key = (_KIND_OF_CHANNEL.get(channel, channel), destination)
        if at is not None and (key not in last_used or at > last_used[key]):
            last_used[key] = at  # a phone's newest of its SMS and its calls
    proofs = await tx.session.scalars(
        select(Proof).where(Proof.account_id == account_id).order_by(Proof.created_at)
    )
    return [
        SecurityInfoStatus(
            id=p.id,
            kind=p.kind,
            hint=mask_destination(p.kind, p.value) if masked else p.value,
            verified=p.verified_at is not None,
            added_at=p.created_at,
            verified_at=p.verified_at,
            last_used_at=last_used.get((p.kind, p.value)),
        )
        for p in proofs
    ]


async def _active_sessions(tx: Tx, account_id: uuid.UUID, now: datetime) -> list[ActiveSession]:
    rows = await tx.session.execute(
        select(Session, Client.name)
        .outerjoin(Client, Client.id == Session.client_id)
        .where(
            Session.account_id == account_id,
            Session.revoked_at.is_(None),
            Session.expires_at > now,
        )
        .order_by(Session.created_at, Session.id)
    )
    browsers: dict[bytes, int] = {}
    sessions = []
    for session, client in rows:
        browser = None
        if session.device_digest is not None:
            browser = browsers.setdefault(session.device_digest, len(browsers) + 1)
        sessions.append(
            ActiveSession(
                id=session.id,
                started_at=session.created_at,
                method=session.method,
                expires_at=session.expires_at,
                device="browser" if browser is not None else "api",
                browser=browser,
                client=client,
            )
        )
    return sessions


async def account_overview(
    db: Database, clock: Clock, name: str, *, masked: bool = True
) -> AccountOverview:
    """The account that has the sign-in name `name` (`NotFound` if none). `masked=False` only
    for a reader who may see the addresses themselves (the holder's fresh session)."""
    account = await AccountService(db, clock).show(name, masked=masked)
    async with db.transaction(write=False) as tx:
        return AccountOverview(
            id=account.id,
            created_at=account.created_at,
            status=account.status,
            locale=account.locale,
            two_step=account.two_step,
            sign_in_names=account.sign_in_names,
            security_info=await _security_info(tx, account.id, masked=masked),
            sessions=await _active_sessions(tx, account.id, clock.now()),
        )
