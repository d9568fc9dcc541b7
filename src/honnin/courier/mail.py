"""The messages we send, as bytes for the wire (RFC 5322, RFC 3834, RFC 2045-2049).

multipart/alternative with a text and an HTML part, UTF-8, a `Date`, a `Message-ID` on the
sender's domain, a `From` with a display name, `Auto-Submitted: auto-generated` (so
auto-responders stay quiet), and `Content-Language`; DKIM-signed when a key is configured.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from email.utils import format_datetime, parseaddr
from typing import Any

from honnin.courier import mime
from honnin.courier.addresses import ascii_address, needs_smtputf8
from honnin.courier.channels.base import Outgoing
from honnin.courier.dkim import DkimSigner
from honnin.courier.render import Brand, RenderedEmail, render_email


def compose(
    rendered: RenderedEmail,
    *,
    mail_from: str,
    recipient: str,
    locale: str,
    now: datetime,
) -> tuple[bytes, str]:
    """The message and its Message-ID."""
    display_name, from_address = parseaddr(mail_from)
    domain = from_address.rpartition("@")[2]
    # 96 random bits: unique, and short enough that the header is never folded
    message_id = f"<{secrets.token_hex(12)}@{domain}>"
    # Without SMTPUTF8 the header must carry the ASCII (IDNA) form of the domain.
    to = recipient if needs_smtputf8(recipient) else ascii_address(recipient)
    headers = [
        ("From", mime.mailbox(display_name, from_address)),
        ("To", to),
        ("Subject", mime.header_text(rendered.subject)),
        ("Date", format_datetime(now)),
        ("Message-ID", message_id),
        ("Content-Language", locale),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
    ]
    # Japanese text is far shorter in base64 than in quoted-printable.
    encoding = "base64" if locale == "ja" else "quoted-printable"
    return mime.alternative(headers, rendered.text, rendered.html, encoding=encoding), message_id


class EmailComposer:
    """Composes the `email` channel's messages: render, compose, sign."""

    def __init__(self, brand: Brand, mail_from: str, signer: DkimSigner | None) -> None:
        self.brand = brand
        self.mail_from = mail_from
        self.sender = parseaddr(mail_from)[1]
        self.signer = signer

    def compose(
        self,
        *,
        template: str,
        locale: str,
        params: dict[str, Any],
        recipient: str,
        now: datetime,
    ) -> Outgoing:
        rendered = render_email(template, locale, params, self.brand)
        data, message_id = compose(
            rendered, mail_from=self.mail_from, recipient=recipient, locale=locale, now=now
        )
        if self.signer is not None:
            data = self.signer.sign(data) + data
        options = ("SMTPUTF8",) if needs_smtputf8(recipient) else ()
        return Outgoing(
            ascii_address(recipient),
            data,
            {"sender": self.sender, "options": options},
            reference=message_id,
        )
