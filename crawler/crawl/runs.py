"""Run bookkeeping: the `portals` and `crawl_runs` rows of a crawl, written by the crawl itself.

`RunBookkeeping` is a Scrapy extension (listed in `crawler/settings.py`), so every runner gets the same
bookkeeping: `govwatch crawl` and the daemon (through `crawler.crawl.process`), `scrapy crawl column -a
config=… -a db=…` and scrapyd. On spider open it closes runs that dead processes left `running` (as
`killed`), syncs the TOML portals into the registry (`crawler.registry`) and starts one `crawl_runs` row per portal; on spider close it
finishes them from the spider's per-portal stats, sets each portal's status, and `baseline_done` once a
crawl of the portal ran to the end: that is what makes the next crawl incremental, whoever runs it. Each
run keeps the tail of the crawl's log that concerns it, and the log file's path.

The functions below are the same bookkeeping for a runner that outlives its crawl process (a crawl killed
by a signal or a timeout is closed by `crawler.crawl.runner`).
"""

from __future__ import annotations

import collections
import logging
import os
import socket

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.crawl.lifeline import orphaned, process_alive, process_started
from crawler.registry import sync_config
from storage import now_iso, transaction

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 40
BOOKKEEPING_ERROR = "govwatch/bookkeeping_error"  # crawl stat: why the runs could not be written


def start_runs(db, portal_ids, *, log_file: str | None = None) -> dict[str, int]:
    """A `running` crawl_runs row per portal, owned by this process; {portal id: run id}."""
    pid = os.getpid()
    owner = {"pid": pid, "host": socket.gethostname(), "pid_started": process_started(pid), "log_file": log_file}
    with transaction(db):
        return {portal_id: db["crawl_runs"].insert({"portal_id": portal_id, "started_at": now_iso(),
                                                    "status": "running", **owner}).last_pk
                for portal_id in portal_ids}


def finish_run(db, run_id: int, portal_id: str, status: str, reason: str | None, counts: dict | None = None,
               log_tail: str | None = None) -> None:
    """Close one run and set its portal's status (timeout and killed runs make the portal `error`); a run
    that ended `ok` completes the portal's baseline."""
    now = now_iso()
    with transaction(db):
        db["crawl_runs"].update(run_id, {"finished_at": now, "status": status, "reason": reason,
                                         **(counts or {}), **({"log_tail": log_tail} if log_tail else {})})
        update = {"status": status if status in ("ok", "blocked", "error") else "error", "reason": reason,
                  "last_crawl_at": now, "last_run_id": run_id, "updated_at": now}
        if status == "ok":
            update["baseline_done"] = 1
        db.execute(f"UPDATE portals SET {', '.join(f'{k} = ?' for k in update)} WHERE id = ?",
                   [*update.values(), portal_id])


