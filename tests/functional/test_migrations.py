"""The migration history builds exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from honnin.migrations import upgrade_async
from honnin.models import metadata


async def schema_differences(url: str) -> list[Any]:
    engine = create_async_engine(url)

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(database_url: str) -> None:
    await upgrade_async(database_url)  # already at head: a no-op that must not fail
    assert await schema_differences(database_url) == []


async def test_migrations_apply_to_a_fresh_sqlite_file(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh/honnin.db"
    await upgrade_async(url)
    await asyncio.sleep(0)
    assert await schema_differences(url) == []
