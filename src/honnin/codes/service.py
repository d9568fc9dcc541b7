"""The code engine: start a challenge with a code, send another, check what comes back.

Rules (DESIGN.md, "Codes"):
- a code is random (`secrets`), stored only as a keyed digest bound to its challenge,
  compared in constant time;
- it expires (default 10 minutes); a resend makes a new one and every earlier code of the
  challenge stops working at once — and an earlier email not yet sent is not sent any more;
- wrong tries are counted on the newest code; the fifth burns it;
- approval is one conditional UPDATE, so two concurrent checks of the right code cannot both
  succeed; the challenge row is locked for the check, so a resend cannot slip in between;
- every send passes the resend cooldown, the per-destination and per-account limits (counted
  here, in the database, under the destination's lock) and the per-client/IP throttle.

Writes that record a failed try must commit, so `check` returns a `CheckResult` instead of
raising; the caller raises `result.error` after its transaction.

Hot path: plain SQL expressions, no ORM unit of work (bench/verifications.py).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Uuid, bindparam, func, insert, select, update

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
from honnin.codes.purposes import purpose_text
from honnin.codes.quotas import NOBODY, SendQuotas
from honnin.codes.values import new_code, read_code
from honnin.config import Settings
from honnin.courier.channels.void import decoy_of
from honnin.courier.models import FINAL, Message
from honnin.courier.outbox import Outbox
from honnin.courier.service import DeliveryStatus
from honnin.crypto import Keyring, same_any
from honnin.db import Prepared, Tx, Unindexed, new_id, table_of
from honnin.db.locks import lock_key
from honnin.destinations.kinds import CHANNEL_KINDS, PHONE, mask_for_channel
from honnin.destinations.phones import Area, area_of
from honnin.errors import HonninError, RateLimited
from honnin.i18n import LazyText, _, ngettext
from honnin.limits.service import Requester, Throttle

_challenges = table_of(Challenge)
_codes = table_of(Code)
_c = _challenges.c
_k = _codes.c

# Statements built once and run straight on the driver (honnin.db.prepared): building,
# hashing and executing SQL expressions per call costs more CPU than running them.
# wrong tries on the challenge's newest code, read along with the challenge (a burned code
# may be replaced at once: `CodeService.resend_available_at`)
_WRONG_TRIES = func.coalesce(
    select(_k.attempts).where(_k.challenge_id == _c.id, _k.seq == _c.send_count).scalar_subquery(),
    0,
).label("wrong_tries")
_BY_ID = select(_challenges, _WRONG_TRIES).where(_c.id == bindparam("b_id"))
_PEEK = Prepared(_BY_ID)
_GET = Prepared(_BY_ID.with_for_update(of=_challenges))
_FIND_PENDING = Prepared(
    select(_challenges, _WRONG_TRIES)
    .where(
        _c.destination_digest.in_(bindparam("b_digests", expanding=True)),
        _c.purpose == bindparam("b_purpose"),
        _c.status == "pending",
        # found through the destination's index, never the flow's or the account's
        Unindexed(_c.expires_at) > bindparam("b_now"),
        Unindexed(_c.client_id).is_not_distinct_from(bindparam("b_client", type_=Uuid())),
        Unindexed(_c.account_id).is_not_distinct_from(bindparam("b_account", type_=Uuid())),
        Unindexed(_c.flow_id).is_not_distinct_from(bindparam("b_flow", type_=Uuid())),
    )
    .order_by(_c.created_at.desc())
    .limit(1)
    .with_for_update(of=_challenges)
)
_INSERT_CHALLENGE = Prepared(insert(_challenges))
_RESENT = Prepared(
    update(_challenges)
    .where(_c.id == bindparam("b_id"))
    .values(
        channel=bindparam("b_channel"),
        locale=bindparam("b_locale"),
        send_count=bindparam("b_count"),
        last_sent_at=bindparam("b_now"),
        expires_at=bindparam("b_expires"),
    )
)
_APPROVE = Prepared(
    update(_challenges)
    .where(_c.id == bindparam("b_id"), _c.status == "pending", _c.send_count == bindparam("b_seq"))
    .values(status="approved", approved_at=bindparam("b_now"))
)
_INSERT_CODE = Prepared(insert(_codes))
_m = table_of(Message).c
_CODES_OF = Prepared(
    select(
        _k.id,
        _k.seq,
        _k.digest,
        _k.expires_at,
        _k.attempts,
        _k.message_id,
        _m.status,
        _m.attempts.label("delivery_attempts"),
        _m.updated_at,
        _m.next_attempt_at,
        _m.last_reply,
        _m.trouble,
        _m.reason,
    )
    .outerjoin(table_of(Message), _m.id == _k.message_id)
    .where(_k.challenge_id == bindparam("b_challenge"))
)
_LATEST_DELIVERY = Prepared(
    select(
        _m.status,
        _m.attempts,
        _m.updated_at,
        _m.next_attempt_at,
        _m.last_reply,
        _m.trouble,
        _m.reason,
    )
    .join(_codes, _k.message_id == _m.id)
    .where(_k.challenge_id == bindparam("b_challenge"), _k.seq == bindparam("b_seq"))
)
_MESSAGES_OF = Prepared(select(_k.message_id).where(_k.challenge_id == bindparam("b_challenge")))
_USE_CODE = Prepared(
    update(_codes)
    .where(_k.id == bindparam("b_id"), _k.used_at.is_(None), _k.attempts < bindparam("b_max"))
    .values(used_at=bindparam("b_now"))
)
_WRONG_TRY = Prepared(
    update(_codes)
    .where(_k.id == bindparam("b_id"), _k.attempts < bindparam("b_max"))
    .values(attempts=_k.attempts + 1)
    .returning(_k.attempts)
)


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


@dataclass(frozen=True)
class ChallengeState:
    """A challenge as read (or just written) in the current transaction."""

    id: uuid.UUID
    purpose: str
    channel: str
    destination: str
    destination_digest: bytes
    locale: str
    account_id: uuid.UUID | None
    client_id: uuid.UUID | None
    flow_id: uuid.UUID | None
    status: str
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None
    send_count: int
    last_sent_at: datetime | None
    wrong_tries: int = 0  # on the newest code; not a column of the challenge

    @classmethod
    def of(cls, row: Row[Any]) -> ChallengeState:
        return cls(**row._mapping)

    def columns(self) -> dict[str, Any]:
        """The challenge row's values (for inserting it)."""
        return {k: v for k, v in self.__dict__.items() if k != "wrong_tries"}

    @property
    def destination_hint(self) -> str:
        return mask_for_channel(self.channel, self.destination)


