"""`Prepared` statements read and write what `Connection.execute` would, on both databases.

They skip SQLAlchemy's per-call machinery but keep its compiler and type processors; these
tests compare the two paths on the same rows, and pin the parts done by hand: lists in IN,
a parameter used twice, column defaults, executemany, errors, the transaction, the events.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import String, bindparam, event, func, insert, literal_column, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import greenlet_spawn

import honnin.db.engine as engine_module
from honnin.courier.models import Message, MessageEvent
from honnin.db import Database, Prepared, table_of

_messages = table_of(Message)
_m = _messages.c
_INSERT = Prepared(insert(_messages))
_SELECT = select(_messages).where(_m.id.in_(bindparam("b_ids", expanding=True)))
_BY_IDS = Prepared(_SELECT)
# one parameter twice, between two lists (PostgreSQL numbers it once: $n is reused)
_DUE = Prepared(
    select(_m.id)
    .where(
        _m.status.in_(("queued", "deferred")),
        _m.created_at <= bindparam("b_now"),
        _m.updated_at <= bindparam("b_now"),
        _m.recipient.in_(bindparam("b_to", expanding=True)),
    )
    .order_by(_m.recipient)
)
_EVENTS = Prepared(insert(table_of(MessageEvent)))
_COUNT_EVENTS = Prepared(
    select(table_of(MessageEvent).c.kind).where(
        table_of(MessageEvent).c.message_id == bindparam("b_id")
    )
)
NOW = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)


def message(recipient: str, **values: Any) -> dict[str, Any]:
    return {
        "channel": "email",
        "recipient": recipient,
        "template": "code",
        "locale": "ja",
        "params": {"purpose": "sign_in", "hint": "em***@example.com", "n": 3, "ok": True},
        "sealed": b"\x00\xffsealed",
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
        **values,
    }


@pytest.fixture
async def db(database_url: str) -> Any:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_rows_read_as_connection_execute_reads_them(db: Database) -> None:
    ids = []
    async with db.transaction() as tx:
        for recipient in ("a@example.com", "b@example.com", "c@example.com"):
            ids.append(uuid.uuid4())
            await tx.run(_INSERT, {"id": ids[-1], **message(recipient)})
    async with db.transaction(write=False) as tx:
        prepared = (await tx.run(_BY_IDS, {"b_ids": ids})).all()
        executed = (await tx.conn.execute(_SELECT, {"b_ids": ids})).all()
        one = (await tx.run(_BY_IDS, {"b_ids": ids[:1]})).one()

    assert sorted(tuple(r) for r in prepared) == sorted(tuple(r) for r in executed)
    assert one.status == "queued"
    assert one.attempts == 0
    assert one._mapping["params"] == {"purpose": "sign_in", "hint": "em***@example.com",
                                      "n": 3, "ok": True}  # fmt: skip
    assert one.created_at == NOW
    assert one.created_at.tzinfo is not None
    assert isinstance(one.id, uuid.UUID)
    assert one.id == ids[0]
    assert one.sealed == b"\x00\xffsealed"
    assert one.claim_token is None


async def test_a_parameter_used_twice_and_lists_of_any_length(db: Database) -> None:
    async with db.transaction() as tx:
        for recipient in ("a@example.com", "b@example.com", "c@example.com"):
            await tx.run(_INSERT, message(recipient))
        await tx.run(_INSERT, message("late@example.com", created_at=NOW + timedelta(hours=1)))

    async def due(*recipients: str) -> list[str]:
        async with db.transaction(write=False) as tx:
            rows = await tx.run(_DUE, {"b_now": NOW, "b_to": list(recipients)})
            ids = rows.scalars()
            found = await tx.run(_BY_IDS, {"b_ids": ids}) if ids else None
        return sorted(r.recipient for r in found) if found else []

    assert await due("a@example.com") == ["a@example.com"]
    assert await due("c@example.com", "late@example.com", "a@example.com") == [
        "a@example.com",
        "c@example.com",
    ]
    assert await due("b@example.com", "c@example.com") == ["b@example.com", "c@example.com"]


async def test_executemany_errors_and_the_transaction(db: Database) -> None:
    kept = uuid.uuid4()
    async with db.transaction() as tx:
        await tx.run(_INSERT, {"id": kept, **message("a@example.com")})
        rows = [{"message_id": kept, "at": NOW, "kind": kind} for kind in ("sending", "accepted")]
        await tx.run(_EVENTS, rows)
    with pytest.raises(ValueError, match="same columns"):
        async with db.transaction() as tx:
            await tx.run(_EVENTS, [rows[0], {**rows[1], "detail": "250 ok"}])

    lost = uuid.uuid4()

    async def one_new_then_one_taken() -> None:
        async with db.transaction() as tx:
            await tx.run(_INSERT, {"id": lost, **message("b@example.com")})
            await tx.run(_INSERT, {"id": kept, **message("a@example.com")})  # the same id

    with pytest.raises(IntegrityError):  # as SQLAlchemy raises it: callers catch this one
        await one_new_then_one_taken()

    async with db.transaction(write=False) as tx:
        assert (await tx.run(_BY_IDS, {"b_ids": [lost]})).all() == []  # rolled back with it
        assert sorted((await tx.run(_COUNT_EVENTS, {"b_id": kept})).scalars()) == [
            "accepted",
            "sending",
        ]


async def test_cursor_events_see_each_statement(db: Database) -> None:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(db.write_engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.transaction() as tx:
            await tx.run(_INSERT, message("a@example.com"))
            await tx.run(_DUE, {"b_now": NOW, "b_to": ["a@example.com"]})
    finally:
        event.remove(db.write_engine.sync_engine, "before_cursor_execute", record)
    assert seen[-2:] == ["INSERT", "SELECT"]


async def test_a_literal_in_the_sql_is_left_as_it_is(db: Database) -> None:
    """Nothing inside a string literal is taken for a placeholder, whatever it holds."""
    odd = literal_column("'not ? nor $1'", String())
    statement = Prepared(
        select(_m.recipient).where(_m.status != odd, _m.recipient == bindparam("b_to"))
    )
    async with db.transaction() as tx:
        await tx.run(_INSERT, message("a@example.com"))
        found = (await tx.run(statement, {"b_to": "a@example.com"})).scalars()
    assert found == ["a@example.com"]


_SLEEP = Prepared(select(func.pg_sleep(bindparam("b_seconds"))))
_BACKEND = Prepared(select(func.pg_backend_pid()))


async def _terminate(db: Database, backend: int) -> None:
    """End a PostgreSQL backend from another connection, and wait until it is gone."""
    async with db.autocommit_engine.connect() as other:
        await other.execute(select(func.pg_terminate_backend(backend)))
        gone = select(func.count()).where(text("pid = :pid")).select_from(text("pg_stat_activity"))
        while (await other.execute(gone, {"pid": backend})).scalar():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_cancelled_or_broken_transaction_leaves_the_pool_clean(db: Database) -> None:
    """Cancelled again and again while it rolls back, a transaction still ends before its
    connection goes back to the pool; a connection the database closed is dropped, and the
    error says so (it is not lost in the clean-up)."""

    async def sleeping() -> None:
        async with db.transaction() as tx:
            await tx.run(_INSERT, message("cancelled@example.com"))
            await tx.run(_SLEEP, {"b_seconds": 5})

    task = asyncio.create_task(sleeping())
    await asyncio.sleep(0.3)
    for _ in range(20):  # a shutdown's cancel, then a timeout's, and more
        task.cancel()
        await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await task

    async def lose_the_connection_midway() -> None:
        async with db.transaction() as tx:
            backend = (await tx.run(_BACKEND)).scalar()
            await _terminate(db, backend)
            await tx.run(_INSERT, message("lost@example.com"))

    with pytest.raises(DBAPIError) as lost:
        await lose_the_connection_midway()
    assert lost.value.connection_invalidated

    for _ in range(3):  # every pooled connection is usable, and nothing was written
        async with db.transaction(write=False) as tx:
            recipients = (
                await tx.run(
                    _DUE, {"b_now": NOW, "b_to": ["cancelled@example.com", "lost@example.com"]}
                )
            ).all()
        assert recipients == []


_DEFER_FOREIGN_KEYS = Prepared(text("PRAGMA defer_foreign_keys = ON"))
_BY_RECIPIENT = Prepared(select(_m.id).where(_m.recipient == bindparam("b_to")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_commit_that_fails_on_sqlite_rolls_back_and_says_why(db: Database) -> None:
    """SQLite's transactions end on the driver itself (no SQLAlchemy `Connection`); a COMMIT
    that fails leaves SQLite's transaction open, so the connection is rolled back before it
    goes back to the pool, and the error is SQLAlchemy's, as callers expect."""
    orphan = {"message_id": uuid.uuid4(), "at": NOW, "kind": "sending"}  # no such message

    async def break_a_deferred_foreign_key() -> None:
        async with db.transaction() as tx:
            await tx.run(_DEFER_FOREIGN_KEYS)  # checked at COMMIT, not at the INSERT
            await tx.run(_INSERT, message("rolled-back@example.com"))
            await tx.run(_EVENTS, orphan)

    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        await break_a_deferred_foreign_key()

    async with db.transaction() as tx:  # the one write connection is usable again
        await tx.run(_INSERT, message("next@example.com"))
    async with db.transaction(write=False) as tx:
        assert (await tx.run(_BY_RECIPIENT, {"b_to": "rolled-back@example.com"})).all() == []
        assert len((await tx.run(_BY_RECIPIENT, {"b_to": "next@example.com"})).all()) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_commit_that_fails_on_postgresql_drops_the_connection(db: Database) -> None:
    """The transaction ends on the driver (no SQLAlchemy `Connection`); when the server is
    gone by the COMMIT, the error is SQLAlchemy's and the connection never returns to the
    pool: every later transaction gets a working one, and nothing was written."""

    async def lose_the_connection_before_commit() -> None:
        async with db.transaction() as tx:
            await tx.run(_INSERT, message("uncommitted@example.com"))
            backend = (await tx.run(_BACKEND)).scalar()
            await _terminate(db, backend)

    with pytest.raises(DBAPIError):
        await lose_the_connection_before_commit()

    for _ in range(3):
        async with db.transaction() as tx:
            assert (await tx.run(_BY_RECIPIENT, {"b_to": "uncommitted@example.com"})).all() == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_overflow_connection_is_closed_when_it_comes_back(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A burst beyond the pool's size opens overflow connections; the pool closes them as
    they come back from a transaction ended on the driver (it needs a greenlet for that)."""
    db = Database(database_url, pool_size=2)  # and one overflow connection
    pool = db.write_engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    gate = asyncio.Event()

    async def held_open() -> None:
        async with db.transaction() as tx:
            await tx.run(_BY_RECIPIENT, {"b_to": "nobody@example.com"})
            await gate.wait()

    try:
        with caplog.at_level("ERROR"):
            tasks = [asyncio.create_task(held_open()) for _ in range(3)]
            while pool.checkedout() < 3:
                await asyncio.sleep(0.01)
            gate.set()
            await asyncio.gather(*tasks)
        assert [r.getMessage() for r in caplog.records] == []
        assert pool.checkedin() == 2  # the overflow one is closed
    finally:
        await db.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_statement_on_postgresql_commits_by_itself_and_leaves_the_pool_transactional(
    database_url: str,
) -> None:
    """`Database.statement` runs in autocommit (no BEGIN, no COMMIT: two round trips fewer for
    the courier's one-statement records); the connection goes back to the pool as it came."""
    db = Database(database_url, pool_size=1)  # the next transactions get the same connection
    other = Database(database_url, pool_size=1)
    try:
        async with db.statement() as tx:
            await tx.run(_INSERT, message("at-once@example.com"))
            async with other.transaction(write=False) as seen:  # committed before the end
                assert len((await seen.run(_BY_RECIPIENT, {"b_to": "at-once@example.com"})).all())

        async def write_then_fail() -> None:
            async with db.transaction() as tx:
                await tx.run(_INSERT, message("rolled-back@example.com"))
                raise RuntimeError("changed my mind")

        with pytest.raises(RuntimeError):
            await write_then_fail()
        async with db.transaction(write=False) as tx:
            assert (await tx.run(_BY_RECIPIENT, {"b_to": "rolled-back@example.com"})).all() == []
    finally:
        await db.dispose()
        await other.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_idle_connection_is_taken_without_a_greenlet(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction takes an idle pooled connection straight from the pool; the greenlet is
    for waiting and connecting only, and a connection the pool must make again (this one was
    dropped) is made that way, with the pool's counts left right."""
    checkouts: list[object] = []

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "raw_connection":
            checkouts.append(fn)
        return await greenlet_spawn(fn, *args, **kwargs)

    monkeypatch.setattr(engine_module, "greenlet_spawn", counting)
    for write in (True, False):  # each pool's first connection: made in a greenlet
        async with db.transaction(write=write) as tx:
            if write:
                await tx.run(_INSERT, message("first@example.com"))
            else:
                await tx.run(_BY_RECIPIENT, {"b_to": "first@example.com"})
    made = len(checkouts)
    assert made == 2
    for write in (True, False, True, False):
        async with db.transaction(write=write) as tx:
            await tx.run(_BY_RECIPIENT, {"b_to": "first@example.com"})
    assert len(checkouts) == made

    async with db.transaction() as tx:
        await tx.run(_BY_RECIPIENT, {"b_to": "first@example.com"})
        await tx._invalidate()  # as when the database broke it
    async with db.transaction() as tx:  # its pool connects again, in a greenlet
        found = (await tx.run(_BY_RECIPIENT, {"b_to": "first@example.com"})).all()
    assert (len(found), len(checkouts)) == (1, made + 1)
    pool = db.write_engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0
