"""An account's security info: listing it, adding to it, and verifying it with a code.

An address counts as security info only once a code sent to it has come back
(`verified_at`); the code engine does the sending, limiting and checking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from honnin.accounts.models import SignInName
from honnin.clock import Clock
from honnin.codes.service import CodeService
from honnin.db import Database, Tx
from honnin.errors import Conflict, NotFound
from honnin.i18n import _
from honnin.limits.service import Requester
from honnin.masks import mask_destination
from honnin.proofs.emails import normalize_email
from honnin.proofs.models import Proof


@dataclass(frozen=True)
class ProofView:
    id: uuid.UUID
    kind: str
    hint: str
    verified: bool
    created_at: datetime


async def list_proofs(tx: Tx, account_id: uuid.UUID) -> list[ProofView]:
    rows = await tx.session.scalars(
        select(Proof).where(Proof.account_id == account_id).order_by(Proof.created_at)
    )
    return [_view(p) for p in rows]


async def has_verified(tx: Tx, account_id: uuid.UUID) -> bool:
    found = await tx.session.scalar(
        select(Proof.id)
        .where(Proof.account_id == account_id, Proof.verified_at.is_not(None))
        .limit(1)
    )
    return found is not None


def _view(proof: Proof) -> ProofView:
    hint = mask_destination(proof.kind, proof.value)
    return ProofView(proof.id, proof.kind, hint, proof.verified_at is not None, proof.created_at)


async def add_email(
    tx: Tx, account_id: uuid.UUID, address: str, now: datetime, *, verified: bool
) -> Proof:
    proof = Proof(
        account_id=account_id,
        kind="email",
        value=address,
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


class ProofService:
    PURPOSE = "verify_email"

    def __init__(self, db: Database, clock: Clock, codes: CodeService) -> None:
        self.db = db
        self.clock = clock
        self.codes = codes

    async def add_email(self, account_id: uuid.UUID, email: str) -> ProofView:
        """Add an address to the account's security info, unverified until a code comes back."""
        address = normalize_email(email)
        try:
            async with self.db.transaction() as tx:
                proof = await add_email(tx, account_id, address, self.clock.now(), verified=False)
                await tx.session.flush()
                return _view(proof)
        except IntegrityError:
            raise Conflict(
                _("{address} is already part of this account's security info.", address=address)
            ) from None

    async def send_code(
        self, account_id: uuid.UUID, proof_id: uuid.UUID, *, requester: Requester, locale: str
    ) -> CodeSent:
        """Email a code to an unverified address (again, if one is pending: a resend)."""
        async with self.db.transaction() as tx:
            proof = await self._proof(tx, account_id, proof_id)
            if proof.verified_at is not None:
                raise Conflict(_("This address is already verified."))
            sent = await self.codes.send(
                tx,
                purpose=self.PURPOSE,
                channel="email",
                destination=proof.value,
                locale=locale,
                account_id=account_id,
                requester=requester,
                template_params={"account_hint": await self._account_hint(tx, account_id)},
            )
        return CodeSent(sent.challenge.id, sent.challenge.destination_hint, sent.expires_at)

    async def confirm(
        self, account_id: uuid.UUID, challenge_id: uuid.UUID, code: str, *, requester: Requester
    ) -> ProofView:
        """Check the code; if right, the address is verified in the same transaction."""
        await self.codes.throttle.attempt(requester)
        async with self.db.transaction() as tx:
            challenge = await self.codes.get(tx, challenge_id)
            if (
                challenge is None
                or challenge.account_id != account_id
                or challenge.purpose != self.PURPOSE
            ):
                raise NotFound(_("There is no verification with this id."))
            result = await self.codes.check(tx, challenge, code)
            proof = None
            if result.approved:
                proof = await tx.session.scalar(
                    select(Proof).where(
                        Proof.account_id == account_id,
                        Proof.kind == "email",
                        Proof.value == challenge.destination,
                    )
                )
                if proof is not None and proof.verified_at is None:
                    proof.verified_at = self.clock.now()
        if result.error is not None:
            raise result.error
        if proof is None:  # removed while the code was on its way
            raise NotFound(_("This address is no longer part of the account."))
        return _view(proof)

    async def _proof(self, tx: Tx, account_id: uuid.UUID, proof_id: uuid.UUID) -> Proof:
        proof = await tx.session.get(Proof, proof_id)
        if proof is None or proof.account_id != account_id:
            raise NotFound(_("This address is no longer part of the account."))
        return proof

    async def _account_hint(self, tx: Tx, account_id: uuid.UUID) -> str | None:
        first = await tx.session.scalar(
            select(SignInName.value)
            .where(SignInName.account_id == account_id)
            .order_by(SignInName.created_at)
            .limit(1)
        )
        return mask_destination("email", first) if first else None
