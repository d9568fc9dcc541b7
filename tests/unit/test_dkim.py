from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from honnin.courier.dkim import DkimSigner

MESSAGE = (
    b"From: Example account team <noreply@example.com>\r\n"
    b"To: emma@example.org\r\n"
    b"Subject: Example security code\r\n"
    b"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <abc@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Security code: 123456\r\n"
)


def keypair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_signatures_verify_with_dkimpy_and_fail_when_changed() -> None:
    pem, record = keypair()
    signed = DkimSigner("example.com", "s1", pem).sign(MESSAGE) + MESSAGE

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.example.com."
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"123456", b"654321"), dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"emma@", b"mallory@"), dnsfunc=dns)


def test_from_is_over_signed() -> None:
    pem, _record = keypair()
    header = DkimSigner("example.com", "s1", pem).sign(MESSAGE)
    signed_headers = header.split(b"h=")[1].split(b";")[0].replace(b"\r\n", b"")
    assert signed_headers.count(b"from") == 2
