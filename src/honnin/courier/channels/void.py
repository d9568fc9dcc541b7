"""A channel that delivers nowhere, for decoy codes.

A sign-in name without an account still gets a code made, counted and checked (see
honnin.flows.signin). Its message goes here: rendered, composed and signed like a real one by
the same courier, so that the work a server does — and the time its responses take — does not
tell whether the name has an account. Then it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from honnin.courier.channels.base import Outcome, Outgoing, Result

VOID = "void"


def decoy_of(channel: str) -> str:
    """The channel a decoy of `channel` goes to: `void` for mail, `void:sms`, `void:call`."""
    return VOID if channel == "email" else f"{VOID}:{channel}"


def composed_as(channel: str) -> str:
    """The channel whose composer builds a message of `channel` (a decoy: its real one's)."""
    if channel == VOID:
        return "email"
    return channel.removeprefix(f"{VOID}:")


class VoidChannel:
    name = VOID

    def describe(self) -> str:
        return "void (never sent)"

    async def send(
        self, outgoing: Outgoing, on_the_wire: Callable[[], None] = lambda: None
    ) -> Result:
        return Result(Outcome.ACCEPTED, "not sent: no account has this sign-in name")

    async def close(self) -> None:
        return None
