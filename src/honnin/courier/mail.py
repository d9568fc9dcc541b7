"""Standards-clean MIME for the messages we send (RFC 5322, RFC 3834, RFC 2045-2049).

multipart/alternative with a text and an HTML part, UTF-8, a `Date`, a `Message-ID` on the
sender's domain, a `From` with a display name, `Auto-Submitted: auto-generated` (so
auto-responders stay quiet), and `Content-Language`.
"""

from __future__ import annotations

import email.policy
import secrets
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from honnin.courier.channels.base import Outgoing
from honnin.courier.dkim import DkimSigner
from honnin.courier.render import Brand, RenderedEmail, render_email
from honnin.proofs.emails import ascii_address, needs_smtputf8


def compose(
    rendered: RenderedEmail,
    *,
    mail_from: str,
    recipient: str,
    locale: str,
    now: datetime,
) -> tuple[EmailMessage, str]:
    """The message and its Message-ID."""
    display_name, from_address = parseaddr(mail_from)
    domain = from_address.rpartition("@")[2]
    policy = email.policy.SMTPUTF8 if needs_smtputf8(recipient) else email.policy.SMTP
    message = EmailMessage(policy=policy)
    message.make_alternative()
    # Japanese text is far shorter in base64 than in quoted-printable.
    encoding = "base64" if locale == "ja" else "quoted-printable"
    for subtype, content in (("plain", rendered.text), ("html", rendered.html)):
        part = EmailMessage(policy=policy)
        part.set_content(content, subtype=subtype, charset="utf-8", cte=encoding)
        del part["MIME-Version"]  # belongs on the message only
        message.attach(part)
    # 96 random bits: unique, and short enough that the header is never folded
    message_id = f"<{secrets.token_hex(12)}@{domain}>"
    message["From"] = Address(display_name=display_name, addr_spec=from_address)
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["MIME-Version"] = "1.0"
    message["Content-Language"] = locale
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    return message, message_id


class EmailComposer:
    """Turns an outbox row into bytes for the wire: render, compose, sign."""

    def __init__(self, brand: Brand, mail_from: str, signer: DkimSigner | None) -> None:
        self.brand = brand
        self.mail_from = mail_from
        self.sender = parseaddr(mail_from)[1]
        self.signer = signer

    def outgoing(
        self,
        *,
        template: str,
        locale: str,
        params: dict[str, Any],
        recipient: str,
        now: datetime,
    ) -> tuple[Outgoing, str]:
        rendered = render_email(template, locale, params, self.brand)
        message, message_id = compose(
            rendered, mail_from=self.mail_from, recipient=recipient, locale=locale, now=now
        )
        data = message.as_bytes()
        if self.signer is not None:
            data = self.signer.sign(data) + data
        options = ("SMTPUTF8",) if needs_smtputf8(recipient) else ()
        return Outgoing(self.sender, ascii_address(recipient), data, options), message_id
