"""Authenticator apps' codes (RFC 6238) at fixed times: drift, replay, typing, sealing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.exceptions import InvalidTag

from honnin.authenticators import totp
from honnin.crypto import Keyring

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 12, 3, 9, 0, 15, tzinfo=UTC)  # 15 s into its step


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET).at(moment)


def test_the_rfc_6238_vector() -> None:
    """RFC 6238 appendix B, SHA-1, T = 59 s: 94287082, whose last 6 digits apps show."""
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    moment = datetime.fromtimestamp(59, UTC)
    assert totp.accepted_step(rfc_secret, "287082", moment, None) == 1


@pytest.mark.parametrize(("shift", "accepted"), [(0, True), (-30, True), (30, True),
                                                 (-60, False), (60, False)])  # fmt: skip
def test_one_step_of_drift_either_side(shift: int, accepted: bool) -> None:
    code = code_at(NOW + timedelta(seconds=shift))
    step = totp.accepted_step(SECRET, code, NOW, None)
    assert (step is not None) is accepted
    if accepted:
        assert step == totp.step_at(NOW) + shift // 30


def test_a_code_once_accepted_is_refused_and_so_is_an_older_one() -> None:
    code = code_at(NOW)
    step = totp.accepted_step(SECRET, code, NOW, None)
    assert step is not None
    assert totp.accepted_step(SECRET, code, NOW, step) is None  # replayed
    earlier = code_at(NOW - timedelta(seconds=30))
    assert totp.accepted_step(SECRET, earlier, NOW, step) is None  # older than the last
    later = code_at(NOW + timedelta(seconds=30))  # the phone's clock runs ahead: still one
    assert totp.accepted_step(SECRET, later, NOW, step) == step + 1


@pytest.mark.parametrize("typed", ["{0} {1}", "{0}-{1}", "{2}"])
def test_a_code_is_read_as_people_type_it(typed: str) -> None:
    code = code_at(NOW)
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    shown = typed.format(code[:3], code[3:], wide)
    assert totp.accepted_step(SECRET, shown, NOW, None) == totp.step_at(NOW)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "000000"])
def test_anything_else_is_refused(typed: str) -> None:
    if typed == code_at(NOW):
        pytest.skip("the random code happens to be it")
    assert totp.accepted_step(SECRET, typed, NOW, None) is None


def test_a_new_secret_is_160_bits_shown_in_groups_of_four() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32
    assert totp.new_secret() != secret
    assert totp.grouped("ABCDEFGHIJKL") == "ABCD EFGH IJKL"


def test_the_app_gets_a_uri_and_a_qr_code() -> None:
    uri = totp.provisioning_uri(SECRET, account="emma@example.com", issuer="Example")
    assert uri.startswith("otpauth://totp/Example:emma%40example.com?")
    assert f"secret={SECRET}" in uri
    assert "issuer=Example" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg")
    assert "<script" not in svg


def test_a_secret_is_sealed_for_its_app_alone() -> None:
    keyring = Keyring(b"k" * 32)
    sealed = totp.seal(keyring, SECRET, "app-1")
    assert SECRET.encode() not in sealed
    assert totp.unseal(keyring, sealed, "app-1") == SECRET
    with pytest.raises(InvalidTag):
        totp.unseal(keyring, sealed, "app-2")  # moved to another row: opens nowhere
