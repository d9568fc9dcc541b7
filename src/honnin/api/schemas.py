"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from honnin.api.actions import Code, EmailAddress, PhoneNumber
from honnin.courier.service import DeliveryStatus
from honnin.i18n import Locale
from honnin.verifications.service import VerificationView


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Channel = Literal["email", "sms", "call"]
_LOCALE = Field(
    None, description="Language of the message; defaults to the request's Accept-Language."
)


class EmailVerificationCreate(Strict):
    """A code by email (the default channel)."""

    to: EmailAddress = Field(description="The email address to send a code to.")
    channel: Literal["email"] = "email"
    locale: Locale | None = _LOCALE


class PhoneVerificationCreate(Strict):
    """A code by text message (`sms`) or by an automated voice call (`call`).

    Numbers that cannot receive a code (VoIP such as Japan's 050, premium-rate, toll-free, …)
    are refused with `phone_not_accepted` and its `reason`; a landline asked for a text with
    `phone_cannot_text`; a channel this service has no provider for with
    `channel_unavailable`."""

    to: PhoneNumber = Field(description="The phone number to send a code to.")
    channel: Literal["sms", "call"]
    locale: Locale | None = _LOCALE


def _channel_of(body: Any) -> str:
    channel = body.get("channel") if isinstance(body, dict) else getattr(body, "channel", None)
    return "phone" if channel in ("sms", "call") else "email"


VerificationCreate = Annotated[
    Annotated[EmailVerificationCreate, Tag("email")]
    | Annotated[PhoneVerificationCreate, Tag("phone")],
    Discriminator(_channel_of),
]


class VerificationCheck(Strict):
    code: Code


class Delivery(BaseModel):
    status: Literal[
        "queued",
        "sending",
        "accepted",
        "deferred",
        "unknown",
        "failed",
        "delivered",
        "undelivered",
    ] = Field(
        description="`unknown`: the message went out but the relay never confirmed it; it may "
        "have arrived, and is sent once more only while its code is unused and newest. "
        "`delivered` / `undelivered`: what the SMS or voice provider reported after it took "
        "the message (`reason` says why one did not arrive); `failed` also when the provider "
        "reported it could not send it on."
    )
    attempts: int
    updated_at: datetime
    next_attempt_at: datetime | None
    last_reply: str | None = Field(description="The relay's last reply, e.g. '250 2.0.0 OK'.")
    trouble: Literal["our_side", "mail_server", "provider"] | None = Field(
        None,
        description="Where a deferred, failed or undelivered message is stuck: `our_side` — "
        "our mail relay or provider could not be reached (the message waits with us, or could "
        "not be sent in time); `mail_server` — the mail server answered try again later (4xx) "
        "or refused it (5xx); `provider` — the SMS or voice provider, or the carrier behind "
        "it, refused it or could not deliver it.",
    )
    reason: str | None = Field(
        None,
        description="Why a text or a call did not arrive: `invalid_number`, `not_mobile`, "
        "`country_not_enabled`, `opted_out`, `unreachable`, `blocked`, `unknown_number`, "
        "`landline`, `filtered`, `carrier_refused`, `expired`, `no_answer`, `busy`, `unknown`.",
    )

    @classmethod
    def of(cls, status: DeliveryStatus) -> Delivery:
        return cls.model_validate(status, from_attributes=True)


class Verification(BaseModel):
    id: str
    status: Literal["pending", "approved", "expired", "canceled"]
    channel: Channel
    to_hint: str = Field(description="The destination, masked: em*****@example.com, ******78")
    created_at: datetime
    expires_at: datetime
    send_count: int
    resend_available_at: datetime | None
    delivery: Delivery | None

    @classmethod
    def of(cls, view: VerificationView) -> Verification:
        return cls(
            id=str(view.id),
            status=view.status,
            channel=view.channel,
            to_hint=view.to_hint,
            created_at=view.created_at,
            expires_at=view.expires_at,
            send_count=view.send_count,
            resend_available_at=view.resend_available_at,
            delivery=Delivery.of(view.delivery) if view.delivery else None,
        )


class Problem(BaseModel):
    """Every error: a stable machine-readable `error` and a `message` for people."""

    error: str = Field(examples=["invalid_code"])
    message: str
    retry_after: int | None = None
    attempts_remaining: int | None = None
    details: list[dict[str, object]] | None = None
    reason: str | None = Field(
        None, description="With `phone_not_accepted`: why the number can't receive codes."
    )


# refused by `honnin.http.body_limit` before any route runs, on every operation
BODY_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {
        "model": Problem,
        "description": "body_too_large: the body is over HONNIN_MAX_BODY_BYTES (64 KiB by default)",
    }
}
