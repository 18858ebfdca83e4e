"""A batch: many portals crawled by ONE crawl process, as the daemon (`crawler.crawl.watch`) runs them.

    outcomes = crawl_batch("govwatch.toml", "govwatch.db", ["340202", "340203"], timeout=1800, stop=event)
    outcomes["340202"].finished, outcomes["340202"].status

Scrapy crawls thousands of hosts in one process politely: each host keeps its own download slot with the
configured per-host concurrency (`concurrency_per_domain`), delay and AutoThrottle, and robots.txt is asked
once per host. What must grow with the number of portals is only the process-wide limit on requests in
flight (`CONCURRENT_REQUESTS`, 16 by default): with a 1 s delay per host, 16 requests in flight over 1,600
hosts leave almost every host idle. `batch_settings` scales it (and the DNS cache) with the batch; the
scheduler's DownloaderAwarePriorityQueue (Scrapy's default) hands the next request to the host with the
fewest requests in flight, so the larger limit spreads over hosts instead of piling onto one.

A portal's run `finished` when the crawl process reported its end (a `done` event: ok, blocked or error —
a portal that failed finished too, and its next run is the scheduled one). A batch that crashes, hangs past
its timeout or is stopped leaves its other portals unfinished: their runs are closed here if the crawl
process could not (`error`, with the reason), and the daemon gives them the next run.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from crawler.config import CrawlSettings
from crawler.settings import batch_settings

log = logging.getLogger("govwatch.watch")

FINISHED = ("ok", "blocked", "error")


@dataclass
class BatchOutcome:
    portal: str
    status: str  # ok | blocked | error | timeout | killed | stopped
    finished: bool
    reason: str | None = None
    pages: int = 0
    new_documents: int = 0
    new_reports: int = 0
    requests: int = 0

    def line(self) -> str:
        parts = [f"status={self.status}", f"pages={self.pages}", f"new_documents={self.new_documents}",
                 f"new_reports={self.new_reports}"]
        if self.reason and self.status != "ok":
            parts.append(f"reason={self.reason[:200]}")
        return " ".join(parts)


def crawl_batch(config_path: str, db_path: str, portal_ids: list[str], *, crawl: CrawlSettings,
                timeout: float | None = None, stop: threading.Event | None = None, stop_grace: float = 6.0,
                log_level: str = "INFO") -> dict[str, BatchOutcome]:
    """Crawl `portal_ids` in one crawl process; one outcome per portal. Never raises. Setting `stop` ends the
    crawl within `stop_grace` seconds (see `crawler.crawl.runner.crawl`)."""
    from crawler.crawl.runner import crawl as run_crawl

    done: set[str] = set()

    def progress(event: dict) -> None:
        if event.get("event") == "done":
            done.add(event.get("portal"))

    try:
        summary = run_crawl(config_path, db_path, portal_ids, timeout=timeout, progress=progress,
                            log_level=log_level, settings=batch_settings(len(portal_ids), crawl), stop=stop,
                            stop_grace=stop_grace)
    except Exception as exc:  # noqa: BLE001 - bad config, database, process start: every portal unfinished
        reason = f"{type(exc).__name__}: {exc}"[:500]
        record_unfinished(db_path, {pid: None for pid in portal_ids}, reason)
        return {pid: BatchOutcome(pid, "error", False, reason) for pid in portal_ids}
    if summary.status == "ok":
        reason = None
    elif summary.status == "interrupted":
        reason = "crawl stopped: the daemon is shutting down"
    else:
        reason = summary.error or f"crawl {summary.status} (exit code {summary.returncode})"
    outcomes, unfinished = {}, {}
    for pid in portal_ids:
        run = summary.portals.get(pid)
        status = run.status if run is not None else "error"
        finished = pid in done and status in FINISHED
        if not finished and summary.status == "interrupted":
            status = "stopped"
        outcome = BatchOutcome(pid, status, finished, (run.reason if run else None) or (None if finished else reason),
                               pages=run.pages if run else 0, new_documents=run.new_documents if run else 0,
                               new_reports=run.new_reports if run else 0, requests=run.requests if run else 0)
        outcomes[pid] = outcome
        if not finished:  # closed here unless the crawl process closed it (only `running` rows are touched)
            unfinished[pid] = run.run_id if run else None
    if unfinished:
        record_unfinished(db_path, unfinished, reason or "the crawl process ended without finishing this portal")
    return outcomes


def record_unfinished(db_path: str, run_ids: dict[str, int | None], reason: str) -> None:
    """Close the runs of portals whose crawl process ended without closing them (still `running`), or add a
    failed run for portals whose process never started them, in one transaction."""
    from storage import connect, now_iso, transaction

    try:
        db = connect(db_path)
    except Exception as exc:  # noqa: BLE001 - the database itself is broken: nothing to record into
        log.error("cannot record %d unfinished runs: %s", len(run_ids), exc)
        return
    now = now_iso()
    try:
        with transaction(db):
            db.conn.executemany(
                "UPDATE crawl_runs SET status = 'error', reason = ?, finished_at = ? WHERE id = ? AND status = 'running'",
                [(reason, now, run_id) for run_id in run_ids.values() if run_id is not None])
            db.conn.executemany(
                "INSERT INTO crawl_runs (portal_id, started_at, finished_at, status, reason) "
                "VALUES (?, ?, ?, 'error', ?)", [(pid, now, now, reason) for pid, run_id in run_ids.items()
                                                 if run_id is None])
            db.conn.executemany("UPDATE portals SET status = 'error', reason = ?, last_crawl_at = ?, updated_at = ? "
                                "WHERE id = ?", [(reason, now, now, pid) for pid in run_ids])
    finally:
        db.conn.close()
