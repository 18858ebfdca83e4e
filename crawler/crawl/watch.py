"""`govwatch watch`: the scheduler daemon.

APScheduler 3.x with a persistent `SQLAlchemyJobStore` in the govwatch database itself
(``sqlite:///<db path>``, table ``apscheduler_jobs``), UTC. Jobs:

* ``crawl:<portal id>`` per portal of the registry (`crawler.registry`: the TOML entries and the
  `portals` table) -- its `schedule` (5-field cron or an interval ``6h``/``30m``/
  ``10s``; default ``[crawl] schedule``), ``coalesce=True``, ``max_instances=1``, a generous
  ``misfire_grace_time`` and jitter so portals on the same schedule do not fire together. The job runs the
  crawl in a subprocess (`crawler.crawl.runner.crawl`, ``timeout = [crawl] timeout``); a crash or hang is recorded
  and logged, never propagated; after each crawl pending alerts are flushed. One log line per crawl.
* ``alerts:flush`` every minute (retries with backoff), ``alerts:deadline`` daily (the missing-report digest).
  Every flush has a time budget (``FLUSH_BUDGET``; after a crawl ``[alerts] crawl_flush_budget``) and each
  send a hard deadline, so delivery never holds up the schedule; on SIGTERM a send in flight is stopped.

Jobs have explicit ids and are (re)registered with ``replace_existing=True`` on every start, so restarting
never duplicates a job; a job whose schedule is unchanged is left untouched, so its next run time survives a
restart; jobs of portals no longer configured are removed. Job functions are module-level with plain
arguments (config path, db path, portal id) because the job store pickles references to them.

SIGTERM / SIGINT stop the daemon after the crawls in flight (``scheduler.shutdown(wait=True)``).
"""

from __future__ import annotations

import logging
import random
import re
import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.crawl.daemonlock import daemon_lock
from storage import sqlite3

log = logging.getLogger("govwatch.watch")

JOB_PREFIX = "crawl:"
FLUSH_JOB = "alerts:flush"
DEADLINE_JOB = "alerts:deadline"
MISFIRE_GRACE = 3600  # a crawl that could not start on time (daemon busy or down) still runs within an hour
FLUSH_EVERY = 60  # seconds
FLUSH_BUDGET = 45  # seconds one alerts:flush may take: less than FLUSH_EVERY, so it never delays the next
# set while the daemon stops: a flush in flight stops its send at once instead of holding up the shutdown
_stopping = threading.Event()
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


# ---------------------------------------------------------------------------------------------------------
# schedules


