from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from honnin.codes.values import new_code, read_code


@pytest.mark.parametrize("length", [6, 7, 8])
def test_codes_have_the_configured_number_of_digits(length: int) -> None:
    for _ in range(200):
        code = new_code(length)
        assert len(code) == length
        assert code.isdigit()


def test_codes_use_every_digit_in_every_position() -> None:
    codes = [new_code(6) for _ in range(3000)]
    for position in range(6):
        counts = Counter(code[position] for code in codes)
        assert set(counts) == set("0123456789")
        assert min(counts.values()) > 200  # ~300 expected each; a stuck digit would show


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("１２３４５６", "123456"),
        ("１２３－４５６", "123456"),
        ("012345", "012345"),
    ],
)
def test_typed_and_pasted_codes_are_read(typed: str, read: str) -> None:
    assert read_code(typed, 6) == read


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "123456\x00"])
def test_what_cannot_be_a_code_is_not_read(typed: str) -> None:
    assert read_code(typed, 6) is None


@given(st.text(max_size=20))
def test_reading_never_fails(typed: str) -> None:
    result = read_code(typed, 6)
    assert result is None or (len(result) == 6 and result.isdigit() and result.isascii())
