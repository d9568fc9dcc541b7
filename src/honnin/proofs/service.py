"""An account's security info: listing it, adding to it, and verifying it with a code.

An email address or a phone number counts as security info only once a code sent to it has
come back (`verified_at`); the code engine does the sending, limiting and checking, and
`honnin.destinations.kinds` reads, masks and reaches each kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from honnin.clock import Clock
from honnin.codes.models import Challenge
from honnin.codes.service import CodeService
from honnin.db import Database, Prepared, Tx, table_of
from honnin.destinations.kinds import CHANNEL_KINDS, Destinations, mask
from honnin.errors import Conflict, NotFound
from honnin.i18n import _
from honnin.limits.service import Requester
from honnin.proofs.models import Proof


@dataclass(frozen=True)
class ProofView:
    id: uuid.UUID
    kind: str
    hint: str  # masked; the value itself only for its holder's fresh session
    created_at: datetime
    verified_at: datetime | None  # when a code sent to it first came back

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


async def list_proofs(tx: Tx, account_id: uuid.UUID, *, masked: bool = True) -> list[ProofView]:
    """The account's security info, oldest first; `masked=False` only for its holder's fresh
    session (then `hint` is the value itself)."""
    rows = await tx.session.scalars(
        select(Proof).where(Proof.account_id == account_id).order_by(Proof.created_at)
    )
    return [_view(p, masked=masked) for p in rows]


def _verified_of(account_id: uuid.UUID) -> Any:
    """The one definition of an account's usable security info: verified proofs."""
    return (
        select(Proof)
        .where(Proof.account_id == account_id, Proof.verified_at.is_not(None))
        .order_by(Proof.created_at)
    )


async def verified_proofs(tx: Tx, account_id: uuid.UUID) -> list[Proof]:
    """The account's verified security info, oldest first."""
    return list(await tx.session.scalars(_verified_of(account_id)))


async def verified_proof(tx: Tx, account_id: uuid.UUID, kind: str, value: str) -> Proof | None:
    """The account's verified proof of this kind and value, if it has one."""
    found: Proof | None = await tx.session.scalar(
        _verified_of(account_id).where(Proof.kind == kind, Proof.value == value)
    )
    return found


_proofs = table_of(Proof)
_VERIFIED_ID = Prepared(
    select(_proofs.c.id).where(
        _proofs.c.account_id == bindparam("b_account"),
        _proofs.c.kind == bindparam("b_kind"),
        _proofs.c.value == bindparam("b_value"),
        _proofs.c.verified_at.is_not(None),
    )
)


async def verified_proof_id(
    tx: Tx, account_id: uuid.UUID, kind: str, value: str
) -> uuid.UUID | None:
    """`verified_proof`'s id, on the hot path (a sign-in's "send me a code"): one prepared
    statement, no ORM."""
    params = {"b_account": account_id, "b_kind": kind, "b_value": value}
    found: uuid.UUID | None = (await tx.run(_VERIFIED_ID, params)).scalar()
    return found


async def has_verified(tx: Tx, account_id: uuid.UUID) -> bool:
    return await tx.session.scalar(_verified_of(account_id).limit(1)) is not None


def _view(proof: Proof, *, masked: bool = True) -> ProofView:
    hint = mask(proof.kind, proof.value) if masked else proof.value
    return ProofView(proof.id, proof.kind, hint, proof.created_at, proof.verified_at)


