"""Storage: SQLAlchemy models' base, the engine and transactions (migrations: honnin.migrations)."""

from honnin.db.base import Base, Unindexed, UTCDateTime, id_in, new_id, random_id, table_of
from honnin.db.engine import Database, Tx
from honnin.db.prepared import Prepared

__all__ = [
    "Base",
    "Database",
    "Prepared",
    "Tx",
    "UTCDateTime",
    "Unindexed",
    "id_in",
    "new_id",
    "random_id",
    "table_of",
]
