"""`govwatch watch`: the scheduler daemon, for a handful of portals or all of China.

Portals that come due close together are crawled together, in ONE crawl process (a batch: see
`crawler.crawl.batch`), with at most `[crawl] processes` crawl processes at once (default: the CPUs).

Where the schedule lives. A job per portal in APScheduler's job store was the first design: at 3,000
portals that is 3,000 pickled rows rewritten on every run, 3,000 separate firings each starting its own
crawl process (measured: ~3 CPU-s and 3-13 s wall to re-check one unchanged portal, ~3 CPU-hours per national
cycle), and batching would mean collecting the firings again in memory, with per-job `max_instances` no
longer saying whether a portal is in a running batch. So the job store holds only what really is a job --
`alerts:flush` (every minute) and `alerts:deadline` (daily; persistent, so a digest missed while the daemon
was down still runs) -- and the portals' due times are rows of the govwatch database (`watch_schedule`: one
per portal of the registry, `next_run_at`, `dispatch_at`, `running_since`). A dispatcher, an in-memory
APScheduler job every TICK seconds, asks it in one indexed query which portals are due and not running,
marks them running in the same transaction, and starts a batch per free process slot: up to
`[crawl] batch_size` portals each, split evenly over the free slots when more than SPLIT_MIN are due.

Rules:

* due: `dispatch_at <= now`, where `dispatch_at` is `next_run_at` minus a window (a twentieth of the
  interval, at most 60 s; 60 s for cron schedules), so portals due within the next moment join the batch
  that starts now instead of starting another one a second later;
* a portal is in at most one batch (`running_since` is set while it is); `running_since` left by a daemon
  that died is cleared at start (one daemon per database);
* after a run that finished (ok, blocked or error): interval schedules are fixed-rate -- the next run is the
  previous due time plus the interval, or now if that has passed (missed runs coalesce into one); cron
  schedules run at their next fire time after now. A report published between two checks is therefore
  alerted within one interval plus the batch's crawl time;
* a portal whose run did not finish (its batch crashed, hung past `[crawl] timeout`, or was stopped) is due
  again after RETRY_SECONDS (at most its interval); on a stop it is due at once, for the next start;
* new portals are due at once (their baseline crawls run together); portals that left the registry lose
  their row; a changed schedule is recomputed from now. The registry is re-read when its stamp changes
  (`crawler.registry.registry_stamp`), so portals imported while the daemon runs are scheduled.

Alerts are delivered after each batch that found new reports (within `[alerts] crawl_flush_budget`) and by
`alerts:flush` (within FLUSH_BUDGET); each send has a hard deadline, so delivery never holds up the schedule,
and on SIGTERM a send in flight is stopped.

SIGTERM / SIGINT: no batch starts any more, every running crawl process is asked to stop (SIGTERM: Scrapy
closes the spider, the writer stores the documents it already has, the runs end `killed`), SIGKILLed after
STOP_GRACE seconds; with `backend = "scrapyd"` a batch's controller cancels its jobs on their nodes in the
same grace (`crawler.crawl.scrapyd.controller`: hand-backs that arrive in time are ingested, the other jobs
end `cancelled`, their runs `killed`). The daemon returns (exit code 0) within 10 s. What was stored stays
stored and each document's fetch state commits in its own transaction, so the unfinished portals' next run
(at the next start) fetches only what is missing.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.crawl.daemonlock import daemon_lock
from storage import sqlite3

log = logging.getLogger("govwatch.watch")

LEGACY_JOB_PREFIX = "crawl:"  # one job per portal, as daemons before batching kept them
DISPATCH_JOB = "crawl:dispatch"
FLUSH_JOB = "alerts:flush"
FLUSH_NAME_PREFIX = "alerts flush ["
DEADLINE_JOB = "alerts:deadline"
MISFIRE_GRACE = 3600
FLUSH_EVERY = 60  # seconds
FLUSH_BUDGET = 45  # seconds one alerts:flush may take: less than FLUSH_EVERY, so it never delays the next
# set while the daemon stops: a flush in flight stops its send at once instead of holding up the shutdown
_stopping = threading.Event()
TICK = 1.0  # seconds between two looks at the due portals
SPLIT_MIN = 50  # fewer due portals than this run in one process even when more slots are free
RETRY_SECONDS = 60  # an unfinished portal's next try (at most its interval)
STOP_GRACE = 6.0  # seconds a stopped crawl process gets to end (see runner.crawl): the daemon is gone in 10 s
REGISTRY_EVERY = 10.0  # seconds between two checks of the registry's stamp
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# ---------------------------------------------------------------------------------------------------------
# schedules


def interval_seconds(schedule: str) -> int | None:
    match = _INTERVAL.match(schedule or "")
    return int(match.group(1)) * _SECONDS[match.group(2)] if match else None


def make_trigger(schedule: str):
    """An APScheduler trigger for `6h` / `30m` / `10s` / `1d` or a 5-field crontab expression (UTC)."""
    seconds = interval_seconds(schedule)
    if seconds is not None:
        if seconds <= 0:
            raise ValueError(f"schedule {schedule!r}: interval must be positive")
        return IntervalTrigger(seconds=seconds, timezone=timezone.utc)
    return CronTrigger.from_crontab(schedule.strip(), timezone=timezone.utc)


def next_due(schedule: str, previous_due: datetime, now: datetime) -> datetime:
    """When a portal whose run was due at `previous_due` and finished by `now` is due again."""
    seconds = interval_seconds(schedule)
    if seconds is not None:
        return max(previous_due + timedelta(seconds=seconds), now)
    return make_trigger(schedule).get_next_fire_time(None, now)


def dispatch_window(schedule: str) -> int:
    """Seconds before its due time that a portal may join a starting batch."""
    seconds = interval_seconds(schedule)
    return 60 if seconds is None else min(60, seconds // 20)


def portal_schedule(config, portal) -> str:
    return portal.schedule or config.crawl.schedule


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------------------------------------------
# the schedule table (storage/schema.py m015_watch_schedule)


def sync_schedule(db, config, *, now: datetime | None = None) -> dict:
    """One `watch_schedule` row per portal of `config` (the registry's set): new portals due now, changed
    schedules recomputed from now, rows of portals no longer watched removed, one transaction.
    Returns {"added": [...], "kept": [...], "replaced": [...], "removed": [...]} (portal ids)."""
    from storage import transaction

    now = now or datetime.now(timezone.utc)
    report = {"added": [], "kept": [], "replaced": [], "removed": []}
    with transaction(db):
        known = {pid: schedule for pid, schedule in db.conn.execute("SELECT portal_id, schedule FROM watch_schedule")}
        inserts, updates = [], []
        for portal in config.portals:
            schedule = portal_schedule(config, portal)
            if known.get(portal.id) == schedule:
                report["kept"].append(portal.id)
                continue
            due = now if portal.id not in known else next_due(schedule, now, now)
            row = (_iso(due), _iso(due - timedelta(seconds=dispatch_window(schedule))), schedule, portal.id)
            (updates if portal.id in known else inserts).append(row)
            report["replaced" if portal.id in known else "added"].append(portal.id)
        db.conn.executemany("INSERT INTO watch_schedule (next_run_at, dispatch_at, schedule, portal_id) "
                            "VALUES (?, ?, ?, ?)", inserts)
        db.conn.executemany("UPDATE watch_schedule SET next_run_at = ?, dispatch_at = ?, schedule = ? "
                            "WHERE portal_id = ?", updates)
        wanted = {p.id for p in config.portals}
        report["removed"] = sorted(pid for pid in known if pid not in wanted)
        db.conn.executemany("DELETE FROM watch_schedule WHERE portal_id = ?", [(pid,) for pid in report["removed"]])
    return report


def take_due(db, limit: int, *, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """The due portals not running, oldest due first, marked running: [(portal id, schedule, due time)]."""
    from storage import transaction

    now = now or datetime.now(timezone.utc)
    with transaction(db):
        rows = db.conn.execute(
            "SELECT portal_id, schedule, next_run_at FROM watch_schedule WHERE running_since IS NULL "
            "AND dispatch_at <= ? ORDER BY dispatch_at, portal_id LIMIT ?", [_iso(now), limit]).fetchall()
        db.conn.executemany("UPDATE watch_schedule SET running_since = ? WHERE portal_id = ?",
                            [(_iso(now), pid) for pid, _, _ in rows])
    return [tuple(r) for r in rows]


def finish_runs(db, runs: list[tuple[str, str, str]], finished: set[str], *, stopping: bool = False,
                now: datetime | None = None) -> None:
    """Reschedule the portals of a batch (`runs` as `take_due` returned them) after it ended."""
    from storage import transaction

    now = now or datetime.now(timezone.utc)
    rows = []
    for pid, schedule, due in runs:
        if pid in finished:
            nxt = next_due(schedule, _parse(due), now)
        elif stopping:
            nxt = now
        else:
            nxt = now + timedelta(seconds=min(RETRY_SECONDS, interval_seconds(schedule) or RETRY_SECONDS))
        rows.append((_iso(nxt), _iso(nxt - timedelta(seconds=dispatch_window(schedule))),
                     _iso(now) if pid in finished else None, pid))
    with transaction(db):
        db.conn.executemany("UPDATE watch_schedule SET next_run_at = ?, dispatch_at = ?, running_since = NULL, "
                            "last_finished_at = COALESCE(?, last_finished_at) WHERE portal_id = ?", rows)


def next_runs(db) -> dict[str, str | None]:
    """{portal id: next run time (UTC ISO)}, from the daemon's schedule table."""
    conn = db.conn if hasattr(db, "conn") else db
    try:
        return dict(conn.execute("SELECT portal_id, next_run_at FROM watch_schedule").fetchall())
    except sqlite3.OperationalError:  # a database older than the schedule table
        return {}


# ---------------------------------------------------------------------------------------------------------
# the dispatcher


@dataclass
class Batch:
    number: int
    runs: list[tuple[str, str, str]]
    started: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None


class Dispatcher:
    """Starts batches of due portals, at most `processes` at once, and reschedules them when they end."""

    def __init__(self, config, config_path: str, db_path: str, *, processes: int, batch_size: int,
                 log_level: str = "INFO"):
        from storage import connect

        self.config, self.config_path, self.db_path = config, config_path, db_path
        self.processes, self.batch_size, self.log_level = processes, batch_size, log_level
        self.db = connect(db_path)
        self.stopping = threading.Event()
        self.batches: dict[int, Batch] = {}
        self.started = 0  # batches started so far
        self._lock = threading.Lock()

    def tick(self) -> list[Batch]:
        """Start batches for the free slots; returns the batches started."""
        with self._lock:
            free = self.processes - len(self.batches)
            if self.stopping.is_set() or free <= 0:
                return []
            due = take_due(self.db, free * self.batch_size)
            if not due:
                return []
            count = max(1, min(free, -(-len(due) // SPLIT_MIN)))
            size = -(-len(due) // count)
            started = []
            for first in range(0, len(due), size):
                self.started += 1
                batch = Batch(self.started, due[first:first + size])
                batch.thread = threading.Thread(target=self._run, args=(batch,), name=f"batch-{batch.number}",
                                                daemon=True)
                self.batches[batch.number] = batch
                started.append(batch)
            for batch in started:
                log.info("batch %d: %d portal(s) (%d running)", batch.number, len(batch.runs), len(self.batches))
                batch.thread.start()
            return started

    def _run(self, batch: Batch) -> None:
        from crawler.crawl.batch import crawl_batch

        ids = [pid for pid, _, _ in batch.runs]
        outcomes = {}
        try:
            outcomes = crawl_batch(self.config_path, self.db_path, ids, crawl=self.config.crawl,
                                   timeout=self.config.crawl.timeout, stop=self.stopping, stop_grace=STOP_GRACE,
                                   log_level=self.log_level)
        except BaseException as exc:  # noqa: BLE001 - a batch never takes the daemon down
            log.error("batch %d failed: %s", batch.number, f"{type(exc).__name__}: {exc}"[:300])
        finished = {pid for pid, o in outcomes.items() if o.finished}
        try:
            with self._lock:
                finish_runs(self.db, batch.runs, finished, stopping=self.stopping.is_set())
        finally:
            with self._lock:
                self.batches.pop(batch.number, None)
        for pid in ids:
            outcome = outcomes.get(pid)
            log.info("crawl %s: %s", pid, outcome.line() if outcome else "status=error reason=batch failed")
        counts: dict[str, int] = {}
        for outcome in outcomes.values():
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        sent = None
        if not self.stopping.is_set() and any(o.new_reports for o in outcomes.values()):
            sent = _flush_quietly(self.config, self.db_path, budget=self.config.alerts.crawl_flush_budget)
        log.info("batch %d done: %d portal(s) in %.1f s: %s; new reports %d%s", batch.number, len(ids),
                 time.monotonic() - batch.started, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                 sum(o.new_reports for o in outcomes.values()), f"; alerts sent {sent}" if sent is not None else "")

    def stop(self, timeout: float) -> bool:
        """Stop dispatching and every running batch; True when all ended within `timeout` seconds."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for batch in list(self.batches.values()):
            if batch.thread is not None:
                batch.thread.join(max(0.0, deadline - time.monotonic()))
        return not self.batches

    def close(self) -> None:
        self.db.conn.close()


# ---------------------------------------------------------------------------------------------------------
# job functions (module level, plain arguments: the job store pickles references to them)


def flush_job(config_path: str, db_path: str) -> None:
    from crawler.config import load_config

    try:
        summary = _flush(load_config(config_path), db_path, budget=FLUSH_BUDGET)
        if summary.sent or summary.failed:
            log.info("alerts flush: sent=%s failed=%s pending=%s", summary.sent, summary.failed, summary.pending)
    except Exception as exc:
        log.warning("alerts flush failed: %s", f"{type(exc).__name__}: {exc}"[:300])


def deadline_job(config_path: str, db_path: str) -> None:
    from crawler.config import load_config
    from crawler.monitor.coverage import missing_digest
    from storage import connect

    try:
        config = load_config(config_path)
        db = connect(db_path)
        try:
            alert_id = missing_digest(db, config)
        finally:
            db.conn.close()
        if alert_id:
            log.info("deadline digest: alert %s", alert_id)
            _flush(config, db_path, budget=FLUSH_BUDGET)
    except Exception as exc:
        log.warning("deadline digest failed: %s", f"{type(exc).__name__}: {exc}"[:300])


def _flush(config, db_path: str, *, budget: float):
    from crawler.monitor.delivery import flush
    from storage import connect

    db = connect(db_path)
    try:
        return flush(db, config, budget=budget, cancel=_stopping)
    finally:
        db.conn.close()


def _flush_quietly(config, db_path: str, *, budget: float) -> int | None:
    try:
        return _flush(config, db_path, budget=budget).sent
    except Exception as exc:  # noqa: BLE001 - the flush job retries
        log.warning("alerts flush failed: %s", f"{type(exc).__name__}: {exc}"[:300])
        return None


# ---------------------------------------------------------------------------------------------------------
# the scheduler


def jobstore_url(db_path: str | Path) -> str:
    return f"sqlite:///{Path(db_path).resolve()}"


class _OverlappingFlushFilter(logging.Filter):
    """A flush still sending when the next one comes due is why `max_instances = 1` is set: that skip is the
    design (the running flush takes the waiting alerts), not a fault to warn about once a second."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if FLUSH_NAME_PREFIX in message and "maximum number of running instances" in message:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def build_scheduler(db_path: str | Path, *, max_workers: int = 4) -> BackgroundScheduler:
    from storage import connect

    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _OverlappingFlushFilter) for f in scheduler_log.filters):
        scheduler_log.addFilter(_OverlappingFlushFilter())

    connect(db_path).conn.close()  # create + migrate the database (WAL) before SQLAlchemy opens it
    # SQLAlchemy's driver on the same SQLite library as govwatch's own connections (see storage.db)
    store = SQLAlchemyJobStore(url=jobstore_url(db_path),
                               engine_options={"connect_args": {"timeout": 30}, "module": sqlite3})
    return BackgroundScheduler(
        jobstores={"default": store, "memory": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
        timezone=timezone.utc,
    )


def sync_jobs(scheduler, config, config_path: str, db_path: str) -> list[str]:
    """Register the flush and deadline jobs (explicit ids, replace_existing: a restart never duplicates them)
    and drop the per-portal jobs of daemons before batching. Returns the ids of the jobs dropped."""
    config_path, db_path = str(Path(config_path).resolve()), str(Path(db_path).resolve())
    dropped = [job.id for job in scheduler.get_jobs(jobstore="default") if job.id.startswith(LEGACY_JOB_PREFIX)]
    for job_id in dropped:
        scheduler.remove_job(job_id, jobstore="default")
    flush_every = max(1, min(FLUSH_EVERY, int(config.alerts.backoff_base) or FLUSH_EVERY))
    scheduler.add_job(flush_job, IntervalTrigger(seconds=flush_every, timezone=timezone.utc),
                      args=[config_path, db_path], id=FLUSH_JOB, name=f"{FLUSH_NAME_PREFIX}{flush_every}s]",
                      replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE)
    scheduler.add_job(deadline_job, CronTrigger(hour=1, minute=7, timezone=timezone.utc),  # 09:07 Beijing
                      args=[config_path, db_path], id=DEADLINE_JOB, name="deadline digest [daily]",
                      replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=86400)
    return dropped


def _registry_config(db, config):
    """`config` with the registry's portals (the TOML entries synced into it first)."""
    from crawler.registry import sync_config, with_registry

    sync_config(db, config)
    return with_registry(db, config)


def default_processes(config) -> int:
    return config.crawl.processes or os.cpu_count() or 1


def watch(config_path: str, db_path: str, *, stop: threading.Event | None = None, install_signals: bool = True,
          log_level: str = "INFO") -> dict:
    """Run the daemon until SIGTERM/SIGINT (or `stop` is set); returns the schedule sync report."""
    from crawler.config import load_config

    config = load_config(config_path)
    with daemon_lock(db_path):  # one daemon per database: a second one raises DaemonRunning naming the first
        return _watch(config, config_path, db_path, stop=stop, install_signals=install_signals, log_level=log_level)


def _watch(config, config_path: str, db_path: str, *, stop: threading.Event | None, install_signals: bool,
           log_level: str) -> dict:
    stop = stop or threading.Event()
    _stopping.clear()
    if install_signals and threading.current_thread() is threading.main_thread():
        def _stop(signum, frame):
            log.info("signal %s: stopping the running batches", signal.Signals(signum).name)
            stop.set()
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    scheduler = build_scheduler(db_path)
    dispatcher = Dispatcher(config, config_path, db_path, processes=default_processes(config),
                            batch_size=config.crawl.batch_size, log_level=log_level)
    scheduler.start(paused=True)
    try:
        report = _prepare(dispatcher, config)
        dropped = sync_jobs(scheduler, config, config_path, db_path)
        if dropped:
            log.info("watch: dropped %d per-portal job(s) of an older daemon", len(dropped))
        scheduler.add_job(dispatcher.tick, IntervalTrigger(seconds=TICK, timezone=timezone.utc), id=DISPATCH_JOB,
                          name=f"dispatch [{TICK:g}s]", jobstore="memory", replace_existing=True,
                          next_run_time=datetime.now(timezone.utc))
        scheduler.resume()
        stamp, checked = _stamp(dispatcher.db), time.monotonic()
        while not stop.wait(0.2):
            if time.monotonic() - checked >= REGISTRY_EVERY:
                checked = time.monotonic()
                stamp = _resync_if_changed(dispatcher, config, stamp)
    finally:
        _stopping.set()  # before waiting for anything in flight: its sends stop now
        scheduler.pause()
        stopped = dispatcher.stop(timeout=STOP_GRACE + 2)
        scheduler.shutdown(wait=False)
        if not stopped:
            log.warning("watch: %d batch(es) still ending", len(dispatcher.batches))
        dispatcher.close()
        log.info("watch: stopped")
    return report


def _prepare(dispatcher: Dispatcher, config) -> dict:
    db = dispatcher.db
    db.execute("UPDATE watch_schedule SET running_since = NULL WHERE running_since IS NOT NULL")
    dispatcher.config = watched = _registry_config(db, config)
    report = sync_schedule(db, watched)
    log.info("watch: %d portal(s) scheduled (added %d, kept %d, replaced %d, removed %d); %d crawl process(es) "
             "at once, up to %d portals each", len(watched.portals), len(report["added"]), len(report["kept"]),
             len(report["replaced"]), len(report["removed"]), dispatcher.processes, dispatcher.batch_size)
    return report


def _stamp(db) -> str:
    from crawler.registry import registry_stamp

    return registry_stamp(db)


def _resync_if_changed(dispatcher: Dispatcher, config, stamp: str) -> str:
    try:
        with dispatcher._lock:
            now = _stamp(dispatcher.db)
            if now != stamp:
                dispatcher.config = watched = _registry_config(dispatcher.db, config)
                report = sync_schedule(dispatcher.db, watched)
                log.info("watch: registry changed: %d portal(s) (added %d, removed %d, replaced %d)",
                         len(watched.portals), len(report["added"]), len(report["removed"]), len(report["replaced"]))
            return now
    except Exception as exc:  # noqa: BLE001 - the next check tries again
        log.warning("watch: cannot re-read the registry: %s", exc)
        return stamp