async def last_used(tx: Tx, account_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
    """When a code sent to each of the account's proofs was last accepted (sign-in,
    verification), by proof id. A proof without an entry was never used, or the record of it
    is gone (housekeeping deletes old flows and their codes)."""
    rows = await tx.session.execute(
        select(Proof.id, Proof.kind, Challenge.channel, func.max(Challenge.approved_at))
        .join(
            Challenge,
            (Challenge.account_id == Proof.account_id) & (Challenge.destination == Proof.value),
        )
        .where(Proof.account_id == account_id, Challenge.approved_at.is_not(None))
        .group_by(Proof.id, Proof.kind, Challenge.channel)
    )
    newest: dict[uuid.UUID, datetime] = {}
    for proof_id, kind, channel, at in rows:
        if at is None or CHANNEL_KINDS.get(channel) != kind:
            continue
        if proof_id not in newest or at > newest[proof_id]:
            newest[proof_id] = at  # a phone's newest of its SMS and its calls
    return newest


async def add_proof(
    tx: Tx, account_id: uuid.UUID, kind: str, value: str, now: datetime, *, verified: bool
) -> Proof:
    """Write a proof of `kind` whose `value` is already normalised."""
    proof = Proof(
        account_id=account_id,
        kind=kind,
        value=value,
        created_at=now,
        verified_at=now if verified else None,
    )
    tx.session.add(proof)
    return proof


@dataclass(frozen=True)
class CodeSent:
    challenge_id: uuid.UUID
    destination_hint: str
    expires_at: datetime


AccountHint = Callable[[Tx, uuid.UUID], Awaitable[str | None]]


class ProofService:
    """Security info sits below accounts: it knows an account only by its id. How messages
    name the account (`account_hint`, the masked first sign-in name) comes from above."""

    PURPOSES: ClassVar[dict[str, str]] = {"email": "verify_email", "phone": "verify_phone"}

    def __init__(
        self,
        db: Database,
        clock: Clock,
        codes: CodeService,
        account_hint: AccountHint,
        destinations: Destinations,
    ) -> None:
        self.db = db
        self.clock = clock
        self.codes = codes
        self.account_hint = account_hint
        self.destinations = destinations

    async def add(self, account_id: uuid.UUID, kind: str, raw: str) -> ProofView:
        """Add an email address or a phone number (`kind`) to the account's security info,
        unverified until a code sent to it comes back."""
        value = self.destinations.kind(kind).normalize(raw)
        try:
            async with self.db.transaction() as tx:
                proof = await add_proof(
                    tx, account_id, kind, value, self.clock.now(), verified=False
                )
                await tx.session.flush()
                return _view(proof)
        except IntegrityError:
            raise Conflict(
                _(
                    "{address} is already part of this account's security info.",
                    address=self.destinations.kind(kind).display(value),
                )
            ) from None

    async def send_code(
        self,
        account_id: uuid.UUID,
        proof_id: uuid.UUID,
        *,
        requester: Requester,
        locale: str,
        channel: str | None = None,
    ) -> CodeSent:
        """Send a code to unverified security info (again, if one is pending: a resend), on
        `channel` (default: the first that reaches it: email, or a text to a mobile number)."""
        async with self.db.transaction() as tx:
            proof = await self._proof(tx, account_id, proof_id)
            if proof.verified_at is not None:
                shown = self.destinations.kind(proof.kind).display(proof.value)
                raise Conflict(_("{address} is already verified.", address=shown))
            reachable = self.destinations.reach(proof.kind, proof.value)
            if channel is None and reachable:
                channel = reachable[0]
            if channel is None or channel not in reachable:
                # raises, saying why (no provider for texts, a landline, a refused number)
                self.destinations.for_channel(channel or "sms", proof.value)
            assert channel is not None
            sent = await self.codes.send(
                tx,
                purpose=self.PURPOSES[proof.kind],
                channel=channel,
                destination=proof.value,
                locale=locale,
                account_id=account_id,
                requester=requester,
                template_params={"account_hint": await self.account_hint(tx, account_id)},
            )
        return CodeSent(sent.challenge.id, sent.challenge.destination_hint, sent.expires_at)

    async def confirm(
        self, account_id: uuid.UUID, challenge_id: uuid.UUID, code: str, *, requester: Requester
    ) -> ProofView:
        """Check the code; if right, the proof is verified in the same transaction."""
        await self.codes.throttle.attempt(requester)
        async with self.db.transaction() as tx:
            challenge = await self.codes.get(tx, challenge_id)
            if (
                challenge is None
                or challenge.account_id != account_id
                or challenge.purpose not in self.PURPOSES.values()
            ):
                raise NotFound(_("There is no verification with this id."))
            result = await self.codes.check(tx, challenge, code)
            proof = None
            if result.approved:
                proof = await tx.session.scalar(
                    select(Proof).where(
                        Proof.account_id == account_id,
                        Proof.kind == CHANNEL_KINDS[challenge.channel],
                        Proof.value == challenge.destination,
                    )
                )
                if proof is not None and proof.verified_at is None:
                    proof.verified_at = self.clock.now()
        if result.error is not None:
            raise result.error
        if proof is None:  # removed while the code was on its way
            raise NotFound(_("This is no longer part of the account's security info."))
        return _view(proof)

    async def _proof(self, tx: Tx, account_id: uuid.UUID, proof_id: uuid.UUID) -> Proof:
        proof = await tx.session.get(Proof, proof_id)
        if proof is None or proof.account_id != account_id:
            raise NotFound(_("This is no longer part of the account's security info."))
        return proof
