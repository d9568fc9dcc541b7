"""Creating and finding accounts."""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from honnin.accounts.breached import BreachedPasswords
from honnin.accounts.models import Account, SignInName
from honnin.accounts.passwords import WeakPassword, check_strength, hash_password, verify_password
from honnin.clock import Clock
from honnin.db import Database, Prepared, Tx, table_of
from honnin.destinations.kinds import EMAIL, Destinations, kind_of_name, mask
from honnin.errors import Conflict, InvalidInput, NotFound
from honnin.i18n import _
from honnin.proofs import service as proofs
from honnin.proofs.service import ProofView


@dataclass(frozen=True)
class AccountView:
    id: uuid.UUID
    created_at: datetime
    status: str
    locale: str
    two_step: bool
    sign_in_names: list[str]
    proofs: list[ProofView]


ACTIVE = "active"
CLOSING = "closing"  # closed, waiting for its deletion (`security.closing`)


@dataclass(frozen=True)
class AccountRecord:
    """An account's row as the sign-in reads it (no unit of work: nothing to write back)."""

    id: uuid.UUID
    created_at: datetime
    status: str
    password_hash: str | None
    locale: str
    two_step: bool
    time_zone: str | None = None
    recovery_code_digest: bytes | None = None
    password_change_required: bool = False
    passkey_offer_declined_at: datetime | None = None


_accounts = table_of(Account)
_names = table_of(SignInName)
_ACCOUNT = Prepared(select(_accounts).where(_accounts.c.id == bindparam("b_id")))
_SET_TWO_STEP = Prepared(
    update(_accounts).where(_accounts.c.id == bindparam("b_id")).values(two_step=bindparam("b_on"))
)
_ACCOUNT_NAMED = Prepared(
    select(_accounts)
    .join(_names, _names.c.account_id == _accounts.c.id)
    .where(_names.c.value == bindparam("b_name"))
)


def _taken(name: str) -> Conflict:
    return Conflict(_("{address} is already a sign-in name of an account.", address=name))


