"""Engines, sessions and the one way to run a transaction.

`Database.transaction(write=...)` yields a `Tx`: the session plus callbacks that run only after
a successful commit (how the courier is told about new outbox rows without ever sending a
message whose transaction rolled back).

SQLite needs care to stay correct with several processes: write transactions start with
`BEGIN IMMEDIATE` (a deferred transaction that reads first and writes later can fail with
"database is locked" instead of waiting), and each process funnels its writes through one
connection so that they queue in the pool instead of in SQLite's sleeping busy handler. Its
connections run on the event loop (`inline_sqlite`): a lock held by another process is waited
for with `asyncio.sleep`, never by sleeping the loop.

`synchronous=NORMAL` with WAL: a crash of the process loses nothing; a power loss or an OS crash
may lose the last transactions before a checkpoint, never the file. What they hold is short-lived
and safe to lose: a code that was not mailed yet (asked for again), a code's use (it expires in
minutes and is still bound to its flow), a session (signed in again), a counter of sends or
failures (which only errs on the side of the person, for a few seconds of history). Each commit
is then a write to the WAL without an fsync, instead of two fsyncs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)
from sqlalchemy.util import await_

from honnin.db import inline_sqlite
from honnin.private_files import private_file

SQLITE_LOCK_WAIT_SECONDS = 30.0  # how long a statement waits for another process's write lock


class Tx:
    """One transaction: its connection for plain SQL (the hot paths), an ORM session on the
    same connection when wanted, and callbacks to run once it has committed."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.locked: set[bytes] = set()  # keys this transaction holds a lock on (db.locks)
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            # flushed by `Database.transaction` before the connection commits
            self._session = AsyncSession(
                bind=self.conn, expire_on_commit=False, join_transaction_mode="rollback_only"
            )
        return self._session

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


def _sqlite_engine(url: str, *, begin: str, pool_size: int) -> AsyncEngine:
    # the URL read as SQLAlchemy reads it (a `file:` URI keeps its query: mode=ro, cache=…)
    (filename,), options = aiosqlite_dialect().create_connect_args(make_url(url))
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        async_creator=inline_sqlite.connector(
            filename,
            uri=bool(options.get("uri")),
            timeout=float(options.get("timeout", SQLITE_LOCK_WAIT_SECONDS)),
        ),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # autocommit (we emit BEGIN ourselves, below) and no busy timeout (`inline_sqlite`)
        cursor = dbapi_connection.cursor()
        # WAL is a property of the file (migrations set it); switching needs the file alone
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # straight to the driver: a statement through SQLAlchemy costs ten times its work here;
        # its errors wrapped as SQLAlchemy's would be (the event runs outside its wrapping)
        try:
            await_(connection.connection.driver_connection.begin(begin))
        except sqlite3.Error as error:
            raise DBAPIError.instance(begin, None, error, sqlite3.Error) from error

    return engine


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database's folder (0700) and file (0600) before SQLite does (0644):
    it holds sessions and code digests. SQLite gives the -wal and -shm files the same mode."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or parsed.query.get("mode") == "memory":
        return  # a URI filename: SQLite's own business
    private_file(Path(database))


class Database:
    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.is_sqlite:
            private_sqlite_file(url)
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=pool_size)
        else:
            # enough kept-open connections for a worker's requests and its courier: a connection
            # opened and closed per burst costs more than the statements it runs
            self.write_engine = self.read_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size // 2
            )
        # SQLite's read transactions see one moment already (WAL: from their first read on);
        # PostgreSQL's default, read committed, shows each statement the newest commits
        self.autocommit_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.snapshot_engine = (
            self.read_engine
            if self.is_sqlite
            else self.read_engine.execution_options(isolation_level="REPEATABLE READ")
        )

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one write statement that is atomic by itself: on PostgreSQL in
        autocommit, without the BEGIN and COMMIT round trips; on SQLite in a write transaction
        (which costs no round trip there)."""
        if self.is_sqlite:
            async with self.transaction() as tx:
                yield tx.conn
            return
        async with self.autocommit_engine.connect() as conn:
            yield conn

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(self, *, write: bool = True, snapshot: bool = False) -> AsyncIterator[Tx]:
        """One transaction; commits if the block succeeds, rolls back if it raises.
        `snapshot` (reads only): every statement sees the same moment, for a reader that
        shows several tables together."""
        if snapshot and write:
            raise ValueError("a snapshot is for reading only")
        engine = (
            self.snapshot_engine if snapshot else (self.write_engine if write else self.read_engine)
        )
        async with engine.begin() as conn:
            tx = Tx(conn)
            try:
                yield tx
                if tx._session is not None:
                    await tx._session.flush()
            finally:
                if tx._session is not None:
                    await tx._session.close()
        for callback in tx._after_commit:
            callback()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
