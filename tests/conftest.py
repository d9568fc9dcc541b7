"""Fixtures every test may use: isolation from the developer's environment, the databases.

Every test that takes `database_url` runs twice: on SQLite and on PostgreSQL. The PostgreSQL
run needs `HONNIN_TEST_DATABASE_URL` (CI sets it); without it, it is skipped and says why
(in CI, where it must run, it fails).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from honnin.migrations import upgrade
from honnin.models import metadata
from tests.support.ci import unavailable
from tests.support.clock import ShiftableClock

PG_ENV = "HONNIN_TEST_DATABASE_URL"


def _pg_url() -> str | None:
    raw = os.environ.get(PG_ENV)
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No HONNIN_* setting of the developer's shell, and no honnin.toml, leaks into a test."""
    for name in list(os.environ):
        if name.startswith("HONNIN_") and name != PG_ENV:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "honnin.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _truncate_all(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def _drop_everything(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = _pg_url()
    if url is None:
        unavailable(f"PostgreSQL run: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    asyncio.run(_drop_everything(url))
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "honnin.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
def clock() -> ShiftableClock:
    return ShiftableClock()
