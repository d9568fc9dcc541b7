"""What a flow shows: the state both the pages and the JSON API render."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from honnin.authenticators.apps import AppView
from honnin.authenticators.passkeys import PasskeyView
from honnin.courier.service import DeliveryStatus


@dataclass(frozen=True)
class OptionView:
    """A way to verify: one piece of security info, shown by its masked hint."""

    id: str
    kind: str  # email, phone; app (an authenticator app: `hint` is its name)
    hint: str
    way: str = ""  # how a code goes to it (email_code, sms_code, call_code), or totp (an app)


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
class WayView:
    """One piece of security info on the security info page."""

    id: uuid.UUID
    kind: str  # email, phone
    hint: str  # in full while the session is fresh, masked after that
    created_at: datetime
    verified_at: datetime | None
    last_used_at: datetime | None
    removal_due_at: datetime | None = None  # its removal is scheduled for then

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


@dataclass(frozen=True)
class NameView:
    kind: str
    hint: str  # in full while the session is fresh


@dataclass(frozen=True)
class PendingView:
    """A change that waits for its time (`security.service.PendingChange`)."""

    id: uuid.UUID
    change: str  # remove_proof
    hint: str  # the way's, as the page shows it (in full while fresh)
    due_at: datetime


@dataclass(frozen=True)
class IntentView:
    """What the person asked for and the flow will do once they verified who they are."""

    change: str  # add_proof, remove_proof, verify
    hint: str | None = None
    last: bool = False  # removing the account's last way to verify: it will wait


@dataclass(frozen=True)
class SignedInView:
    """Where the account is signed in: a browser or an application."""

    id: uuid.UUID
    agent: str | None  # "Chrome on Windows", "API: Example shop"; None: unknown
    ip: str | None
    created_at: datetime
    last_seen_at: datetime | None
    current: bool  # the session looking at the page
    country: str | None = None  # where its IP address is registered (`audit.places`)


@dataclass(frozen=True)
class ActivityView:
    """A line of the account's audit log, as its person sees it."""

    at: datetime
    action: str  # `audit.actions`
    hint: str  # the masked address or number it is about ("" for none)
    ip: str | None
    agent: str | None  # "Chrome on Windows", "API: Example shop"; None: a scheduled job
    country: str | None = None  # where its IP address is registered (`audit.places`)


@dataclass(frozen=True)
class SecurityView:
    fresh: bool  # verified recently enough to see addresses in full and to make changes
    fresh_until: datetime | None
    names: list[NameView]
    ways: list[WayView]
    pending: list[PendingView]
    two_step: bool | None  # None while a recovery waits (nothing of it shows)
    has_password: bool | None
    intent: IntentView | None = None
    sessions: list[SignedInView] = field(default_factory=list)
    time_zone: str | None = None  # the account's, for notices (None: its language's)
    # a recovery waits: the security info is hidden and nothing may change (limited mode)
    recovery: RecoveryView | None = None
    activity: list[ActivityView] = field(default_factory=list)  # the newest lines of its log
    apps: list[AppView] = field(default_factory=list)  # its authenticator apps that count
    passkeys: list[PasskeyView] = field(default_factory=list)
    passkeys_available: bool = False  # this service's address can have passkeys
    ways_to_verify: int = 0  # what two-step verification can use (`security.count_ways`)

    @property
    def verified_ways(self) -> int:
        """Verified addresses and numbers."""
        return sum(1 for way in self.ways if way.verified)


@dataclass(frozen=True)
class AppSetupView:
    """`settings` `add_app`: what the person's app needs, shown while it is set up (never
    again once it counts)."""

    name: str
    secret: str  # base32, in groups of four for typing
    uri: str  # the otpauth:// URI (what the QR code holds; a phone's own app may open it)
    qr_svg: str  # the URI as a QR code, inline SVG


@dataclass(frozen=True)
class RecoveryStepView:
    """`recovery`: the new way asked for, and when it would count."""

    address: str  # as the person typed it (theirs: in full)
    kind: str  # email, phone
    due_at: datetime  # when the wait ends (before it starts: if it started now)
    password_proven: bool


@dataclass(frozen=True)
class RecoveryView:
    """`settings`: the account's recovery that waits (the limited mode)."""

    id: uuid.UUID
    hint: str  # the new way, masked
    due_at: datetime
    can_cancel: bool  # this session verified with one of the account's ways: one click


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
    notice: str | None = None  # what the last action did, to say once (`settings`: "added")
    return_to: str | None = None  # where its pages go once it completes (an application)
    login_hint: str | None = None  # the name its first page starts with
    # a second step because the application asked (`acr_values`), not the account's setting
    asked_by_app: bool = False
    security: SecurityView | None = None  # `settings`: the account's security info
    recovery: RecoveryStepView | None = None  # `recovery`: the new way, the end of the wait
    closing_at: datetime | None = None  # a closed account: when it will be deleted
    app_setup: AppSetupView | None = None  # `settings`: the authenticator app being added
    # what `navigator.credentials.get()` (or `.create()`, adding a passkey) is given, as JSON
    webauthn: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"
