"""`govwatch watch` on a slice of the national farm (100 portals on their own loopback addresses, one farm
process): portals crawled in batches (not a process per portal) within the process limit, a report published
while the daemon runs alerted exactly once, SIGTERM honoured within 10 s while a batch runs, and the
unfinished portals crawled at the next start."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import helpers
from crawler.demo.farm import Farm
from storage import sqlite3
from webhook_server import WebhookServer

pytestmark = pytest.mark.timeout(240)
SLICE = 100


def query(db_path, sql, params=()):
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # the daemon has not created the table yet
        return []
    finally:
        conn.close()


wait_for = helpers.wait_for


def start_watch(config: Path, db_path: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "watch", "--config",
                             str(config), "--db", str(db_path)], stderr=open(log, "wb"), stdout=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=str(helpers.REPO)), cwd=str(config.parent))


def stop_watch(proc: subprocess.Popen, limit: float = 10.0) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=limit + 20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return code, time.monotonic() - started


def count(db_path, sql, params=()) -> int:
    found = query(db_path, sql, params)
    return found[0][0] if found else 0


def finished_runs(db_path) -> int:
    return count(db_path, "SELECT COUNT(*) FROM crawl_runs WHERE finished_at IS NOT NULL")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return Path(f"/proc/{pid}/status").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


@pytest.fixture(scope="module")
def farm():
    with Farm(limit=SLICE) as f:
        yield f


def expected_reports(farm: Farm, pids) -> int:
    """Reports a crawl can find: not behind a wall, not down, not on a site that moved to another host."""
    return sum(len(farm.site(p).report_years()) for p in pids
               if farm.site(p).role not in ("blocked412", "blocked521", "down", "redirect"))


def test_batches_then_a_report_published_mid_run_is_alerted_once(farm, tmp_path):
    db_path = tmp_path / "gw.db"
    with WebhookServer() as hook:
        config = farm.write_config(tmp_path / "gw.toml", download_delay=0, autothrottle=False, schedule="8s",
                                   timeout=120, processes=2,
                                   alerts={"urls": [hook.json_url("hook")], "backoff_base": 0.5, "max_attempts": 10})
        proc = start_watch(config, db_path, tmp_path / "watch.log")
        try:
            # the first cycle: every portal once, in two crawl processes (not 100)
            wait_for(lambda: finished_runs(db_path) >= SLICE, 150, "the first cycle of 100 portals")
            first = query(db_path, "SELECT portal_id, pid, status FROM crawl_runs WHERE id IN "
                                   "(SELECT MIN(id) FROM crawl_runs GROUP BY portal_id)")
            assert len(first) == SLICE
            assert len({pid for _, pid, _ in first}) == 2
            statuses = {portal: status for portal, _, status in first}
            assert [p for p, s in statuses.items() if s == "blocked"] == \
                farm.portal_ids(role="blocked412") + farm.portal_ids(role="blocked521")
            # a portal that is down, and one whose column moved to another host (never followed off the
            # portal's hosts), are errors that say so
            failed = farm.portal_ids(role="down") + farm.portal_ids(role="redirect")
            assert sorted(p for p, s in statuses.items() if s == "error") == sorted(failed)
            assert sum(1 for s in statuses.values() if s == "ok") == SLICE - len(failed) - 2
            reports = query(db_path, "SELECT COUNT(*) FROM documents WHERE doc_type = 'annual_report' "
                                     "AND duplicate_of IS NULL")[0][0]
            assert reports == expected_reports(farm, farm.portal_ids())
            assert hook.posts == []  # baselines are silent

            # reports published while the daemon runs: each alerted once, within one interval + a batch
            rng = random.Random(12)
            chosen = rng.sample([p for p in farm.portal_ids(role=None) if farm.site(p).family != "json"], 2) + \
                rng.sample([p for p in farm.portal_ids(role=None) if farm.site(p).family == "json"], 1)
            published = {}
            for pid in chosen:
                published[pid] = (farm.publish(pid), time.monotonic())
            posts = wait_for(lambda: len(hook.posts_to("/hook")) >= 3 and hook.posts_to("/hook"), 90, "three alerts")
            for pid, (report, at) in published.items():
                region = farm.site(pid).region.full_name
                [post] = [p for p in posts if region in (text := json.dumps(p["json"], ensure_ascii=False))
                          and f"{report['year']}年度" in text]
                assert post["at"] - (time.time() - (time.monotonic() - at)) < 8 + 45
            runs = finished_runs(db_path)
            wait_for(lambda: finished_runs(db_path) >= runs + SLICE, 90, "another full cycle")
            assert len(hook.posts_to("/hook")) == 3
            assert query(db_path, "SELECT COUNT(*) FROM alerts WHERE kind IN ('new_report', 'late_report')") == [(3,)]
            overlapping = query(db_path, """SELECT COUNT(*) FROM crawl_runs a JOIN crawl_runs b
                ON a.portal_id = b.portal_id AND a.id < b.id AND b.started_at < a.finished_at""")
            assert overlapping == [(0,)]  # a portal never ran twice at once
        finally:
            code, took = stop_watch(proc)
        assert code == 0 and took < 10
        log = (tmp_path / "watch.log").read_text(encoding="utf-8")
        assert "batch 1: 50 portal(s)" in log and "batch 2: 50 portal(s)" in log


@pytest.mark.slow
def test_sigterm_stops_running_batches_within_10_s_and_the_next_start_finishes_them(farm, tmp_path):
    db_path = tmp_path / "gw.db"
    config = farm.write_config(tmp_path / "gw.toml", download_delay=1.0, autothrottle=False, schedule="1h",
                               timeout=300, processes=2)
    proc = start_watch(config, db_path, tmp_path / "watch1.log")
    try:
        wait_for(lambda: count(db_path, "SELECT COUNT(*) FROM documents") >= 30, 120, "documents stored")
        running = query(db_path, "SELECT DISTINCT pid FROM crawl_runs WHERE status = 'running'")
        assert len(running) == 2
    finally:
        code, took = stop_watch(proc)
    assert code == 0 and took < 10, f"watch exited with {code} after {took:.1f} s"
    assert not any(alive(pid) for (pid,) in running)
    assert query(db_path, "SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'") == [(0,)]
    stored = query(db_path, "SELECT url FROM documents")
    assert stored
    # every stored document's fetch state committed with it
    assert query(db_path, "SELECT COUNT(*) FROM documents d LEFT JOIN fetch_state f ON f.url = d.url "
                          "WHERE f.url IS NULL OR f.status != 200") == [(0,)]
    unfinished = {pid for (pid,) in query(db_path, "SELECT portal_id FROM crawl_runs WHERE status = 'killed'")}
    assert unfinished

    # the next start runs the unfinished portals at once and loses nothing
    config = farm.write_config(tmp_path / "gw.toml", download_delay=0, autothrottle=False, schedule="1h",
                               timeout=300, processes=2)
    proc = start_watch(config, db_path, tmp_path / "watch2.log")
    try:
        wait_for(lambda: not query(db_path, "SELECT 1 FROM watch_schedule WHERE last_finished_at IS NULL"), 150,
                 "every portal finished")
    finally:
        code, _ = stop_watch(proc)
    assert code == 0
    assert {pid for (pid,) in query(db_path, "SELECT portal_id FROM crawl_runs WHERE id > (SELECT MAX(id) FROM "
                                             "crawl_runs WHERE status = 'killed')")} >= unfinished
    urls = [u for (u,) in query(db_path, "SELECT url FROM documents")]
    assert len(urls) == len(set(urls)) and set(u for (u,) in stored) <= set(urls)
    reports = query(db_path, "SELECT COUNT(*) FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL")
    assert reports == [(expected_reports(farm, farm.portal_ids()),)]
