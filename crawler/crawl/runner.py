"""Run a crawl in a subprocess (`python -m crawler.crawl.process`): Twisted's reactor cannot be restarted, so
every crawl gets a fresh process and the caller (CLI, scheduler, tests) can crawl back to back.

    summary = crawl("govwatch.toml", "govwatch.db", ["trs"], timeout=600, progress=print)
    summary.portals["trs"].new_reports

The crawl process records its own runs (`crawler.crawl.runs`); the runner closes those the process could
not: a timeout (SIGTERM, then SIGKILL), a crawl killed by a signal (`killed by SIGKILL`), a crash, or the
caller stopped (KeyboardInterrupt, or `Interrupted` from a SIGTERM handler: the crawl is stopped gracefully
and its runs are `killed`). The crawl process runs in its own process group, so a terminal's Ctrl-C
reaches it once, through the runner, and dies with the runner (`--parent-pid`).

Every crawl's log (the process's stderr) is kept in a file: `log_file`, or by default a new file in
`<database name>-logs/` beside the database, where the newest KEEP_LOGS files are kept.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from crawler.config import ConfigError, load_config
from crawler.crawl.summary import CrawlSummary, PortalSummary

REPO_ROOT = Path(__file__).resolve().parents[2]
KEEP_LOGS = 100  # crawl logs kept beside a database
STOP_GRACE = 15.0  # seconds a stopped crawl gets to close its runs before it is SIGKILLed
LOG_TAIL_LINES = 40


class CrawlError(RuntimeError):
    """The crawl could not run at all (bad config, unwritable database, subprocess failed to start)."""


class Interrupted(KeyboardInterrupt):
    """Raise from a signal handler to stop a crawl gracefully (KeyboardInterrupt itself stands for SIGINT)."""

    def __init__(self, signal_name: str = "SIGTERM"):
        super().__init__(signal_name)
        self.signal_name = signal_name


def _apply(summary: PortalSummary, event: dict) -> None:
    summary.status = event.get("status", summary.status)
    summary.reason = event.get("reason", summary.reason)
    summary.requests = event.get("requests", summary.requests)
    summary.pages = event.get("pages", summary.pages)
    summary.new_documents = event.get("documents", summary.new_documents)
    summary.changed_documents = event.get("changed", summary.changed_documents)
    summary.new_reports = event.get("reports", summary.new_reports)
    summary.errors = event.get("errors", summary.errors)
    summary.family = event.get("family", summary.family)
    summary.baseline_reports = event.get("baseline_reports", summary.baseline_reports)


def default_log_file(db_path: str | os.PathLike) -> Path:
    """A new log file for one crawl, in `<database stem>-logs/` beside the database (the oldest beyond
    KEEP_LOGS are removed)."""
    db_path = Path(db_path)
    folder = db_path.parent / f"{db_path.stem}-logs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    handle, name = tempfile.mkstemp(prefix=f"crawl-{stamp}-", suffix=".log", dir=folder)
    os.close(handle)
    logs = sorted(folder.glob("crawl-*.log"), key=lambda p: p.name, reverse=True)
    for old in logs[KEEP_LOGS:]:
        try:
            old.unlink()
        except OSError:  # another crawl pruned it first
            pass
    return Path(name)


def crawl(config_path: str | os.PathLike, db_path: str | os.PathLike, portal_ids: list[str] | None = None, *,
          timeout: float | None = None, progress=None, log_level: str = "INFO", settings: dict | None = None,
          log_file: str | os.PathLike | None = None, echo_log=None, stop: threading.Event | None = None,
          stop_grace: float = STOP_GRACE) -> CrawlSummary:
    """Crawl the portals (all when `portal_ids` is empty) in one subprocess and return its summary.

    `progress(event)` receives each JSON progress event (`{"event": "start"|"progress"|"done", "portal": ...}`),
    `echo_log(line)` each line of the crawl's log as it is written. `timeout` (default: the config's
    `crawl.timeout`) stops the subprocess; its runs are recorded as `timeout`. Setting `stop` (from another
    thread: the daemon's SIGTERM) stops the crawl like a KeyboardInterrupt does, within `stop_grace` seconds.
    Raises CrawlError when nothing could run (bad config, unwritable database)."""
    try:
        config = load_config(config_path)
        portals = _selected(db_path, config, portal_ids)
    except ConfigError as exc:
        raise CrawlError(str(exc)) from None
    if timeout is None:
        timeout = config.crawl.timeout
    log_path = Path(log_file) if log_file else default_log_file(db_path)
    if config.crawl.backend == "scrapyd":  # jobs on scrapyd nodes, stored here (crawler.crawl.scrapyd)
        from crawler.crawl.scrapyd.controller import DispatchError, crawl_on_nodes

        try:
            return crawl_on_nodes(config_path, db_path, portal_ids, timeout=timeout, progress=progress,
                                  settings=settings, log_file=log_path, stop=stop, stop_grace=stop_grace)
        except DispatchError as exc:
            raise CrawlError(str(exc)) from None
    cmd = [sys.executable, "-m", "crawler.crawl.process", "--config", str(config_path), "--db", str(db_path),
           "--log-level", log_level, "--log-file", str(log_path.resolve()), "--parent-pid", str(os.getpid())]
    for pid in portal_ids or []:
        cmd += ["--portal", pid]
    for name, value in (settings or {}).items():
        cmd += ["--set", f"{name}={json.dumps(value)}"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    summaries = {p.id: PortalSummary(p.id) for p in portals}
    started = time.monotonic()
    try:
        log = open(log_path, "ab", buffering=0)  # unbuffered: a runner killed mid-crawl loses no line
    except OSError as exc:
        raise CrawlError(f"cannot write the crawl log {log_path}: {exc}") from None
    try:
        # its own process group: a terminal's Ctrl-C reaches the runner only, which stops the crawl once
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(Path.cwd()),
                                process_group=0)
    except OSError as exc:
        log.close()
        raise CrawlError(f"cannot start the crawl process: {exc}") from exc
    errors: list[str] = []
    tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
    readers = [threading.Thread(target=_read_events, args=(proc, summaries, errors, progress), daemon=True,
                                name="crawl-progress"),
               threading.Thread(target=_copy_log, args=(proc, log, tail, echo_log), daemon=True, name="crawl-log")]
    for reader in readers:
        reader.start()
    status, stopped_by = "ok", None
    try:
        if _wait(proc, timeout, stop):
            status, stopped_by = "interrupted", "the daemon's shutdown"
            _stop(proc, stop_grace)
    except subprocess.TimeoutExpired:
        status = "timeout"
        _stop(proc)
    except KeyboardInterrupt as exc:
        status, stopped_by = "interrupted", getattr(exc, "signal_name", "SIGINT")
        _stop(proc, stop_grace)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    for reader in readers:
        # a stopped crawl does not wait for a writer child that may still hold the pipes for a moment
        reader.join(timeout=1 if status == "interrupted" else 5)
    log.close()
    duration = time.monotonic() - started
    log_text = _read_tail(log_path)
    log_tail = "\n".join(tail)
    status, message, verdict = _verdict(status, proc.returncode, errors[0] if errors else None, log_tail,
                                        timeout=timeout, stopped_by=stopped_by)
    if status == "timeout" or any(s.run_id is None or s.status == "running" for s in summaries.values()):
        _close(db_path, summaries, *verdict, log_path, log_tail, unfinished_only=status != "timeout")
    return CrawlSummary(status, proc.returncode, duration, summaries, log_text, message, str(log_path))


def _verdict(status: str, returncode: int, message: str | None, log_tail: str, *, timeout: float,
             stopped_by: str | None) -> tuple[str, str | None, tuple[str, str]]:
    """(crawl status, error message, (status, reason) for the runs the crawl process did not close)."""
    if status == "timeout":
        return status, message, ("timeout", f"crawl timed out after {timeout:g} s")
    if status == "interrupted":
        return status, message, ("killed", f"crawl stopped by {stopped_by}")
    last_line = (log_tail.splitlines() or [f"crawl process exit code {returncode}"])[-1]
    if returncode in (2, 3):  # the process's own verdict: nothing could run
        raise CrawlError(message or last_line)
    if returncode < 0:
        message = f"crawl process killed by {_signal_name(-returncode)}"
        return "killed", message, ("killed", message)
    if returncode > 0:
        message = message or last_line
        return "error", message, ("error", message)
    return status, message, ("error", "crawl did not start (see the crawl log)")


def _selected(db_path, config, portal_ids):
    """The registry's portals named by `portal_ids` (all when empty); unknown ids raise CrawlError."""
    from crawler.registry import RegistryError, select_portals
    from storage import DatabaseError, connect

    try:
        db = connect(db_path)
    except DatabaseError as exc:
        raise CrawlError(str(exc)) from None
    try:
        return select_portals(db, config, portal_ids)
    except RegistryError as exc:
        raise CrawlError(str(exc)) from None
    finally:
        db.conn.close()


def _stop(proc: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """SIGTERM (Scrapy stops gracefully: requests in flight end, the writer stores what it has, the crawl closes
    its runs), a second SIGTERM after 60% of `grace` (Scrapy's unclean shutdown: requests waiting for a slow
    host's delay are dropped, the runs are still closed), SIGKILL at the end."""
    for share in (0.6, 0.4):
        proc.terminate()
        try:
            proc.wait(timeout=grace * share)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def _wait(proc: subprocess.Popen, timeout: float | None, stop: threading.Event | None) -> bool:
    """Wait for the crawl process; True when `stop` was set first. Raises TimeoutExpired after `timeout`."""
    if stop is None:
        proc.wait(timeout=timeout)
        return False
    deadline = None if timeout is None else time.monotonic() + timeout
    while proc.poll() is None:
        if stop.wait(0.1):
            return True
        if deadline is not None and time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(proc.args, timeout)
    return False


def _read_events(proc, summaries: dict[str, PortalSummary], errors: list[str], progress) -> None:
    for raw in proc.stdout:
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        kind, portal_id = event.get("event"), event.get("portal")
        if kind == "error":
            errors.append(event.get("message", "crawl failed"))
        elif portal_id in summaries:
            if kind == "start":
                summaries[portal_id].run_id = event.get("run_id")
                summaries[portal_id].status = "running"
            else:
                _apply(summaries[portal_id], event)
        if progress is not None:
            try:
                progress(event)
            except Exception:  # noqa: BLE001 - a progress printer must not break the crawl
                pass


def _copy_log(proc, log, tail: collections.deque, echo_log) -> None:
    for raw in proc.stderr:
        log.write(raw)
        line = raw.decode("utf-8", "replace")
        tail.append(line.rstrip("\n")[:500])
        if echo_log is not None:
            try:
                echo_log(line)
            except Exception:  # noqa: BLE001
                pass
    log.flush()


def _read_tail(path: Path, limit: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _close(db_path, summaries: dict[str, PortalSummary], status: str, reason: str, log_path: Path, log_tail: str,
           *, unfinished_only: bool = True) -> None:
    """Record the runner's verdict: the runs the crawl process did not finish (all of them after a
    timeout), and a finished run for each portal whose run never started."""
    from crawler.crawl.runs import close_runs, record_run
    from storage import DatabaseError, connect

    try:
        db = connect(db_path)
    except DatabaseError:
        return
    try:
        started = {pid: s.run_id for pid, s in summaries.items() if s.run_id is not None}
        close_runs(db, started, status, reason, unfinished_only=unfinished_only, log_tail=log_tail)
        for pid, s in summaries.items():
            if s.run_id is None:
                s.run_id = record_run(db, pid, status, reason, log_file=str(log_path), log_tail=log_tail)
            row = db.execute("SELECT status, reason FROM crawl_runs WHERE id = ?", [s.run_id]).fetchone()
            if row is not None:  # the database's verdict, whoever wrote it
                s.status, s.reason = row
    finally:
        db.conn.close()
