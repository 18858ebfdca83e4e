"""govwatch storage: one SQLite file (sqlite-utils), schema in storage.schema."""

from storage.db import DEFAULT_DB, DatabaseError, connect, now_iso, sqlite3, transaction
from storage.schema import migrate

__all__ = ["DEFAULT_DB", "DatabaseError", "connect", "migrate", "now_iso", "sqlite3", "transaction"]
