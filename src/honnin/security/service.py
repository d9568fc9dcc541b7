"""The rules of changing an account's security info, in one place for the pages, the JSON API
(both through the `settings` flow), the links in notices and the CLI.

- Security info counts once a code sent to it came back (`honnin.proofs`); adding some is
  written to the audit log and told to every way, the new one included.
- One change at a time: while a change waits (a scheduled removal), no other is made.
- Removing the account's last way to verify is never immediate: it is scheduled
  (`HONNIN_REMOVAL_WAIT_SECONDS`), every way is told with a link that cancels it, and a job
  removes it when the wait ends — unless it was canceled. Removing any other way is immediate.
- A sign-in name stays when the same address leaves the security info: codes no longer go to
  it (`flows.signin` sends codes only to verified security info), the password still works.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, delete, select, update

from honnin.accounts.models import Account, SignInName
from honnin.accounts.service import AccountRecord, AccountService
from honnin.audit import service as audit
from honnin.audit.models import AuditEvent
from honnin.audit.places import ip_and_place
from honnin.audit.service import Origin
from honnin.authenticators import apps, passkeys
from honnin.clock import Clock
from honnin.crypto import Keyring
from honnin.db import Database, Prepared, Tx, table_of
from honnin.destinations.kinds import Destinations, kind_of_name, mask
from honnin.errors import Conflict, InvalidInput, NotFound
from honnin.i18n import _
from honnin.jobs.models import Job, JobStatus
from honnin.jobs.service import Jobs, JobView
from honnin.localtime import known_zones
from honnin.notices.service import Notices, Recipient
from honnin.proofs import service as proofs
from honnin.proofs.models import Proof
from honnin.security import errors, recovery_codes
from honnin.sessions.models import Session
from honnin.sessions.service import SessionService

REMOVE_PROOF = "remove_proof"  # the job that removes the last way once the wait is over
RECOVER = "recover"  # the job that ends a recovery's wait (`security.recovery`)
CLOSE = "close_account"  # the job that deletes a closed account (`security.closing`)
CHANGE_KINDS = (
    REMOVE_PROOF,
    RECOVER,
    CLOSE,
)  # the jobs that are a change waiting ("one at a time")
# how a kind of waiting change is canceled: the account, the job, who, the session canceling
_jobs = table_of(Job)
_RECOVERY_WAITING = Prepared(
    select(_jobs.c.id)
    .where(
        _jobs.c.account_id == bindparam("b_account"),
        _jobs.c.kind == bindparam("b_kind"),
        _jobs.c.status == bindparam("b_status"),
    )
    .limit(1)
)
# what gives someone a recovery code (each shows a new one)
RECOVERY_CODE_MADE = ("two_step_on", "recovery_code_replaced", "recovery_code_used")
_SECURE_LINK = "secure-account"  # what a new-browser notice's link is a digest for
SECURE_LINK_AGE = timedelta(days=30)  # how long after its sign-in that link works (once)
Canceller = Callable[[Tx, AccountRecord, JobView, Origin, uuid.UUID | None], Awaitable[None]]


@dataclass(frozen=True)
class PendingChange:
    id: uuid.UUID
    change: str  # remove_proof, recover
    proof_id: uuid.UUID | None
    hint: str
    due_at: datetime


@dataclass(frozen=True)
class Removal:
    scheduled: bool
    due_at: datetime | None = None


class _Way(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


def count_ways(
    verified_proofs: Sequence[_Way],
    authenticator_apps: Sequence[_Way],
    account_passkeys: Sequence[_Way],
    *,
    passkeys_usable: bool,
    besides: uuid.UUID | None = None,
) -> int:
    """The one rule of what two-step verification can use: verified addresses and numbers,
    authenticator apps, and passkeys where they can be used (no IP base URL), but
    `besides`."""
    usable = [*verified_proofs, *authenticator_apps, *(account_passkeys if passkeys_usable else ())]
    return sum(1 for way in usable if way.id != besides)


def _pending(job: JobView) -> PendingChange:
    proof_id = job.payload.get("proof_id")
    return PendingChange(
        job.id,
        job.kind,
        uuid.UUID(proof_id) if proof_id else None,
        str(job.payload.get("hint", "")),
        job.due_at,
    )


async def pending_changes(tx: Tx, jobs: Jobs, account_id: uuid.UUID) -> list[PendingChange]:
    """The account's changes that wait for their time, soonest first."""
    return [
        _pending(job) for job in await jobs.pending(tx, account_id=account_id, kinds=CHANGE_KINDS)
    ]


