"""Transaction-scoped locks on arbitrary keys, for read-then-write rules.

On PostgreSQL an advisory lock held until the transaction ends; on SQLite nothing is needed,
because every write transaction there is `BEGIN IMMEDIATE` and so already runs alone.
"""

from __future__ import annotations

from sqlalchemy import func, select

from honnin.db.engine import Tx


async def lock_key(tx: Tx, key: bytes) -> None:
    if tx.session.get_bind().dialect.name != "postgresql":
        return
    await tx.session.execute(
        select(func.pg_advisory_xact_lock(int.from_bytes(key[:8], "big", signed=True)))
    )
