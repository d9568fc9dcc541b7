"""The dev mailbox: a loopback SMTP server for the embedded default, and its reader.

Mail reaches it through the same SMTP channel as in production. It is kept in a Maildir in
the data folder, so that every process (server workers, CLI) sees the same mail and it
survives restarts. Never on outside dev mode.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from honnin.private_files import FILE_MODE, private_dir


def _maildir(root: Path) -> mailbox.Maildir:
    """The Maildir, its folders 0700: the mail in it holds codes in clear."""
    for sub in ("tmp", "new", "cur"):
        private_dir(root / sub)
    return mailbox.Maildir(root, create=False)


class _MaildirHandler:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        box = _maildir(self.root)
        key = box.add(envelope.original_content or envelope.content)
        # `mailbox` creates files 0666 less the umask; the folders kept them private meanwhile
        os.chmod(self.root / "new" / key, FILE_MODE)
        return "250 2.0.0 stored in the dev mailbox"


def start_dev_smtp(root: Path, host: str, port: int) -> Controller:
    """Start the dev SMTP server in a background thread; `stop()` the result to end it."""
    _maildir(root)
    controller = Controller(
        _MaildirHandler(root), hostname=host, port=port, decode_data=False, enable_SMTPUTF8=True
    )
    controller.start()
    return controller


@dataclass(frozen=True)
class MailSummary:
    key: str
    received_at: datetime
    sender: str
    recipient: str
    subject: str


@dataclass(frozen=True)
class MailDetail:
    summary: MailSummary
    headers: list[tuple[str, str]]
    text: str
    html: str | None


class DevMailbox:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _box(self) -> mailbox.Maildir:
        return _maildir(self.root)

    def list(self, limit: int = 100) -> list[MailSummary]:
        """Newest first."""
        box = self._box()
        summaries = []
        for key in box.iterkeys():
            parsed = self._parse(box.get_bytes(key))
            summaries.append(self._summary(key, parsed, box.get_message(key).get_date()))
        summaries.sort(key=lambda s: s.received_at, reverse=True)
        return summaries[:limit]

    def get(self, key: str) -> MailDetail | None:
        box = self._box()
        try:
            raw = box.get_bytes(key)
        except KeyError:
            return None
        parsed = self._parse(raw)
        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        return MailDetail(
            summary=self._summary(key, parsed, box.get_message(key).get_date()),
            headers=[(name, str(value)) for name, value in parsed.items()],
            text=text_part.get_content() if text_part else "",
            html=html_part.get_content() if html_part else None,
        )

    @staticmethod
    def _parse(raw: bytes) -> EmailMessage:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    @staticmethod
    def _summary(key: str, message: EmailMessage, delivered: float) -> MailSummary:
        """`delivered` is when the Maildir received it (not the sender's Date header)."""
        return MailSummary(
            key=key,
            received_at=datetime.fromtimestamp(delivered, UTC),
            sender=str(message.get("From", "")),
            recipient=str(message.get("To", "")),
            subject=str(message.get("Subject", "")),
        )
