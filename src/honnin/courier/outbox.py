"""Putting messages in the outbox, and taking back ones nobody needs any more.

A message row commits or rolls back with whatever needed it (a code), so a message is never
sent for work that did not happen, and never lost for work that did.

With a courier in this process, the row is written already claimed by it (`Claimed`), and
handed to it once the transaction commits — in a request, once its response has been sent
(honnin.courier.handoff): the fast path costs no further transaction before the send. Should
this process die first, the claim expires and another courier's poller takes the message over.
Without a local courier the row is simply queued, due at once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update

from honnin.clock import Clock
from honnin.courier.handoff import hand_off
from honnin.courier.models import Message, MessageEvent, MessageStatus
from honnin.courier.service import DeliveryStatus
from honnin.crypto import Keyring
from honnin.db import Prepared, Tx, new_id, table_of

_messages = table_of(Message)
_events = table_of(MessageEvent)
_INSERT_MESSAGE = Prepared(insert(_messages))
_INSERT_EVENT = Prepared(insert(_events))
_CANCEL = Prepared(
    update(_messages)
    .where(
        _messages.c.id.in_(bindparam("b_ids", expanding=True)),
        _messages.c.status.in_((MessageStatus.QUEUED, MessageStatus.DEFERRED)),
    )
    .values(
        status=MessageStatus.FAILED,
        sealed=None,
        last_reply=bindparam("b_reason"),
        updated_at=bindparam("b_now"),
    )
    .returning(_messages.c.id)
)
# a message whose outcome is unknown is not failed (it may have arrived); only its retry goes
_DROP_RETRY = Prepared(
    update(_messages)
    .where(
        _messages.c.id.in_(bindparam("b_ids", expanding=True)),
        _messages.c.status == MessageStatus.UNKNOWN,
        _messages.c.next_attempt_at.is_not(None),
    )
    .values(next_attempt_at=None, sealed=None, updated_at=bindparam("b_now"))
    .returning(_messages.c.id)
)


@dataclass(frozen=True)
class Claimed:
    """A message some courier holds the claim on: everything needed to send it."""

    id: uuid.UUID
    token: str
    attempt: int
    channel: str
    recipient: str
    template: str
    locale: str
    params: dict[str, Any]
    sealed: bytes | None
    expires_at: datetime | None
    provider: int = 0  # which of the channel's providers has it (`Message.provider`)


@dataclass(frozen=True)
class LocalCourier:
    """What the outbox needs to know of the courier running in this process."""

    actor: str
    claim_ttl: timedelta
    notify: Callable[[Claimed], None]


class Outbox:
    def __init__(self, keyring: Keyring, clock: Clock) -> None:
        self.keyring = keyring
        self.clock = clock
        self.courier: LocalCourier | None = None

    async def enqueue(
        self,
        tx: Tx,
        *,
        channel: str,
        recipient: str,
        template: str,
        locale: str,
        params: dict[str, Any],
        secret_params: bytes | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[uuid.UUID, DeliveryStatus]:
        """Write a message; `secret_params` (a code) are sealed: readable only by the courier.

        Returns its id and its delivery status as written (queued, or sending here)."""
        now = self.clock.now()
        message_id = new_id()
        sealed = self.keyring.seal(secret_params, str(message_id)) if secret_params else None
        row: dict[str, Any] = {
            "id": message_id,
            "channel": channel,
            "recipient": recipient,
            "template": template,
            "locale": locale,
            "params": params,
            "sealed": sealed,
            "created_at": now,
            "updated_at": now,
            "expires_at": expires_at,
        }
        courier = self.courier
        if courier is None:
            row.update(status=MessageStatus.QUEUED, attempts=0, next_attempt_at=now)
        else:
            token = secrets.token_hex(16)
            row.update(
                status=MessageStatus.SENDING,
                attempts=1,
                claim_token=token,
                claimed_by=courier.actor,
                claim_expires_at=now + courier.claim_ttl,
                next_attempt_at=now,
            )
            claimed = Claimed(
                message_id, token, 1, channel, recipient, template, locale, params, sealed,
                expires_at,
            )  # fmt: skip
            # to the courier once committed, and once the response that caused it is sent
            tx.after_commit(lambda: hand_off(lambda: courier.notify(claimed)))
        await tx.run(_INSERT_MESSAGE, row)
        return message_id, DeliveryStatus(row["status"], row["attempts"], now)

    async def cancel_unsent(self, tx: Tx, ids: list[uuid.UUID], reason: str) -> None:
        """Fail the messages among `ids` that have not gone out yet, and erase their secrets;
        drop the retry of those whose one attempt went out unanswered (status `unknown`).

        One in flight right now (`sending`) is left alone: it may already be on the wire.
        """
        if not ids:
            return
        now = self.clock.now()
        result = await tx.run(_CANCEL, {"b_ids": ids, "b_reason": reason, "b_now": now})
        events = [
            {"message_id": i, "at": now, "kind": "failed", "detail": reason}
            for i in result.scalars()
        ]
        dropped = await tx.run(_DROP_RETRY, {"b_ids": ids, "b_now": now})
        events += [
            {"message_id": i, "at": now, "kind": "retry_cancelled",
             "detail": f"not sent again: {reason}"}
            for i in dropped.scalars()
        ]  # fmt: skip
        if events:
            await tx.run(_INSERT_EVENT, events)
