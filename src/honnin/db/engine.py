"""Engines, sessions and the one way to run a transaction.

`Database.transaction(write=...)` yields a `Tx`: the session plus callbacks that run only after
a successful commit (how the courier is told about new outbox rows without ever sending a
message whose transaction rolled back).

SQLite needs care to stay correct with several processes: write transactions start with
`BEGIN IMMEDIATE` (a deferred transaction that reads first and writes later can fail with
"database is locked" instead of waiting), and each process funnels its writes through one
connection so that they queue in the pool instead of in SQLite's sleeping busy handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass
class Tx:
    session: AsyncSession
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


def _sqlite_engine(url: str, *, begin: str, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=0, connect_args={"timeout": 30}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
            self.read_engine = _sqlite_engine(url, begin="BEGIN", pool_size=pool_size)
        else:
            self.write_engine = self.read_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size
            )
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        """One transaction; commits if the block succeeds, rolls back if it raises."""
        sessions = self._write_sessions if write else self._read_sessions
        async with sessions() as session, session.begin():
            tx = Tx(session)
            yield tx
        for callback in tx._after_commit:
            callback()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