def close_runs(db, run_ids: dict[str, int], status: str, reason: str, *, unfinished_only: bool = True,
               log_tail: str | None = None) -> None:
    """Close the given runs as `status` (a runner's verdict on a crawl process it saw die or stopped);
    with `unfinished_only`, runs the crawl process finished itself keep what it wrote."""
    for portal_id, run_id in run_ids.items():
        row = db.execute("SELECT status FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
        if row is None or (unfinished_only and row[0] != "running"):
            continue
        finish_run(db, run_id, portal_id, status, reason, log_tail=log_tail)


def record_run(db, portal_id: str, status: str, reason: str, *, log_file: str | None = None,
               log_tail: str | None = None) -> int:
    """A finished run for a portal whose crawl never got to start one (it timed out or died first)."""
    now = now_iso()
    with transaction(db):
        if not db["portals"].count_where("id = ?", [portal_id]):
            db["portals"].insert({"id": portal_id, "name": portal_id, "status": "never", "baseline_done": 0,
                                  "updated_at": now})
        run_id = db["crawl_runs"].insert({"portal_id": portal_id, "started_at": now, "status": "running",
                                          "host": socket.gethostname(), "log_file": log_file}).last_pk
        finish_run(db, run_id, portal_id, status, reason, log_tail=log_tail)
    return run_id


def close_dead_runs(db) -> list[int]:
    """Close as `killed` the runs left `running` by crawl processes of this host that are gone (a pid that
    is no longer alive, or alive but started at another time: reused). Returns their ids."""
    host, closed = socket.gethostname(), []
    rows = db.execute("SELECT id, portal_id, pid, pid_started, started_at FROM crawl_runs "
                      "WHERE status = 'running' AND (host IS NULL OR host = ?)", [host]).fetchall()
    for run_id, portal_id, pid, pid_started, started_at in rows:
        if pid == os.getpid():
            continue
        if pid and process_alive(pid) and (pid_started is None or process_started(pid) == pid_started):
            continue
        reason = f"crawl process {pid} died before finishing the run (started {started_at})"
        with transaction(db):
            if db.execute("SELECT status FROM crawl_runs WHERE id = ?", [run_id]).fetchone()[0] != "running":
                continue  # its runner closed it meanwhile
            db["crawl_runs"].update(run_id, {"status": "killed", "reason": reason, "finished_at": now_iso()})
            db.execute("UPDATE portals SET status = 'error', reason = ?, last_run_id = ?, updated_at = ? "
                       "WHERE id = ? AND (last_run_id IS NULL OR last_run_id < ?)",
                       [reason, run_id, now_iso(), portal_id, run_id])
        closed.append(run_id)
        logger.warning("run %s of portal %s closed as killed: %s", run_id, portal_id, reason)
    return closed


def silent_baseline_reports(db, portal_id: str) -> int:
    """How many of the portal's reports were recorded during its baseline without an alert."""
    return db.execute("SELECT count(*) FROM report_keys WHERE portal_id = ? AND baseline = 1",
                      [portal_id]).fetchone()[0]


def run_reason(stats) -> str | None:
    """The reason shown for a portal's run: the spider's (block, failure), else a digest of its errors."""
    if stats.reason:
        return stats.reason
    if stats.errors:
        last = stats.error_messages[-1] if stats.error_messages else "see the crawl log"
        return f"{stats.errors} error{'s' if stats.errors > 1 else ''}, last: {last}"
    return None


class _PortalLogTail(logging.Handler):
    """The last lines of the crawl log per portal: warnings and errors, and govwatch's own info lines (a
    portal's errors, blocks). A line naming a portal (`portal ID`) or one of its hosts goes to that portal,
    any other line to every portal."""

    def __init__(self, portals: dict):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.marks = {pid: (f"portal {pid}", *portal.hosts) for pid, portal in portals.items()}
        self.lines = {pid: collections.deque(maxlen=LOG_TAIL_LINES) for pid in portals}

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING and not record.name.startswith(("spiders", "crawler")):
            return
        try:
            line = self.format(record)[:500]
        except Exception:  # noqa: BLE001 - a bad log call must not break the crawl
            return
        owners = [pid for pid, marks in self.marks.items() if any(m in line for m in marks)] or self.lines
        for pid in owners:
            self.lines[pid].append(line)

    def tail(self, portal_id: str) -> str:
        return "\n".join(self.lines.get(portal_id, ()))


class RunBookkeeping:
    """Scrapy extension: the crawl's `portals` and `crawl_runs` rows (see the module docstring).

    Off with GOVWATCH_RUN_BOOKKEEPING = False, or for a spider without govwatch portals."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_ids: dict[str, int] = {}
        self.tail: _PortalLogTail | None = None

    @classmethod
    def from_crawler(cls, crawler):
        spider = crawler.spider
        if not crawler.settings.getbool("GOVWATCH_RUN_BOOKKEEPING", True) or \
                not hasattr(spider, "stats_by_portal") or getattr(spider, "db", None) is None:
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider):
        db = spider.db
        try:
            close_dead_runs(db)
            sync_config(db, spider.config)  # the TOML entries into the registry, under any runner
            self.run_ids = start_runs(db, list(spider.portals), log_file=self._log_file())
        except Exception as exc:  # noqa: BLE001 - sqlite3 errors: a crawl nobody records must not run
            message = f"database {spider.db_path or 'govwatch.db'}: cannot record the crawl: {exc}"
            logger.error(message)
            self.crawler.stats.set_value(BOOKKEEPING_ERROR, message)
            close_spider(self.crawler, "bookkeeping_failed")
            return
        spider.run_ids.update(self.run_ids)
        self.tail = _PortalLogTail(spider.portals)
        logging.getLogger().addHandler(self.tail)
        for portal_id, run_id in self.run_ids.items():
            self._emit(spider, {"event": "start", "portal": portal_id, "run_id": run_id, "pid": os.getpid()})

    def spider_closed(self, spider, reason):
        if self.tail is not None:
            logging.getLogger().removeHandler(self.tail)
        stopped = None if reason == "finished" else self._stop_reason(reason)
        for portal_id, run_id in self.run_ids.items():
            stats = spider.stats_by_portal[portal_id]
            status, why = stats.status, run_reason(stats)
            if stopped and status in ("ok", "running"):
                status, why = "killed", stopped
            elif status == "running":
                status = "error"
            silent = None  # reports recorded without alerts, when this run completes the portal's baseline
            if status == "ok" and not spider.config.alerts.alert_on_baseline and \
                    self._first_success(spider, portal_id):
                silent = silent_baseline_reports(spider.db, portal_id)
                logger.info("first crawl of portal %s: %d reports recorded as baseline, no alerts "
                            "(alert_on_baseline = false)", portal_id, silent)
            counts = {"requests": stats.requests, "pages": stats.pages, "new_documents": stats.documents,
                      "new_reports": stats.reports, "errors": stats.errors}
            finish_run(spider.db, run_id, portal_id, status, why, counts, self.tail.tail(portal_id) if self.tail
                       else None)
            self._emit(spider, {"event": "done", "run_id": run_id, **stats.as_dict(), "portal": portal_id,
                                "status": status, "reason": why, "baseline_reports": silent})

    # ----- helpers
    def _log_file(self) -> str | None:
        path = self.crawler.settings.get("GOVWATCH_LOG_FILE") or self.crawler.settings.get("LOG_FILE")
        return os.path.abspath(path) if path else None

    def _stop_reason(self, reason: str) -> str:
        if orphaned():
            return "crawl stopped: its runner died"
        signal_name = getattr(self.crawler, "stop_signal", None)
        if signal_name:
            return f"crawl stopped by {signal_name}"
        return f"crawl stopped: {reason}"

    @staticmethod
    def _first_success(spider, portal_id: str) -> bool:
        row = spider.db.execute("SELECT baseline_done FROM portals WHERE id = ?", [portal_id]).fetchone()
        return not (row and row[0])

    @staticmethod
    def _emit(spider, event: dict) -> None:
        if getattr(spider, "progress", None) is not None:
            spider.progress(event)


def close_spider(crawler, reason: str) -> None:
    """Ask Scrapy to close the crawl's spider with `reason` (from an extension, pipeline or signal handler)."""
    engine = crawler.engine
    if hasattr(engine, "close_spider_async"):
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(engine.close_spider_async(reason=reason))
    else:  # Scrapy 2.13
        engine.close_spider(crawler.spider, reason)
