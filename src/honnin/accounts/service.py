"""Creating and finding accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from honnin.accounts.models import Account, SignInName
from honnin.accounts.passwords import check_strength, hash_password
from honnin.clock import Clock
from honnin.db import Database
from honnin.errors import Conflict, NotFound
from honnin.i18n import _
from honnin.proofs import service as proofs
from honnin.proofs.emails import normalize_email
from honnin.proofs.masks import mask_email
from honnin.proofs.service import ProofView


@dataclass(frozen=True)
class AccountView:
    id: uuid.UUID
    created_at: datetime
    status: str
    locale: str
    sign_in_names: list[str]
    proofs: list[ProofView]


class AccountService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(
        self, email: str, password: str, *, locale: str = "en", email_verified: bool = False
    ) -> AccountView:
        """A new account whose first sign-in name and first security info is `email`."""
        address = normalize_email(email)
        check_strength(password, [address])
        password_hash = await hash_password(password)
        taken = Conflict(_("{address} is already a sign-in name of an account.", address=address))
        try:
            async with self.db.transaction() as tx:
                exists = await tx.session.scalar(
                    select(SignInName.id).where(SignInName.value == address)
                )
                if exists is not None:
                    raise taken
                now = self.clock.now()
                account = Account(created_at=now, password_hash=password_hash, locale=locale)
                account.sign_in_names.append(
                    SignInName(kind="email", value=address, created_at=now)
                )
                tx.session.add(account)
                await tx.session.flush()
                await proofs.add_email(tx, account.id, address, now, verified=email_verified)
        except IntegrityError:  # the same name, created concurrently
            raise taken from None
        return await self.show(address)

    async def show(self, name: str) -> AccountView:
        """An account found by any of its sign-in names (operators' view, masked hints)."""
        key = name.strip()
        if "@" in key:
            key = normalize_email(key)
        async with self.db.transaction(write=False) as tx:
            account = await tx.session.scalar(
                select(Account)
                .join(SignInName)
                .where(SignInName.value == key)
                .options(selectinload(Account.sign_in_names))
            )
            if account is None:
                raise NotFound(_("No account has the sign-in name {name}.", name=name))
            return AccountView(
                id=account.id,
                created_at=account.created_at,
                status=account.status,
                locale=account.locale,
                sign_in_names=[mask_email(n.value) for n in account.sign_in_names],
                proofs=await proofs.list_proofs(tx, account.id),
            )
