"""One daemon per database: an exclusive lock on a file beside the database, holding the daemon's PID.

    with daemon_lock("govwatch.db"):      # raises DaemonRunning(pid) when another daemon holds it
        ...                               # the scheduler runs here
    running_daemon("govwatch.db")         # -> the daemon's pid, or None

The lock is `flock` on `<database>.watch.lock`: the kernel releases it when the holder dies, however it dies,
so a crashed daemon never leaves a stale lock behind (the PID written in the file only says who holds it).
`running_daemon` tests the lock with a shared one it drops at once; a daemon starting meanwhile retries for
a moment instead of taking that for a rival.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

START_PATIENCE = 2.0  # seconds a starting daemon retries the lock (a `running_daemon` check may hold it briefly)


class DaemonRunning(RuntimeError):
    """Another daemon holds the database's lock."""

    def __init__(self, db_path, pid: int | None):
        who = f"PID {pid}" if pid else "another process"
        super().__init__(f"{db_path}: a govwatch watch daemon is already running on this database ({who})")
        self.pid = pid


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(f"{db_path}.watch.lock")


def _read_pid(handle) -> int | None:
    handle.seek(0)
    text = handle.read().strip()
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def daemon_lock(db_path: str | os.PathLike):
    """Hold the database's daemon lock for the block; raise DaemonRunning if another process holds it."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="ascii")
    try:
        deadline = time.monotonic() + START_PATIENCE
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DaemonRunning(db_path, _read_pid(handle)) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield os.getpid()
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def running_daemon(db_path: str | os.PathLike) -> int | None:
    """The PID of the daemon running on this database, or None (a daemon that died holds no lock)."""
    try:
        handle = open(lock_path(db_path), encoding="ascii")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            for _ in range(20):  # a daemon that has just taken the lock writes its pid next
                pid = _read_pid(handle)
                if pid:
                    return pid
                time.sleep(0.01)
            return -1  # held, by a pid not (yet) written
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
