"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from honnin.api.actions import Code, EmailAddress
from honnin.courier.service import DeliveryStatus
from honnin.i18n import Locale
from honnin.verifications.service import VerificationView


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerificationCreate(Strict):
    to: EmailAddress = Field(description="The email address to send a code to.")
    channel: Literal["email"] = "email"
    locale: Locale | None = Field(
        None, description="Language of the message; defaults to the request's Accept-Language."
    )


class VerificationCheck(Strict):
    code: Code


class Delivery(BaseModel):
    status: Literal["queued", "sending", "accepted", "deferred", "unknown", "failed"] = Field(
        description="`unknown`: the message went out but the relay never confirmed it; it may "
        "have arrived, and is sent once more only while its code is unused and newest."
    )
    attempts: int
    updated_at: datetime
    next_attempt_at: datetime | None
    last_reply: str | None = Field(description="The relay's last reply, e.g. '250 2.0.0 OK'.")
    trouble: Literal["our_side", "mail_server"] | None = Field(
        None,
        description="Where a deferred or failed message is stuck: `our_side` — our mail relay "
        "could not be reached (the message waits with us, or could not be sent in time); "
        "`mail_server` — the mail server answered try again later (4xx) or refused it (5xx).",
    )

    @classmethod
    def of(cls, status: DeliveryStatus) -> Delivery:
        return cls.model_validate(status, from_attributes=True)


class Verification(BaseModel):
    id: str
    status: Literal["pending", "approved", "expired", "canceled"]
    channel: Literal["email"]
    to_hint: str = Field(description="The destination, masked: em*****@example.com")
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


# refused by `honnin.http.body_limit` before any route runs, on every operation
BODY_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {
        "model": Problem,
        "description": "body_too_large: the body is over HONNIN_MAX_BODY_BYTES (64 KiB by default)",
    }
}