class CheckOutcome(StrEnum):
    APPROVED = "approved"
    INVALID = "invalid"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NOT_PENDING = "not_pending"


def code_burned() -> LazyText:
    """What a code burned by wrong tries means for the person, and what to do next."""
    return _(
        "Too many wrong codes were entered, so this code can no longer be used. Send a new code."
    )


def code_expired() -> LazyText:
    return _("This code has expired. Send a new code.")


def _not_pending() -> NotPending:
    return NotPending(_("This verification is already complete or was canceled."))


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    challenge: ChallengeState
    attempts_remaining: int = 0
    delivery: DeliveryStatus | None = None  # of the newest code's message, as read
    # the typed code was judged and was wrong (a guess to count): invalid, superseded, or the
    # wrong try that burned the code — not a code that was already burned, expired or used
    wrong_try: bool = False

    @property
    def approved(self) -> bool:
        return self.outcome is CheckOutcome.APPROVED

    @property
    def current(self) -> ChallengeState | None:
        """The challenge as the check left it, to show without reading it again; None when a
        check that lost a race found it changed (it must be read again to be shown)."""
        return None if self.outcome is CheckOutcome.NOT_PENDING else self.challenge

    @property
    def error(self) -> HonninError | None:
        match self.outcome:
            case CheckOutcome.APPROVED:
                return None
            case CheckOutcome.INVALID:
                return InvalidCode(
                    ngettext(
                        "That code isn't right. Check it and try again ({remaining} try left).",
                        "That code isn't right. Check it and try again ({remaining} tries left).",
                        self.attempts_remaining,
                        remaining=self.attempts_remaining,
                    ),
                    attempts_remaining=self.attempts_remaining,
                )
            case CheckOutcome.EXPIRED:
                return CodeExpired(code_expired())
            case CheckOutcome.SUPERSEDED:
                return CodeSuperseded(
                    _("We sent you a newer code. Use the latest code we sent."),
                    attempts_remaining=self.attempts_remaining,
                )
            case CheckOutcome.TOO_MANY_ATTEMPTS:
                return TooManyAttempts(code_burned())
            case CheckOutcome.NOT_PENDING:
                return _not_pending()


