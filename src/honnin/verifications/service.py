"""Verifications for applications: "send a code to this address", then "is this the code?".

A verification is a challenge opened by an API client. Asking again for the same address while
one is pending resends into it (a new code; the old ones stop working), so an application can
offer "resend" by simply calling create again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from honnin.clients.service import ClientView
from honnin.clock import Clock
from honnin.codes.models import Challenge, Code
from honnin.codes.service import CodeService
from honnin.courier.service import DeliveryStatus, delivery_status
from honnin.db import Database, Tx
from honnin.errors import NotFound
from honnin.i18n import _
from honnin.limits.service import Limiter, Requester
from honnin.proofs.emails import normalize_email
from honnin.proofs.masks import mask_destination

PURPOSE = "verification"


@dataclass(frozen=True)
class VerificationView:
    id: uuid.UUID
    status: str
    channel: str
    to_hint: str
    created_at: datetime
    expires_at: datetime
    send_count: int
    resend_available_at: datetime | None
    delivery: DeliveryStatus | None


def _not_found() -> NotFound:
    return NotFound(_("There is no verification with this id."))


class VerificationService:
    def __init__(self, db: Database, clock: Clock, codes: CodeService, limiter: Limiter) -> None:
        self.db = db
        self.clock = clock
        self.codes = codes
        self.limiter = limiter

    async def create(
        self, client: ClientView, *, to: str, channel: str, locale: str
    ) -> VerificationView:
        address = normalize_email(to)
        async with self.db.transaction() as tx:
            await self.codes.lock_destination(tx, channel, address)
            challenge = await self._pending_for(tx, client, channel, address)
            if challenge is None:
                challenge = await self.codes.open_challenge(
                    tx,
                    purpose=PURPOSE,
                    channel=channel,
                    destination=address,
                    locale=locale,
                    client_id=client.id,
                )
            challenge.locale = locale
            await self.codes.send(
                tx,
                challenge,
                requester=Requester(client_id=client.id),
                template_params={"app_name": client.name},
            )
            return await self._view(tx, challenge)

    async def check(self, client: ClientView, verification_id: str, code: str) -> VerificationView:
        await self.limiter.check_attempt(Requester(client_id=client.id))
        async with self.db.transaction() as tx:
            challenge = await self._get(tx, client, verification_id)
            result = await self.codes.check(tx, challenge, code)
            view = await self._view(tx, challenge)
        if result.error is not None:
            raise result.error
        return view

    async def get(self, client: ClientView, verification_id: str) -> VerificationView:
        async with self.db.transaction(write=False) as tx:
            return await self._view(tx, await self._get(tx, client, verification_id))

    async def _pending_for(
        self, tx: Tx, client: ClientView, channel: str, address: str
    ) -> Challenge | None:
        return await tx.session.scalar(
            select(Challenge)
            .where(
                Challenge.client_id == client.id,
                Challenge.destination_digest == self.codes.destination_digest(channel, address),
                Challenge.purpose == PURPOSE,
                Challenge.status == "pending",
                Challenge.expires_at > self.clock.now(),
            )
            .order_by(Challenge.created_at.desc())
            .limit(1)
        )

    async def _get(self, tx: Tx, client: ClientView, verification_id: str) -> Challenge:
        try:
            key = uuid.UUID(verification_id)
        except ValueError:
            raise _not_found() from None
        challenge = await tx.session.get(Challenge, key)
        if challenge is None or challenge.client_id != client.id or challenge.purpose != PURPOSE:
            raise _not_found()
        return challenge

    async def _view(self, tx: Tx, challenge: Challenge) -> VerificationView:
        status = challenge.status
        if status == "pending" and challenge.expires_at <= self.clock.now():
            status = "expired"
        message_id = await tx.session.scalar(
            select(Code.message_id).where(
                Code.challenge_id == challenge.id, Code.seq == challenge.send_count
            )
        )
        resend_at = (
            challenge.last_sent_at + self.codes.policy.resend_cooldown
            if challenge.last_sent_at and status == "pending"
            else None
        )
        return VerificationView(
            id=challenge.id,
            status=status,
            channel=challenge.channel,
            to_hint=mask_destination(challenge.channel, challenge.destination),
            created_at=challenge.created_at,
            expires_at=challenge.expires_at,
            send_count=challenge.send_count,
            resend_available_at=resend_at,
            delivery=await delivery_status(tx, message_id) if message_id else None,
        )
