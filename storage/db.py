"""Opening the govwatch database: one SQLite file, WAL mode, schema migrated on open."""

from __future__ import annotations

import os
import time
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
# Another writer (a second crawl, the writer process, a long import) holds the one write lock at times: SQLite
# waits BUSY_TIMEOUT seconds for it per attempt, and a write transaction is attempted again until
# LOCK_DEADLINE seconds have passed, so contention costs time, never a page. Both can be set through the
# environment (tests shorten the first to show the retry at work).
BUSY_TIMEOUT = float(os.environ.get("GOVWATCH_DB_BUSY_TIMEOUT", "30"))
LOCK_DEADLINE = float(os.environ.get("GOVWATCH_DB_LOCK_DEADLINE", "300"))


class DatabaseError(RuntimeError):
    """The database cannot be opened or written (bad path, read-only file, corrupt file)."""


class DatabaseLocked(DatabaseError):
    """Another connection held the write lock for longer than the lock deadline."""


def now_iso() -> str:
    """Current UTC time, ISO 8601 to the second (the format of every *_at column)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def connect(path: str | Path = DEFAULT_DB, *, migrate_schema: bool = True,
            read_only: bool = False, busy_timeout: float | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path`, in WAL mode with the schema up to date.

    With `read_only` the file must exist and is opened with SQLite's `mode=ro`: nothing is created,
    migrated or written, and any write fails.
    Registers `govwatch_segment` (used by the full-text index triggers) on the connection.
    Raises DatabaseError with the path in the message when the file cannot be opened or written.
    """
    path = Path(path)
    try:
        wait = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        if read_only:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=wait,
                                   isolation_level=None, check_same_thread=False)
        else:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=wait, isolation_level=None, check_same_thread=False)
        conn.create_function("govwatch_segment", 1, segment, deterministic=True)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
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


def is_lock_contention(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "database table is locked" / busy errors."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc).lower())


class _Retry:
    """Waits between attempts on a locked database, until `deadline` seconds have passed since the first."""

    def __init__(self, deadline: float | None):
        self.deadline = LOCK_DEADLINE if deadline is None else deadline
        self.ends = time.monotonic() + self.deadline
        self.pause = 0.05

    def wait_or_raise(self, exc: BaseException) -> None:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise DatabaseLocked(f"database is locked: another writer held it for more than {self.deadline:g} s "
                                 f"({exc})") from exc
        time.sleep(min(self.pause, left))
        self.pause = min(self.pause * 2, 1.0)


class transaction:
    """`with transaction(db):` runs the block in one IMMEDIATE transaction (commit, or rollback on error).

    IMMEDIATE takes the write lock up front, so two crawl processes never deadlock upgrading read locks, and
    in WAL mode nothing of the block has run when the lock is refused: BEGIN is attempted again (each attempt
    waits the busy timeout) until `deadline` seconds (default LOCK_DEADLINE) have passed, then DatabaseLocked.
    Nested use joins the outer transaction. To re-run a whole block on contention at any statement (a
    database not in WAL mode can refuse COMMIT too), use `retry_write`.
    """

    def __init__(self, db: sqlite_utils.Database, *, deadline: float | None = None):
        self.conn = db.conn
        self.outer = False
        self.deadline = deadline

    def __enter__(self):
        self.outer = not self.conn.in_transaction
        if self.outer:
            retry = _Retry(self.deadline)
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if not is_lock_contention(exc):
                        raise
                    retry.wait_or_raise(exc)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            if exc_type:
                self.conn.execute("ROLLBACK")
            else:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.OperationalError:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
        return False


class savepoint:
    """`with savepoint(db):` inside an open transaction: the block's writes are undone alone (ROLLBACK TO)
    if it raises, and the exception goes on; the rest of the transaction stays. One document of a batch
    that fails to store costs only itself."""

    def __init__(self, db: sqlite_utils.Database, name: str = "govwatch_savepoint"):
        self.conn, self.name = db.conn, name

    def __enter__(self):
        self.conn.execute(f"SAVEPOINT {self.name}")
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type:
            self.conn.execute(f"ROLLBACK TO {self.name}")
        self.conn.execute(f"RELEASE {self.name}")
        return False


def retry_write(db: sqlite_utils.Database, write, *args, deadline: float | None = None, **kwargs):
    """`write(*args, **kwargs)` in one transaction, the whole of it run again (after a rollback) while the
    database is locked, until `deadline` seconds have passed (then DatabaseLocked). Returns what `write`
    returns. Inside an outer transaction it simply runs (the outer one owns the retry)."""
    if db.conn.in_transaction:
        return write(*args, **kwargs)
    retry = _Retry(deadline)
    while True:
        try:
            with transaction(db, deadline=retry.ends - time.monotonic()):
                return write(*args, **kwargs)
        except DatabaseLocked:
            raise
        except sqlite3.OperationalError as exc:
            if not is_lock_contention(exc):
                raise
            retry.wait_or_raise(exc)
