"""UTCDateTime on SQLite: its one-step conversions write and read what SQLAlchemy's DATETIME
type does (rows written before and after the shortcut compare and sort as one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from honnin.db.base import UTCDateTime

SQLITE = sqlite.dialect()
TOKYO = timezone(timedelta(hours=9))

MOMENTS = [
    datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 12, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 6, 1, 9, 0, tzinfo=TOKYO),  # another zone: stored as its UTC time
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_sqlite_text_is_sqlalchemys_datetime_format(moment: datetime) -> None:
    ours = UTCDateTime().dialect_impl(SQLITE)
    plain = DateTime().dialect_impl(SQLITE)
    bind, read = ours.bind_processor(SQLITE), ours.result_processor(SQLITE, None)
    plain_bind, plain_read = plain.bind_processor(SQLITE), plain.result_processor(SQLITE, None)
    assert bind is not None
    assert read is not None
    assert plain_bind is not None
    assert plain_read is not None

    text = bind(moment)
    assert text == plain_bind(moment.astimezone(UTC).replace(tzinfo=None))
    back = read(text)
    assert back == moment
    assert back.tzinfo is UTC
    assert back == plain_read(text).replace(tzinfo=UTC)  # type: ignore[union-attr]


def test_sqlite_text_without_fraction_reads_too() -> None:
    """As SQLite's own CURRENT_TIMESTAMP writes it."""
    read = UTCDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)
    assert read is not None
    assert read("2026-12-02 12:00:00") == datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert read(None) is None


def test_sqlite_text_with_an_offset_reads_as_that_moment() -> None:
    """Not what this type writes, but what another writer of the file may have."""
    read = UTCDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)
    assert read is not None
    moment = read("2026-12-02 21:00:00+09:00")
    assert moment == datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert moment.tzinfo is UTC


def test_a_naive_datetime_is_refused() -> None:
    bind = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert bind is not None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 12, 2))
    assert bind(None) is None
