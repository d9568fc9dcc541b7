from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from honnin.masks import mask_destination, mask_email, mask_phone


@pytest.mark.parametrize(
    ("address", "hint"),
    [
        ("emma@example.com", "em*****@example.com"),
        ("e@example.com", "e*****@example.com"),
        ("em@example.com", "em*****@example.com"),
        ("emma+shopping@example.com", "em*****@example.com"),
        ("e+tag@example.com", "e+*****@example.com"),
        ("verylonglocalpart.with.dots@example.co.jp", "ve*****@example.co.jp"),
        ("taro@例え.jp", "ta*****@例え.jp"),
        ("たろう@example.jp", "たろ*****@example.jp"),
    ],
)
def test_email_hints(address: str, hint: str) -> None:
    assert mask_email(address) == hint


@given(st.text(alphabet="abcdefghij", min_size=2, max_size=60))
def test_an_email_hint_never_reveals_the_length(local: str) -> None:
    hint = mask_email(f"{local}@example.com")
    assert len(hint) == len("xx*****@example.com")


@pytest.mark.parametrize(
    ("number", "hint"),
    [
        ("+819012345699", "******99"),
        ("+1 (555) 010-0142", "******42"),
        ("+447700900001", "******01"),
    ],
)
def test_phone_hints_show_the_last_two_digits(number: str, hint: str) -> None:
    assert mask_phone(number) == hint


def test_destinations_are_masked_by_channel() -> None:
    assert mask_destination("email", "emma@example.com") == "em*****@example.com"
    assert mask_destination("sms", "+819012345699") == "******99"
