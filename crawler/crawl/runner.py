"""Run a crawl in a subprocess (`python -m crawler.crawl.process`): Twisted's reactor cannot be restarted, so
every crawl gets a fresh process and the caller (CLI, scheduler, tests) can crawl back to back.

    summary = crawl("govwatch.toml", "govwatch.db", ["trs"], timeout=600, progress=print)
    summary.portals["trs"].new_reports
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from crawler.config import ConfigError, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]


class CrawlError(RuntimeError):
    """The crawl could not run at all (bad config, unwritable database, subprocess failed to start)."""


@dataclass
class PortalSummary:
    portal: str
    run_id: int | None = None
    status: str = "error"
    reason: str | None = None
    requests: int = 0
    pages: int = 0
    new_documents: int = 0
    changed_documents: int = 0
    new_reports: int = 0
    errors: int = 0
    family: str | None = None


@dataclass
class CrawlSummary:
    status: str  # ok | timeout | error
    returncode: int | None
    duration: float
    portals: dict[str, PortalSummary] = field(default_factory=dict)
    log: str = ""  # the subprocess's log (stderr)
    error: str | None = None

    def rows(self) -> list[dict]:
        return [vars(p) for p in self.portals.values()]


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


def crawl(config_path: str | os.PathLike, db_path: str | os.PathLike, portal_ids: list[str] | None = None, *,
          timeout: float | None = None, progress=None, log_level: str = "INFO",
          settings: dict | None = None) -> CrawlSummary:
    """Crawl the portals (all when `portal_ids` is empty) in one subprocess and return its summary.

    `progress(event)` receives each JSON progress event (`{"event": "start"|"progress"|"done", "portal": ...}`).
    `timeout` (default: the config's `crawl.timeout`) kills the subprocess; its runs are recorded as
    `timeout`. Raises CrawlError when nothing could run (bad config, unwritable database)."""
    try:
        config = load_config(config_path)
        portals = _selected(db_path, config, portal_ids)
    except ConfigError as exc:
        raise CrawlError(str(exc)) from None
    if timeout is None:
        timeout = config.crawl.timeout
    if config.crawl.backend == "scrapyd":  # jobs on scrapyd nodes, stored here (crawler.crawl.scrapyd)
        from crawler.crawl.scrapyd.controller import DispatchError, crawl_on_nodes

        try:
            return crawl_on_nodes(config_path, db_path, portal_ids, timeout=timeout, progress=progress,
                                  settings=settings)
        except DispatchError as exc:
            raise CrawlError(str(exc)) from None
    cmd = [sys.executable, "-m", "crawler.crawl.process", "--config", str(config_path), "--db", str(db_path),
           "--log-level", log_level]
    for pid in portal_ids or []:
        cmd += ["--portal", pid]
    for name, value in (settings or {}).items():
        cmd += ["--set", f"{name}={json.dumps(value)}"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    summaries = {p.id: PortalSummary(p.id) for p in portals}
    started = time.monotonic()
    log_file = tempfile.TemporaryFile(mode="w+b")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_file, env=env, cwd=str(Path.cwd()))
    except OSError as exc:
        log_file.close()
        raise CrawlError(f"cannot start the crawl process: {exc}") from exc
    errors: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            kind = event.get("event")
            pid = event.get("portal")
            if kind == "error":
                errors.append(event.get("message", "crawl failed"))
            elif pid in summaries:
                if kind == "start":
                    summaries[pid].run_id = event.get("run_id")
                    summaries[pid].status = "running"
                else:
                    _apply(summaries[pid], event)
            if progress is not None:
                try:
                    progress(event)
                except Exception:  # noqa: BLE001 - a progress printer must not break the crawl
                    pass

    reader = threading.Thread(target=read_stdout, name="crawl-progress", daemon=True)
    reader.start()
    status = "ok"
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        status = "timeout"
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    reader.join(timeout=5)
    log_file.seek(0)
    log = log_file.read().decode("utf-8", "replace")
    log_file.close()
    duration = time.monotonic() - started
    if status == "timeout":
        _record_timeout(db_path, summaries, timeout)
    elif proc.returncode != 0:
        message = errors[0] if errors else (log.strip().splitlines() or ["crawl process failed"])[-1]
        if proc.returncode in (2, 3):
            raise CrawlError(message)
        status = "error"
        for s in summaries.values():
            if s.status in ("running", "error"):
                s.status, s.reason = "error", s.reason or message
        return CrawlSummary(status, proc.returncode, duration, summaries, log, message)
    return CrawlSummary(status, proc.returncode, duration, summaries, log, errors[0] if errors else None)


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


def _record_timeout(db_path, summaries: dict[str, PortalSummary], timeout: float) -> None:
    from storage import connect, now_iso, transaction

    reason = f"crawl timed out after {timeout:g} s"
    now = now_iso()
    try:
        db = connect(db_path)
    except Exception:  # noqa: BLE001
        return
    with transaction(db):
        for s in summaries.values():
            s.status, s.reason = "timeout", reason
            if s.run_id is not None:
                db["crawl_runs"].update(s.run_id, {"status": "timeout", "reason": reason, "finished_at": now,
                                                   "pages": s.pages, "new_documents": s.new_documents,
                                                   "new_reports": s.new_reports, "requests": s.requests})
                db["portals"].update(s.portal, {"status": "error", "reason": reason, "last_crawl_at": now,
                                                "last_run_id": s.run_id, "updated_at": now})
