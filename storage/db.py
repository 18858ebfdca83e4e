"""Opening the govwatch database: one SQLite file, WAL mode, schema migrated on open."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from storage.schema import migrate
from storage.segment import segment

try:
    # A current SQLite (3.51) where its wheel exists (Linux x86_64), the same choice sqlite-utils makes: its
    # FTS5 ranks ~25% faster than Debian's 3.40 and, unlike it, gets faster with a second thread. Every
    # connection to the database in a process must come from this one library (two copies of SQLite in
    # one process can break each other's file locks), so other modules take `sqlite3` from here.
    from pysqlite3 import dbapi2 as sqlite3
except ImportError:
    import sqlite3

DEFAULT_DB = "govwatch.db"
# Up to 256 MiB of page cache per connection (SQLite's default is 2 MiB), allocated only as pages are read:
# ranking a common word reads its whole doclist and every row's length, ~100 MiB on a 100,000-report
# corpus, and with the default cache each query read them from the file again (p95 164 -> 110 ms)
CACHE_PRAGMA = "PRAGMA cache_size = -262144"


class DatabaseError(RuntimeError):
    """The database cannot be opened or written (bad path, read-only file, corrupt file)."""


def now_iso() -> str:
    """Current UTC time, ISO 8601 to the second (the format of every *_at column)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def connect(path: str | Path = DEFAULT_DB, *, migrate_schema: bool = True,
            read_only: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path`, in WAL mode with the schema up to date.

    With `read_only` the file must exist and is opened with SQLite's `mode=ro`: nothing is created,
    migrated or written, and any write fails.
    Registers `govwatch_segment` (used by the full-text index triggers) on the connection.
    Raises DatabaseError with the path in the message when the file cannot be opened or written.
    """
    path = Path(path)
    try:
        if read_only:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
        else:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.create_function("govwatch_segment", 1, segment, deterministic=True)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA busy_timeout = 30000")
        if not read_only:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute(CACHE_PRAGMA)
        db.execute("PRAGMA foreign_keys = ON")
        if migrate_schema and not read_only:
            migrate(db)
    except (sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from exc
    return db


class transaction:
    """`with transaction(db):` runs the block in one IMMEDIATE transaction (commit, or rollback on error).

    IMMEDIATE takes the write lock up front, so two crawl processes never deadlock upgrading read locks.
    Nested use joins the outer transaction.
    """

    def __init__(self, db: sqlite_utils.Database):
        self.conn = db.conn
        self.outer = False

    def __enter__(self):
        self.outer = not self.conn.in_transaction
        if self.outer:
            self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