def interval_seconds(schedule: str) -> int | None:
    match = _INTERVAL.match(schedule or "")
    if not match:
        return None
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def jitter_for(schedule: str) -> int:
    """Jitter in seconds: a tenth of an interval (at most 5 minutes), 2 minutes for cron schedules."""
    seconds = interval_seconds(schedule)
    if seconds is None:
        return 120
    return max(1, min(300, seconds // 10))


def make_trigger(schedule: str):
    """A trigger for `6h` / `30m` / `10s` / `1d` or a 5-field crontab expression (UTC)."""
    match = _INTERVAL.match(schedule or "")
    jitter = jitter_for(schedule)
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise ValueError(f"schedule {schedule!r}: interval must be positive")
        return IntervalTrigger(**{_UNITS[match.group(2)]: amount}, timezone=timezone.utc, jitter=jitter)
    return CronTrigger.from_crontab(schedule.strip(), timezone=timezone.utc)  # jitter set below


def _cron_with_jitter(trigger, schedule: str):
    if isinstance(trigger, CronTrigger):
        trigger.jitter = jitter_for(schedule)
    return trigger


def portal_schedule(config, portal) -> str:
    return portal.schedule or config.crawl.schedule


# ---------------------------------------------------------------------------------------------------------
# job functions (module level, plain arguments: the job store pickles references to them)


def crawl_job(config_path: str, db_path: str, portal_id: str) -> dict:
    """Crawl one portal in a subprocess, then flush alerts. Never raises."""
    from crawler.config import load_config

    started = time.monotonic()
    outcome: dict = {"portal": portal_id}
    try:
        config = load_config(config_path)
        from crawler.crawl.runner import crawl

        summary = crawl(config_path, db_path, [portal_id], timeout=config.crawl.timeout)
        outcome.update(_summary_fields(summary, portal_id))
    except Exception as exc:  # crawl crashed / runner missing / config broken: record, keep the daemon alive
        outcome.update(status="error", reason=f"{type(exc).__name__}: {exc}"[:500])
        _record_failed_run(db_path, portal_id, outcome["reason"])
        config = None
    try:
        if config is not None and not _stopping.is_set():
            flushed = _flush(config, db_path, budget=config.alerts.crawl_flush_budget)
            outcome["alerts_sent"] = flushed.sent
    except Exception as exc:
        outcome["flush_error"] = f"{type(exc).__name__}: {exc}"[:300]
    outcome["seconds"] = round(time.monotonic() - started, 1)
    log.info("crawl %s: %s", portal_id, " ".join(f"{k}={v}" for k, v in outcome.items() if k != "portal"))
    return outcome


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


def _summary_fields(summary, portal_id: str) -> dict:
    """What the one log line shows, from `crawler.crawl.runner.CrawlSummary` (or a dict of the same shape)."""
    if summary is None:
        return {"status": "unknown"}
    data = summary if isinstance(summary, dict) else vars(summary)
    out = {"status": data.get("status")}
    portals = data.get("portals") or {}
    run = portals.get(portal_id) if isinstance(portals, dict) else None
    if run is not None:
        run = run if isinstance(run, dict) else vars(run)
        for key in ("status", "pages", "new_documents", "new_reports", "errors", "reason"):
            if run.get(key) not in (None, ""):
                out[key] = run[key]
    if data.get("error") and data.get("status") != "ok":
        out["error"] = str(data["error"])[:200]
    return out


def _record_failed_run(db_path: str, portal_id: str, reason: str) -> None:
    try:
        from storage import connect, now_iso, transaction

        db = connect(db_path)
        try:
            with transaction(db):
                now = now_iso()
                db["crawl_runs"].insert({"portal_id": portal_id, "started_at": now, "finished_at": now,
                                         "status": "error", "reason": reason})
        finally:
            db.conn.close()
    except Exception as exc:  # pragma: no cover - the database itself is broken
        log.error("cannot record failed crawl of %s: %s", portal_id, exc)


# ---------------------------------------------------------------------------------------------------------
# the scheduler


def jobstore_url(db_path: str | Path) -> str:
    return f"sqlite:///{Path(db_path).resolve()}"


def build_scheduler(db_path: str | Path, *, max_workers: int = 8) -> BackgroundScheduler:
    from storage import connect

    connect(db_path).conn.close()  # create + migrate the database (WAL) before SQLAlchemy opens it
    # SQLAlchemy's driver on the same SQLite library as govwatch's own connections (see storage.db)
    store = SQLAlchemyJobStore(url=jobstore_url(db_path),
                               engine_options={"connect_args": {"timeout": 30}, "module": sqlite3})
    return BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
        timezone=timezone.utc,
    )


def sync_jobs(scheduler, config, config_path: str, db_path: str, *, start_now: bool = True) -> dict:
    """Register one job per configured portal plus the flush and deadline jobs; drop stale portal jobs.
    Returns {"added": [...], "kept": [...], "replaced": [...], "removed": [...]} (portal ids)."""
    config_path, db_path = str(Path(config_path).resolve()), str(Path(db_path).resolve())
    existing = {job.id: job for job in scheduler.get_jobs()}
    report = {"added": [], "kept": [], "replaced": [], "removed": []}
    wanted = set()
    for portal in config.portals:
        job_id = f"{JOB_PREFIX}{portal.id}"
        wanted.add(job_id)
        schedule = portal_schedule(config, portal)
        name = f"crawl {portal.id} [{schedule}]"
        args = (config_path, db_path, portal.id)
        old = existing.get(job_id)
        if old is not None and old.name == name and tuple(old.args) == args:
            report["kept"].append(portal.id)
            continue
        trigger = _cron_with_jitter(make_trigger(schedule), schedule)
        options = {}
        if old is None and start_now and interval_seconds(schedule) is not None:
            # a portal new to the daemon gets its first (baseline) crawl soon, spread out a little
            options["next_run_time"] = datetime.now(timezone.utc) + timedelta(
                seconds=random.uniform(0, min(jitter_for(schedule), 5)))
        scheduler.add_job(crawl_job, trigger, args=list(args), id=job_id, name=name, replace_existing=True,
                          coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE, **options)
        report["replaced" if old is not None else "added"].append(portal.id)
    for job_id in existing:
        if job_id.startswith(JOB_PREFIX) and job_id not in wanted:
            scheduler.remove_job(job_id)
            report["removed"].append(job_id[len(JOB_PREFIX):])
    flush_every = max(1, min(FLUSH_EVERY, int(config.alerts.backoff_base) or FLUSH_EVERY))
    scheduler.add_job(flush_job, IntervalTrigger(seconds=flush_every, timezone=timezone.utc),
                      args=[config_path, db_path], id=FLUSH_JOB, name=f"alerts flush [{flush_every}s]",
                      replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE)
    scheduler.add_job(deadline_job, CronTrigger(hour=1, minute=7, timezone=timezone.utc),  # 09:07 Beijing
                      args=[config_path, db_path], id=DEADLINE_JOB, name="deadline digest [daily]",
                      replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=86400)
    return report


def next_runs(db) -> dict[str, str | None]:
    """{portal id: next run time (UTC ISO) or None when paused}, read from the job store table."""
    conn = db.conn if hasattr(db, "conn") else db
    try:
        rows = conn.execute("SELECT id, next_run_time FROM apscheduler_jobs WHERE id LIKE ?",
                            [JOB_PREFIX + "%"]).fetchall()
    except sqlite3.OperationalError:  # the daemon never ran: no job store table
        return {}
    out = {}
    for job_id, ts in rows:
        out[job_id[len(JOB_PREFIX):]] = (
            datetime.fromtimestamp(ts, timezone.utc).replace(microsecond=0).isoformat() if ts is not None else None)
    return out


def _registry_config(db_path: str, config):
    """`config` with the registry's portals (the TOML entries synced into it first): one job per portal."""
    from crawler.registry import sync_config, with_registry
    from storage import connect

    db = connect(db_path)
    try:
        sync_config(db, config)
        return with_registry(db, config)
    finally:
        db.conn.close()


def watch(config_path: str, db_path: str, *, stop: threading.Event | None = None,
          install_signals: bool = True) -> dict:
    """Run the daemon until SIGTERM/SIGINT (or `stop` is set); returns the job sync report."""
    from crawler.config import load_config

    config = load_config(config_path)
    with daemon_lock(db_path):  # one daemon per database: a second one raises DaemonRunning naming the first
        return _watch(config, config_path, db_path, stop=stop, install_signals=install_signals)


def _watch(config, config_path: str, db_path: str, *, stop: threading.Event | None, install_signals: bool) -> dict:
    scheduler = build_scheduler(db_path)
    config = _registry_config(db_path, config)
    stop = stop or threading.Event()
    _stopping.clear()
    if install_signals and threading.current_thread() is threading.main_thread():
        def _stop(signum, frame):
            log.info("signal %s: stopping after the crawls in flight", signum)
            stop.set()
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    scheduler.start(paused=True)
    try:
        report = sync_jobs(scheduler, config, config_path, db_path)
        log.info("watch: %d portal(s) scheduled (added %s, kept %s, replaced %s, removed %s)",
                 len(config.portals), report["added"], report["kept"], report["replaced"], report["removed"])
        for job in scheduler.get_jobs():
            log.info("job %s next run %s", job.id, job.next_run_time)
        scheduler.resume()
        while not stop.wait(0.5):
            pass
    finally:
        _stopping.set()  # before waiting for the jobs in flight: their sends stop now
        scheduler.shutdown(wait=True)
        log.info("watch: stopped")
    return report
