"""What SMS and voice providers over HTTP share: a pooled client, and what a failed request
means for the message.

A request that could not be made (no connection, refused, a TLS failure) sent nothing: the
message waits on our side. A request that went out but got no answer in time may have been
taken: unknown, as an SMTP message without a reply to its end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from honnin.courier.channels.base import Outcome, Result
from honnin.courier.reports import Report

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# httpx logs every request's URL at INFO, and Kannel's carries its password and the text (the
# code): never in our logs
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class Forbidden(Exception):
    """A delivery report that does not prove it comes from the provider: refused, unread."""


@dataclass(frozen=True)
class Callback:
    """A delivery report as it reached us: what a provider's channel reads it from."""

    message_id: str
    url: str  # the URL we gave the provider for it, as we gave it (never the request's Host)
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


ReportUrl = Callable[[str], str]
"""The URL a provider reports a message's delivery to, given our id of the message."""


class HttpProvider:
    """A provider reached over HTTP (the base of the Kannel and Twilio channels)."""

    name: str

    def __init__(self, report_url: ReportUrl, key: str = "") -> None:
        self.report_url = report_url
        self.key = key  # its name in its reports' URL (`honnin.courier.providers`)
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        return self._client

    async def request(
        self,
        send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
        on_the_wire: Callable[[], None],
    ) -> httpx.Response | Result:
        """Make the request; a `Result` instead of a response when none came. From the moment
        it starts, the provider may have the message (`on_the_wire`)."""
        on_the_wire()
        try:
            return await send(self.client())
        except (
            httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.PoolTimeout
        ) as error:  # fmt: skip
            return Result(
                Outcome.UNAVAILABLE, f"{self.name} could not be reached: {_describe(error)}"
            )
        except httpx.HTTPError as error:
            # the request may have reached the provider: sending it again may send it twice
            return Result(
                Outcome.UNKNOWN,
                f"no answer from {self.name}: {_describe(error)}; it may have taken the message",
            )

    async def read_report(self, callback: Callback) -> Report:
        raise Forbidden("this channel takes no delivery reports")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def host_of(url: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"
