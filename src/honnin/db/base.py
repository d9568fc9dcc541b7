"""The declarative base and the column types every model shares."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, DateTime, MetaData, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases.

    PostgreSQL keeps them as `timestamptz`; SQLite as naive UTC text in one fixed format, so
    that comparisons in SQL (`expires_at < :now`) stay correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # On SQLite, the two steps of each direction (ours, then the DATETIME type's: a format
    # string with seven fields, a regular expression) as one C call each: a hot transaction
    # binds several times. The text is the DATETIME type's storage format, byte for byte.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given where an aware UTC one is required")
            if value.utcoffset():
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return to_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def from_text(value: str | None) -> datetime | None:
            if value is None:
                return None
            moment = datetime.fromisoformat(value)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

        return from_text


_RANDOM_BITS = 74  # of a version 7 UUID: 128 - 48 (milliseconds) - 4 (version) - 2 (variant)


def uuid7(unix_ms: int, random_bits: int) -> uuid.UUID:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    rand = random_bits & ((1 << _RANDOM_BITS) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80  # the time, on top
    value |= 0x7 << 76 | (rand >> 62) << 64  # version, then 12 random bits
    value |= 0b10 << 62 | (rand & ((1 << 62) - 1))  # variant, then 62 random bits
    return uuid.UUID(int=value)


def random_id() -> uuid.UUID:
    """A random row id (UUIDv4), for rows whose ids applications see but whose creation time
    they must not learn from it: an account's id tells a client app nothing about when the
    account was made. Those tables are small and rarely written."""
    return uuid.uuid4()


def id_in(value: object) -> uuid.UUID | None:
    """The row id `value` spells (a client's, a request's, a claim's); None if it spells
    none."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def new_id() -> uuid.UUID:
    """A row id that sorts by creation time (UUIDv7), with 74 random bits.

    Random (version 4) ids put each new row of a big table on a random page of its primary-key
    index and of every index that holds the id: at 10 million messages, an insert then read and
    rewrote a cold page per index (bench/size.py: 1,879 page reads and full-page WAL images per
    2,000 messages, against 1 with time-ordered ids). For the rows written on every request
    (messages, codes, challenges, flows, sessions): their ids are no secret (tokens and codes
    are separate), and whoever sees one knows when the row was made already."""
    return uuid7(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def table_of(model: type[Base]) -> Table:
    """A model's table, for plain SQL expressions on hot paths (no ORM unit of work)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Unindexed(ColumnElement[Any]):
    """A column that SQLite's planner must not look up through an index: SQLite has no
    statistics unless ANALYZE ran, and counts each indexed equality as a narrowing, so it may
    pick an index on a column that nearly every row shares (`flow_id IS NULL` for every
    verification API challenge) over the one that finds a single row. Rendered `+column`
    there (SQLite's documented no-op that disqualifies a term from indexes); plain elsewhere,
    where the planner has statistics (PostgreSQL)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _plain(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _no_index(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
