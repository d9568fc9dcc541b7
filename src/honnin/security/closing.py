"""Closing an account, as the big account systems do it: closed at once, deleted only when a
wait is over (`HONNIN_CLOSE_WAIT_SECONDS`), reopened by signing in meanwhile.

Closing signs the account out everywhere and tells every way; a sign-in during the wait offers
to reopen it (`flows.signin`), and so does an operator (`honnin accounts reopen`). When the wait
ends, the account is deleted with everything that hangs off it — sign-in names, security info,
sessions, flows, codes, jobs and its audit log — and its ways hear of it one last time. The
courier's message history is not the account's: it is pruned after
`HONNIN_MESSAGE_HISTORY_SECONDS` like everyone's.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, update

from honnin.accounts.models import Account
from honnin.accounts.service import ACTIVE, CLOSING, AccountRecord
from honnin.audit import service as audit
from honnin.audit.service import Origin
from honnin.db import Tx
from honnin.jobs.models import Job
from honnin.jobs.service import JobView
from honnin.notices.service import Recipient
from honnin.proofs.service import verified_proofs
from honnin.security.service import CLOSE, REMOVE_PROOF, SecurityChanges


class AccountClosing:
    def __init__(self, changes: SecurityChanges, *, wait: timedelta) -> None:
        self.changes = changes
        self.jobs = changes.jobs
        self.notices = changes.notices
        self.clock = changes.clock
        self.wait = wait
        self.jobs.register(CLOSE, self._run_delete)
        changes.cancellers[CLOSE] = self._reopened

    async def close(self, tx: Tx, account: AccountRecord, origin: Origin | None) -> datetime:
        """Close the account now (every session ends, every way is told) and schedule its
        deletion. When it will be deleted."""
        pending = await self.changes.pending(tx, account.id)
        for removal in pending:  # of a way that goes with the account: moot
            if removal.change == REMOVE_PROOF:
                await self.jobs.cancel(tx, removal.id)
        await self.changes.lock(tx, account.id)
        await self.changes.ensure_none_pending(tx, account.id)
        now = self.clock.now()
        due_at = now + self.wait
        await self.jobs.schedule(
            tx,
            CLOSE,
            due_at,
            account_id=account.id,
            # a link that cancels it is not needed: signing in reopens it. The digest is
            # of a token nobody has, so that no link can ever name this change.
            cancel_digest=secrets.token_bytes(32).hex(),
            hint=await self.changes.hint(tx, account),
        )
        await tx.session.execute(
            update(Account).where(Account.id == account.id).values(status=CLOSING)
        )
        await self.changes.sessions.revoke_account(tx, account.id, now)
        await audit.record(
            tx, account.id, "account_closing", now, origin, due_at=due_at.isoformat()
        )
        await self.notices.send(
            tx,
            account,
            "account_closing",
            now,
            account_hint=await self.changes.hint(tx, account),
            dates={"date": due_at},
        )
        return due_at

    async def due_at(self, tx: Tx, account_id: uuid.UUID) -> datetime | None:
        """When the closed account will be deleted (None: it is not closed)."""
        for change in await self.changes.pending(tx, account_id):
            if change.change == CLOSE:
                return change.due_at
        return None

    async def reopen(self, tx: Tx, account: AccountRecord, origin: Origin | None) -> bool:
        """Reopen a closed account (a sign-in, an operator); False if it was not closed. The
        job is locked before the account, in the job runner's order."""
        for change in await self.changes.pending(tx, account.id):
            if change.change == CLOSE:
                await self.changes.cancel(tx, account, change.id, origin or Origin(None, None))
                return True
        if account.status == CLOSING:  # no deletion waits (whatever canceled it): open it
            await self._reopened(tx, account, None, origin or Origin(None, None), None)
            return True
        return False

    async def _reopened(
        self,
        tx: Tx,
        account: AccountRecord,
        job: JobView | None,
        origin: Origin,
        keep: uuid.UUID | None,
    ) -> None:
        now = self.clock.now()
        await tx.session.execute(
            update(Account).where(Account.id == account.id).values(status=ACTIVE)
        )
        await audit.record(tx, account.id, "account_reopened", now, origin)
        await self.notices.send(
            tx,
            account,
            "account_reopened",
            now,
            account_hint=await self.changes.hint(tx, account),
        )

    async def _run_delete(self, tx: Tx, job: JobView, now: datetime) -> None:
        account = await self.changes.accounts.record(tx, job.account_id) if job.account_id else None
        if account is None or account.status != CLOSING:
            return  # deleted meanwhile (an operator), or reopened
        # this job outlives the account it deletes: its row must not go with it
        await tx.session.execute(update(Job).where(Job.id == job.id).values(account_id=None))
        await self.delete(tx, account, asked_at=job.created_at)

    async def delete(
        self, tx: Tx, account: AccountRecord, *, asked_at: datetime | None = None
    ) -> None:
        """Delete the account and everything of it (the database cascades from the account's
        row), then tell its ways, once, that it is gone."""
        for change in await self.changes.pending(tx, account.id):  # the runner's order
            await self.jobs.get(tx, change.id, lock=True)
        await self.changes.lock(tx, account.id)
        now = self.clock.now()
        ways = [Recipient(p.kind, p.value) for p in await verified_proofs(tx, account.id)]
        hint = await self.changes.hint(tx, account)
        await tx.session.execute(delete(Account).where(Account.id == account.id))
        await self.notices.send_to(
            tx,
            [way for way in ways if self.notices.reaches(way)],
            "account_closed",
            now,
            locale=account.locale,
            time_zone=account.time_zone,
            account_hint=hint,
            dates={"asked": asked_at or now},
        )
