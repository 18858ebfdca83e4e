"""Lock contention on the one SQLite file: a write waits for another writer's lock (busy timeout, then the
transaction again) until its deadline, and only then fails, with an error that says so."""

from __future__ import annotations

import threading
import time

import pytest

import helpers  # noqa: F401  (repo on sys.path)
from storage import DatabaseLocked, connect, retry_write, transaction


def hold_write_lock(path, seconds: float) -> threading.Event:
    """Another connection takes the write lock and keeps it for `seconds`; the event is set once it holds it."""
    held = threading.Event()

    def hold():
        other = connect(path)
        other.conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.conn.execute("COMMIT")
        other.conn.close()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    return held


def test_a_transaction_outlasts_a_lock_held_longer_than_the_busy_timeout(tmp_path):
    path = tmp_path / "l.db"
    db = connect(path, busy_timeout=0.2)
    db.execute("CREATE TABLE t (n INTEGER)")
    hold_write_lock(path, 1.5)
    started = time.monotonic()
    with transaction(db, deadline=30):
        db.execute("INSERT INTO t VALUES (1)")
    assert time.monotonic() - started > 1.0  # it did wait for the other writer, past its 0.2 s busy timeout
    assert db.execute("SELECT n FROM t").fetchall() == [(1,)]


def test_retry_write_runs_the_whole_write_again_and_returns_its_result(tmp_path):
    path = tmp_path / "l.db"
    db = connect(path, busy_timeout=0.1)
    db.execute("CREATE TABLE t (n INTEGER)")
    hold_write_lock(path, 1.0)
    calls = []

    def write(n):
        calls.append(n)
        db.execute("INSERT INTO t VALUES (?)", [n])
        return n * 2

    assert retry_write(db, write, 21, deadline=30) == 42
    assert db.execute("SELECT n FROM t").fetchall() == [(21,)]


def test_past_the_deadline_the_lock_is_an_error_naming_it(tmp_path):
    path = tmp_path / "l.db"
    db = connect(path, busy_timeout=0.1)
    db.execute("CREATE TABLE t (n INTEGER)")
    hold_write_lock(path, 3)
    with pytest.raises(DatabaseLocked, match="locked.*more than 0.5 s"):
        with transaction(db, deadline=0.5):
            db.execute("INSERT INTO t VALUES (1)")
    assert not db.conn.in_transaction
