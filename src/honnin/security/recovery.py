"""Recovery when every way in is lost ("I don't have any of these"), with a waiting period.

The person names the account, proves what they can (the password, if they know it) and adds a
new email address or phone number, proven by a code sent to it. That new way is usable only
when the wait ends (`HONNIN_RECOVERY_WAIT_SECONDS`): meanwhile every way the account has is
told at once and reminded before the end (`HONNIN_RECOVERY_REMINDER_SECONDS`), with a "this
wasn't me" link that cancels the recovery and secures the account — every session signed out,
the password alone no longer signing in, a new one asked for at the next sign-in by a code.

While it waits, the account is in a limited mode: it signs in only as it did before (the
waiting way is no proof and no sign-in name: it never counts), and its security info, two-step
verification and password can be neither seen nor changed (`SecurityChanges`, which treats a
waiting recovery as the one change at a time). When the wait ends, the new way replaces the old
ones, two-step verification is off (it needs two ways), every session is signed out, the
password alone no longer signs in (a code to the new way, then a new password), and everyone is
told. The account's recovery code, with its password, skips the wait.

Nothing the person sees tells whether the name has an account: a name without one, or an
account whose recovery is already waiting, gets the same page and the same message at the
new address (`recovery_request`) — and nothing more; and the request itself does the same work
for every name, leaving the account's to a job that runs at once (`start`).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from honnin.accounts.models import Account, SignInName
from honnin.accounts.service import AccountRecord
from honnin.audit import service as audit
from honnin.audit.service import Origin
from honnin.authenticators.models import AuthenticatorApp, Passkey
from honnin.db import Tx
from honnin.destinations.kinds import mask
from honnin.jobs.models import Job, JobStatus
from honnin.jobs.service import JobView
from honnin.notices.service import Recipient
from honnin.proofs import service as proofs
from honnin.proofs.models import Proof
from honnin.security.service import CLOSE, RECOVER, SecurityChanges

RECOVERY_START = "recovery_start"  # the job that does a request's account work, at once
RECOVERY_REMINDER = "recovery_reminder"  # the job that reminds every way before the end
_LINK = "recovery-link"  # what the link's token is sealed and digested for
COOLDOWN = timedelta(days=1)  # after a cancel, no recovery of the account starts for this long


@dataclass(frozen=True)
class RecoveryRequest:
    """What the person asked for: the account's name as typed, the new way (proven by its
    code), and what else they proved."""

    name: str
    name_kind: str
    kind: str  # email, phone
    value: str
    password_proven: bool
    locale: str
    time_zone: str | None  # the browser's, for the message to the new way


@dataclass(frozen=True)
class Recovery:
    """A waiting recovery as support sees it (`honnin recovery list`)."""

    id: uuid.UUID
    account_id: uuid.UUID
    hint: str  # the new way, masked
    started_at: datetime
    due_at: datetime
    password_proven: bool
    ip: str | None
    agent: str | None


def _recovery(job: JobView) -> Recovery:
    assert job.account_id is not None
    payload = job.payload
    return Recovery(
        job.id,
        job.account_id,
        str(payload.get("hint", "")),
        job.created_at,
        job.due_at,
        bool(payload.get("password")),
        payload.get("ip"),
        payload.get("agent"),
    )


class Recoveries:
    def __init__(
        self, changes: SecurityChanges, *, wait: timedelta, remind_before: timedelta
    ) -> None:
        self.changes = changes
        self.jobs = changes.jobs
        self.notices = changes.notices
        self.keyring = changes.keyring
        self.clock = changes.clock
        self.wait = wait
        self.remind_before = remind_before
        self.jobs.register(RECOVERY_START, self._run_start)
        self.jobs.register(RECOVER, self._run_end)
        self.jobs.register(RECOVERY_REMINDER, self._run_reminder)
        changes.cancellers[RECOVER] = self._cancelled

    def due_at(self, now: datetime) -> datetime:
        return now + self.wait

    def _remind_at(self, now: datetime) -> datetime:
        """Before the end by `remind_before` — or halfway, when the wait is not longer."""
        if self.remind_before < self.wait:
            return now + self.wait - self.remind_before
        return now + self.wait / 2

    # --- starting -------------------------------------------------------------------------

    async def start(self, tx: Tx, request: RecoveryRequest, origin: Origin) -> datetime:
        """Take the request: confirm it to the new way, and leave the rest — finding the
        account, starting its wait, telling its ways — to a job that runs at once. The request
        itself does the same work whatever the name is (no account, a recovery already
        waiting, a cooldown), so that neither its answer nor its time tells which. When the
        wait will end, if it starts."""
        now = self.clock.now()
        due_at = self.due_at(now)
        hint = mask(request.kind, request.value)
        await self.notices.send_to(
            tx,
            [Recipient(request.kind, request.value)],
            "recovery_request",
            now,
            locale=request.locale,
            time_zone=request.time_zone,
            account_hint=mask(request.name_kind, request.name),
            dates={"date": due_at},
            hint=hint,
        )
        await self.jobs.schedule(
            tx,
            RECOVERY_START,
            now,
            name=request.name,
            way=request.kind,
            value=request.value,
            password=request.password_proven,
            ip=origin.ip,
            agent=origin.agent,
        )
        return due_at

    async def _run_start(self, tx: Tx, job: JobView, now: datetime) -> None:
        """The request's account work, asked at `job.created_at`: its wait counts from then.
        The request is forgotten once done (a name without an account, an address that asked
        for it): the recovery's own job keeps what it needs."""
        payload = job.payload
        await tx.session.execute(update(Job).where(Job.id == job.id).values(payload={}))
        account = await self.changes.accounts.record_named(tx, payload["name"])
        if account is None:
            return  # no account has the name: the request did all there was to do
        asked_at = job.created_at
        due_at = self.due_at(asked_at)
        origin = Origin(payload.get("ip"), payload.get("agent"))
        kind, value = payload["way"], payload["value"]
        hint = mask(kind, value)
        await self.changes.lock(tx, account.id)
        refused = await self._refused(tx, account.id, asked_at)
        if refused:  # said to no one but the audit log (support)
            await audit.record(
                tx, account.id, "recovery_refused", asked_at, origin, hint=hint, reason=refused
            )
            return
        for removal in await self.changes.pending(tx, account.id):  # of the old ways: moot
            await self.jobs.cancel(tx, removal.id)
            await audit.record(tx, account.id, "removal_cancelled", now, origin, hint=removal.hint)
        token = secrets.token_urlsafe(32)
        recovery_id = await self.jobs.schedule(
            tx,
            RECOVER,
            due_at,
            account_id=account.id,
            way=kind,
            value=value,
            hint=hint,
            password=bool(payload.get("password")),
            ip=origin.ip,
            agent=origin.agent,
            cancel_digest=self.keyring.digest("cancel-change", token).hex(),
            # for the reminder's link (only its digest could not be sent again)
            sealed_token=self.keyring.seal(token.encode(), _LINK).hex(),
        )
        await self.jobs.schedule(
            tx,
            RECOVERY_REMINDER,
            self._remind_at(asked_at),
            account_id=account.id,
            recovery=str(recovery_id),
        )
        await audit.record(
            tx, account.id, "recovery_started", asked_at, origin, kind=kind, hint=hint,
            password=bool(payload.get("password")), due_at=due_at.isoformat(),
        )  # fmt: skip
        await self.notices.send(
            tx,
            account,
            "recovery_started",
            asked_at,
            account_hint=await self.changes.hint(tx, account),
            dates={"date": due_at},
            link=_link(recovery_id, token),
            hint=hint,
        )

    async def _refused(self, tx: Tx, account_id: uuid.UUID, now: datetime) -> str | None:
        """Why a recovery may not start now: another one waits, or the account is closed (one
        change at a time), or one was canceled lately — whoever asked again must not keep the
        account in its limited mode by asking after every cancel."""
        pending = {change.change for change in await self.changes.pending(tx, account_id)}
        if pending & {RECOVER, CLOSE}:
            return "pending"
        canceled = await tx.session.scalar(
            select(Job.id).where(
                Job.account_id == account_id,
                Job.kind == RECOVER,
                Job.status == JobStatus.CANCELLED,
                Job.finished_at > now - COOLDOWN,
            )
        )
        return "cooldown" if canceled is not None else None

    async def complete_with_code(
        self, tx: Tx, account: AccountRecord, kind: str, value: str, typed: str, origin: Origin
    ) -> bool:
        """The recovery code skips the wait: the new way replaces the old ones now (and any
        change that waited is canceled: it was about the old ones). False: not the code."""
        # a closed account stays closed: the sign-in that follows offers to reopen it
        waiting = [c for c in await self.changes.pending(tx, account.id) if c.change != CLOSE]
        for change in waiting:  # locked before the account, in the job runner's order
            await self.jobs.get(tx, change.id, lock=True)
        if not await self.changes.recovery_code_matches(tx, account.id, typed):
            return False
        now = self.clock.now()
        for change in waiting:
            cancelled = await self.jobs.cancel(tx, change.id)
            if cancelled is not None and cancelled.kind == RECOVER:  # someone else's request
                await self.notices.send_to(
                    tx,
                    [Recipient(cancelled.payload["way"], cancelled.payload["value"])],
                    "recovery_cancelled",
                    now,
                    locale=account.locale,
                    time_zone=account.time_zone,
                    account_hint=await self.changes.hint(tx, account),
                    hint=change.hint,
                )
        await audit.record(tx, account.id, "recovery_code_used", now, origin)
        # the password and the recovery code proved who this is: the password stays good
        await self._replace(tx, account, kind, value, now, origin, new_password=False)
        return True

    # --- while it waits -------------------------------------------------------------------

    async def waiting(self, tx: Tx) -> list[Recovery]:
        """Every waiting recovery, soonest first (support)."""
        return [_recovery(job) for job in await self.jobs.pending(tx, kinds=(RECOVER,))]

    async def _cancelled(
        self,
        tx: Tx,
        account: AccountRecord,
        job: JobView,
        origin: Origin,
        keep: uuid.UUID | None,
    ) -> None:
        now = self.clock.now()
        hint = str(job.payload.get("hint", ""))
        await audit.record(tx, account.id, "recovery_cancelled", now, origin, hint=hint)
        await self.changes.secure(tx, account.id, origin, keep=keep)
        await self.notices.send(
            tx,
            account,
            "recovery_cancelled",
            now,
            account_hint=await self.changes.hint(tx, account),
            also=[Recipient(job.payload["way"], job.payload["value"])],  # the asker hears too
            hint=hint,
        )

    async def _run_reminder(self, tx: Tx, job: JobView, now: datetime) -> None:
        recovery = await self.jobs.get(tx, uuid.UUID(job.payload["recovery"]))
        if recovery is None or recovery.status != JobStatus.PENDING or job.account_id is None:
            return  # canceled (or ended) meanwhile: nothing to remind of
        account = await self.changes.accounts.record(tx, job.account_id)
        if account is None:
            return
        token = self.keyring.unseal(bytes.fromhex(recovery.payload["sealed_token"]), _LINK)
        await self.notices.send(
            tx,
            account,
            "recovery_reminder",
            now,
            account_hint=await self.changes.hint(tx, account),
            dates={"date": recovery.due_at, "started": recovery.created_at},
            link=_link(recovery.id, token.decode()),
            hint=str(recovery.payload.get("hint", "")),
        )

    # --- the end --------------------------------------------------------------------------

    async def _run_end(self, tx: Tx, job: JobView, now: datetime) -> None:
        """The wait is over and nobody canceled it."""
        account = await self.changes.accounts.record(tx, job.account_id) if job.account_id else None
        if account is None:
            return  # the account was closed meanwhile
        await self._replace(
            tx, account, job.payload["way"], job.payload["value"], now, None, new_password=True
        )

    async def _replace(
        self,
        tx: Tx,
        account: AccountRecord,
        kind: str,
        value: str,
        now: datetime,
        origin: Origin | None,
        *,
        new_password: bool,
    ) -> None:
        """The new way replaces every old one, authenticator apps and passkeys included (and
        becomes a sign-in name, unless another account has it); two-step verification is off,
        for it needs two ways; every session is signed out; the new way and the old ones are
        told."""
        await self.changes.lock(tx, account.id)
        old = [Recipient(p.kind, p.value) for p in await proofs.verified_proofs(tx, account.id)]
        await tx.session.execute(delete(Proof).where(Proof.account_id == account.id))
        # its apps and passkeys too: the person who waited may not have them (a lost phone),
        # and whoever still does is no longer who the account is
        for model in (AuthenticatorApp, Passkey):
            await tx.session.execute(delete(model).where(model.account_id == account.id))
        await proofs.add_proof(tx, account.id, kind, value, now, verified=True)
        taken = await tx.session.scalar(
            select(SignInName.account_id).where(SignInName.value == value)
        )
        if taken is None:
            tx.session.add(
                SignInName(account_id=account.id, kind=kind, value=value, created_at=now)
            )
        await tx.session.execute(
            update(Account)
            .where(Account.id == account.id)
            # after the wait, the old password may be what let someone in (or be lost): a
            # sign-in then needs a code to the new way too, and asks for a new password
            .values(
                two_step=False,
                recovery_code_digest=None,
                password_change_required=new_password and account.password_hash is not None,
            )
        )
        await tx.session.flush()
        await self.changes.sessions.revoke_account(tx, account.id, now)
        hint = mask(kind, value)
        await audit.record(tx, account.id, "recovery_completed", now, origin, kind=kind, hint=hint)
        await self.notices.send(
            tx,
            account,
            "recovery_completed",
            now,
            account_hint=await self.changes.hint(tx, account),
            also=old,
            hint=hint,
        )


def _link(recovery_id: uuid.UUID, token: str) -> str:
    return f"/account/changes/{recovery_id}?token={token}"
