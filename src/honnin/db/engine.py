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

Copying the WAL back into the database file (a checkpoint, with the one fsync left) is not done
by a committing connection, as SQLite does by default every 1000 pages: that stalled the event
loop for 10–100 ms on this class of machine (bench figures in DESIGN.md's terms: p99 of a
commit 12 ms, the worst 95 ms). A thread of each process does it instead (`_Checkpointer`),
PASSIVE, so that it never waits for nor blocks a reader or a writer — except, once the WAL is
long, a RESTART that holds the write lock for a moment so that the WAL can start over.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as aiosqlite_dialect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, MissingGreenlet, ResourceClosedError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import await_, greenlet_spawn

from honnin.db import inline_sqlite, prepared
from honnin.db.prepared import Prepared, Rows
from honnin.private_files import private_file

SQLITE_LOCK_WAIT_SECONDS = 30.0  # how long a statement waits for another process's write lock
CHECKPOINT_SECONDS = 1.0  # how often the WAL is copied back into the database file
# A WAL this many frames long (pages: 40 MiB at 4 KiB) is started over (`_Checkpointer`)
WAL_RESTART_FRAMES = 10_000
RESTART_WAIT_SECONDS = 0.1  # how long a restart may wait for the writer and the readers
RESTART_TRIES = 3  # restarts tried in one round while writers keep the lock busy
RESTART_PAUSE_SECONDS = 0.02  # between those tries

log = logging.getLogger("honnin.db")


