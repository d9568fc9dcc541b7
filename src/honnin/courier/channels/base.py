"""The interface every channel implements, and what a send attempt can come to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # the relay/provider took responsibility for it
    TEMPORARY = "temporary"  # the relay answered "try again later" (4xx) about this message
    UNAVAILABLE = "unavailable"  # the relay could not be reached or would not open a session:
    # nothing was said about the message, which waits on our side
    UNKNOWN = "unknown"  # the message went out but no answer came: it may have been taken
    PERMANENT = "permanent"  # never going to work (5xx)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reply: str
    reply_code: int | None = None
    reference: str | None = None  # the provider's id of the message (a Twilio SID)
    reason: str | None = None  # why it was refused, in plain words (`honnin.courier.reasons`)


@dataclass(frozen=True)
class Outgoing:
    """A message composed for its channel, ready for the wire; the same shape on every channel.

    `body`: an email's RFC 5322 bytes, a text message's text, a call's TwiML. `metadata`: what
    the channel needs beside it (an email's envelope sender and SMTP options, the language of
    a call). `reference`: how the message names itself on the wire (an email's Message-ID),
    kept in its timeline."""

    recipient: str
    body: bytes | str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reference: str | None = None
    key: str = ""  # our id of the message, which a provider's delivery reports name


class Channel(Protocol):
    name: str

    def describe(self) -> str:
        """Where this channel sends, for the timeline (no credentials)."""
        ...

    async def send(
        self, outgoing: Outgoing, on_the_wire: Callable[[], None] = lambda: None
    ) -> Result:
        """Send it; call `on_the_wire` once the recipient's side may have it, so that an attempt
        cut short after that (the courier stopping) is known to be possibly delivered."""
        ...

    async def close(self) -> None: ...
