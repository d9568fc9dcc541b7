"""SQLite's write-ahead log is copied back into the database file by a thread of its own.

By default the connection that commits does it (every 1000 pages), fsync included, which
stalled the event loop for tens of milliseconds; a commit must only append to the log.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from sqlalchemy import insert

from honnin.db import Database, table_of
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
