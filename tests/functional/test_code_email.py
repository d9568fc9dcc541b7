"""What the code email says, and that it is a standards-clean, signed message."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import dkim
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.smtp import Sink

ADDRESS = "emma@example.com"


@pytest.fixture(scope="module")
def dkim_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def settings_overrides(tmp_path: Path, dkim_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(
        dkim_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {
        "dkim_domain": "accountprotection.example.com",
        "dkim_selector": "s2026",
        "dkim_key_file": key_file,
    }


def dns_for(key: rsa.RSAPrivateKey) -> Any:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"s2026._domainkey.accountprotection.example.com." else None

    return lookup


async def send(api: httpx.AsyncClient, sink: Sink, locale: str = "en") -> Any:
    response = await api.post("/api/v1/verifications", json={"to": ADDRESS, "locale": locale})
    assert response.status_code == 201
    return await sink.wait_for(ADDRESS)


async def test_the_dkim_signature_verifies(
    api: httpx.AsyncClient, sink: Sink, dkim_key: rsa.RSAPrivateKey
) -> None:
    mail = await send(api, sink)
    assert mail.message["DKIM-Signature"] is not None
    assert dkim.verify(mail.data, dnsfunc=dns_for(dkim_key))


async def test_a_changed_message_fails_dkim(
    api: httpx.AsyncClient, sink: Sink, dkim_key: rsa.RSAPrivateKey
) -> None:
    mail = await send(api, sink)
    tampered = mail.data.replace(b"Subject: Example", b"Subject: Exampel", 1)
    assert tampered != mail.data
    assert not dkim.verify(tampered, dnsfunc=dns_for(dkim_key))


async def test_the_message_is_standards_clean(api: httpx.AsyncClient, sink: Sink) -> None:
    mail = await send(api, sink)
    message = mail.message

    assert message["From"].addresses[0].display_name == "Example account team"
    assert mail.mail_from == "account-security-noreply@accountprotection.example.com"
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@accountprotection.example.com>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())


async def test_the_email_says_where_what_for_how_long_and_that_it_can_be_ignored(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    mail = await send(api, sink)
    text = mail.text

    assert "em*****@example.com" in text
    assert ADDRESS not in text  # the full address is only in the header it was sent to
    assert "verifying this email address" in text
    assert "10 minutes" in text
    assert "you can ignore this email" in text
    assert "Example shop" in text  # the application that asked
    assert mail.code in mail.html
    assert mail.message["Subject"] == "Example security code"


async def test_no_tracking_pixels_or_remote_content(api: httpx.AsyncClient, sink: Sink) -> None:
    html = (await send(api, sink)).html
    assert "<img" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<style" not in html  # inlined, for mail clients that drop style blocks


async def test_the_email_comes_in_japanese(api: httpx.AsyncClient, sink: Sink) -> None:
    mail = await send(api, sink, locale="ja")
    assert mail.message["Subject"] == "Example のセキュリティコード"
    assert mail.message["Content-Language"] == "ja"
    assert "有効期限は10分です" in mail.text
    assert "em*****@example.com" in mail.text
    assert '<html lang="ja">' in mail.html


async def test_a_non_ascii_address_gets_its_code_over_smtputf8(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    response = await api.post("/api/v1/verifications", json={"to": "たろう@example.jp"})
    assert response.status_code == 201, response.text

    mail = await sink.wait_for("たろう@example.jp")

    assert mail.rcpt_tos == ["たろう@example.jp"]
    assert mail.message["To"] == "たろう@example.jp"
    assert mail.code.isdigit()
