"""Transaction-scoped locks on arbitrary keys, for read-then-write rules.

On PostgreSQL an advisory lock held until the transaction ends; on SQLite nothing is needed,
because every write transaction there is `BEGIN IMMEDIATE` and so already runs alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, bindparam, func, select

from honnin.db.engine import Tx
from honnin.db.prepared import Prepared

_LOCKS: dict[int, Prepared] = {}  # by the number of keys locked at once


def _locks(count: int) -> Prepared:
    if count not in _LOCKS:
        keys = [bindparam(f"key{i}", type_=BigInteger) for i in range(count)]
        _LOCKS[count] = Prepared(select(*(func.pg_advisory_xact_lock(key) for key in keys)))
    return _LOCKS[count]


async def lock_key(tx: Tx, key: bytes) -> None:
    await lock_keys(tx, [key])


async def lock_keys(tx: Tx, keys: Sequence[bytes]) -> None:
    """Lock every key (one round trip), in one order whatever the caller's: two transactions
    that lock the same keys never wait for each other in a circle."""
    if tx.engine.dialect.name != "postgresql":
        return
    wanted = sorted(set(keys) - tx.locked)
    if not wanted:
        return
    tx.locked.update(wanted)
    params = {f"key{i}": int.from_bytes(k[:8], "big", signed=True) for i, k in enumerate(wanted)}
    await tx.run(_locks(len(wanted)), params)
