"""CPU per email of DKIM signing: dkimpy's `dkim.sign` (pure Python RSA) against honnin's
`DkimSigner` (dkimpy's canonicalisation, OpenSSL's RSA through `cryptography`).

    .venv/bin/python bench/dkim_signing.py [--seconds 3]

Both sign the same code email (RSA-2048, relaxed/relaxed, the same signed headers), as
honnin's courier builds it, in English and in Japanese; both signatures are checked with
`dkim.verify` first. For context it also times the rest of the courier's per-message work:
rendering the templates (Jinja2 + CSS inlining; with the same parameters each time, and for a
new recipient each time, in case rendered messages are cached) and writing the MIME. Figures
are CPU time of this process (one core), so another process on the machine slows them less
than wall time.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder is first on sys.path, where a module named `dkim` (here
# and in honnin.courier.dkim) would shadow dkimpy: keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from functools import partial  # noqa: E402
from typing import Any  # noqa: E402

import dkim  # noqa: E402
import dkim.crypto  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402

from honnin.courier.dkim import SIGNED_HEADERS, DkimSigner  # noqa: E402
from honnin.courier.mail import EmailComposer, compose  # noqa: E402
from honnin.courier.render import Brand, RenderedEmail, render_email  # noqa: E402

DOMAIN = b"honnin.example.com"
SELECTOR = b"s2048"
MAIL_FROM = "Honnin account team <account-security-noreply@honnin.example.com>"
RECIPIENT = "emma.watanabe@example.co.jp"
BRAND = Brand("Honnin")
PARAMS: dict[str, Any] = {
    "purpose": "sign_in",
    "purpose_text": "signing in",
    "destination_hint": "em*****@example.co.jp",
    "ttl_minutes": 10,
    "code": "042917",
    "account_hint": "em*****@example.co.jp",
    "app_name": "Example Shop",
}


def keypair() -> tuple[bytes, bytes]:
    """A fresh RSA-2048 key (PEM) and its DNS TXT record."""
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


def message(locale: str) -> bytes:
    """The code email exactly as the courier writes it, unsigned."""
    composer = EmailComposer(BRAND, MAIL_FROM, None)
    outgoing = composer.compose(
        template="code", locale=locale, params=PARAMS, recipient=RECIPIENT, now=datetime.now(UTC)
    )
    assert isinstance(outgoing.body, bytes)
    return outgoing.body


def dkimpy_signer(pem: bytes) -> Callable[[bytes], bytes]:
    """dkimpy's own signing, configured like honnin's (over-signed From, relaxed/relaxed)."""
    headers = [*SIGNED_HEADERS, b"from"]

    def sign(data: bytes) -> bytes:
        signature: bytes = dkim.sign(
            data, SELECTOR, DOMAIN, pem,
            canonicalize=(b"relaxed", b"relaxed"), include_headers=headers,
        )  # fmt: skip
        return signature

    return sign


def check_signatures(record: bytes, signers: dict[str, Callable[[bytes], bytes]]) -> None:
    """Every signer's signature verifies with dkimpy, and fails once the body changes."""
    expected = b"%s._domainkey.%s." % (SELECTOR, DOMAIN)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == expected, name
        return record

    for locale in ("en", "ja"):
        data = message(locale)
        for name, sign in signers.items():
            signed = sign(data) + data
            if not dkim.verify(signed, dnsfunc=dns):
                raise SystemExit(f"{name}: the {locale} signature does not verify")
            if dkim.verify(signed + b"tampered\r\n", dnsfunc=dns):
                raise SystemExit(f"{name}: a changed {locale} message still verifies")
    print(f"both signatures verify with dkim.verify ({', '.join(signers)}; en and ja)")


def cpu_per_call(work: Callable[[], object], seconds: float) -> tuple[float, int]:
    """CPU seconds per call of `work`, run for about `seconds` of CPU after a short warm-up."""
    for _ in range(3):
        work()
    calls = 0
    started = time.process_time()
    while (spent := time.process_time() - started) < seconds:
        work()
        calls += 1
    return spent / calls, calls


def row(name: str, per_call: float, calls: int) -> None:
    print(f"  {name:<38} {per_call * 1000:8.3f} ms {1 / per_call:10.0f} /s  ({calls} calls)")


_recipients = itertools.count()


def render_new_recipient(locale: str) -> RenderedEmail:
    """Rendering as for a recipient not seen before (no cache of rendered messages helps)."""
    params = {**PARAMS, "destination_hint": f"r{next(_recipients)}*****@example.co.jp"}
    return render_email("code", locale, params, BRAND)


def whole_message(signer: DkimSigner, locale: str, now: datetime) -> object:
    """What the courier does per message: render, MIME, sign."""
    params = {**PARAMS, "destination_hint": f"r{next(_recipients)}*****@example.co.jp"}
    return EmailComposer(BRAND, MAIL_FROM, signer).compose(
        template="code", locale=locale, params=params, recipient=RECIPIENT, now=now
    )


def figures(
    locale: str, signers: dict[str, Callable[[bytes], bytes]], signer: DkimSigner, seconds: float
) -> None:
    data = message(locale)
    print(f"\ncode email, {locale}: {len(data)} bytes unsigned (multipart/alternative), "
          "RSA-2048, relaxed/relaxed; CPU per message, messages per CPU-second")  # fmt: skip
    results: dict[str, float] = {}
    for name, sign in signers.items():
        results[name], calls = cpu_per_call(partial(sign, data), seconds)
        row(f"sign: {name}", results[name], calls)
    speedup = results["dkimpy dkim.sign"] / results["honnin DkimSigner"]
    print(f"  honnin's signer is {speedup:.1f}x faster")

    now = datetime.now(UTC)
    per, calls = cpu_per_call(partial(render_email, "code", locale, PARAMS, BRAND), seconds)
    row("render, same parameters each time", per, calls)
    per, calls = cpu_per_call(partial(render_new_recipient, locale), seconds)
    row("render, a new recipient each time", per, calls)
    rendered = render_email("code", locale, PARAMS, BRAND)
    mime = partial(
        compose, rendered, mail_from=MAIL_FROM, recipient=RECIPIENT, locale=locale, now=now
    )
    per, calls = cpu_per_call(mime, seconds)
    row("MIME (compose)", per, calls)
    per, calls = cpu_per_call(partial(whole_message, signer, locale, now), seconds)
    row("all three, a new recipient each time", per, calls)


def rsa_alone(pem: bytes, seconds: float) -> None:
    """The RSA step by itself, to split each signer's cost into RSA and the rest."""
    digest = hashlib.sha256(b"headers")
    parsed = dkim.crypto.parse_pem_private_key(pem)
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    print("\nRSA-2048 PKCS#1 v1.5 over a SHA-256 digest, alone")
    work = partial(dkim.crypto.RSASSA_PKCS1_v1_5_sign, digest, parsed)
    row("dkimpy (pure Python, CRT)", *cpu_per_call(work, seconds))
    work = partial(key.sign, digest.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    row("cryptography (OpenSSL)", *cpu_per_call(work, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per figure")
    args = parser.parse_args()

    pem, record = keypair()
    honnin_signer = DkimSigner(DOMAIN.decode(), SELECTOR.decode(), pem)
    signers = {"dkimpy dkim.sign": dkimpy_signer(pem), "honnin DkimSigner": honnin_signer.sign}
    check_signatures(record, signers)

    rsa_alone(pem, args.seconds)
    for locale in ("en", "ja"):
        figures(locale, signers, honnin_signer, args.seconds)


if __name__ == "__main__":
    main()
