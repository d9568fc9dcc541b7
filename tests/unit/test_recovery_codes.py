"""Recovery codes: their alphabet, their groups, and how a typed one is read."""

from __future__ import annotations

import re

from honnin.security import recovery_codes

RECOVERY = re.compile(r"^([2-9A-Z]{5}-){4}[2-9A-Z]{5}$")


def test_recovery_codes_read_as_typed() -> None:
    code = recovery_codes.new_code()
    assert RECOVERY.match(code)
    assert recovery_codes.normalize(code) == code.replace("-", "")
    assert recovery_codes.normalize(code.lower().replace("-", "  ")) == code.replace("-", "")
    assert recovery_codes.normalize("too short") is None
    assert recovery_codes.normalize("O" * 25) is None  # not in the alphabet
    assert not set("01ILOUV") & set(recovery_codes.ALPHABET)  # no look-alikes
    assert len({recovery_codes.new_code() for _ in range(100)}) == 100
