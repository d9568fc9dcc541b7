"""SQLite on the event loop: aiosqlite's shape, every call done at once, no thread.

aiosqlite runs each call in its connection's own thread and hands the result back through the
event loop; on this class of machine that hop costs more CPU than the statement (a cached
SELECT: about 350 µs through aiosqlite, tens of µs in `sqlite3` itself), and honnin's hot paths
run a dozen statements per request. On a WAL database a statement never waits for a reader,
and a process writes through one connection (`engine._sqlite_engine`), so the only wait left is
for another process's write lock. What a statement itself costs, the loop does wait for: a big
statement (housekeeping deletes in small batches here for that) or a WAL checkpoint at commit.
The lock wait is not left to SQLite's busy handler, which would sleep on the event loop: the
busy timeout is zero, and a statement that finds the database locked is retried after an
`asyncio.sleep`, up to `timeout` seconds, while the loop serves others. Retrying is safe: a
statement that got SQLITE_BUSY did nothing (`executemany` is retried only inside a
transaction, where it is all or nothing).

SQLAlchemy's aiosqlite dialect drives these objects (`Database` passes `connect` as its
`async_creator`); they offer what it calls and nothing more.
"""

from __future__ import annotations

import sqlite3
from asyncio import sleep
from collections.abc import Callable, Iterable, Sequence
from time import monotonic
from typing import Any

# Another process holds the write lock for one transaction, about a millisecond here, so a
# waiting statement tries again soon: waits that doubled up to 50 ms left the lock free while
# a worker still slept (two workers on one file: 217 → 242 sign-ins by code a second with
# this cap, bench/flows.py); a try costs some 15 µs.
_FIRST_WAIT = 0.00025
_LONGEST_WAIT = 0.001


# Worth waiting for: another connection holds a lock (busy, locked), or is recovering the WAL
# (busy recovery: 261, locked shared cache: 262). Not SQLITE_BUSY_SNAPSHOT (517): a read
# transaction that wants to write after another's commit must start again, not wait.
_WAIT_FOR = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, 261, 262}


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _WAIT_FOR


async def _run(call: Callable[[], Any], patience: float) -> Any:
    """`call()`, again after a pause while another process holds the lock it needs."""
    deadline = monotonic() + patience
    wait = _FIRST_WAIT
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or monotonic() + wait > deadline:
                raise
        await sleep(wait)
        wait = min(wait * 2, _LONGEST_WAIT)


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor, timeout: float) -> None:
        self._cursor = cursor
        self._timeout = timeout

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        await _run(lambda: self._cursor.execute(sql, parameters), self._timeout)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(parameters)
        if self._cursor.connection.in_transaction:  # all or nothing: safe to try again
            await _run(lambda: self._cursor.executemany(sql, rows), self._timeout)
        else:  # outside one, the rows before a busy one are written already
            self._cursor.executemany(sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Connection:
    """One `sqlite3` connection in autocommit mode (honnin's engine emits BEGIN itself)."""

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        self._connection: sqlite3.Connection | None = connection  # falsy once closed
        self._conn = connection
        self._timeout = timeout

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor(), self._timeout)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def run(
        self, sql: str, arguments: list[tuple[Any, ...]], *, many: bool = False
    ) -> tuple[list[Any], int]:
        """A statement's rows and row count at once (`honnin.db.prepared`): one call instead
        of a cursor's four."""
        cursor = self._conn.cursor()
        try:
            if many:
                await Cursor(cursor, self._timeout).executemany(sql, arguments)
            else:
                await Cursor(cursor, self._timeout).execute(sql, arguments[0])
            return cursor.fetchall(), cursor.rowcount
        finally:
            cursor.close()

    async def begin(self, statement: str) -> None:
        """`BEGIN` or `BEGIN IMMEDIATE` (the latter waits for another process's write lock)."""
        await _run(lambda: self._conn.execute(statement), self._timeout)

    async def commit(self) -> None:
        await _run(self._conn.commit, self._timeout)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def connector(database: str, *, uri: bool = False, timeout: float = 30.0) -> Callable[[], Any]:
    """The `async_creator` of an engine on `database`."""

    async def connect() -> Connection:
        connection = sqlite3.connect(
            database, timeout=0, isolation_level=None, check_same_thread=False, uri=uri
        )
        return Connection(connection, timeout)

    return connect
