"""All of a process's SQLite page caches share one budget (`SQLITE_HEAP_BYTES`).

Each connection caches up to 2 MiB of pages by default; a worker keeps up to 21 connections
(the writer and its readers), and over a million requests their caches filled as the file grew
(+31 MiB of RSS per worker). SQLite's soft heap limit makes them reuse pages instead.
"""

from __future__ import annotations

import _sqlite3
import asyncio
import ctypes
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import text

from honnin.db import Database
from honnin.db.engine import SQLITE_HEAP_BYTES

ROWS = 100_000  # about 25 MB of pages: more than the budget, less than 21 default caches


def sqlite_heap() -> Callable[[], int]:
    """`sqlite3_memory_used` of the SQLite that Python's `sqlite3` runs on."""
    try:
        used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    except AttributeError:  # a build that does not export SQLite's own functions
        pytest.skip("this Python's _sqlite3 does not export sqlite3_memory_used")
    used.restype = ctypes.c_int64
    return cast(Callable[[], int], used)


async def test_many_readers_stay_within_one_budget(tmp_path: Path) -> None:
    used = sqlite_heap()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'honnin.db'}", pool_size=12)
    try:
        async with db.transaction() as tx:
            await tx.conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT)")
            await tx.conn.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < :rows) INSERT INTO filler (v) SELECT printf('%.200c', 'x') FROM n"
                ),
                {"rows": ROWS},
            )
        before = used()  # the writer's cache is full by now
        gate = asyncio.Event()

        async def reader() -> None:  # twelve read transactions open at once: twelve connections
            async with db.transaction(write=False) as tx:
                limit = (await tx.conn.exec_driver_sql("PRAGMA soft_heap_limit")).scalar()
                assert limit == SQLITE_HEAP_BYTES
                await tx.conn.execute(text("SELECT count(*), sum(length(v)) FROM filler"))
                await gate.wait()

        readers = [asyncio.create_task(reader()) for _ in range(12)]
        await asyncio.sleep(0.5)
        gate.set()
        await asyncio.gather(*readers)
        # twelve more full caches would be 24 MiB more; each connection's schema and
        # statements cost a little whatever the budget (and other tests' connections may
        # have filled it already)
        assert used() < max(before, SQLITE_HEAP_BYTES) + 4 * 2**20
    finally:
        await db.dispose()
