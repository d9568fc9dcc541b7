"""One account seen whole: its state, each piece of security info with when it was last used,
its authenticator apps and passkeys, its live sessions and the changes that wait (`honnin
accounts show`, later the admin views); and its audit log (`honnin accounts audit`).

It only composes what accounts, proofs and sessions answer (each keeps its own rules: masking,
what counts as verified, what counts as live, which sessions are one browser), all read in one
snapshot, so that what support staff see is one moment of the account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from honnin.accounts.service import AccountService, AccountView
from honnin.audit import service as audit
from honnin.audit.service import AuditView
from honnin.authenticators import apps, passkeys
from honnin.authenticators.apps import AppView
from honnin.authenticators.passkeys import PasskeyView
from honnin.clock import Clock
from honnin.db import Database
from honnin.destinations.kinds import Destinations
from honnin.jobs.service import Jobs
from honnin.proofs import service as proofs
from honnin.proofs.service import ProofView
from honnin.security.service import PendingChange, pending_changes
from honnin.sessions.service import LiveSession, live_sessions


@dataclass(frozen=True)
class AccountOverview:
    account: AccountView  # its security info is `account.proofs`, oldest first
    # proof id → when a code sent to it was last accepted (see `proofs.last_used`)
    last_used: dict[uuid.UUID, datetime]
    sessions: list[LiveSession]
    pending: list[PendingChange]  # changes of its security info that wait for their time
    apps: list[AppView] = field(default_factory=list)  # authenticator apps that count
    passkeys: list[PasskeyView] = field(default_factory=list)

    def last_used_at(self, proof: ProofView) -> datetime | None:
        return self.last_used.get(proof.id)


async def account_overview(
    db: Database,
    clock: Clock,
    name: str,
    *,
    masked: bool = True,
    destinations: Destinations | None = None,
) -> AccountOverview:
    """The account that has the sign-in name `name` (`NotFound` if none). `masked=False` only
    for a reader who may see the addresses themselves (the holder's fresh session)."""
    async with db.transaction(write=False, snapshot=True) as tx:
        accounts = AccountService(db, clock, destinations)
        account = await accounts.view_by_name(tx, name, masked=masked)
        return AccountOverview(
            account,
            await proofs.last_used(tx, account.id),
            await live_sessions(tx, account.id, clock.now()),
            await pending_changes(tx, Jobs(db, clock), account.id),
            await apps.verified_apps(tx, account.id),
            await passkeys.of_account(tx, account.id),
        )


async def account_audit(
    db: Database, clock: Clock, name: str, *, limit: int, destinations: Destinations | None = None
) -> tuple[AccountView, list[AuditView]]:
    """The account that has the sign-in name `name` and its audit log, newest first."""
    async with db.transaction(write=False, snapshot=True) as tx:
        account = await AccountService(db, clock, destinations).view_by_name(tx, name)
        return account, await audit.for_account(tx, account.id, limit=limit)
