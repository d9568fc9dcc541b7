"""Storage: SQLAlchemy models' base, the engine and transactions (migrations: honnin.migrations)."""

from honnin.db.base import Base, UTCDateTime, new_id, table_of
from honnin.db.engine import Database, Tx

__all__ = ["Base", "Database", "Tx", "UTCDateTime", "new_id", "table_of"]
