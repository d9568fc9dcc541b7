"""What a flow shows: the state both the pages and the JSON API render."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from honnin.courier.service import DeliveryStatus


@dataclass(frozen=True)
class OptionView:
    """A way to verify: one piece of security info, shown by its masked hint."""

    id: str
    kind: str
    hint: str
    way: str = ""  # how a code goes to it: email_code, sms_code, call_code


@dataclass(frozen=True)
class CodeStep:
    """Where the current code went, until when it works, when another can be sent.

    `usable` is False once the code has expired or its wrong tries burned it
    (`attempts_remaining` 0): the person then needs a new code (for a burned one at once: the
    code engine waives the resend cooldown, so `resend_available_at` has passed)."""

    purpose: str
    destination_hint: str
    expires_at: datetime
    resend_available_at: datetime
    delivery: DeliveryStatus | None
    attempts_remaining: int
    usable: bool
    channel: str = "email"  # how the newest code went: email, sms, call
    call_offer_at: datetime | None = None  # when "call me instead" is offered (None: never)

    @property
    def burned(self) -> bool:
        return self.attempts_remaining == 0


@dataclass(frozen=True)
class FlowView:
    id: uuid.UUID
    kind: str
    state: str
    locale: str
    expires_at: datetime
    actions: list[str]
    name: str | None = None
    name_hint: str | None = None  # the name masked: where "email me a code" would send it
    shown_name: str | None = None  # the name as its holder writes it (090-1234-5678)
    options: list[OptionView] = field(default_factory=list)
    chosen: OptionView | None = None
    code: CodeStep | None = None
    session_id: uuid.UUID | None = None
    ways: list[str] = field(default_factory=list)  # codes the name can get instead of a password

    @property
    def done(self) -> bool:
        return self.state == "done"
