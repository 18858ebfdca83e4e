"""Processes that die with the process that started them.

A crawl process belongs to its runner (`govwatch crawl`, the daemon) and a writer process to its crawl: when
the parent is SIGKILLed, an orphan would go on crawling, or sit with the database open, for hours. The child
calls `die_with_parent(parent_pid)` first thing:

- on Linux the kernel sends it `sig` the moment its parent dies (`prctl(PR_SET_PDEATHSIG)`, through ctypes);
- everywhere a watchdog thread sees its parent change (`os.getppid()`), sends `sig` where the kernel could
  not, and SIGKILLs the process if it is still alive `grace` seconds later (a graceful stop that hangs).

The parent's pid is passed in, not read: a parent that died before the call is noticed at once.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
RELAY = signal.SIGHUP  # the kernel's parent-death signal when the wanted one can be caught (see die_with_parent)
_parent: int | None = None


def _set_parent_death_signal(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM, *, grace: float = 20.0, poll: float = 0.5) -> None:
    """Receive `sig` when process `parent_pid` (this process's parent) dies; be SIGKILLed `grace` s later.

    Call it from the main thread. A catchable `sig` is delivered once: the kernel sends the parent-death
    signal each time the child is handed from a dying thread of the parent to the next one, and a second
    SIGTERM turns Scrapy's graceful stop into a forced one. So the kernel sends RELAY, relayed once as `sig`."""
    global _parent
    _parent = parent_pid
    kernel_signal = sig
    if sig != signal.SIGKILL:
        relayed: list[bool] = []

        def relay(signum, frame):
            if not relayed:
                relayed.append(True)
                os.kill(os.getpid(), sig)

        signal.signal(RELAY, relay)
        kernel_signal = RELAY
    armed = _set_parent_death_signal(kernel_signal)
    if os.getppid() != parent_pid:  # the parent died before the kernel could be told
        os.kill(os.getpid(), kernel_signal)
        armed = True
    threading.Thread(target=_watch, args=(parent_pid, sig, armed, grace, poll), name="govwatch-lifeline",
                     daemon=True).start()


def orphaned() -> bool:
    """True once the parent given to `die_with_parent` is gone (False when it was never called)."""
    return _parent is not None and os.getppid() != _parent


def _watch(parent_pid: int, sig: int, armed: bool, grace: float, poll: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(poll)
    if not armed:  # a second SIGTERM would turn Scrapy's graceful stop into a forced one: send it once
        os.kill(os.getpid(), sig)
    time.sleep(grace)
    os.kill(os.getpid(), signal.SIGKILL)


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, dead but not reaped by its parent, counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:  # no /proc (macOS): os.kill said it exists
        return True


def process_started(pid: int) -> str | None:
    """A token of when `pid` started (its start time in clock ticks since boot, from /proc), to tell a live
    process from a later one that reuses its pid; None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None