class Tx:
    """One transaction: plain SQL straight on the driver (`run`, the hot paths), and SQLAlchemy
    on the same connection when wanted (`conn`, `session`), with callbacks to run once it has
    committed.

    `Database.transaction` takes a pooled connection and begins and ends the transaction
    itself, without SQLAlchemy's `Connection` (its begin, commit and close took 120 µs of
    greenlet switches and events for 8 µs of SQLite's work); a `Connection` is made on the same
    pooled connection only if the block asks for `conn` or `session`, and then ends it."""

    def __init__(
        self,
        conn: AsyncConnection | None = None,
        *,
        engine: AsyncEngine | None = None,
        pooled: Any = None,
    ) -> None:
        if conn is None and (engine is None or pooled is None):
            raise ValueError("a transaction needs a connection, or an engine and its pooled one")
        self._conn = conn
        self.engine: AsyncEngine = engine if engine is not None else conn.engine  # type: ignore[union-attr]
        self._pooled = pooled  # SQLAlchemy's pool proxy of the DBAPI connection
        self.locked: set[bytes] = set()  # keys this transaction holds a lock on (db.locks)
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            sync = Connection(self.engine.sync_engine, connection=self._pooled)
            # in a transaction at once, so that an ORM session joins it rather than beginning
            # (and on closing, rolling back) one of its own; no I/O: the driver's transaction
            # is begun already or begins with its first statement
            sync.begin()
            self._conn = AsyncConnection(self.engine, sync)
        return self._conn

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

    async def run(
        self,
        statement: Prepared,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = MappingProxyType({}),
    ) -> Rows:
        """Run a hot statement straight on the driver, in this transaction (`db.prepared`).
        ORM objects added or changed before it are written first, as the ORM's own queries
        would (autoflush): the statement may need them (a foreign key) or read them."""
        session = self._session
        if session is not None and (session.new or session.dirty or session.deleted):
            await session.flush()
        if self._pooled is None:
            self._pooled = await self.conn.get_raw_connection()
        if self._pooled.dbapi_connection is None:
            raise ResourceClosedError("this transaction's database connection was lost")
        return await prepared.run(
            self._pooled.dbapi_connection,
            self.engine.sync_engine,
            statement,
            params,
            invalidate=self._invalidate,
        )

    async def _invalidate(self) -> None:
        """Drop a connection the database broke (it never returns to the pool)."""
        if self._conn is not None:
            await self._conn.invalidate()
        else:
            await greenlet_spawn(self._pooled.invalidate)

    # --- the transaction's lifecycle (`Database.transaction`) ---------------------------

    @classmethod
    async def begin(cls, engine: AsyncEngine, statement: str | None) -> Tx:
        """A pooled connection, and on SQLite the transaction begun (`statement`); PostgreSQL's
        driver adapter begins with the first statement, as it does under SQLAlchemy."""
        pooled: Any = _idle_connection(engine) or await greenlet_spawn(
            engine.sync_engine.raw_connection
        )
        tx = cls(engine=engine, pooled=pooled)
        if statement is not None:
            try:
                await pooled.driver_connection.begin(statement)
            except BaseException as error:
                await _to_completion(greenlet_spawn(tx._finish, False))
                if isinstance(error, sqlite3.Error):
                    raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
                raise
        return tx

    async def __aenter__(self) -> Tx:
        return self

    async def __aexit__(self, error: type[BaseException] | None, *_details: object) -> None:
        """Committed if the block succeeded, rolled back if it raised."""
        await self.end(commit=error is None)

    async def end(self, *, commit: bool) -> None:
        """Commit (or roll back) and give the connection back to the pool. The ending runs to
        its end even if the task is cancelled meanwhile (and the cancellation is raised after):
        a connection half rolled back must not go back to the pool."""
        if self._conn is None:  # no SQLAlchemy `Connection`: straight on the driver
            # (SQLite's COMMIT runs at once after BEGIN IMMEDIATE; if it had to wait and were
            # cancelled meanwhile, it rolls back instead: all or nothing either way)
            if self.engine.dialect.name == "sqlite":
                await self._end_on_sqlite(commit)
            else:
                await _to_completion(self._end_on_asyncpg(commit))
            return
        try:
            if self._session is not None:
                try:
                    if commit:
                        await self._session.flush()
                finally:
                    await self._session.close()
        except BaseException:
            await _to_completion(greenlet_spawn(self._finish, False))
            raise
        await _to_completion(greenlet_spawn(self._finish, commit))

    async def _end_on_sqlite(self, commit: bool) -> None:
        """Commit or roll back on the driver itself and hand the connection back, with no
        greenlet and no task (those were most of an empty transaction's 250 µs). The driver
        runs the statement at once (it waits only while another process holds the write
        lock); if that fails or is cancelled, the careful way takes over: roll back, or drop
        the connection if even that fails."""
        pooled = self._pooled
        if pooled.dbapi_connection is None:  # lost, and dropped already (`_invalidate`)
            await _to_completion(greenlet_spawn(self._finish, False))
            return
        try:
            if commit:
                await pooled.driver_connection.commit()
            else:
                await pooled.driver_connection.rollback()
        except BaseException as error:
            await _to_completion(greenlet_spawn(self._finish, False))
            if isinstance(error, sqlite3.Error):
                raise DBAPIError.instance("COMMIT", None, error, sqlite3.Error) from error
            raise
        # back to the pool without its rollback-on-return: the transaction is ended already
        # (no greenlet needed: SQLite's pools have no overflow, so nothing is closed here)
        pooled._close_special(transaction_reset=True)

    async def _end_on_asyncpg(self, commit: bool) -> None:
        """As SQLAlchemy's asyncpg adapter commits (or rolls back) and the pool takes the
        connection back, without a greenlet. Shielded by the caller: a COMMIT waits for the
        server, and the connection must not go back to the pool half way. A connection whose
        ending failed is dropped, as `_finish` drops it."""
        pooled = self._pooled
        adapted = pooled.dbapi_connection
        if adapted is None:  # lost, and dropped already (`_invalidate`)
            await greenlet_spawn(self._finish, False)
            return
        try:
            transaction = adapted._transaction
            if transaction is not None:
                end = transaction.commit if commit else transaction.rollback
                await adapted._call_and_discard(end)
        except BaseException as error:
            await greenlet_spawn(pooled.invalidate)
            dbapi = self.engine.dialect.loaded_dbapi
            if isinstance(error, Exception):
                try:
                    adapted._handle_exception(error)  # raises the driver's error as the DBAPI's
                except dbapi.Error as translated:
                    raise DBAPIError.instance("COMMIT", None, translated, dbapi.Error) from error
            raise
        if adapted._connection.is_in_transaction():
            # a transaction the adapter does not know of (a BEGIN cancelled after the server
            # began it): never handed to another transaction
            await greenlet_spawn(pooled.invalidate)
            return
        # back to the pool without its rollback-on-return (the transaction is ended already);
        # in a greenlet: an overflow connection the pool does not keep is closed there
        await greenlet_spawn(pooled._close_special, transaction_reset=True)

    def _finish(self, commit: bool) -> None:
        # in a greenlet: SQLAlchemy's pool and driver adapters are called synchronously here
        pooled, sync = self._pooled, self._conn.sync_connection if self._conn else None
        if pooled.dbapi_connection is None:  # lost, and dropped already (`_invalidate`)
            if sync is not None:
                sync.close()
            return
        try:
            if sync is not None and sync.in_transaction():
                sync.commit() if commit else sync.rollback()
            if commit:
                try:
                    pooled.commit()  # what was not SQLAlchemy's: the driver's own
                except self.engine.dialect.loaded_dbapi.Error as error:
                    dbapi_error = self.engine.dialect.loaded_dbapi.Error
                    raise DBAPIError.instance("COMMIT", None, error, dbapi_error) from error
            pooled.rollback()  # nothing left open (a no-op after a commit)
        except BaseException:
            # in an unknown state: closed for good, never handed to another transaction
            if sync is not None:
                sync.invalidate()
                sync.close()
            else:
                pooled.invalidate()
            raise
        (sync or pooled).close()


