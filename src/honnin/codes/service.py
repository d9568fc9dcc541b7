"""The code engine: open a challenge, send it a code, check what comes back.

Rules (DESIGN.md, "Codes"):
- a code is random (`secrets`), stored only as a keyed digest bound to its challenge,
  compared in constant time;
- it expires (default 10 minutes); a resend makes a new one and every earlier code of the
  challenge stops working at once;
- wrong tries are counted on the newest code; the fifth burns it;
- approval is one conditional UPDATE, so two concurrent checks of the right code cannot both
  succeed.

Writes that record a failed try must commit, so `check` returns a `CheckResult` instead of
raising; the caller raises `result.error` after its transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update

from honnin.clock import Clock
from honnin.codes.errors import (
    CodeExpired,
    CodeSuperseded,
    InvalidCode,
    MalformedCode,
    NotPending,
    TooManyAttempts,
)
from honnin.codes.models import Challenge, Code
from honnin.codes.values import new_code, read_code
from honnin.config import Settings
from honnin.courier.outbox import Outbox
from honnin.crypto import Keyring, same
from honnin.db import Tx
from honnin.db.locks import lock_key
from honnin.errors import HonninError, RateLimited
from honnin.i18n import _
from honnin.limits.service import Limiter, Requester
from honnin.proofs.masks import mask_destination


@dataclass(frozen=True)
class CodePolicy:
    length: int = 6
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_cooldown: timedelta = timedelta(seconds=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> CodePolicy:
        return cls(
            length=settings.code_length,
            ttl=timedelta(seconds=settings.code_ttl_seconds),
            max_attempts=settings.code_max_attempts,
            resend_cooldown=timedelta(seconds=settings.resend_cooldown_seconds),
        )


class CheckOutcome(StrEnum):
    APPROVED = "approved"
    INVALID = "invalid"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NOT_PENDING = "not_pending"


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    attempts_remaining: int

    @property
    def approved(self) -> bool:
        return self.outcome is CheckOutcome.APPROVED

    @property
    def error(self) -> HonninError | None:
        match self.outcome:
            case CheckOutcome.APPROVED:
                return None
            case CheckOutcome.INVALID:
                return InvalidCode(
                    _(
                        "That code isn't right. Check it and try again ({remaining} tries left).",
                        remaining=self.attempts_remaining,
                    ),
                    attempts_remaining=self.attempts_remaining,
                )
            case CheckOutcome.EXPIRED:
                return CodeExpired(_("This code has expired. Ask for a new code."))
            case CheckOutcome.SUPERSEDED:
                return CodeSuperseded(
                    _("We sent you a newer code. Use the latest code we sent."),
                    attempts_remaining=self.attempts_remaining,
                )
            case CheckOutcome.TOO_MANY_ATTEMPTS:
                return TooManyAttempts(_("Too many wrong codes were entered. Ask for a new code."))
            case CheckOutcome.NOT_PENDING:
                return NotPending(_("This verification is already complete or was canceled."))


@dataclass(frozen=True)
class SentCode:
    challenge_id: uuid.UUID
    message_id: uuid.UUID
    expires_at: datetime
    resend_available_at: datetime


class CodeService:
    def __init__(
        self,
        policy: CodePolicy,
        keyring: Keyring,
        clock: Clock,
        limiter: Limiter,
        outbox: Outbox,
    ) -> None:
        self.policy = policy
        self.keyring = keyring
        self.clock = clock
        self.limiter = limiter
        self.outbox = outbox

    def destination_digest(self, channel: str, destination: str) -> bytes:
        return self.keyring.digest("destination", channel, destination)

    def _code_digest(self, challenge_id: uuid.UUID, code: str) -> bytes:
        return self.keyring.digest("code", str(challenge_id), code)

    async def open_challenge(
        self,
        tx: Tx,
        *,
        purpose: str,
        channel: str,
        destination: str,
        locale: str,
        account_id: uuid.UUID | None = None,
        client_id: uuid.UUID | None = None,
    ) -> Challenge:
        """A new pending challenge for `destination` (nothing is sent yet)."""
        now = self.clock.now()
        challenge = Challenge(
            id=uuid.uuid4(),
            purpose=purpose,
            channel=channel,
            destination=destination,
            destination_digest=self.destination_digest(channel, destination),
            locale=locale,
            account_id=account_id,
            client_id=client_id,
            status="pending",
            created_at=now,
            expires_at=now + self.policy.ttl,
            send_count=0,
        )
        tx.session.add(challenge)
        return challenge

    async def lock_destination(self, tx: Tx, channel: str, destination: str) -> None:
        """Serialise work on one destination (find-or-open, send limits) across processes."""
        await lock_key(tx, self.destination_digest(channel, destination))

    async def send(
        self,
        tx: Tx,
        challenge: Challenge,
        *,
        requester: Requester,
        template_params: dict[str, Any] | None = None,
    ) -> SentCode:
        """Send a new code for `challenge`; every earlier code of it stops working.

        Refused with `RateLimited` inside the resend cooldown or over a send limit. The message
        is queued in the outbox in this same transaction.
        """
        if challenge.status != "pending":
            raise NotPending(_("This verification is already complete or was canceled."))
        now = self.clock.now()
        if challenge.last_sent_at is not None:
            ready_at = challenge.last_sent_at + self.policy.resend_cooldown
            if now < ready_at:
                wait = max(1, int((ready_at - now).total_seconds() + 0.999))
                raise RateLimited(
                    _("Wait {seconds} seconds before asking for another code.", seconds=wait),
                    wait,
                    scope="cooldown",
                )
        await self.limiter.check_send(
            tx,
            destination_digest=challenge.destination_digest,
            account_id=challenge.account_id,
            requester=requester,
        )
        code = new_code(self.policy.length)
        expires_at = now + self.policy.ttl
        message = await self.outbox.enqueue(
            tx,
            channel=challenge.channel,
            recipient=challenge.destination,
            template="code",
            locale=challenge.locale,
            params={
                "purpose": challenge.purpose,
                "destination_hint": mask_destination(challenge.channel, challenge.destination),
                "ttl_minutes": int(self.policy.ttl.total_seconds() // 60),
                **(template_params or {}),
            },
            secrets=json.dumps({"code": code}).encode(),
            expires_at=expires_at,
        )
        challenge.send_count += 1
        challenge.last_sent_at = now
        challenge.expires_at = expires_at
        await tx.session.flush()  # the challenge and the message rows first: codes refer to them
        tx.session.add(
            Code(
                challenge_id=challenge.id,
                seq=challenge.send_count,
                digest=self._code_digest(challenge.id, code),
                destination_digest=challenge.destination_digest,
                account_id=challenge.account_id,
                created_at=now,
                expires_at=expires_at,
                message_id=message.id,
            )
        )
        await tx.session.flush()
        return SentCode(challenge.id, message.id, expires_at, now + self.policy.resend_cooldown)

    async def check(self, tx: Tx, challenge: Challenge, typed: str) -> CheckResult:
        """Check a typed code against `challenge`; see the module docstring for the rules."""
        digits = read_code(typed, self.policy.length)
        if digits is None:
            raise MalformedCode(
                _("Enter the {length}-digit code we sent you.", length=self.policy.length)
            )
        if challenge.status != "pending":
            return CheckResult(CheckOutcome.NOT_PENDING, 0)
        codes = list(
            await tx.session.scalars(select(Code).where(Code.challenge_id == challenge.id))
        )
        latest = next((c for c in codes if c.seq == challenge.send_count), None)
        if latest is None:
            return CheckResult(CheckOutcome.NOT_PENDING, 0)
        now = self.clock.now()
        if now >= latest.expires_at:
            return CheckResult(CheckOutcome.EXPIRED, 0)
        if latest.attempts >= self.policy.max_attempts:
            return CheckResult(CheckOutcome.TOO_MANY_ATTEMPTS, 0)

        digest = self._code_digest(challenge.id, digits)
        matched: Code | None = None
        for candidate in codes:  # compare with every code: no early exit to time
            if same(candidate.digest, digest):
                matched = candidate

        if matched is latest:
            return await self._approve(tx, challenge, latest, now)
        remaining = await self._count_wrong_try(tx, latest)
        if matched is not None:
            return CheckResult(CheckOutcome.SUPERSEDED, remaining)
        if remaining == 0:
            return CheckResult(CheckOutcome.TOO_MANY_ATTEMPTS, 0)
        return CheckResult(CheckOutcome.INVALID, remaining)

    async def _approve(
        self, tx: Tx, challenge: Challenge, code: Code, now: datetime
    ) -> CheckResult:
        used = await tx.session.execute(
            update(Code)
            .where(
                Code.id == code.id,
                Code.used_at.is_(None),
                Code.attempts < self.policy.max_attempts,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            return CheckResult(CheckOutcome.NOT_PENDING, 0)
        await tx.session.execute(
            update(Challenge)
            .where(Challenge.id == challenge.id)
            .values(status="approved", approved_at=now)
            .execution_options(synchronize_session=False)
        )
        challenge.status = "approved"
        challenge.approved_at = now
        return CheckResult(CheckOutcome.APPROVED, 0)

    async def _count_wrong_try(self, tx: Tx, code: Code) -> int:
        """Count a wrong try on the newest code; the tries it has left afterwards."""
        attempts = await tx.session.scalar(
            update(Code)
            .where(Code.id == code.id, Code.attempts < self.policy.max_attempts)
            .values(attempts=Code.attempts + 1)
            .returning(Code.attempts)
            .execution_options(synchronize_session=False)
        )
        return max(0, self.policy.max_attempts - (attempts or self.policy.max_attempts))
