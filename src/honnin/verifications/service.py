"""Verifications for applications: "send a code to this address or number", then "is this
the code?". By email, by text message (`sms`) or by a voice call (`call`).

A verification is a challenge opened by an API client. Asking again for the same address while
one is pending resends into it (a new code; the old ones stop working), so an application can
offer "resend" by simply calling create again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from honnin.clients.service import ClientView
from honnin.clock import Clock
from honnin.codes.service import ChallengeState, CodeService
from honnin.courier.service import DeliveryStatus
from honnin.db import Database, Tx
from honnin.destinations.kinds import Destinations
from honnin.errors import NotFound
from honnin.i18n import _
from honnin.limits.service import Requester

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
    def __init__(
        self,
        db: Database,
        clock: Clock,
        codes: CodeService,
        destinations: Destinations | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.codes = codes
        self.destinations = destinations or Destinations()

    async def create(
        self, client: ClientView, *, to: str, channel: str, locale: str
    ) -> VerificationView:
        destination = self.destinations.for_channel(channel, to)
        async with self.db.transaction() as tx:
            sent = await self.codes.send(
                tx,
                purpose=PURPOSE,
                channel=channel,
                destination=destination,
                locale=locale,
                client_id=client.id,
                requester=Requester(client_id=client.id),
                template_params={"app_name": client.name},
            )
        return self._view(sent.challenge, sent.delivery)

    async def check(self, client: ClientView, verification_id: str, code: str) -> VerificationView:
        await self.codes.throttle.attempt(Requester(client_id=client.id))
        async with self.db.transaction() as tx:
            challenge = await self._get(tx, client, verification_id)
            result = await self.codes.check(tx, challenge, code)
            view = self._view(result.challenge, result.delivery)
        if result.error is not None:
            raise result.error
        return view

    async def get(self, client: ClientView, verification_id: str) -> VerificationView:
        async with self.db.transaction(write=False) as tx:
            challenge = await self._get(tx, client, verification_id)
            return self._view(challenge, await self.codes.latest_delivery(tx, challenge))

    async def _get(self, tx: Tx, client: ClientView, verification_id: str) -> ChallengeState:
        try:
            key = uuid.UUID(verification_id)
        except ValueError:
            raise _not_found() from None
        challenge = await self.codes.get(tx, key)
        if challenge is None or challenge.client_id != client.id or challenge.purpose != PURPOSE:
            raise _not_found()
        return challenge

    def _view(self, challenge: ChallengeState, delivery: DeliveryStatus | None) -> VerificationView:
        status = challenge.status
        if status == "pending" and challenge.expires_at <= self.clock.now():
            status = "expired"
        resend_at = self.codes.resend_available_at(challenge) if status == "pending" else None
        return VerificationView(
            id=challenge.id,
            status=status,
            channel=challenge.channel,
            to_hint=challenge.destination_hint,
            created_at=challenge.created_at,
            expires_at=challenge.expires_at,
            send_count=challenge.send_count,
            resend_available_at=resend_at,
            delivery=delivery,
        )