@dataclass(frozen=True)
class SentCode:
    challenge: ChallengeState
    message_id: uuid.UUID
    delivery: DeliveryStatus

    @property
    def expires_at(self) -> datetime:
        return self.challenge.expires_at


def _delivery(row: Any) -> DeliveryStatus | None:
    """The delivery of a code's message, from the columns `_CODES_OF` joins in."""
    return DeliveryStatus.of(row, attempts=row.delivery_attempts) if row.status else None


class CodeService:
    def __init__(
        self,
        policy: CodePolicy,
        keyring: Keyring,
        clock: Clock,
        throttle: Throttle,
        quotas: SendQuotas,
        outbox: Outbox,
    ) -> None:
        self.policy = policy
        self.keyring = keyring
        self.clock = clock
        self.throttle = throttle
        self.quotas = quotas
        self.outbox = outbox

    def destination_digest(self, channel: str, destination: str) -> bytes:
        return self.destination_digests(channel, destination)[0]

    def destination_digests(self, channel: str, destination: str) -> tuple[bytes, ...]:
        """A destination's keys (under every secret key, the current first), by its kind: a
        number's texts and calls count as one destination's, and may answer one challenge."""
        return self.keyring.digests("destination", CHANNEL_KINDS[channel], destination)

    def _code_digest(self, challenge_id: uuid.UUID, code: str) -> bytes:
        return self.keyring.digest("code", str(challenge_id), code)

    async def lock_destination(self, tx: Tx, channel: str, destination: str) -> None:
        """Serialise all work on one destination (find-or-start, send limits) until commit."""
        await lock_key(tx, self.destination_digest(channel, destination))

    def resend_available_at(self, challenge: ChallengeState) -> datetime:
        """When the challenge may send another code: the one place the cooldown is decided.

        A code burned by wrong tries can be replaced at once: the cooldown keeps a person from
        flooding a mailbox, not from replacing a code that no longer works (the send quotas
        still apply)."""
        last_sent = challenge.last_sent_at or challenge.created_at
        if self.attempts_remaining(challenge) == 0:
            return last_sent
        return last_sent + self.policy.resend_cooldown

    def attempts_remaining(self, challenge: ChallengeState) -> int:
        """Wrong tries the newest code can still take; 0: it is burned."""
        return max(0, self.policy.max_attempts - challenge.wrong_tries)

    def usable(self, challenge: ChallengeState) -> bool:
        """Whether the newest code can still be entered: pending, unexpired, not burned."""
        return (
            challenge.status == "pending"
            and self.clock.now() < challenge.expires_at
            and self.attempts_remaining(challenge) > 0
        )

    # --- reading ------------------------------------------------------------------------

    async def get(self, tx: Tx, challenge_id: uuid.UUID) -> ChallengeState | None:
        """A challenge, locked until commit (PostgreSQL) so checks and resends take turns."""
        row = (await tx.run(_GET, {"b_id": challenge_id})).one_or_none()
        return ChallengeState.of(row) if row else None

    async def peek(self, tx: Tx, challenge_id: uuid.UUID) -> ChallengeState | None:
        """A challenge, read without locking (for showing it)."""
        row = (await tx.run(_PEEK, {"b_id": challenge_id})).one_or_none()
        return ChallengeState.of(row) if row else None

    async def latest_delivery(self, tx: Tx, challenge: ChallengeState) -> DeliveryStatus | None:
        """How the newest code's message is doing (None if it was never to be sent)."""
        params = {"b_challenge": challenge.id, "b_seq": challenge.send_count}
        row = (await tx.run(_LATEST_DELIVERY, params)).one_or_none()
        return DeliveryStatus.of(row) if row else None

    async def find_pending(
        self,
        tx: Tx,
        *,
        purpose: str,
        channel: str,
        destination: str,
        client_id: uuid.UUID | None = None,
        account_id: uuid.UUID | None = None,
        flow_id: uuid.UUID | None = None,
    ) -> ChallengeState | None:
        """The newest unexpired pending challenge for this purpose and destination, of this
        client, account and flow (each may be None, and must then be None), locked."""
        row = (
            await tx.run(
                _FIND_PENDING,
                {
                    "b_digests": list(self.destination_digests(channel, destination)),
                    "b_purpose": purpose,
                    "b_now": self.clock.now(),
                    "b_client": client_id,
                    "b_account": account_id,
                    "b_flow": flow_id,
                },
            )
        ).one_or_none()
        return ChallengeState.of(row) if row else None

    # --- sending ------------------------------------------------------------------------

    async def send(
        self,
        tx: Tx,
        *,
        purpose: str,
        channel: str,
        destination: str,
        locale: str,
        requester: Requester,
        account_id: uuid.UUID | None = None,
        client_id: uuid.UUID | None = None,
        flow_id: uuid.UUID | None = None,
        template_params: dict[str, Any] | None = None,
        template: str | None = "code",
        quota_key: Sequence[bytes] | None = None,
    ) -> SentCode:
        """Send a code to `destination` for `purpose`: a resend into the pending challenge of
        the same account, client and flow if there is one, else the first code of a new one.

        `template` is the message that carries it; with `None` the code is made, counted and
        checked like any other, and its message goes through the courier to the void channel:
        a decoy, so that a name without an account looks, behaves and costs like one with.

        `quota_key` (under every secret key, the current first): count this send under a quota
        of its own (the destination quota's amounts) instead of the destination's and the
        account's, which strangers can spend — for a browser that signed in to the account
        before (`honnin.flows.guesses`).
        """
        await self.lock_destination(tx, channel, destination)
        owners = {"account_id": account_id, "client_id": client_id, "flow_id": flow_id}
        pending = await self.find_pending(
            tx, purpose=purpose, channel=channel, destination=destination, **owners
        )
        if pending is not None:  # by the channel asked for now (a call instead of a text)
            return await self.resend(
                tx,
                pending,
                channel=channel,
                requester=requester,
                locale=locale,
                template_params=template_params,
                template=template,
                quota_key=quota_key,
            )
        return await self._start(
            tx,
            purpose=purpose,
            channel=channel,
            destination=destination,
            locale=locale,
            requester=requester,
            owners=owners,
            template_params=template_params,
            template=template,
            quota_key=quota_key,
        )

    async def _start(
        self,
        tx: Tx,
        *,
        purpose: str,
        channel: str,
        destination: str,
        locale: str,
        requester: Requester,
        owners: dict[str, uuid.UUID | None],
        template_params: dict[str, Any] | None,
        template: str | None,
        quota_key: Sequence[bytes] | None,
    ) -> SentCode:
        """A new challenge for `destination` (of the `owners`: account, client, flow), and its
        first code sent."""
        now = self.clock.now()
        challenge = ChallengeState(
            id=new_id(),
            purpose=purpose,
            channel=channel,
            destination=destination,
            destination_digest=self.destination_digest(channel, destination),
            locale=locale,
            account_id=owners["account_id"],
            client_id=owners["client_id"],
            flow_id=owners["flow_id"],
            status="pending",
            created_at=now,
            expires_at=now + self.policy.ttl,
            approved_at=None,
            send_count=1,
            last_sent_at=now,
        )
        await self._may_send(tx, challenge, requester, now, quota_key, decoy=template is None)
        await tx.run(_INSERT_CHALLENGE, challenge.columns())
        return await self._issue(tx, challenge, template_params, template, quota_key)

    async def resend(
        self,
        tx: Tx,
        challenge: ChallengeState,
        *,
        requester: Requester,
        locale: str | None = None,
        template_params: dict[str, Any] | None = None,
        template: str | None = "code",
        quota_key: Sequence[bytes] | None = None,
        channel: str | None = None,
        waive_cooldown: bool = False,
    ) -> SentCode:
        """A new code for `challenge`; every earlier one stops working, unsent ones are dropped.

        `channel`: another channel to the same destination ("call me instead" of a text): the
        challenge goes on, its new code by that channel, counted under the same destination.
        `waive_cooldown`: for a code whose message is known not to have arrived.

        Refused with `RateLimited` inside the resend cooldown or over a send limit (`quota_key`:
        as for `send`).
        """
        if challenge.status != "pending":
            raise _not_pending()
        now = self.clock.now()
        ready_at = self.resend_available_at(challenge)
        if now < ready_at and not waive_cooldown:
            wait = math.ceil((ready_at - now).total_seconds())
            raise RateLimited(
                ngettext(
                    "Wait {seconds} second before asking for another code.",
                    "Wait {seconds} seconds before asking for another code.",
                    wait,
                    seconds=wait,
                ),
                wait,
                scope="cooldown",
            )
        if channel is not None and CHANNEL_KINDS[channel] != CHANNEL_KINDS[challenge.channel]:
            raise ValueError(f"a {challenge.channel} challenge cannot go on by {channel}")
        challenge = replace(challenge, channel=channel or challenge.channel)
        await self._may_send(tx, challenge, requester, now, quota_key, decoy=template is None)
        challenge = replace(
            challenge,
            locale=locale or challenge.locale,
            send_count=challenge.send_count + 1,
            last_sent_at=now,
            expires_at=now + self.policy.ttl,
            wrong_tries=0,
        )
        earlier = (await tx.run(_MESSAGES_OF, {"b_challenge": challenge.id})).scalars()
        await self.outbox.cancel_unsent(tx, [m for m in earlier if m], "superseded by a newer code")
        await tx.run(
            _RESENT,
            {
                "b_id": challenge.id,
                "b_channel": challenge.channel,
                "b_locale": challenge.locale,
                "b_count": challenge.send_count,
                "b_now": now,
                "b_expires": challenge.expires_at,
            },
        )
        return await self._issue(tx, challenge, template_params, template, quota_key)

    async def _may_send(
        self,
        tx: Tx,
        challenge: ChallengeState,
        requester: Requester,
        now: datetime,
        quota_key: Sequence[bytes] | None,
        *,
        decoy: bool,
    ) -> None:
        # the digest under the current key, as `lock_destination` takes it: a challenge made
        # before a rotation of the secret key stores its digest under the old one
        await self.lock_destination(tx, challenge.channel, challenge.destination)
        account_id = challenge.account_id
        if quota_key is None:
            digests = self.destination_digests(challenge.channel, challenge.destination)
        else:  # a quota of its own instead of the destination's and the account's
            digests, account_id = tuple(quota_key), NOBODY
        if decoy:  # a name without an account costs what one with an account does
            account_id = NOBODY
        if account_id is not None:
            # the account's quota is read under the account's lock too: sends to its other
            # addresses hold other destination locks. One without an account's quota (a decoy,
            # a browser's own quota) takes a lock of its own all the same: the same work
            owner = f"account:{account_id}" if account_id != NOBODY else f"alone:{digests[0].hex()}"
            await lock_key(tx, self.keyring.digest("send-quota", owner))
        area = self._area(challenge)  # a prefix's and a country's sends are counted unlocked
        await self.quotas.check(
            tx, destination_digests=digests, account_id=account_id, now=now, area=area
        )
        await self.throttle.send(requester)

    @staticmethod
    def _area(challenge: ChallengeState) -> Area | None:
        """A phone's prefix and country (what the SMS-pumping limits count), or None."""
        return area_of(challenge.destination) if CHANNEL_KINDS[challenge.channel] == PHONE else None

    async def _issue(
        self,
        tx: Tx,
        challenge: ChallengeState,
        template_params: dict[str, Any] | None,
        template: str | None,
        quota_key: Sequence[bytes] | None,
    ) -> SentCode:
        code = new_code(self.policy.length)
        area = self._area(challenge)
        purpose = purpose_text(challenge.purpose, challenge.channel)
        message_id, delivery = await self.outbox.enqueue(
            tx,
            channel=challenge.channel if template is not None else decoy_of(challenge.channel),
            recipient=challenge.destination,
            template=template or "code",
            locale=challenge.locale,
            params={
                "purpose": challenge.purpose,
                "purpose_text": purpose.render(challenge.locale) if purpose else "",
                "destination_hint": challenge.destination_hint,
                "ttl_minutes": int(self.policy.ttl.total_seconds() // 60),
                **(template_params or {}),
            },
            secret_params=json.dumps({"code": code}).encode(),
            expires_at=challenge.expires_at,
        )
        await tx.run(
            _INSERT_CODE,
            {
                "id": new_id(),
                "challenge_id": challenge.id,
                "seq": challenge.send_count,
                "digest": self._code_digest(challenge.id, code),
                # what the send quotas count it under
                "destination_digest": quota_key[0] if quota_key else challenge.destination_digest,
                "account_id": challenge.account_id,
                "created_at": challenge.last_sent_at,
                "expires_at": challenge.expires_at,
                "attempts": 0,
                "message_id": message_id,
                "phone_prefix": area.prefix if area else None,
                "phone_country": area.country if area else None,
            },
        )
        return SentCode(challenge, message_id, delivery)

    # --- checking -----------------------------------------------------------------------

    async def check(self, tx: Tx, challenge: ChallengeState, typed: str) -> CheckResult:
        """Check a typed code against `challenge` (read with `get`, so it is locked)."""
        digits = read_code(typed, self.policy.length)
        if digits is None:
            raise MalformedCode(
                _("Enter the {length}-digit code we sent you.", length=self.policy.length)
            )
        if challenge.status != "pending":
            return CheckResult(CheckOutcome.NOT_PENDING, challenge)
        codes = (await tx.run(_CODES_OF, {"b_challenge": challenge.id})).all()
        latest = next((row for row in codes if row.seq == challenge.send_count), None)
        now = self.clock.now()
        if latest is None:
            return CheckResult(CheckOutcome.NOT_PENDING, challenge)
        delivery = _delivery(latest)
        if now >= latest.expires_at:
            return CheckResult(CheckOutcome.EXPIRED, challenge, delivery=delivery)
        if latest.attempts >= self.policy.max_attempts:
            return CheckResult(CheckOutcome.TOO_MANY_ATTEMPTS, challenge, delivery=delivery)

        # under every secret key: a code sent before a rotation of the key still works
        digests = self.keyring.digests("code", str(challenge.id), digits)
        matches = [same_any(row.digest, digests) for row in codes]  # every one: no early exit
        if same_any(latest.digest, digests):  # the newest code wins even if an old one is equal
            # the newest code's email arrived (its code came back): a retry of it, after an
            # unanswered send, would be a duplicate; earlier ones may still wait. Messages read
            # as accepted or failed are final: nothing to cancel (the common case: no write)
            messages = [
                row.message_id for row in codes if row.message_id and row.status not in FINAL
            ]
            result = await self._approve(tx, challenge, latest.id, messages, now)
            return replace(result, delivery=delivery)
        remaining = await self._count_wrong_try(tx, latest.id)
        challenge = replace(challenge, wrong_tries=self.policy.max_attempts - remaining)
        outcome = CheckOutcome.INVALID
        if any(matches):
            outcome = CheckOutcome.SUPERSEDED
        elif remaining == 0:  # this wrong try burned the code
            outcome = CheckOutcome.TOO_MANY_ATTEMPTS
        return CheckResult(outcome, challenge, remaining, delivery, wrong_try=True)

    async def _approve(
        self,
        tx: Tx,
        challenge: ChallengeState,
        code_id: uuid.UUID,
        messages: list[uuid.UUID],
        now: datetime,
    ) -> CheckResult:
        # the code first, and nothing more unless it was still unused and unburned: a check
        # that lost a race must not approve the challenge with a code that no longer works
        used = await tx.run(
            _USE_CODE, {"b_id": code_id, "b_max": self.policy.max_attempts, "b_now": now}
        )
        if used.rowcount != 1:
            return CheckResult(CheckOutcome.NOT_PENDING, challenge)
        approved = await tx.run(
            _APPROVE, {"b_id": challenge.id, "b_seq": challenge.send_count, "b_now": now}
        )
        if approved.rowcount != 1:  # approved meanwhile, or superseded: its code is dead anyway
            return CheckResult(CheckOutcome.NOT_PENDING, challenge)
        await self.outbox.cancel_unsent(tx, messages, "no longer needed: the code was already used")
        return CheckResult(
            CheckOutcome.APPROVED, replace(challenge, status="approved", approved_at=now)
        )

    async def _count_wrong_try(self, tx: Tx, code_id: uuid.UUID) -> int:
        """Count a wrong try on the newest code; the tries it has left afterwards."""
        attempts = (
            await tx.run(_WRONG_TRY, {"b_id": code_id, "b_max": self.policy.max_attempts})
        ).scalar()
        return max(0, self.policy.max_attempts - (attempts or self.policy.max_attempts))
