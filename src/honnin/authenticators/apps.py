"""Where an account's authenticator apps are kept: adding one (it counts once its first code
came back), checking a code, listing and removing them.

The rules of the codes are `authenticators.totp`; who may change the security info, and what
is logged and told, is `security.apps`. A code is checked with the app's row locked, so that
one code sent twice at once is accepted once (the second sees the step it spent).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from honnin.authenticators import totp
from honnin.authenticators.models import AuthenticatorApp
from honnin.crypto import Keyring
from honnin.db import Tx
from honnin.errors import Conflict, InvalidInput, NotFound
from honnin.i18n import _

MAX_APPS = 10  # verified apps per account
NAME_MAX = 40  # characters of an app's name


@dataclass(frozen=True)
class AppView:
    id: uuid.UUID
    name: str
    created_at: datetime
    verified_at: datetime | None
    last_used_at: datetime | None


def _view(app: AuthenticatorApp) -> AppView:
    return AppView(app.id, app.name, app.created_at, app.verified_at, app.last_used_at)


def read_name(raw: str) -> str:
    """The name the person gives an app, tidied; an error that says what to do otherwise."""
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput(_('Give the app a name, such as "phone", to tell it apart later.'))
    if len(name) > NAME_MAX:
        raise InvalidInput(_("Use a name of at most {count} characters.", count=NAME_MAX))
    return name


async def verified_apps(tx: Tx, account_id: uuid.UUID) -> list[AppView]:
    """The account's apps that count, oldest first."""
    rows = await tx.session.scalars(
        select(AuthenticatorApp)
        .where(AuthenticatorApp.account_id == account_id, AuthenticatorApp.verified_at.is_not(None))
        .order_by(AuthenticatorApp.created_at, AuthenticatorApp.id)
    )
    return [_view(app) for app in rows]


async def start(
    tx: Tx, keyring: Keyring, account_id: uuid.UUID, name: str, now: datetime
) -> uuid.UUID:
    """A new app, not counted until its first code comes back (`check`); an app whose setup
    was left unfinished is forgotten (one setup at a time)."""
    apps = await verified_apps(tx, account_id)
    if len(apps) >= MAX_APPS:
        raise Conflict(
            _("You have {count} authenticator apps, the most an account can have. Remove one "
              "first.", count=MAX_APPS)
        )  # fmt: skip
    if any(app.name.casefold() == name.casefold() for app in apps):
        raise Conflict(_('You already have an app named "{name}". Choose another name.', name=name))
    await tx.session.execute(
        delete(AuthenticatorApp).where(
            AuthenticatorApp.account_id == account_id, AuthenticatorApp.verified_at.is_(None)
        )
    )
    app_id = uuid.uuid4()
    secret = totp.new_secret()
    tx.session.add(
        AuthenticatorApp(
            id=app_id,
            account_id=account_id,
            name=name,
            secret_sealed=totp.seal(keyring, secret, str(app_id)),
            created_at=now,
        )
    )
    await tx.session.flush()
    return app_id


async def setup(
    tx: Tx, keyring: Keyring, account_id: uuid.UUID, app_id: uuid.UUID
) -> tuple[str, str] | None:
    """The name and secret of an app being set up, to show while it is (never once it
    counts: the secret is shown once)."""
    app = await tx.session.get(AuthenticatorApp, app_id)
    if app is None or app.account_id != account_id or app.verified_at is not None:
        return None
    return app.name, totp.unseal(keyring, app.secret_sealed, str(app.id))


async def check(
    tx: Tx, keyring: Keyring, account_id: uuid.UUID, app_id: uuid.UUID, typed: str, now: datetime
) -> AppView | None:
    """The app, if `typed` is its code now (not one already accepted): its step is spent,
    and an app being set up counts from now. None: wrong, replayed, or no such app."""
    app = await tx.session.scalar(
        select(AuthenticatorApp)
        .where(AuthenticatorApp.id == app_id, AuthenticatorApp.account_id == account_id)
        .with_for_update()
    )
    if app is None:
        return None
    secret = totp.unseal(keyring, app.secret_sealed, str(app.id))
    step = totp.accepted_step(secret, typed, now, app.last_step)
    if step is None:
        return None
    app.last_step = step
    app.last_used_at = now
    if app.verified_at is None:
        app.verified_at = now
    await tx.session.flush()
    return _view(app)


async def get(tx: Tx, account_id: uuid.UUID, app_id: str) -> AppView:
    """One of the account's apps that count; `NotFound` otherwise."""
    try:
        key = uuid.UUID(app_id)
    except ValueError:
        key = None
    app = await tx.session.get(AuthenticatorApp, key) if key else None
    if app is None or app.account_id != account_id or app.verified_at is None:
        raise NotFound(_("This is no longer part of the account's security info."))
    return _view(app)


async def remove(tx: Tx, account_id: uuid.UUID, app_id: uuid.UUID) -> None:
    await tx.session.execute(
        delete(AuthenticatorApp).where(
            AuthenticatorApp.id == app_id, AuthenticatorApp.account_id == account_id
        )
    )


async def discard_unverified(tx: Tx, account_id: uuid.UUID, app_id: uuid.UUID) -> None:
    """Forget an app whose setup was given up before its first code came back."""
    await tx.session.execute(
        delete(AuthenticatorApp).where(
            AuthenticatorApp.id == app_id,
            AuthenticatorApp.account_id == account_id,
            AuthenticatorApp.verified_at.is_(None),
        )
    )


async def remove_added_since(tx: Tx, account_id: uuid.UUID, since: datetime) -> list[str]:
    """Remove the apps added at or after `since` (by whoever signed in then); their names."""
    rows = list(
        await tx.session.scalars(
            select(AuthenticatorApp).where(
                AuthenticatorApp.account_id == account_id, AuthenticatorApp.created_at >= since
            )
        )
    )
    for app in rows:
        await tx.session.delete(app)
    await tx.session.flush()
    return [app.name for app in rows if app.verified_at is not None]
