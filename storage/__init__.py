"""govwatch storage: one SQLite file (sqlite-utils), schema in storage.schema."""

from storage.db import (DEFAULT_DB, DatabaseError, DatabaseLocked, connect, is_lock_contention, now_iso, retry_write,
                        savepoint, sqlite3, transaction)
from storage.schema import migrate

__all__ = ["DEFAULT_DB", "DatabaseError", "DatabaseLocked", "connect", "is_lock_contention", "migrate", "now_iso",
           "retry_write", "savepoint", "sqlite3", "transaction"]
