"""Texts and calls of the embedded default: delivered to the dev mailbox, shown like mail.

With no SMS or voice provider configured in dev mode, a newcomer can still sign in with a
phone number: the text (or the script of the call) arrives in the dev mailbox as a plain
email to `+819012345678@sms.honnin.localhost` (or `@call.…`), through the same SMTP channel
as the dev mailbox's mail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid

from honnin.courier import mime
from honnin.courier.channels.base import Outgoing, Result
from honnin.courier.channels.smtp import SmtpChannel

DOMAIN = "honnin.localhost"


class DevPhoneChannel:
    """`channel`: `sms` or `call`; what it would have sent goes to the dev mailbox instead."""

    def __init__(self, channel: str, smtp: SmtpChannel) -> None:
        self.name = channel
        self.smtp = smtp

    def describe(self) -> str:
        return f"dev mailbox ({self.name}, never sent to a phone)"

    async def send(
        self, outgoing: Outgoing, on_the_wire: Callable[[], None] = lambda: None
    ) -> Result:
        assert isinstance(outgoing.body, str)
        what = "Text message" if self.name == "sms" else "Voice call"
        text = outgoing.body if self.name == "sms" else str(outgoing.metadata.get("script", ""))
        address = f"{outgoing.recipient.lstrip('+')}@{self.name}.{DOMAIN}"
        headers = [
            ("From", mime.mailbox(f"Honnin {what.lower()}s", f"{self.name}@{DOMAIN}")),
            ("To", address),
            ("Subject", mime.header_text(f"{what} to {outgoing.recipient}")),
            ("Date", format_datetime(datetime.now(UTC))),
            ("Message-ID", make_msgid(domain=DOMAIN)),
        ]
        data = mime.plain(headers, text)
        return await self.smtp.send(Outgoing(address, data, {"sender": f"{self.name}@{DOMAIN}"}),
                                    on_the_wire)  # fmt: skip

    async def close(self) -> None:
        await self.smtp.close()
