"""Email through an SMTP relay (aiosmtplib), with a pool of kept-open connections.

One SMTP connection carries one transaction at a time (~6 ms per message on loopback), so the
channel keeps up to `connections` of them and reuses them between messages. A reused
connection that the server has meanwhile closed is reopened once, transparently.

Replies to MAIL, RCPT and DATA map onto outcomes as RFC 5321 §4.2.1 says: 2xx accepted, 4xx
temporary, 5xx permanent. Trouble reaching the relay or opening a session (connection errors,
timeouts, a refused greeting or login, STARTTLS required but not offered) is temporary: it says
nothing about the message.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiosmtplib

from honnin.config import SmtpTarget
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
        timeout: float = 30.0,
        connections: int = 8,
    ) -> None:
        self.target = target
        self.require_starttls = require_starttls
        self.timeout = timeout
        self._tls_context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[aiosmtplib.SMTP] = []

    def describe(self) -> str:
        scheme = "smtps" if self.target.implicit_tls else "smtp"
        return f"{scheme}://{self.target.host}:{self.target.port}"

    async def send(self, outgoing: Outgoing) -> Result:
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                    return await self._transmit(client, outgoing)
                try:
                    return await self._transmit(client, outgoing)
                except aiosmtplib.SMTPServerDisconnected:
                    client = await self._connect()  # the server closed an idle connection
                    return await self._transmit(client, outgoing)
            except _Unavailable as error:
                client = None
                return Result(Outcome.TEMPORARY, reply=error.reply, reply_code=error.code)
            except aiosmtplib.SMTPResponseException as error:
                return _classify(error.code, error.message)
            except _CONNECTION_ERRORS as error:
                if client is not None:
                    client.close()
                    client = None
                return Result(Outcome.TEMPORARY, reply=_describe(error))
            finally:
                if client is not None and client.is_connected:
                    self._idle.append(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        """A ready connection. Any refusal here (a 554 greeting, a 535 login, no STARTTLS) is
        about the relay, not the message: it is temporary, however the relay words it."""
        client = aiosmtplib.SMTP(
            hostname=self.target.host,
            port=self.target.port,
            use_tls=self.target.implicit_tls,
            start_tls=True if self.require_starttls else None,  # None: upgrade when offered
            tls_context=self._tls_context,
            timeout=self.timeout,
        )
        try:
            await client.connect()
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

    async def _transmit(self, client: aiosmtplib.SMTP, outgoing: Outgoing) -> Result:
        try:
            refused, reply = await client.sendmail(
                outgoing.sender, [outgoing.recipient], outgoing.data, mail_options=outgoing.options
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            await self._reset(client)
            return _classify(error.recipients[0].code, error.recipients[0].message)
        except aiosmtplib.SMTPResponseException:
            await self._reset(client)
            raise
        except aiosmtplib.SMTPNotSupported as error:  # e.g. SMTPUTF8 needed, not offered
            await self._reset(client)
            return Result(Outcome.PERMANENT, reply=_describe(error))
        if refused:
            response = next(iter(refused.values()))
            return _classify(response.code, response.message)
        return Result(Outcome.ACCEPTED, reply=f"250 {reply}".strip(), reply_code=250)

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        """Leave the connection clean for the next message after a refused transaction."""
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:500]