def _idle_connection(engine: AsyncEngine) -> Any:
    """On SQLite, a pooled connection taken without a greenlet (a third of an empty
    transaction's Python time), when one is idle: the pool then hands it over without
    awaiting anything. None when taking one means waiting or connecting, which need the
    greenlet; a pool entry that turns out to need a new connection is given back by the pool
    as a failed checkout. (PostgreSQL's time goes to its round trips, and asyncpg warns about
    the connect that a failed checkout never awaited.)"""
    pool = engine.sync_engine.pool
    if not (engine.dialect.name == "sqlite" and isinstance(pool, QueuePool) and pool.checkedin()):
        return None
    try:
        return engine.sync_engine.raw_connection()
    except MissingGreenlet:
        return None


def _end_autocommit(adapted: Any) -> None:
    adapted.autocommit = False


async def _to_completion(work: Coroutine[Any, Any, None]) -> None:
    """Await `work` to its end even if this task is cancelled meanwhile; then re-raise the
    cancellation (as SQLAlchemy's `AsyncConnection` ends its own)."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled


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
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # done by `_Checkpointer`
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # straight to the driver: a statement through SQLAlchemy costs ten times its work here;
        # its errors wrapped as SQLAlchemy's would be (the event runs outside its wrapping).
        # Begun already when `Tx` began it and then made a `Connection` on the same one.
        driver = connection.connection.driver_connection
        if driver.in_transaction:
            return
        try:
            await_(driver.begin(begin))
        except sqlite3.Error as error:
            raise DBAPIError.instance(begin, None, error, sqlite3.Error) from error

    return engine


class _Checkpointer:
    """Checkpoints a SQLite database's WAL from a thread of its own, every `interval` seconds
    (SQLite releases the GIL while it copies and syncs).

    A PASSIVE checkpoint copies the log into the file but never starts it over: only a writer
    does that, and only if at that moment every frame is copied and no reader still reads from
    the log. Under steady load (many processes, a pool of readers each) that moment never came:
    the log grew by every write (5.5 GB over 250,000 requests of bench/memory.py), and with it
    the wal-index (-shm), which every process maps: 32 KiB per 4096 frames, all of it in each
    worker's RSS (+28 MiB a worker over a million requests). So once the log is
    `restart_frames` long, a RESTART checkpoint holds the write lock until the readers have
    left the log (up to RESTART_WAIT_SECONDS; writers retry meanwhile, `inline_sqlite`), and
    the next write starts it over. This thread may wait; the event loop never does. Writers
    that follow one another closely can keep a RESTART from ever taking the lock (it then does
    what PASSIVE does, and says busy): it is tried again a few times in the round, and a WAL
    still not started over is logged."""

    def __init__(
        self, filename: str, *, uri: bool, interval: float, restart_frames: int = WAL_RESTART_FRAMES
    ) -> None:
        self._filename, self._uri, self._interval = filename, uri, interval
        self._restart_frames = restart_frames
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # the busy timeout serves RESTART alone: a PASSIVE checkpoint never waits
        connection = sqlite3.connect(
            self._filename, uri=self._uri, timeout=RESTART_WAIT_SECONDS, isolation_level=None,
            check_same_thread=False,
        )  # fmt: skip
        try:
            while not self._stop.wait(self._interval):
                try:
                    _busy, frames, _copied = connection.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    if frames >= self._restart_frames:
                        self._restart(connection, frames)
                except sqlite3.Error as error:  # busy, read-only: the next round tries again
                    log.debug("WAL checkpoint skipped: %s", error)
        finally:
            connection.close()

    def _restart(self, connection: sqlite3.Connection, frames: int) -> None:
        for _try in range(RESTART_TRIES):
            busy, _frames, _copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            if not busy or self._stop.wait(RESTART_PAUSE_SECONDS):
                return
        log.info("WAL of %d frames not started over yet: writers kept its lock busy", frames)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


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
    def __init__(
        self, url: str, *, pool_size: int = 20, checkpoint_seconds: float = CHECKPOINT_SECONDS
    ) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self._checkpointer: _Checkpointer | None = None
        if self.is_sqlite:
            private_sqlite_file(url)
            (filename,), options = aiosqlite_dialect().create_connect_args(make_url(url))
            if filename != ":memory:" and "mode=memory" not in filename:
                self._checkpointer = _Checkpointer(
                    filename, uri=bool(options.get("uri")), interval=checkpoint_seconds
                )
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=pool_size)
        else:
            # enough kept-open connections for a worker's requests and its courier: a connection
            # opened and closed per burst costs more than the statements it runs
            self.write_engine = self.read_engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size // 2,
                # short statements only: compiling one to machine code cost 5-7 ms whenever the
                # planner's estimate crossed the JIT threshold (an outbox poll at 10M messages)
                connect_args={"server_settings": {"jit": "off"}},
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
    async def statement(self) -> AsyncIterator[Tx]:
        """A connection for one write statement that is atomic by itself: on PostgreSQL in
        autocommit, without the BEGIN and COMMIT round trips; on SQLite in a write transaction
        (which costs no round trip there). No `after_commit` callbacks."""
        if self.is_sqlite:
            async with self.transaction() as tx:
                yield tx
            return
        pooled: Any = await greenlet_spawn(self.write_engine.sync_engine.raw_connection)
        # the adapter begins no transaction while in autocommit; set back at check-in, as
        # SQLAlchemy sets back an isolation level it changed (on the pool's own hook)
        pooled.dbapi_connection.autocommit = True
        pooled._connection_record.finalize_callback.append(_end_autocommit)
        async with Tx(engine=self.write_engine, pooled=pooled) as tx:
            yield tx

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
        if snapshot and not self.is_sqlite:  # an isolation level: SQLAlchemy sets and resets it
            async with self.snapshot_engine.begin() as conn:
                tx = Tx(conn)
                try:
                    yield tx
                    if tx._session is not None:
                        await tx._session.flush()
                finally:
                    if tx._session is not None:
                        await tx._session.close()
        else:
            engine = self.write_engine if write else self.read_engine
            begin = ("BEGIN IMMEDIATE" if write else "BEGIN") if self.is_sqlite else None
            async with await Tx.begin(engine, begin) as tx:
                yield tx
        for callback in tx._after_commit:
            callback()

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
