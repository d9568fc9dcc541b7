"""SQLite runs on the event loop (`honnin.db.inline_sqlite`): while another process holds the
write lock, a write waits for it without stopping the loop, and gives up after its timeout."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from honnin.db import Database
from honnin.db.engine import SQLITE_LOCK_WAIT_SECONDS
from honnin.migrations import upgrade_async


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path / 'honnin.db'}"
    await upgrade_async(url)
    return Database(url)


@pytest.fixture
def other_process(database: Database) -> Iterator[sqlite3.Connection]:
    """A connection of its own, as another process's would be, holding the write lock."""
    assert database.write_engine.url.database is not None
    holder = sqlite3.connect(database.write_engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE written_by_the_other (x)")
    yield holder
    holder.close()


async def test_a_write_waits_for_the_lock_of_another_process_and_the_loop_goes_on(
    database: Database, other_process: sqlite3.Connection
) -> None:
    turns = 0

    async def release_after_a_few_turns() -> None:
        nonlocal turns
        while turns < 20:  # the loop turns while the write below waits
            turns += 1
            await asyncio.sleep(0)
        other_process.execute("COMMIT")

    async def write() -> int:
        async with database.transaction() as tx:
            names = await tx.conn.scalars(text("SELECT name FROM sqlite_master"))
            return int("written_by_the_other" in set(names))

    releasing = asyncio.create_task(release_after_a_few_turns())
    seen = await write()
    await releasing
    await database.dispose()

    assert turns == 20
    assert seen == 1  # it began after the other's commit: it sees its table


async def test_a_write_gives_up_when_the_lock_is_held_past_its_timeout(
    database: Database, other_process: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("honnin.db.inline_sqlite.sleep", no_sleep)
    monkeypatch.setattr("honnin.db.inline_sqlite.monotonic", lambda: sum(slept))

    with pytest.raises(OperationalError, match="database is locked"):  # as SQLAlchemy says it
        async with database.transaction() as tx:
            await tx.conn.execute(text("SELECT 1"))
    await database.dispose()

    assert sum(slept) <= SQLITE_LOCK_WAIT_SECONDS
    assert max(slept) == pytest.approx(0.001)  # waits grow to at most 1 ms each
    assert len(slept) > 10
