"""Putting a message in the outbox, inside the caller's transaction.

The row commits or rolls back with whatever needed the message (a code, a notice), so a
message is never sent for work that did not happen, and never lost for work that did. Once
the transaction commits, the in-process courier is told at once (the fast path); if nobody is
listening, a courier's poller finds the row after `FAST_PATH_GRACE`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from honnin.clock import Clock
from honnin.courier.models import Message, MessageEvent, MessageStatus
from honnin.crypto import Keyring
from honnin.db import Tx

FAST_PATH_GRACE = timedelta(seconds=5)

Notifier = Callable[[uuid.UUID], None]


class Outbox:
    def __init__(self, keyring: Keyring, clock: Clock) -> None:
        self.keyring = keyring
        self.clock = clock
        self.notifier: Notifier | None = None

    async def enqueue(
        self,
        tx: Tx,
        *,
        channel: str,
        recipient: str,
        template: str,
        locale: str,
        params: dict[str, Any],
        secrets: bytes | None = None,
        expires_at: datetime | None = None,
    ) -> Message:
        now = self.clock.now()
        message_id = uuid.uuid4()
        notifier = self.notifier
        # With a courier in this process, other couriers' pollers leave the row to it for a
        # moment; without one, the row is due for any poller at once.
        due_at = now + FAST_PATH_GRACE if notifier is not None else now
        message = Message(
            id=message_id,
            channel=channel,
            recipient=recipient,
            template=template,
            locale=locale,
            params=params,
            sealed=self.keyring.seal(secrets, str(message_id)) if secrets else None,
            status=MessageStatus.QUEUED,
            attempts=0,
            created_at=now,
            updated_at=now,
            next_attempt_at=due_at,
            expires_at=expires_at,
        )
        tx.session.add(message)
        tx.session.add(MessageEvent(message_id=message_id, at=now, kind="queued"))
        if notifier is not None:
            tx.after_commit(lambda: notifier(message_id))
        return message