class SecurityChanges:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        keyring: Keyring,
        *,
        accounts: AccountService,
        jobs: Jobs,
        notices: Notices,
        destinations: Destinations,
        sessions: SessionService,
        removal_wait: timedelta,
        passkeys_usable: bool = True,
    ) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.accounts = accounts
        self.jobs = jobs
        self.notices = notices
        self.destinations = destinations
        self.sessions = sessions
        self.removal_wait = removal_wait
        # passkeys count as a way only where they can be used (the base URL is no IP)
        self.passkeys_usable = passkeys_usable
        jobs.register(REMOVE_PROOF, self._run_removal)
        # how each kind of waiting change is canceled (a recovery: `security.recovery`)
        self.cancellers: dict[str, Canceller] = {REMOVE_PROOF: self._cancel_removal}

    # --- what is waiting ----------------------------------------------------------------

    async def pending(self, tx: Tx, account_id: uuid.UUID) -> list[PendingChange]:
        return await pending_changes(tx, self.jobs, account_id)

    async def ensure_none_pending(self, tx: Tx, account_id: uuid.UUID) -> None:
        pending = await self.pending(tx, account_id)
        if any(change.change == RECOVER for change in pending):
            raise errors.recovery_waiting()
        if pending:
            raise errors.change_pending()

    async def ensure_no_recovery(self, tx: Tx, account_id: uuid.UUID) -> None:
        """While a recovery waits, the password and two-step verification stay as they are
        (the limited mode: `security.recovery`)."""
        if await self.recovery_waiting(tx, account_id):
            raise errors.recovery_waiting()

    async def has_recovery_waiting(self, tx: Tx, account_id: uuid.UUID) -> bool:
        """Whether a recovery of the account waits, on a sign-in's path: one prepared
        statement, no ORM (through it, 1.3 ms of CPU per sign-in by code)."""
        params = {"b_account": account_id, "b_kind": RECOVER, "b_status": JobStatus.PENDING}
        return (await tx.run(_RECOVERY_WAITING, params)).first() is not None

    async def recovery_waiting(self, tx: Tx, account_id: uuid.UUID) -> PendingChange | None:
        """The account's recovery that waits, if one does."""
        for job in await self.jobs.pending(tx, account_id=account_id, kinds=(RECOVER,)):
            return _pending(job)
        return None

    @staticmethod
    async def lock(tx: Tx, account_id: uuid.UUID) -> None:
        """One change of an account's security info at a time: two tabs removing its last two
        ways at once each see what the other did (the second is then the last, and waits)."""
        await tx.session.execute(
            select(Account.id).where(Account.id == account_id).with_for_update()
        )

    async def ensure_new(self, tx: Tx, account_id: uuid.UUID, kind: str, value: str) -> None:
        """`Conflict` if the account already has this verified security info."""
        existing = await proofs.verified_proof(tx, account_id, kind, value)
        if existing is not None:
            shown = self.destinations.kind(kind).display(value)
            raise Conflict(
                _("{address} is already part of this account's security info.", address=shown)
            )

    # --- adding -------------------------------------------------------------------------

    def read_new(self, raw: str) -> tuple[str, str]:
        """What the person typed as new security info: (`email`, address) or (`phone`,
        E.164), once it is known a code can reach it; else an error that says why (a refused
        number, a landline where no calls are made)."""
        kind = kind_of_name(raw)
        value = self.destinations.kind(kind).normalize(raw)  # what may receive codes
        if not self.destinations.reach(kind, value):
            self.destinations.for_channel("sms" if kind == "phone" else "email", value)
        return kind, value

    async def new_proof(self, tx: Tx, account_id: uuid.UUID, kind: str, value: str) -> Proof:
        """Unverified security info (`read_new`), to send a code to; `Conflict` if the account
        already has it verified."""
        await self.lock(tx, account_id)
        await self.ensure_none_pending(tx, account_id)
        await self.ensure_new(tx, account_id, kind, value)
        existing = await tx.session.scalar(
            select(Proof).where(
                Proof.account_id == account_id, Proof.kind == kind, Proof.value == value
            )
        )
        if existing is not None:  # added before and never verified: a new code for it
            return existing
        now = self.clock.now()
        proof = await proofs.add_proof(tx, account_id, kind, value, now, verified=False)
        await tx.session.flush()
        return proof

    async def proof_verified(
        self,
        tx: Tx,
        account: AccountRecord,
        proof_id: uuid.UUID,
        origin: Origin,
        *,
        sign_in: bool = False,
    ) -> Proof:
        """The code sent to new security info came back: it counts from now (and is a
        sign-in name too, if asked and no account has it); logged and told to every way."""
        await self.lock(tx, account.id)
        await self.ensure_none_pending(tx, account.id)  # a removal scheduled meanwhile
        proof = await tx.session.get(Proof, proof_id)
        if proof is None or proof.account_id != account.id:
            raise NotFound(_("This is no longer part of the account's security info."))
        now = self.clock.now()
        if proof.verified_at is None:
            proof.verified_at = now
        shown = self.destinations.kind(proof.kind).display(proof.value)
        if sign_in:
            taken = await tx.session.scalar(
                select(SignInName.account_id).where(SignInName.value == proof.value)
            )
            if taken is not None and taken != account.id:
                raise Conflict(
                    _("{address} is already a sign-in name of an account.", address=shown)
                )
            if taken is None:
                tx.session.add(
                    SignInName(
                        account_id=account.id, kind=proof.kind, value=proof.value, created_at=now
                    )
                )
        await tx.session.flush()
        hint = mask(proof.kind, proof.value)
        await audit.record(
            tx, account.id, "proof_added", now, origin, kind=proof.kind, hint=hint,
            sign_in=sign_in,
        )  # fmt: skip
        await self.notices.send(
            tx, account, "proof_added", now, account_hint=await self.hint(tx, account), hint=hint
        )
        return proof

    async def discard_unverified(self, tx: Tx, account_id: uuid.UUID, proof_id: uuid.UUID) -> None:
        """Forget security info whose adding was given up before its code came back."""
        await tx.session.execute(
            delete(Proof).where(
                Proof.id == proof_id, Proof.account_id == account_id, Proof.verified_at.is_(None)
            )
        )

    # --- removing -----------------------------------------------------------------------

    async def proof(self, tx: Tx, account_id: uuid.UUID, proof_id: str) -> Proof:
        try:
            key = uuid.UUID(proof_id)
        except ValueError:
            key = None
        proof = await tx.session.get(Proof, key) if key else None
        if proof is None or proof.account_id != account_id:
            raise NotFound(_("This is no longer part of the account's security info."))
        return proof

    async def other_ways(self, tx: Tx, account: AccountRecord, way_id: uuid.UUID) -> bool:
        """Whether the account can prove who it is by some way other than this one (a proof,
        an app, a passkey): another of them, or its password."""
        others = await self.ways_to_verify(tx, account.id, besides=way_id)
        return others > 0 or account.password_hash is not None

    async def ways_to_verify(
        self, tx: Tx, account_id: uuid.UUID, *, besides: uuid.UUID | None = None
    ) -> int:
        """How many distinct ways the account has to take a step of two-step verification
        (`count_ways`), but `besides`."""
        return count_ways(
            await proofs.verified_proofs(tx, account_id),
            await apps.verified_apps(tx, account_id),
            await passkeys.of_account(tx, account_id),
            passkeys_usable=self.passkeys_usable,
            besides=besides,
        )

    async def remove(
        self, tx: Tx, account: AccountRecord, proof_id: uuid.UUID, origin: Origin
    ) -> Removal:
        """Remove the proof now, or — the last verified address or number, where notices go,
        even with an app left — schedule its removal."""
        await self.lock(tx, account.id)
        await self.ensure_none_pending(tx, account.id)
        proof = await self.proof(tx, account.id, str(proof_id))
        now = self.clock.now()
        hint = mask(proof.kind, proof.value)
        verified = await proofs.verified_proofs(tx, account.id)
        others = [p for p in verified if p.id != proof.id]
        if proof.verified_at is not None:
            await self.ensure_two_step_keeps_two(tx, account.id, proof.id)
        if proof.verified_at is None or others:
            await self._delete(tx, account, proof, origin, now, scheduled=False)
            return Removal(scheduled=False)
        due_at = now + self.removal_wait
        token = secrets.token_urlsafe(32)
        job_id = await self.jobs.schedule(
            tx,
            REMOVE_PROOF,
            due_at,
            account_id=account.id,
            proof_id=str(proof.id),
            hint=hint,
            cancel_digest=self.keyring.digest("cancel-change", token).hex(),
        )
        await audit.record(
            tx, account.id, "removal_scheduled", now, origin, kind=proof.kind, hint=hint,
            due_at=due_at.isoformat(),
        )  # fmt: skip
        await self.notices.send(
            tx,
            account,
            "removal_scheduled",
            now,
            account_hint=await self.hint(tx, account),
            dates={"date": due_at},
            link=f"/account/changes/{job_id}?token={token}",
            hint=hint,
        )
        return Removal(scheduled=True, due_at=due_at)

    async def ensure_two_step_keeps_two(
        self, tx: Tx, account_id: uuid.UUID, removed: uuid.UUID
    ) -> None:
        """With two-step verification on, a way is removed only if two others remain: its
        second step would have nowhere to go (turn it off first: that says the risk)."""
        two_step = await tx.session.scalar(select(Account.two_step).where(Account.id == account_id))
        if two_step and await self.ways_to_verify(tx, account_id, besides=removed) < 2:
            raise errors.two_step_needs_two()

    async def cancel(
        self,
        tx: Tx,
        account: AccountRecord,
        change_id: uuid.UUID,
        origin: Origin,
        *,
        keep: uuid.UUID | None = None,
    ) -> PendingChange:
        """Cancel a change that waits (the person, signed in — `keep`: their session — or by
        the link in its notice)."""
        job = await self.jobs.get(tx, change_id, lock=True)
        if job is None or job.account_id != account.id or job.kind not in CHANGE_KINDS:
            raise errors.link_not_valid()
        cancelled = await self.jobs.cancel(tx, change_id)
        if cancelled is None:
            raise errors.link_not_valid()
        await self.cancellers[cancelled.kind](tx, account, cancelled, origin, keep)
        return _pending(cancelled)

    async def _cancel_removal(
        self,
        tx: Tx,
        account: AccountRecord,
        job: JobView,
        origin: Origin,
        keep: uuid.UUID | None,
    ) -> None:
        change = _pending(job)
        now = self.clock.now()
        await audit.record(tx, account.id, "removal_cancelled", now, origin, hint=change.hint)
        await self.notices.send(
            tx,
            account,
            "removal_cancelled",
            now,
            account_hint=await self.hint(tx, account),
            hint=change.hint,
        )

    async def cancel_by_link(self, change_id: str, token: str, origin: Origin) -> PendingChange:
        """Cancel a waiting change with the secret link of its notice: no sign-in needed (the
        person may have lost every way in), the token alone (compared in constant time)."""
        async with self.db.transaction() as tx:
            job = await self.link_target(tx, change_id, token)
            account = await self.accounts.record(tx, job.account_id) if job.account_id else None
            if account is None:
                raise errors.link_not_valid()
            return await self.cancel(tx, account, job.id, origin)

    async def link_target(
        self, tx: Tx, change_id: str, token: str, *, cancelled: bool = False
    ) -> JobView:
        """The waiting change a notice's link names, if the link is right (`cancelled`: or
        the change it cancelled, to say so)."""
        try:
            key = uuid.UUID(change_id)
        except ValueError:
            raise errors.link_not_valid() from None
        job = await self.jobs.get(tx, key)
        statuses = (JobStatus.PENDING, JobStatus.CANCELLED) if cancelled else (JobStatus.PENDING,)
        if job is None or job.kind not in CHANGE_KINDS or job.status not in statuses:
            raise errors.link_not_valid()
        stored = bytes.fromhex(str(job.payload.get("cancel_digest", "")))
        if not self.keyring.matches(stored, "cancel-change", token):
            raise errors.link_not_valid()
        return job

    async def _run_removal(self, tx: Tx, job: JobView, now: datetime) -> None:
        """The wait is over: remove the proof (if it is still there)."""
        if job.account_id is None:
            return
        account = await self.accounts.record(tx, job.account_id)
        proof = await tx.session.get(Proof, uuid.UUID(job.payload["proof_id"]))
        if account is None or proof is None or proof.account_id != account.id:
            return  # removed meanwhile some other way: nothing left to do
        await self._delete(tx, account, proof, None, now, scheduled=True)

    async def _delete(
        self,
        tx: Tx,
        account: AccountRecord,
        proof: Proof,
        origin: Origin | None,
        now: datetime,
        *,
        scheduled: bool,
    ) -> None:
        hint = mask(proof.kind, proof.value)
        was_verified = proof.verified_at is not None
        removed = Recipient(proof.kind, proof.value)
        await tx.session.delete(proof)
        await tx.session.flush()
        await audit.record(
            tx, account.id, "proof_removed", now, origin, kind=proof.kind, hint=hint,
            scheduled=scheduled,
        )  # fmt: skip
        if was_verified:
            await self.notices.send(
                tx,
                account,
                "proof_removed",
                now,
                account_hint=await self.hint(tx, account),
                also=[removed],
                hint=hint,
            )

    # --- the password and two-step verification -----------------------------------------

    async def set_password(
        self,
        tx: Tx,
        account: AccountRecord,
        password_hash: str,
        origin: Origin,
        *,
        keep_session: uuid.UUID | None,
        reset: bool = False,
    ) -> None:
        """A new password (already judged and hashed: `AccountService.new_password_hash`):
        every other session ends, it is logged, and every way is told."""
        await self.lock(tx, account.id)
        await self.ensure_no_recovery(tx, account.id)
        now = self.clock.now()
        await tx.session.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(password_hash=password_hash, password_change_required=False)
        )
        await self.sessions.revoke_account(tx, account.id, now, keep=keep_session)
        action = "password_reset" if reset else "password_changed"
        await self._log_and_tell(tx, account, action, now, origin)

    async def two_step_on(self, tx: Tx, account: AccountRecord, origin: Origin) -> str:
        """Turn two-step verification on: it needs two distinct ways to verify (verified
        addresses, numbers or authenticator apps: two codes to one inbox are one step).
        Returns the new recovery code, to show once."""
        await self.lock(tx, account.id)
        await self.ensure_none_pending(tx, account.id)
        if await self.ways_to_verify(tx, account.id) < 2:
            raise errors.two_ways_needed()
        now = self.clock.now()
        code = await self._new_recovery_code(tx, account.id, two_step=True)
        await self._log_and_tell(tx, account, "two_step_on", now, origin)
        return code

    async def two_step_off(self, tx: Tx, account: AccountRecord, origin: Origin) -> None:
        await self.lock(tx, account.id)
        await self.ensure_no_recovery(tx, account.id)
        now = self.clock.now()
        await tx.session.execute(
            update(Account)
            .where(Account.id == account.id)
            .values(two_step=False, recovery_code_digest=None)
        )
        await self._log_and_tell(tx, account, "two_step_off", now, origin)

    async def replace_recovery_code(self, tx: Tx, account: AccountRecord, origin: Origin) -> str:
        """A new recovery code (the old one stops working), to show once."""
        await self.lock(tx, account.id)
        await self.ensure_no_recovery(tx, account.id)
        on = await tx.session.scalar(select(Account.two_step).where(Account.id == account.id))
        if not on:  # turned off meanwhile (another tab): a code would turn it back on
            raise errors.two_step_is_off()
        now = self.clock.now()
        code = await self._new_recovery_code(tx, account.id, two_step=True)
        await self._log_and_tell(tx, account, "recovery_code_replaced", now, origin)
        return code

    async def use_recovery_code(
        self, tx: Tx, account: AccountRecord, typed: str, origin: Origin
    ) -> str | None:
        """Spend the account's recovery code if `typed` is it (constant time): the next one,
        to show once; None if it is not the code."""
        if not await self.recovery_code_matches(tx, account.id, typed):
            return None
        now = self.clock.now()
        code = await self._new_recovery_code(tx, account.id, two_step=account.two_step)
        await self._log_and_tell(tx, account, "recovery_code_used", now, origin)
        return code

    async def recovery_code_matches(self, tx: Tx, account_id: uuid.UUID, typed: str) -> bool:
        """Whether `typed` is the account's recovery code (constant time), read under the
        account's lock: two uses of one code at once, the second sees it gone."""
        await self.lock(tx, account_id)
        stored = await tx.session.scalar(
            select(Account.recovery_code_digest).where(Account.id == account_id)
        )
        normal = recovery_codes.normalize(typed)
        right = self.keyring.matches(stored or bytes(32), "recovery-code", normal or "")
        return bool(right and stored and normal)

    async def _new_recovery_code(self, tx: Tx, account_id: uuid.UUID, *, two_step: bool) -> str:
        code = recovery_codes.new_code()
        digest = self.keyring.digest("recovery-code", recovery_codes.normalize(code) or "")
        await tx.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(two_step=two_step, recovery_code_digest=digest)
        )
        return code

    async def new_browser(
        self, tx: Tx, account: AccountRecord, origin: Origin, session_id: uuid.UUID
    ) -> None:
        """A browser that never signed in to the account just did: "was this you?", with a
        link that secures the account (`secure_by_link`)."""
        now = self.clock.now()
        await audit.record(tx, account.id, "new_browser", now, origin)
        token = self.keyring.digest(_SECURE_LINK, str(session_id)).hex()
        await self.notices.send(
            tx,
            account,
            "new_browser",
            now,
            account_hint=await self.hint(tx, account),
            link=f"/account/secure/{session_id}?token={token}",
            agent=origin.agent or "?",
            ip=ip_and_place(origin.ip, account.locale),
        )

    async def secure(
        self, tx: Tx, account_id: uuid.UUID, origin: Origin | None, *, keep: uuid.UUID | None
    ) -> None:
        """ "This wasn't me" (a recovery, a new browser): someone else may know the password.
        Every session but `keep` (the one asking for it) is signed out, and the password alone
        no longer signs in: the next sign-in is by a code, and asks for a new password."""
        now = self.clock.now()
        await self.sessions.revoke_account(tx, account_id, now, keep=keep)
        await tx.session.execute(
            update(Account)
            .where(Account.id == account_id, Account.password_hash.is_not(None))
            .values(password_change_required=True)
        )
        await audit.record(tx, account_id, "account_secured", now, origin)

    async def secure_link_target(
        self, tx: Tx, session_id: str, token: str, *, used: bool = False
    ) -> AccountRecord:
        """The account a new-browser notice's link secures, if the link is right: its token
        is a keyed digest of the session it tells of (compared in constant time). `used`: the
        link that secured it already (to say so)."""
        try:
            key = uuid.UUID(session_id)
            digest = bytes.fromhex(token)
        except ValueError:
            raise errors.link_not_valid() from None
        if not self.keyring.matches(digest, _SECURE_LINK, str(key)):
            raise errors.link_not_valid()
        session = await tx.session.get(Session, key)
        fresh = session is not None and self.clock.now() < session.created_at + SECURE_LINK_AGE
        if session is None or (session.secured_at is not None) != used or not (fresh or used):
            raise errors.link_not_valid()  # used already, or too old: a replay signs no one out
        account = await self.accounts.record(tx, session.account_id)
        if account is None:
            raise errors.link_not_valid()
        return account

    async def secure_by_link(self, session_id: str, token: str, origin: Origin) -> None:
        """ "This wasn't me" from a new-browser notice: every session ends (that browser's
        too), what was added since that sign-in goes (`_remove_ways_added_since`), and the
        next sign-in needs a code and a new password. No sign-in needed."""
        async with self.db.transaction() as tx:
            account = await self.secure_link_target(tx, session_id, token)
            await self.lock(tx, account.id)
            await tx.session.execute(
                update(Session)
                .where(Session.id == uuid.UUID(session_id))
                .values(secured_at=self.clock.now())
            )
            await self.secure(tx, account.id, origin, keep=None)
            await self._remove_ways_added_since(tx, account.id, uuid.UUID(session_id), origin)
            await self.notices.send(
                tx,
                account,
                "account_secured",
                self.clock.now(),
                account_hint=await self.hint(tx, account),
                link="/signin",
            )

    async def _remove_ways_added_since(
        self, tx: Tx, account_id: uuid.UUID, session_id: uuid.UUID, origin: Origin
    ) -> None:
        """What the sign-in reported as "not me" could have left to come back without the
        password goes with it: the apps and passkeys added since, a recovery code made since
        (and two-step verification, if fewer than two ways are left)."""
        session = await tx.session.get(Session, session_id)
        if session is None:
            return
        now = self.clock.now()
        since = session.created_at
        for name in await apps.remove_added_since(tx, account_id, since):
            await audit.record(tx, account_id, "app_removed", now, origin, hint=name)
        for name in await passkeys.remove_added_since(tx, account_id, since):
            await audit.record(tx, account_id, "passkey_removed", now, origin, hint=name)
        # a recovery code made since (two-step verification turned on, a new code) may be
        # theirs: it stops working; and two-step verification needs two ways left
        made = await tx.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.account_id == account_id,
                AuditEvent.at >= since,
                AuditEvent.action.in_(RECOVERY_CODE_MADE),
            )
            .limit(1)
        )
        if made is not None:
            await tx.session.execute(
                update(Account).where(Account.id == account_id).values(recovery_code_digest=None)
            )
            await audit.record(tx, account_id, "recovery_code_voided", now, origin)
        two_step = await tx.session.scalar(select(Account.two_step).where(Account.id == account_id))
        if two_step and await self.ways_to_verify(tx, account_id) < 2:
            await tx.session.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(two_step=False, recovery_code_digest=None)
            )
            await audit.record(tx, account_id, "two_step_off", now, origin)

    async def set_time_zone(self, tx: Tx, account_id: uuid.UUID, zone: str) -> None:
        """The account's time zone: an IANA name this machine knows."""
        if zone not in known_zones():
            raise InvalidInput(
                _("{zone} isn't a time zone we know. Use a name such as Asia/Tokyo.", zone=zone)
            )
        await tx.session.execute(
            update(Account).where(Account.id == account_id).values(time_zone=zone)
        )

    async def _log_and_tell(
        self, tx: Tx, account: AccountRecord, action: str, now: datetime, origin: Origin
    ) -> None:
        """A change with nothing more to say than its name: in the audit log, and told to
        every way."""
        await audit.record(tx, account.id, action, now, origin)
        await self.notices.send(tx, account, action, now, account_hint=await self.hint(tx, account))

    async def hint(self, tx: Tx, account: AccountRecord) -> str:
        """How notices name the account: its first sign-in name, masked."""
        return await self.accounts.hint(tx, account.id) or ""
