"""Hand-offs to the local courier, held back until the response that caused them is sent.

A code's message is written in the request's transaction and handed to this process's courier
once it commits. Were the courier to start on it at once, its work — rendering, signing, the
SMTP conversation for a real message, next to nothing for a decoy sent to the void channel —
would share the event loop with the rest of the request, and the response's timing would tell
whether a sign-in name has an account. So, while a request is being answered (`holding()`,
entered by the HTTP layer), hand-offs wait in a list, and are released only once the response
has gone out: for a real message and a decoy alike, the same way, at the same point.

Outside a request (the CLI, tests calling services) a hand-off happens at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_held: ContextVar[list[Callable[[], None]] | None] = ContextVar("courier_held", default=None)


def hand_off(callback: Callable[[], None]) -> None:
    """Run `callback` (which gives the courier work) now, or after the current response."""
    held = _held.get()
    if held is None:
        callback()
    else:
        held.append(callback)


@contextmanager
def holding() -> Iterator[None]:
    """Hold every hand-off made inside this block (and tasks it starts), and release them in
    order when it ends — however it ends: their transactions have committed."""
    held: list[Callable[[], None]] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        for callback in held:
            callback()
