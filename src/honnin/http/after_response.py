"""Give the courier a request's messages only once its response has been sent.

See honnin.courier.handoff: whatever the courier does for a message (and it does different
things for a real message and for a decoy) must not run while the response is being made, or
the response's timing tells whether a sign-in name has an account. This middleware sits
outside every other one, so the response has been written out when the block ends.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from honnin.courier.handoff import holding


class CourierAfterResponse:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with holding():
            await self.app(scope, receive, send)
