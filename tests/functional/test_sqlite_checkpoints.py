"""SQLite's write-ahead log is copied back into the database file by a thread of its own.

By default the connection that commits does it (every 1000 pages), fsync included, which
stalled the event loop for tens of milliseconds; a commit must only append to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
import time
from pathlib import Path

from sqlalchemy import insert

from honnin.db import Database, table_of
from honnin.db.engine import _Checkpointer
from honnin.migrations import upgrade_async
from honnin.models import Client
from tests.support.clock import ShiftableClock


def in_the_file(path: Path, marker: bytes) -> bool:
    """Whether the database file itself (not its log) holds `marker`."""
    return marker in path.read_bytes()


async def test_commits_leave_the_log_to_the_checkpoint_thread(tmp_path: Path) -> None:
    path = tmp_path / "honnin.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    db = Database(f"sqlite+aiosqlite:///{path}", checkpoint_seconds=0.05)
    marker = secrets.token_hex(16)
    try:
        async with db.transaction() as tx:
            autocheckpoint = (await tx.conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
            await tx.conn.execute(
                insert(table_of(Client)),
                {
                    "name": marker,
                    "key_prefix": marker[:12],
                    "key_digest": b"\0" * 32,
                    "created_at": ShiftableClock().now(),
                },
            )
        assert autocheckpoint == 0  # a commit never checkpoints
        for _ in range(200):  # the thread copies the log into the file within moments
            if in_the_file(path, marker.encode()):
                break
            await asyncio.sleep(0.05)
        assert in_the_file(path, marker.encode())
    finally:
        await db.dispose()


def test_a_log_that_always_has_a_reader_is_started_over(tmp_path: Path) -> None:
    """Readers that overlap (one always reading from the log) keep a PASSIVE checkpoint from
    ever starting the log over: only a writer does that, when no reader is in the log. Once the
    log is long, the checkpointer waits (RESTART) for the readers to leave it."""
    path = tmp_path / "log.db"
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x BLOB)")
    readers = [sqlite3.connect(path, isolation_level=None, timeout=0) for _ in range(2)]
    checkpointer = _Checkpointer(str(path), uri=False, interval=0.005, restart_frames=64)
    try:
        readers[0].execute("BEGIN")
        readers[0].execute("SELECT count(*) FROM t").fetchall()
        for turn in range(600):
            with contextlib.suppress(sqlite3.OperationalError):  # a restart holds the lock
                writer.execute("INSERT INTO t VALUES (randomblob(6000))")  # two pages
            reading, next_one = readers[turn % 2], readers[(turn + 1) % 2]
            next_one.execute("BEGIN")  # before the other ends: the log is never unread
            next_one.execute("SELECT count(*) FROM t").fetchall()
            reading.execute("COMMIT")
            time.sleep(0.001)
        wal_bytes = path.with_name("log.db-wal").stat().st_size  # gone once all are closed
    finally:
        checkpointer.stop()
        for connection in (*readers, writer):
            connection.close()
    frames = (wal_bytes - 32) // (4096 + 24)
    assert frames < 700, frames  # 2,100 without a restart
