"""Reading and changing an account's security info."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from honnin.db import Tx
from honnin.proofs.masks import mask_email
from honnin.proofs.models import Proof


@dataclass(frozen=True)
class ProofView:
    id: uuid.UUID
    kind: str
    hint: str
    verified: bool
    created_at: datetime


def hint(proof: Proof) -> str:
    return mask_email(proof.value) if proof.kind == "email" else proof.value


async def list_proofs(tx: Tx, account_id: uuid.UUID) -> list[ProofView]:
    rows = await tx.session.scalars(
        select(Proof).where(Proof.account_id == account_id).order_by(Proof.created_at)
    )
    return [ProofView(p.id, p.kind, hint(p), p.verified_at is not None, p.created_at) for p in rows]


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
