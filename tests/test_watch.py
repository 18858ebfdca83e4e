"""The scheduler daemon: triggers, persistent jobs without duplicates, next runs, crash-proof job function."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import storage
from crawler.config import AlertSettings, Config, CrawlSettings, Portal
from crawler.crawl.watch import (
    DEADLINE_JOB, FLUSH_JOB, build_scheduler, crawl_job, interval_seconds, jitter_for, make_trigger, next_runs,
    sync_jobs,
)
from storage import sqlite3


def config(*portals, schedule="6h"):
    return Config(crawl=CrawlSettings(schedule=schedule), alerts=AlertSettings(),
                  portals=tuple(Portal(pid, name=pid, start_urls=(f"http://{pid}.example/",), schedule=s)
                                for pid, s in portals))


def test_triggers():
    assert interval_seconds("6h") == 21600 and interval_seconds("10s") == 10 and interval_seconds("0 6 * * *") is None
    t = make_trigger("30m")
    assert isinstance(t, IntervalTrigger) and t.interval == timedelta(minutes=30) and t.jitter == 180
    c = make_trigger("15 2 * * 1")
    assert isinstance(c, CronTrigger) and str(c.timezone) == "UTC"
    assert jitter_for("10s") == 1 and jitter_for("6h") == 300
    with pytest.raises(ValueError):
        make_trigger("not a schedule")


def jobs(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT id FROM apscheduler_jobs"))
    finally:
        conn.close()


def test_restart_keeps_jobs_unique_and_schedule(tmp_path):
    db_path = str(tmp_path / "gw.db")
    cfg = config(("a", None), ("b", "0 3 * * *"), ("c", "10s"))
    s1 = build_scheduler(db_path)
    s1.start(paused=True)
    report = sync_jobs(s1, cfg, "gw.toml", db_path)
    assert sorted(report["added"]) == ["a", "b", "c"]
    first = {j.id: j.next_run_time for j in s1.get_jobs()}
    job = s1.get_job("crawl:a")
    assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 600
    assert job.trigger.interval == timedelta(hours=6) and job.trigger.jitter
    assert job.func_ref == "crawler.crawl.watch:crawl_job" and list(job.args)[2] == "a"
    pickle.dumps(job.__getstate__())  # what the job store writes
    s1.shutdown(wait=False)

    # restart with the same config: nothing added, next run times unchanged
    s2 = build_scheduler(db_path)
    s2.start(paused=True)
    report = sync_jobs(s2, cfg, "gw.toml", db_path)
    assert sorted(report["kept"]) == ["a", "b", "c"] and not report["added"]
    assert {j.id: j.next_run_time for j in s2.get_jobs() if j.id.startswith("crawl:")} == \
        {k: v for k, v in first.items() if k.startswith("crawl:")}
    s2.shutdown(wait=False)
    assert jobs(db_path) == [DEADLINE_JOB, FLUSH_JOB, "crawl:a", "crawl:b", "crawl:c"]

    # edited config: b's schedule changed, c removed, d added
    s3 = build_scheduler(db_path)
    s3.start(paused=True)
    report = sync_jobs(s3, config(("a", None), ("b", "1h"), ("d", None)), "gw.toml", db_path)
    assert report == {"added": ["d"], "kept": ["a"], "replaced": ["b"], "removed": ["c"]}
    assert s3.get_job("crawl:b").trigger.interval == timedelta(hours=1)
    s3.shutdown(wait=False)
    assert jobs(db_path) == [DEADLINE_JOB, FLUSH_JOB, "crawl:a", "crawl:b", "crawl:d"]

    runs = next_runs(storage.connect(db_path))
    assert set(runs) == {"a", "b", "d"} and all(v and v.endswith("+00:00") for v in runs.values())


def test_next_runs_without_daemon(tmp_path):
    assert next_runs(storage.connect(tmp_path / "gw.db")) == {}


def test_status_shows_next_run(tmp_path):
    from crawler.crawl.status import status

    db_path = str(tmp_path / "gw.db")
    db = storage.connect(db_path)
    db["portals"].insert({"id": "a", "name": "a"})
    s = build_scheduler(db_path)
    s.start(paused=True)
    sync_jobs(s, config(("a", None)), "gw.toml", db_path)
    s.shutdown(wait=False)
    from crawler.crawl.daemonlock import daemon_lock

    with daemon_lock(db_path):  # next runs are shown while a daemon runs on the database, and only then
        [row] = status(db)
    assert row["next_run"] and row["next_run"].endswith("+00:00")
    assert status(db)[0]["next_run"] is None


def test_crawl_job_never_raises_and_records_failure(tmp_path):
    db_path = str(tmp_path / "gw.db")
    storage.connect(db_path)
    outcome = crawl_job(str(tmp_path / "missing.toml"), db_path, "a")
    assert outcome["status"] == "error" and "missing.toml" in outcome["reason"]
    [run] = list(storage.connect(db_path).query("SELECT * FROM crawl_runs"))
    assert run["portal_id"] == "a" and run["status"] == "error"
