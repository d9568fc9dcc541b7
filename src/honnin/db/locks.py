"""Transaction-scoped locks on arbitrary keys, for read-then-write rules.

On PostgreSQL an advisory lock held until the transaction ends; on SQLite nothing is needed,
because every write transaction there is `BEGIN IMMEDIATE` and so already runs alone.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, bindparam, func, select

from honnin.db.engine import Tx
from honnin.db.prepared import Prepared

_LOCK = Prepared(select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger))))


async def lock_key(tx: Tx, key: bytes) -> None:
    if key in tx.locked or tx.engine.dialect.name != "postgresql":
        return
    tx.locked.add(key)
    await tx.run(_LOCK, {"key": int.from_bytes(key[:8], "big", signed=True)})
