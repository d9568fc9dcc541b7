from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from honnin.destinations.kinds import mask_for_channel
from honnin.masks import mask_email, mask_phone


@pytest.mark.parametrize(
    ("address", "hint"),
    [
        ("e@example.com", "*******@example.com"),
        ("al@example.com", "a******@example.com"),
        ("bob@example.com", "b******@example.com"),
        ("emma@example.com", "em*****@example.com"),
        ("alice@example.com", "al*****@example.com"),
        ("emma+shopping@example.com", "em*****@example.com"),
        ("e+tag@example.com", "e+*****@example.com"),
        ("verylonglocalpart.with.dots@example.co.jp", "ve*****@example.co.jp"),
        ("taro@例え.jp", "ta*****@例え.jp"),
        ("たろう@example.jp", "た******@example.jp"),
        ("たろうです@example.jp", "たろ*****@example.jp"),
        ('"a@b"@example.com', '"a*****@example.com'),
    ],
)
def test_email_hints(address: str, hint: str) -> None:
    assert mask_email(address) == hint


# Any character a local part may hold except the "@" that ends it; "*" included, so the shown
# prefix is checked by position, not by counting asterisks.
LOCAL_PARTS = st.text(st.characters(exclude_characters="@"), min_size=1, max_size=64)


@given(LOCAL_PARTS)
def test_an_email_hint_has_one_width_and_shows_at_most_half(local: str) -> None:
    hint = mask_email(f"{local}@example.com")
    before, at, domain = hint.partition("@")
    assert (at, domain) == ("@", "example.com")
    assert len(before) == 7
    shown = min(2, len(local) // 2)
    assert before == local[:shown] + "*" * (7 - shown)


@given(LOCAL_PARTS, LOCAL_PARTS)
def test_two_hints_differ_only_in_what_they_show(a: str, b: str) -> None:
    """Two local parts with the same shown prefix give the same hint, whatever their lengths."""
    hint_a, hint_b = mask_email(f"{a}@example.com"), mask_email(f"{b}@example.com")
    assert len(hint_a) == len(hint_b)
    if a[: min(2, len(a) // 2)] == b[: min(2, len(b) // 2)]:
        assert hint_a == hint_b


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
    assert mask_for_channel("email", "emma@example.com") == "em*****@example.com"
    assert mask_for_channel("sms", "+819012345699") == "******99"
    assert mask_for_channel("call", "+819012345699") == "******99"
    # a local part may hold digits and no @ decides it: the channel does
    assert mask_for_channel("email", "0901234567@example.jp") == "09*****@example.jp"
