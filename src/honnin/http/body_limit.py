"""Refuse oversized request bodies with 413 while they stream in, before anything reads them.

Without a limit a client could make the server buffer hundreds of megabytes before the API key
or the form's CSRF token is even looked at. This middleware sits outside every route (so outside
authentication): a declared `Content-Length` over the limit is refused without reading a byte,
and a body without one (chunked) is counted as the app pulls it and refused at the first chunk
that crosses the limit, so at most one chunk past the limit is ever read.

The refusal is the same as every other error of its side: a JSON problem under /api/, a page
in the reader's language elsewhere.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from honnin.api.errors import problem, request_locale
from honnin.i18n import _
from honnin.web.errors import error_page
from honnin.web.templating import page_locale


class BodyTooLarge(HTTPException):
    """Raised into the app from `receive`: it stops reading; the middleware then answers."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return

        consumed = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal consumed, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                consumed += len(message.get("body", b""))
                if consumed > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's own answer to the interrupted read: ours replaces it
            started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        limit = f"{self.max_bytes:,}"
        response: Response
        if scope["path"].startswith("/api/"):
            text = _("The request body is too large: send at most {limit} bytes.", limit=limit)
            response = problem(413, "body_too_large", text.render(request_locale(request)))
        else:
            text = _(
                "What you sent is too large for this page (at most {limit} bytes). Shorten it "
                "and try again.",
                limit=limit,
            )
            response = error_page(request, 413, text.render(page_locale(request)))
        response.headers["connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