class AccountService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        destinations: Destinations | None = None,
        breached: BreachedPasswords | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.destinations = destinations or Destinations()
        self.breached = breached or BreachedPasswords(None)

    async def new_password_hash(
        self, password: str, names: list[str], *, only_factor: bool = True
    ) -> str:
        """The hash of a password someone chose (sign-up, later a change or a reset), once it
        passes every rule: `check_strength`, then the breaches API where one is set. The one
        place a new password is judged."""
        check_strength(password, names, only_factor=only_factor)
        if await self.breached.appeared(password):
            raise WeakPassword(
                _(
                    "This password has appeared in a data breach, so attackers may try it. "
                    "Choose another: for example a few unrelated words."
                )
            )
        return await hash_password(password)

    async def new_password_hash_for(self, account_id: uuid.UUID, password: str) -> str:
        """`new_password_hash` for an existing account (a change, a reset): not containing its
        names; 8 characters with two-step verification on, else 15."""
        async with self.db.transaction(write=False) as tx:
            account = await self.record(tx, account_id)
            names, only_factor = await self.password_rules(tx, account_id)
        if account is None:
            raise NotFound(_("This account no longer exists."))
        # secured after "this wasn't me": the old password may be known to someone else
        if (
            account.password_change_required
            and account.password_hash
            and await verify_password(account.password_hash, password)
        ):
            raise WeakPassword(
                _("Choose a different password from the one you had: someone else may know it.")
            )
        return await self.new_password_hash(password, names, only_factor=only_factor)

    async def password_rules(self, tx: Tx, account_id: uuid.UUID) -> tuple[list[str], bool]:
        """What a new password of this account is judged by: the names it must not contain,
        and whether it alone signs in (two-step verification off: 15 characters, else 8)."""
        account = await self.record(tx, account_id)
        if account is None:
            raise NotFound(_("This account no longer exists."))
        return await self.names(tx, account_id), not account.two_step

    async def create(
        self, email: str, password: str, *, locale: str = "en", email_verified: bool = False
    ) -> AccountView:
        """A new account whose first sign-in name and first security info is `email`."""
        address = self.destinations.email.normalize(email)
        password_hash = await self.new_password_hash(password, [address])
        try:
            async with self.db.transaction() as tx:
                await self.insert(
                    tx, address, password_hash, locale=locale, email_verified=email_verified
                )
        except IntegrityError:  # the same name, created concurrently
            raise _taken(address) from None
        return await self.show(address)

    async def insert(
        self,
        tx: Tx,
        address: str,
        password_hash: str | None,
        *,
        locale: str,
        email_verified: bool,
        time_zone: str | None = None,
    ) -> Account:
        """Write a new account in `tx`: `address` (normalised) is its first sign-in name and
        first security info. `Conflict` if the name is taken."""
        exists = await tx.session.scalar(select(SignInName.id).where(SignInName.value == address))
        if exists is not None:
            raise _taken(address)
        now = self.clock.now()
        account = Account(
            created_at=now, password_hash=password_hash, locale=locale, time_zone=time_zone
        )
        account.sign_in_names.append(SignInName(kind=EMAIL, value=address, created_at=now))
        tx.session.add(account)
        await tx.session.flush()
        await proofs.add_proof(tx, account.id, EMAIL, address, now, verified=email_verified)
        return account

    async def add_sign_in_name(self, account_id: uuid.UUID, name: str) -> AccountView:
        """Another name (alias) to sign in with — an email address or a phone number; it must
        be verified security info first."""
        kind, value = self.destinations.sign_in_name(name)
        shown = self.destinations.kind(kind).display(value)
        try:
            async with self.db.transaction() as tx:
                if await proofs.verified_proof(tx, account_id, kind, value) is None:
                    raise InvalidInput(
                        _(
                            "Verify {address} with a code first: a sign-in name must be "
                            "verified security info.",
                            address=shown,
                        )
                    )
                tx.session.add(
                    SignInName(
                        account_id=account_id, kind=kind, value=value, created_at=self.clock.now()
                    )
                )
        except IntegrityError:
            raise _taken(shown) from None
        return await self.show(value)

    async def record(self, tx: Tx, account_id: uuid.UUID) -> AccountRecord | None:
        row = (await tx.run(_ACCOUNT, {"b_id": account_id})).one_or_none()
        return AccountRecord(**row._mapping) if row else None

    async def record_named(self, tx: Tx, name: str) -> AccountRecord | None:
        """The account that has this (normalised) sign-in name, if any (the hot path's read)."""
        row = (await tx.run(_ACCOUNT_NAMED, {"b_name": name})).one_or_none()
        return AccountRecord(**row._mapping) if row else None

    async def set_two_step(self, name: str, enabled: bool) -> AccountView:
        async with self.db.transaction() as tx:
            account = await self.record_named(tx, self.destinations.sign_in_name(name)[1])
            if account is None:
                raise NotFound(_("No account has the sign-in name {name}.", name=name))
            if enabled and not await proofs.has_verified(tx, account.id):
                raise Conflict(
                    _(
                        "Two-step verification needs verified security info to send codes "
                        "to: verify an address of this account first."
                    )
                )
            await tx.run(_SET_TWO_STEP, {"b_id": account.id, "b_on": enabled})
        return await self.show(name)

    async def names(self, tx: Tx, account_id: uuid.UUID) -> list[str]:
        """The account's sign-in names (a new password must not contain them)."""
        rows = await tx.session.scalars(
            select(SignInName.value).where(SignInName.account_id == account_id)
        )
        return list(rows)

    async def first_name(self, tx: Tx, account_id: uuid.UUID) -> tuple[str, str] | None:
        """The account's first sign-in name (its kind, its value): how it is named."""
        first = (
            await tx.session.execute(
                select(SignInName.kind, SignInName.value)
                .where(SignInName.account_id == account_id)
                .order_by(SignInName.created_at)
                .limit(1)
            )
        ).one_or_none()
        return (first.kind, first.value) if first else None

    async def hint(self, tx: Tx, account_id: uuid.UUID) -> str | None:
        """How messages name an account: its first sign-in name, masked."""
        first = await self.first_name(tx, account_id)
        return mask(*first) if first else None

    async def show(self, name: str, *, masked: bool = True) -> AccountView:
        """An account found by any of its sign-in names (operators' view: masked hints)."""
        async with self.db.transaction(write=False, snapshot=True) as tx:
            return await self.view_by_name(tx, name, masked=masked)

    async def view_by_name(self, tx: Tx, name: str, *, masked: bool = True) -> AccountView:
        """`show` in `tx`, for a reader that reads more of the account in the same transaction."""
        key = name.strip()
        with suppress(InvalidInput):  # else as typed: no valid name (an operator's search)
            key = self.destinations.kind(kind_of_name(key)).read(key)
        account = await tx.session.scalar(
            select(Account)
            .join(SignInName)
            .where(SignInName.value == key)
            .options(selectinload(Account.sign_in_names))
        )
        if account is None:
            raise NotFound(_("No account has the sign-in name {name}.", name=name))
        return await self._view(tx, account, masked=masked)

    async def show_own(self, account_id: uuid.UUID, *, fresh: bool) -> AccountView:
        """The account as its signed-in holder sees it: their own addresses in full while their
        session is fresh (`SessionView.fresh`), masked like anyone's after that."""
        async with self.db.transaction(write=False, snapshot=True) as tx:
            account = await tx.session.get(
                Account, account_id, options=[selectinload(Account.sign_in_names)]
            )
            if account is None:
                raise NotFound(_("This account no longer exists."))
            return await self._view(tx, account, masked=not fresh)

    async def _view(self, tx: Tx, account: Account, *, masked: bool) -> AccountView:
        return AccountView(
            id=account.id,
            created_at=account.created_at,
            status=account.status,
            locale=account.locale,
            two_step=account.two_step,
            sign_in_names=[
                mask(n.kind, n.value) if masked else n.value for n in account.sign_in_names
            ],
            proofs=await proofs.list_proofs(tx, account.id, masked=masked),
        )
