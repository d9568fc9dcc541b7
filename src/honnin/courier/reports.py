"""Delivery reports: what a provider says about a message after it took it.

A text message's provider reports whether the carrier delivered it to the phone, a call's
whether it was answered. Each report is a line of the message's timeline (with the provider's
raw code); a final one (delivered, undelivered, failed) also sets the message's status, so that
the verification API's `delivery.status` and the "didn't get it?" help say what happened.

Reports and the courier's own record race: a provider may report delivery before the courier
has written down that it accepted the message. So the latest final report is also kept in
`reported_status`, which the courier's record of the acceptance takes over; and a report never
changes a message that is still being sent or waiting for another attempt.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select, update

from honnin.clock import Clock
from honnin.courier.models import Message, MessageEvent, MessageStatus, Trouble
from honnin.db import Database, table_of

log = logging.getLogger("honnin.courier")
_messages = table_of(Message)
_m = _messages.c


class Reported(StrEnum):
    PROGRESS = "progress"  # on its way (sent to the carrier, ringing): a timeline line only
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # the carrier could not deliver it
    FAILED = "failed"  # the provider could not send it on to a carrier


# what each final report makes of the message
_STATUS = {
    Reported.DELIVERED: MessageStatus.DELIVERED,
    Reported.UNDELIVERED: MessageStatus.UNDELIVERED,
    Reported.FAILED: MessageStatus.FAILED,
}
# a message in one of these has been taken by a provider: a report may set its status
_TAKEN = (
    MessageStatus.ACCEPTED, MessageStatus.UNKNOWN, MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED, MessageStatus.FAILED,
)  # fmt: skip


@dataclass(frozen=True)
class Report:
    message_id: uuid.UUID
    reported: Reported
    detail: str  # the provider's words and raw status, for support
    code: int | None = None  # the provider's numeric code (Twilio's 30007, Kannel's 16)
    reason: str | None = None  # a key of `honnin.courier.reasons`, when it did not arrive
    reference: str | None = None  # the provider's id of the message


class DeliveryReports:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, report: Report, via: str) -> bool:
        """Write a report in one transaction; False if no such message (pruned, or never ours)."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = (
                await tx.session.execute(
                    select(_m.status, _m.provider_ref)
                    .where(_m.id == report.message_id)
                    .with_for_update()
                )
            ).one_or_none()
            if row is None:
                return False
            await tx.session.execute(
                insert(table_of(MessageEvent)),
                {
                    "message_id": report.message_id,
                    "at": now,
                    "kind": str(report.reported),
                    "reply_code": report.code,
                    "detail": report.detail[:1000],
                    "via": via[:100],
                },
            )
            status = _STATUS.get(report.reported)
            if status is None:
                return True
            values: dict[str, object] = {
                "reported_status": status,
                "last_reply": report.detail[:1000],
                "reason": report.reason,
                "updated_at": now,
            }
            if row.status in _TAKEN:  # final: nothing is sent again, its code is not kept
                trouble = None if status is MessageStatus.DELIVERED else Trouble.PROVIDER
                values.update(status=status, trouble=trouble, next_attempt_at=None, sealed=None)
            if report.reference and not row.provider_ref:
                values["provider_ref"] = report.reference[:64]
            await tx.session.execute(
                update(_messages).where(_m.id == report.message_id).values(values)
            )
        log.info("courier: message %s reported %s: %s", report.message_id, report.reported,
                 report.detail)  # fmt: skip
        return True
