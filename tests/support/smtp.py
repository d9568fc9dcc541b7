"""A real SMTP server on loopback (aiosmtpd) that tests send to and read from.

It can be told to refuse the next messages (4xx/5xx at RCPT or DATA), to hold a message in
DATA (a courier killed mid-send), to take a message but answer its end slowly (a slow relay),
to be down and back up, and to offer or require STARTTLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import re
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

# a code as mails show it: 6 to 8 digits on their own — not a run of digits inside a link's
# token (`/account/secure/…?token=3fa9123456…`)
CODE = re.compile(r"(?<![0-9A-Za-z_\-/=?&%.])(\d{6,8})(?![0-9A-Za-z_\-])")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    at: float
    tls: bool

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())

    @property
    def code(self) -> str:
        """The security code, read from the text part the way a person would."""
        line = next(line for line in self.text.splitlines() if CODE.search(line))
        match = CODE.search(line)
        assert match is not None
        return match.group(1)


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_EHLO(  # noqa: N802
        self, server: SMTP, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.sink.lock:
            self.sink.ehlo_count += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await self._held("RCPT")
        with self.sink.lock:
            reply = self.sink.rcpt_replies.popleft() if self.sink.rcpt_replies else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def _held(self, stage: str) -> None:
        if self.sink.hold_at != stage:
            return
        self.sink.holding.set()
        while not self.sink.release.is_set():
            await asyncio.sleep(0.01)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # noqa: N802
        await self._held("DATA")
        with self.sink.lock:
            reply = self.sink.data_replies.popleft() if self.sink.data_replies else None
        if reply:
            return reply
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.sink.lock:
            self.sink.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    raw,
                    parsed,
                    time.time(),
                    session.ssl is not None,
                )
            )
        with self.sink.lock:  # taken, but the relay is slow to say so: until the test says
            slow = self.sink.slow_answers > 0
            self.sink.slow_answers -= slow
        while slow and not self.sink.answer.is_set():
            await asyncio.sleep(0.01)
        return "250 2.0.0 OK: queued as test"


class Sink:
    def __init__(
        self,
        port: int | None = None,
        *,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.tls_context = tls_context
        self.require_starttls = require_starttls
        self.credentials = credentials
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.rcpt_replies: deque[str] = deque()
        self.data_replies: deque[str] = deque()
        self.ehlo_count = 0
        self.hold_at: str | None = None
        self.slow_answers = 0  # the next messages taken, but their "." answered only once…
        self.answer = threading.Event()  # …this is set
        self.holding = threading.Event()
        self.release = threading.Event()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> Sink:
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=self.require_starttls)
        if self.credentials is not None:
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            enable_SMTPUTF8=True,
            ready_timeout=5,
            **kwargs,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self.release.set()
            self.answer.set()
            self._controller.stop()
            self._controller = None

    def _authenticate(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.credentials is not None
        given = (data.login.decode(), data.password.decode())
        return AuthResult(success=given == self.credentials, handled=False)

    def refuse_next(self, reply: str, *, at: str = "DATA") -> None:
        with self.lock:
            (self.data_replies if at == "DATA" else self.rcpt_replies).append(reply)

    def hold(self, at: str = "RCPT") -> None:
        """Keep the next transactions waiting at `at` (RCPT or DATA) until `release.set()`."""
        self.holding.clear()
        self.release.clear()
        self.hold_at = at

    def answer_slowly(self, count: int = 1) -> None:
        """Take the next `count` messages but answer their end only once `answer.set()`."""
        self.answer.clear()
        with self.lock:
            self.slow_answers = count

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> Received:
        """The `count`-th message to `address`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.to(address)
            if len(mails) >= count:
                return mails[count - 1]
            await asyncio.sleep(0.01)
        raise AssertionError(f"no message #{count} for {address} within {timeout}s")

    def with_codes(self, address: str) -> list[Received]:
        """The messages to `address` that carry a code (notices of changes carry none)."""
        return [mail for mail in self.to(address) if _has_code(mail)]

    async def wait_for_code(self, address: str, count: int = 1, timeout: float = 10.0) -> str:
        """The code of the `count`-th message with a code to `address`: notices (a new sign-in,
        a change of security info) arrive in between, in any order."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.with_codes(address)
            if len(mails) >= count:
                return mails[count - 1].code
            await asyncio.sleep(0.01)
        got = [m.message["Subject"] for m in self.to(address)]
        raise AssertionError(f"no code #{count} for {address} within {timeout}s; got {got}")


def _has_code(mail: Received) -> bool:
    try:
        return any(CODE.search(line) for line in mail.text.splitlines())
    except (AssertionError, KeyError):
        return False


class StallingRelay:
    """A relay that answers up to DATA's 354, then reads nothing more until `release` is set
    (its buffers full, the client's writes stall); then it reads to the end of the connection
    and notes whether the message's final "." ever came. A small receive buffer keeps what
    the kernel takes off the client's hands small."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.done = threading.Event()
        self.bytes_after_354 = 0
        self.got_end = False
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen()
        self.port = int(self._server.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        try:
            conn, _ = self._server.accept()
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"220 stalling relay ESMTP\r\n")
                while (line := lines.readline()) and line[:4].upper() != b"DATA":
                    conn.sendall(b"250 OK\r\n")
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.release.wait()
                data = bytearray()
                with contextlib.suppress(OSError):
                    while chunk := lines.read1(1 << 20):
                        data += chunk
                        if data.endswith(b"\r\n.\r\n"):
                            self.got_end = True
                            conn.sendall(b"250 2.0.0 OK: queued as test\r\n")
                self.bytes_after_354 = len(data)
                self.got_end = self.got_end or data.endswith(b"\r\n.\r\n")
        finally:
            self._server.close()
            self.done.set()

    def stop(self) -> None:
        self.release.set()
        self.done.wait(10)
