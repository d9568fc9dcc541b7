"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from honnin.courier.service import DeliveryStatus
from honnin.i18n import Locale
from honnin.verifications.service import VerificationView


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerificationCreate(Strict):
    to: str = Field(max_length=320, description="The email address to send a code to.")
    channel: Literal["email"] = "email"
    locale: Locale | None = Field(
        None, description="Language of the message; defaults to the request's Accept-Language."
    )


class VerificationCheck(Strict):
    code: str = Field(max_length=32, description="The code as typed; spaces and dashes are ok.")


class Delivery(BaseModel):
    status: Literal["queued", "sending", "accepted", "deferred", "failed"]
    attempts: int
    updated_at: datetime
    next_attempt_at: datetime | None
    last_reply: str | None = Field(description="The relay's last reply, e.g. '250 2.0.0 OK'.")

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
