"""`first_full`: which window of several keys' limits, counted in one statement, is full."""

from __future__ import annotations

from limits import parse_many

from honnin.limits.windows import first_full

HOURLY_DAILY = parse_many("3/hour,5/day")
DAILY = parse_many("4/day")


def test_none_is_full_below_every_amount() -> None:
    assert first_full([HOURLY_DAILY, DAILY], [2, 4, 3]) is None


def test_the_first_full_window_in_order_of_groups_then_items() -> None:
    assert first_full([HOURLY_DAILY, DAILY], [2, 5, 4]) == (0, HOURLY_DAILY[1], 5)
    assert first_full([HOURLY_DAILY, DAILY], [1, 1, 4]) == (1, DAILY[0], 4)
    assert first_full([HOURLY_DAILY, DAILY], [3, 5, 9]) == (0, HOURLY_DAILY[0], 3)


def test_a_group_without_limits_takes_no_count() -> None:
    assert first_full([[], DAILY], [4]) == (1, DAILY[0], 4)
