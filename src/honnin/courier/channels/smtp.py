"""Email through an SMTP relay (aiosmtplib), with a pool of kept-open connections.

One SMTP connection carries one transaction at a time (~6 ms per message on loopback), so the
channel keeps up to `connections` of them and reuses them between messages. A reused
connection that the server has meanwhile closed is reopened once, transparently.

Each step has its own timeout, as RFC 5321 §4.5.3.2 asks: the connection and greeting, each
command, each block of the message, and — longest — the reply to the final ".", which a relay
may only send once it has taken responsibility for the message. aiosmtplib's `data()` waits
for both of its replies with one timeout, so the message is sent here step by step.

What an attempt comes to (RFC 5321 §4.2.1 for the replies):
- a 2xx to the final "." — accepted; a 4xx to MAIL, RCPT, DATA or the final "." — temporary
  (the mail server asked to try later); a 5xx — permanent;
- trouble before the final "." left us (connection errors, timeouts, a refused greeting or
  login, STARTTLS required but not offered) — unavailable: nothing was delivered, the message
  waits on our side;
- no reply to the final "." in time, or the connection lost while waiting for it — unknown:
  the relay may well have taken the message, and sending it again may deliver it twice.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from honnin.config import Settings, SmtpTarget
from honnin.courier.channels.base import Outcome, Outgoing, Result

_CONNECTION_ERRORS = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPConnectTimeoutError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPNotSupported,
    aiosmtplib.SMTPException,  # e.g. STARTTLS required but not offered
    ssl.SSLError,
    OSError,
)
_BLOCK = 64 * 1024  # bytes of message content written, and drained, at a time


@dataclass(frozen=True)
class SmtpTimeouts:
    """Seconds each step may take (RFC 5321 §4.5.3.2: 5 min, 5 min, 3 min, 10 min)."""

    connect: float = 300.0  # opening the connection and the server's greeting
    command: float = 300.0  # the reply to each command (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA)
    data_block: float = 180.0  # each block of the message to be taken off our hands
    final_reply: float = 600.0  # the reply to the final "."

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTimeouts:
        return cls(
            connect=settings.smtp_connect_timeout_seconds,
            command=settings.smtp_timeout_seconds,
            data_block=settings.smtp_data_timeout_seconds,
            final_reply=settings.smtp_final_reply_timeout_seconds,
        )


class _Unavailable(Exception):
    """The relay could not be reached or would not open a session."""

    def __init__(self, reply: str, code: int | None = None) -> None:
        super().__init__(reply)
        self.reply = reply
        self.code = code


def _classify(code: int, reply: str) -> Result:
    outcome = Outcome.TEMPORARY if 400 <= code < 500 else Outcome.PERMANENT
    return Result(outcome, reply=f"{code} {reply}".strip(), reply_code=code)


class SmtpChannel:
    name = "email"

    def __init__(
        self,
        target: SmtpTarget,
        *,
        require_starttls: bool = False,
        ca_file: Path | None = None,
        timeouts: SmtpTimeouts | None = None,
        connections: int = 16,
    ) -> None:
        self.target = target
        self.require_starttls = require_starttls
        self.timeouts = timeouts or SmtpTimeouts()
        self._tls_context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[aiosmtplib.SMTP] = []

    def describe(self) -> str:
        scheme = "smtps" if self.target.implicit_tls else "smtp"
        return f"{scheme}://{self.target.host}:{self.target.port}"

    async def send(
        self, outgoing: Outgoing, on_the_wire: Callable[[], None] = lambda: None
    ) -> Result:
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                    return await self._transmit(client, outgoing, on_the_wire)
                try:
                    return await self._transmit(client, outgoing, on_the_wire)
                except aiosmtplib.SMTPServerDisconnected:
                    client.close()  # the server closed an idle connection: nothing was sent
                    client = await self._connect()
                    return await self._transmit(client, outgoing, on_the_wire)
            except _Unavailable as error:
                client = None
                return Result(Outcome.UNAVAILABLE, reply=error.reply, reply_code=error.code)
            except _CONNECTION_ERRORS as error:  # before the final ".": nothing was delivered
                if client is not None:
                    client.close()
                    client = None
                return Result(Outcome.UNAVAILABLE, reply=_describe(error))
            except BaseException:  # cancelled (the courier stopping): keep nothing half-sent
                if client is not None:
                    _abort(client)
                    client = None
                raise
            finally:
                if client is not None and client.is_connected:
                    self._idle.append(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        """A ready connection. Any refusal here (a 554 greeting, a 535 login, no STARTTLS) is
        about the relay, not the message: the message waits, however the relay words it."""
        client = aiosmtplib.SMTP(
            hostname=self.target.host,
            port=self.target.port,
            use_tls=self.target.implicit_tls,
            start_tls=True if self.require_starttls else None,  # None: upgrade when offered
            tls_context=self._tls_context,
            timeout=self.timeouts.command,  # EHLO, STARTTLS and AUTH during connect()
        )
        try:
            await client.connect(timeout=self.timeouts.connect)
            if self.target.username:
                await client.login(self.target.username, self.target.password or "")
        except aiosmtplib.SMTPResponseException as error:
            client.close()
            raise _Unavailable(f"relay refused the session: {error.code} {error.message}",
                               error.code) from error  # fmt: skip
        except _CONNECTION_ERRORS as error:
            client.close()
            raise _Unavailable(_describe(error)) from error
        return client

    async def _transmit(
        self, client: aiosmtplib.SMTP, outgoing: Outgoing, on_the_wire: Callable[[], None]
    ) -> Result:
        """One transaction: the envelope and DATA as commands, then the message itself."""
        try:
            await client._ehlo_or_helo_if_needed()  # the extensions decide the options
        except aiosmtplib.SMTPResponseException as error:
            client.close()
            raise _Unavailable(f"relay refused the session: {error.code} {error.message}",
                               error.code) from error  # fmt: skip
        assert isinstance(outgoing.body, bytes)
        payload = normalize_message_line_endings(outgoing.body)
        options = list(outgoing.metadata.get("options", ()))
        utf8 = any(option.upper() == "SMTPUTF8" for option in options)
        if utf8 and not client.supports_extension("smtputf8"):
            return Result(Outcome.PERMANENT, reply="SMTPUTF8 is needed but the relay lacks it")
        if client.supports_extension("size"):
            options.insert(0, f"SIZE={len(payload)}")
        encoding = "utf-8" if utf8 else "ascii"
        timeout = self.timeouts.command
        try:
            await client.mail(outgoing.metadata["sender"], options=options, encoding=encoding,
                              timeout=timeout)  # fmt: skip
            await client.rcpt(outgoing.recipient, encoding=encoding, timeout=timeout)
            ready = await client.execute_command(b"DATA", timeout=timeout)
            if ready.code != 354:
                raise aiosmtplib.SMTPDataError(ready.code, ready.message)
        except aiosmtplib.SMTPResponseException as error:
            await self._reset(client)
            return _classify(error.code, error.message)
        return await self._content(client, PERIOD_REGEX.sub(b"..", payload), on_the_wire)

    async def _content(
        self, client: aiosmtplib.SMTP, wire: bytes, on_the_wire: Callable[[], None]
    ) -> Result:
        """Write the message after a 354, then its final "." on its own, then wait for the reply.

        The "." is handed to the transport only once every block before it was taken off our
        hands, so a block that times out leaves the relay without the end of the message: the
        transport is aborted (closing it would flush what is buffered) and nothing went out.
        Once the "." is handed over, `on_the_wire` is called: from then on the relay may have it.
        """
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        timeouts = self.timeouts
        try:
            for start in range(0, len(wire), _BLOCK):
                protocol.write(wire[start : start + _BLOCK])
                await asyncio.wait_for(protocol._drain_helper(), timeouts.data_block)
        except (TimeoutError, OSError, aiosmtplib.SMTPException) as error:
            _abort(client)
            return Result(
                Outcome.UNAVAILABLE,
                reply=f"the relay did not take the message within {timeouts.data_block:g} s "
                f"(its end was never sent): {_describe(error)}"[:500],
            )
        # aiosmtplib's protocol keeps a reply only while one is expected: expect it before
        # the "." can reach the server (as its own `execute_data_command` does)
        protocol._response_pending = True
        on_the_wire()
        try:
            protocol.write(b".\r\n")
            reply = await protocol.read_response(timeout=timeouts.final_reply)
        except aiosmtplib.SMTPTimeoutError:
            client.close()
            return _unknown(f"no reply to the end of the message within {timeouts.final_reply:g} s")
        except (OSError, aiosmtplib.SMTPException) as error:
            client.close()
            return _unknown(f"no reply to the end of the message: {_describe(error)}")
        if reply.code != 250:
            return _classify(reply.code, reply.message)
        return Result(Outcome.ACCEPTED, reply=f"250 {reply.message}".strip(), reply_code=250)

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        """Leave the connection clean for the next message after a refused transaction."""
        try:
            await client.rset(timeout=self.timeouts.command)
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


def _abort(client: aiosmtplib.SMTP) -> None:
    """Drop the connection and whatever is still buffered for it (`close()` would send it)."""
    if isinstance(client.transport, asyncio.WriteTransport):
        client.transport.abort()
    client.close()


def _unknown(why: str) -> Result:
    return Result(Outcome.UNKNOWN, reply=f"{why}: the relay may have taken it"[:500])


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:500]
