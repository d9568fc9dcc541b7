"""The interface every channel implements, and what a send attempt can come to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


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


@dataclass(frozen=True)
class Outgoing:
    """A rendered message, ready for the wire."""

    sender: str
    recipient: str
    data: bytes
    options: tuple[str, ...] = field(default=())


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
