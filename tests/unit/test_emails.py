from __future__ import annotations

import pytest

from honnin.courier.addresses import ascii_address, needs_smtputf8
from honnin.destinations.emails import InvalidEmail, normalize_email


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Emma@Example.COM", "emma@example.com"),
        ("  emma@example.com  ", "emma@example.com"),
        ("emma+news@example.com", "emma+news@example.com"),
        ("taro@例え.JP", "taro@例え.jp"),
        ("taro@xn--r8jz45g.jp", "taro@例え.jp"),
        ("user@Straße.de", "user@straße.de"),
    ],
)
def test_addresses_are_put_in_one_canonical_form(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    "raw", ["", "   ", "emma", "emma@", "@example.com", "emma@@example.com", "a b@example.com",
            "emma@example", "x" * 250 + "@example.com"],
)  # fmt: skip
def test_invalid_addresses_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidEmail) as caught:
        normalize_email(raw)
    assert caught.value.code == "invalid_email"
    assert str(caught.value)


def test_the_envelope_uses_the_ascii_form_of_the_domain() -> None:
    assert ascii_address("taro@例え.jp") == "taro@xn--r8jz45g.jp"
    # IDNA 2008 (as email-validator): ß stays a letter; IDNA 2003 would make it "ss"
    assert ascii_address(normalize_email("user@Straße.de")) == "user@xn--strae-oqa.de"
    assert ascii_address(normalize_email("user@ςχολή.gr")).startswith("user@xn--")
    assert ascii_address(normalize_email("user@ςχολή.gr")) != ascii_address("user@σχολή.gr")
    assert ascii_address("emma@example.com") == "emma@example.com"
    assert not needs_smtputf8("taro@例え.jp")
    assert needs_smtputf8("たろう@example.jp")
