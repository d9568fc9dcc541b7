"""Row ids: version 7 UUIDs, ordered by the millisecond they were made in."""

from __future__ import annotations

import time
import uuid

from hypothesis import given
from hypothesis import strategies as st

from honnin.db.base import new_id, uuid7

MS = st.integers(min_value=0, max_value=(1 << 48) - 2)
RANDOM = st.integers(min_value=0, max_value=(1 << 74) - 1)


def random_bits_of(value: int) -> int:
    return ((value >> 64) & 0xFFF) << 62 | (value & ((1 << 62) - 1))


@given(MS, RANDOM)
def test_the_layout_is_rfc_9562s(unix_ms: int, random_bits: int) -> None:
    made = uuid7(unix_ms, random_bits)
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert made.int >> 80 == unix_ms
    assert random_bits_of(made.int) == random_bits  # all 74 random bits are kept


@given(MS, RANDOM, RANDOM)
def test_a_later_millisecond_sorts_after_any_earlier_id(unix_ms: int, a: int, b: int) -> None:
    assert uuid7(unix_ms, a) < uuid7(unix_ms + 1, b)
    assert str(uuid7(unix_ms, a)) < str(uuid7(unix_ms + 1, b))  # as text, too


def test_new_ids_carry_the_time_and_differ() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(1000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 1000
    assert all(before <= made.int >> 80 <= after for made in ids)
    assert ids == sorted(ids, key=lambda made: made.int >> 80)


# rows written on every request: time-ordered; rows applications see the ids of: random
ORDERED = ("messages", "codes", "challenges", "flows", "sessions")
RANDOM_IDS = ("accounts", "sign_in_names", "proofs", "clients")


def test_accounts_ids_tell_nobody_when_they_were_made() -> None:
    from honnin.models import metadata

    def version(table: str) -> int | None:
        default = metadata.tables[table].c.id.default
        assert default is not None
        made: uuid.UUID = default.arg(None)  # type: ignore[attr-defined]
        return made.version

    assert {table: version(table) for table in ORDERED + RANDOM_IDS} == {
        **dict.fromkeys(ORDERED, 7),
        **dict.fromkeys(RANDOM_IDS, 4),
    }
