"""Oversized bodies get 413 as they stream in, before the API key or the form is looked at.

The app is driven at the ASGI level so that the test can count exactly how many body bytes the
server pulled from the client: a declared Content-Length over the limit reads none, a chunked
body reads the limit plus at most one chunk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from honnin.courier.models import Message as OutboxMessage
from honnin.runtime import Runtime
from tests.support.journeys import to_password
from tests.support.pages import PageClient
from tests.support.smtp import Sink

LIMIT = 4096
CHUNK = 1024


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_body_bytes": LIMIT}


@dataclass
class Exchange:
    """One request played against the app, counting the body bytes the app pulled."""

    chunks: Iterator[bytes]
    consumed: int = 0
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    _next: bytes | None = None

    def __post_init__(self) -> None:
        self._next = next(self.chunks, None)

    async def receive(self) -> dict[str, Any]:
        chunk, self._next = self._next, next(self.chunks, None)
        if chunk is None:
            return {"type": "http.disconnect"}
        self.consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self._next is not None}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def stream(chunk: bytes, count: int = 1024) -> Iterator[bytes]:
    """A body of `count` chunks (1 MiB here): without a limit the app would read it all."""
    for _ in range(count):
        yield chunk


async def play(
    app: FastAPI,
    path: str,
    headers: dict[str, str],
    chunks: Iterator[bytes],
    *,
    content_length: int | None = None,
) -> Exchange:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content_length is not None:
        raw.append((b"content-length", str(content_length).encode()))
    else:
        raw.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("192.0.2.10", 50000),
        "server": ("testserver", 443),
        "state": {},
    }
    exchange = Exchange(chunks)
    await app(scope, exchange.receive, exchange.send)
    return exchange


async def queued_messages(runtime: Runtime) -> int:
    async with runtime.db.transaction(write=False) as tx:
        return int(await tx.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


JSON_CHUNK = b'{"to": "' + b"a" * (CHUNK - 8)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("key", ["none", "valid"])
async def test_an_oversized_api_body_gets_413_before_the_key_is_checked(
    app: FastAPI, runtime: Runtime, api_key: str, declared: bool, key: str
) -> None:
    headers = {"content-type": "application/json", "accept-language": "en"}
    if key == "valid":
        headers["authorization"] = f"Bearer {api_key}"
    exchange = await play(
        app,
        "/api/v1/verifications",
        headers,
        stream(JSON_CHUNK),
        content_length=400 * 1024 * 1024 if declared else None,
    )
    assert exchange.status == 413
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.headers["connection"] == "close"
    assert json.loads(exchange.body) == {
        "error": "body_too_large",
        "message": "The request body is too large: send at most 4,096 bytes.",
    }
    # never more than the limit plus the one chunk that crossed it; nothing when it was declared
    assert exchange.consumed == (0 if declared else LIMIT + CHUNK)
    assert await queued_messages(runtime) == 0


async def test_a_body_at_the_limit_is_read_and_judged_as_usual(app: FastAPI) -> None:
    body = b'{"to": "' + b"a" * (LIMIT - 10) + b'"}'
    assert len(body) == LIMIT
    exchange = await play(
        app, "/api/v1/verifications", {"content-type": "application/json"}, iter([body]),
        content_length=LIMIT,
    )  # fmt: skip
    assert exchange.status == 401  # read whole, then refused for the missing key
    assert exchange.consumed == LIMIT


async def test_the_413_of_the_api_speaks_japanese(app: FastAPI) -> None:
    exchange = await play(
        app, "/api/v1/verifications", {"accept-language": "ja"}, stream(JSON_CHUNK)
    )
    assert exchange.status == 413
    assert json.loads(exchange.body) == {
        "error": "body_too_large",
        "message": "リクエストの本文が大きすぎます。4,096バイト以下にして送信してください。",
    }


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "en",
            "What you sent is too large for this page (at most 4,096 bytes). Shorten it and "
            "try again.",
        ),
        (
            "ja",
            "送信された内容が大きすぎます（上限は4,096バイトです）。"
            "短くしてから、もう一度送信してください。",
        ),
    ],
)
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_oversized_form_gets_a_413_page_and_changes_nothing(
    app: FastAPI,
    runtime: Runtime,
    browser: PageClient,
    emma: Any,
    sink: Sink,
    declared: bool,
    language: str,
    message: str,
) -> None:
    password_page = await to_password(browser)
    form = password_page.form("submit_password")
    cookies = "; ".join(f"{k}={v}" for k, v in browser.client.cookies.items())
    chunk = b"action=send_code&way=email_code&csrf=" + form.fields["csrf"].encode() + b"&x="
    chunk += b"a" * (CHUNK - len(chunk))
    exchange = await play(
        app,
        form.action,
        {
            "content-type": "application/x-www-form-urlencoded",
            "cookie": cookies,
            "accept-language": language,
        },
        stream(chunk),
        content_length=LIMIT * 10 if declared else None,
    )
    assert exchange.status == 413
    assert exchange.headers["content-type"] == "text/html; charset=utf-8"
    assert message in re.sub(r"<[^>]+>", "", exchange.body.decode())  # <wbr> between phrases
    assert exchange.consumed == (0 if declared else LIMIT + CHUNK)
    assert await queued_messages(runtime) == 0
    # the flow is where it was: still asking for the password
    again = await browser.get(password_page.path)
    assert again.has("submit_password")
