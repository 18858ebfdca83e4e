"""The scheduler daemon's parts: schedules, the schedule table (due portals taken once, rescheduled after their
batch), the dispatcher's batches (bounded processes, no portal twice at once), the job store, crash-proof
batches. The daemon end to end on the national farm is tests/test_watch_national.py."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import storage
from crawler.config import AlertSettings, Config, CrawlSettings, Portal
from crawler.crawl import batch as batch_module
from crawler.crawl.batch import BatchOutcome, batch_settings, crawl_batch
from crawler.crawl.watch import (
    DEADLINE_JOB, FLUSH_JOB, RETRY_SECONDS, Dispatcher, build_scheduler, dispatch_window, finish_runs,
    interval_seconds, make_trigger, next_due, next_runs, sync_jobs, sync_schedule, take_due,
)
from storage import sqlite3

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def config(*portals, schedule="6h", **crawl):
    return Config(crawl=CrawlSettings(schedule=schedule, **crawl), alerts=AlertSettings(),
                  portals=tuple(Portal(pid, name=pid, start_urls=(f"http://{pid}.example/",), schedule=s)
                                for pid, s in portals))


def test_schedules():
    assert interval_seconds("6h") == 21600 and interval_seconds("10s") == 10 and interval_seconds("0 6 * * *") is None
    assert isinstance(make_trigger("30m"), IntervalTrigger) and make_trigger("30m").interval == timedelta(minutes=30)
    cron = make_trigger("15 2 * * 1")
    assert isinstance(cron, CronTrigger) and str(cron.timezone) == "UTC"
    with pytest.raises(ValueError):
        make_trigger("not a schedule")
    # fixed rate: the next run is the previous due time plus the interval, however long the crawl took
    assert next_due("10m", T0, T0 + timedelta(minutes=3)) == T0 + timedelta(minutes=10)
    # missed runs coalesce into one, now
    assert next_due("10m", T0, T0 + timedelta(minutes=47)) == T0 + timedelta(minutes=47)
    assert next_due("0 6 * * *", T0, T0 + timedelta(minutes=5)) == datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
    assert dispatch_window("6h") == 60 and dispatch_window("10s") == 0 and dispatch_window("20m") == 60
    assert dispatch_window("10m") == 30 and dispatch_window("0 6 * * *") == 60


def rows(db):
    return {r["portal_id"]: r for r in db.query("SELECT * FROM watch_schedule")}


def test_schedule_table_follows_the_portal_set(tmp_path):
    db = storage.connect(tmp_path / "gw.db")
    report = sync_schedule(db, config(("a", None), ("b", "0 3 * * *"), ("c", "10s")), now=T0)
    assert sorted(report["added"]) == ["a", "b", "c"]
    assert rows(db)["a"]["next_run_at"] == T0.isoformat() and rows(db)["a"]["running_since"] is None
    # a restart with the same portals keeps every due time
    before = rows(db)
    report = sync_schedule(db, config(("a", None), ("b", "0 3 * * *"), ("c", "10s")), now=T0 + timedelta(hours=1))
    assert sorted(report["kept"]) == ["a", "b", "c"] and rows(db) == before
    # b's schedule changed, c left, d is new
    report = sync_schedule(db, config(("a", None), ("b", "1h"), ("d", None)), now=T0 + timedelta(hours=1))
    assert report == {"added": ["d"], "kept": ["a"], "replaced": ["b"], "removed": ["c"]}
    # its next run follows the new schedule from now
    assert rows(db)["b"]["next_run_at"] == (T0 + timedelta(hours=2)).isoformat() and rows(db)["b"]["schedule"] == "1h"
    assert set(next_runs(db)) == {"a", "b", "d"}


def test_due_portals_are_taken_once_and_rescheduled(tmp_path):
    db = storage.connect(tmp_path / "gw.db")
    sync_schedule(db, config(("a", "10m"), ("b", "10m"), ("c", "10m"), ("d", "6h")), now=T0)
    db.execute("UPDATE watch_schedule SET next_run_at = ?, dispatch_at = ? WHERE portal_id = 'd'",
               [(T0 + timedelta(hours=6)).isoformat(), (T0 + timedelta(hours=6, minutes=-1)).isoformat()])
    taken = take_due(db, 10, now=T0 + timedelta(seconds=1))
    assert [t[0] for t in taken] == ["a", "b", "c"]  # d is not due
    assert take_due(db, 10, now=T0 + timedelta(seconds=2)) == []  # running: never taken twice
    # d joins a batch that starts within its window before the due time
    assert [t[0] for t in take_due(db, 10, now=T0 + timedelta(hours=6, seconds=-30))] == ["d"]
    ended = T0 + timedelta(minutes=4)
    finish_runs(db, taken, finished={"a"}, now=ended)
    r = rows(db)
    assert r["a"]["next_run_at"] == (T0 + timedelta(minutes=10)).isoformat() and r["a"]["last_finished_at"]
    assert r["b"]["next_run_at"] == (ended + timedelta(seconds=RETRY_SECONDS)).isoformat()  # unfinished: retried
    assert r["b"]["running_since"] is None and r["b"]["last_finished_at"] is None
    # a batch stopped by the daemon's shutdown: its unfinished portals are due at once (next start)
    taken = take_due(db, 10, now=ended + timedelta(minutes=2))
    assert {t[0] for t in taken} == {"b", "c"}
    finish_runs(db, taken, finished=set(), stopping=True, now=ended + timedelta(minutes=3))
    assert rows(db)["c"]["next_run_at"] == (ended + timedelta(minutes=3)).isoformat()


class FakeBatches:
    """Stands in for crawl_batch: records each batch and holds it until released."""

    def __init__(self):
        self.calls: list[list[str]] = []
        self.release = threading.Event()
        self.running: set[str] = set()
        self.overlaps: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, config_path, db_path, ids, *, crawl, timeout=None, stop=None, **options):
        with self.lock:
            self.calls.append(list(ids))
            self.overlaps += [pid for pid in ids if pid in self.running]
            self.running.update(ids)
        while not self.release.wait(0.02):
            if stop is not None and stop.is_set():
                break
        with self.lock:
            self.running.difference_update(ids)
        return {pid: BatchOutcome(pid, "ok", not (stop and stop.is_set())) for pid in ids}


def test_dispatcher_batches_due_portals_within_the_process_limit(tmp_path, monkeypatch):
    db_path = str(tmp_path / "gw.db")
    cfg = config(*[(f"p{n:03d}", "1h") for n in range(130)], processes=2, batch_size=100)
    fake = FakeBatches()
    monkeypatch.setattr(batch_module, "crawl_batch", fake)
    dispatcher = Dispatcher(cfg, "gw.toml", db_path, processes=2, batch_size=100)
    try:
        sync_schedule(dispatcher.db, cfg)
        started = dispatcher.tick()
        # 130 due portals, 2 free processes: two batches of 65 (not 130 processes, not one batch of 130)
        assert [len(b.runs) for b in started] == [65, 65] and len(fake.calls) <= 2
        assert dispatcher.tick() == []  # both slots busy
        fake.release.set()
        for b in started:
            b.thread.join(10)
        assert dispatcher.batches == {}
        assert dispatcher.tick() == []  # every portal ran; next runs in an hour
        assert sorted(sum(fake.calls, [])) == sorted(p.id for p in cfg.portals) and fake.overlaps == []
        assert all(r["running_since"] is None and r["last_finished_at"] for r in rows(dispatcher.db).values())
        # a few due portals start one process, not one each
        dispatcher.db.execute("UPDATE watch_schedule SET dispatch_at = '2000-01-01T00:00:00+00:00' "
                              "WHERE portal_id IN ('p001', 'p002', 'p003')")
        [small] = dispatcher.tick()
        small.thread.join(10)
        assert fake.calls[-1] == ["p001", "p002", "p003"]
    finally:
        fake.release.set()
        dispatcher.stop(5)
        dispatcher.close()


def test_stop_ends_running_batches_and_leaves_their_portals_due(tmp_path, monkeypatch):
    db_path = str(tmp_path / "gw.db")
    cfg = config(("a", "1h"), ("b", "1h"))
    fake = FakeBatches()
    monkeypatch.setattr(batch_module, "crawl_batch", fake)
    dispatcher = Dispatcher(cfg, "gw.toml", db_path, processes=2, batch_size=10)
    sync_schedule(dispatcher.db, cfg)
    [running] = dispatcher.tick()
    assert dispatcher.stop(5) and dispatcher.tick() == []
    r = rows(dispatcher.db)
    assert all(v["running_since"] is None and v["last_finished_at"] is None for v in r.values())
    assert all(datetime.fromisoformat(v["next_run_at"]) <= datetime.now(timezone.utc) for v in r.values())
    dispatcher.close()


def jobs(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT id FROM apscheduler_jobs"))
    finally:
        conn.close()


def test_job_store_holds_the_alert_jobs_only(tmp_path):
    db_path = str(tmp_path / "gw.db")
    old = build_scheduler(db_path)
    old.start(paused=True)
    old.add_job(print, IntervalTrigger(hours=6), id="crawl:a", jobstore="default")  # an older daemon's job
    old.shutdown(wait=False)
    for _ in range(2):  # restarts never duplicate a job
        s = build_scheduler(db_path)
        s.start(paused=True)
        sync_jobs(s, config(("a", None)), "gw.toml", db_path)
        s.shutdown(wait=False)
        assert jobs(db_path) == [DEADLINE_JOB, FLUSH_JOB]


def test_batch_settings_grow_the_global_limit_only():
    crawl = CrawlSettings(concurrency_per_domain=2)
    assert batch_settings(3, crawl)["CONCURRENT_REQUESTS"] == 16
    assert batch_settings(60, crawl)["CONCURRENT_REQUESTS"] == 120
    assert batch_settings(1600, crawl)["CONCURRENT_REQUESTS"] == 256
    assert "CONCURRENT_REQUESTS_PER_DOMAIN" not in batch_settings(1600, crawl)  # politeness per host unchanged


def test_crawl_batch_never_raises_and_records_failure(tmp_path):
    db_path = str(tmp_path / "gw.db")
    storage.connect(db_path)
    outcomes = crawl_batch(str(tmp_path / "missing.toml"), db_path, ["a", "b"], crawl=CrawlSettings())
    assert {o.status for o in outcomes.values()} == {"error"} and not any(o.finished for o in outcomes.values())
    assert "missing.toml" in outcomes["a"].reason
    runs = list(storage.connect(db_path).query("SELECT portal_id, status FROM crawl_runs ORDER BY portal_id"))
    assert runs == [{"portal_id": "a", "status": "error"}, {"portal_id": "b", "status": "error"}]


def test_status_shows_next_run(tmp_path):
    from crawler.crawl.status import status

    db = storage.connect(tmp_path / "gw.db")
    db["portals"].insert({"id": "a", "name": "a"})
    sync_schedule(db, config(("a", None)), now=T0)
    from crawler.crawl.daemonlock import daemon_lock

    with daemon_lock(tmp_path / "gw.db"):  # next runs are shown while a daemon runs on the database, and only then
        [row] = status(db)
    assert row["next_run"] == T0.isoformat()
    assert status(db)[0]["next_run"] is None
