"""A batch: many portals in one crawl process. Stopping it in a hurry still closes every run (as `killed`, so
the daemon retries them); the per-portal log tails of a batch go to the portal a line names, found by lookup."""

from __future__ import annotations

import logging
import threading

import pytest

import helpers  # noqa: F401  (repo on sys.path)
from crawler.config import CrawlSettings, Portal
from crawler.crawl.batch import crawl_batch
from crawler.crawl.runs import _PortalLogTail
from crawler.demo.farm import Farm
from storage import connect

pytestmark = pytest.mark.timeout(120)


def test_a_batch_stopped_in_a_hurry_closes_every_run_as_killed(tmp_path):
    """A 3 s delay per host keeps requests queued: the graceful stop cannot finish within its share of the
    grace, Scrapy's unclean shutdown stops the reactor before the spider closes, and the runs are still
    closed (before: left `running`, and the portals reported `done` as if they had finished)."""
    with Farm(limit=12) as farm:
        config = farm.write_config(tmp_path / "gw.toml", download_delay=3.0, autothrottle=False, timeout=120)
        stop = threading.Event()
        threading.Timer(8, stop.set).start()
        outcomes = crawl_batch(str(config), str(tmp_path / "gw.db"), farm.portal_ids(), crawl=CrawlSettings(),
                               timeout=120, stop=stop, stop_grace=2.0)
    db = connect(tmp_path / "gw.db")
    statuses = dict(db.execute("SELECT portal_id, status FROM crawl_runs").fetchall())
    assert set(statuses) == set(farm.portal_ids())
    assert "running" not in statuses.values()
    blocked = set(farm.portal_ids(role="blocked412"))  # blocked, or killed before its wall was seen
    assert {pid for pid, s in statuses.items() if s == "killed"} >= set(farm.portal_ids()) - blocked
    assert {statuses[pid] for pid in blocked} <= {"blocked", "killed"}
    assert all(not o.finished for pid, o in outcomes.items() if statuses[pid] == "killed")
    assert {db.execute("SELECT status FROM portals WHERE id = ?", [pid]).fetchone()[0]
            for pid in statuses} <= {"error", "blocked"}


def test_log_lines_of_a_batch_go_to_the_portal_they_name():
    portals = {f"p{n}": Portal(f"p{n}", start_urls=(f"http://127.100.0.{n}:8000/c/",)) for n in range(1, 40)}
    tail = _PortalLogTail(portals)

    def log(name, level, message):
        tail.emit(logging.LogRecord(name, level, __file__, 1, message, None, None))

    log("spiders.column", logging.INFO, "robots.txt forbids http://127.100.0.1:8000/private/a.html")
    log("spiders.column", logging.WARNING, "portal p12 blocked: 412 challenge")
    log("scrapy.core.scraper", logging.ERROR, "Error downloading <GET http://user@127.100.0.3:8000/x>")
    log("scrapy.core.engine", logging.WARNING, "Closing spider (shutdown)")  # names no portal: every portal
    log("scrapy.core.engine", logging.INFO, "Crawled 0 pages")  # Scrapy's info lines are left out
    assert "forbids" in tail.tail("p1") and "forbids" not in tail.tail("p12")  # 127.100.0.1 is not 127.100.0.12
    assert "p12 blocked" in tail.tail("p12") and "p12 blocked" not in tail.tail("p1")
    assert "Error downloading" in tail.tail("p3") and "Error downloading" not in tail.tail("p33")
    assert all("Closing spider" in tail.tail(pid) for pid in portals)
    assert not any("Crawled" in tail.tail(pid) for pid in portals)


def test_a_crawl_that_stores_nothing_starts_no_writer(tmp_path):
    """A recheck of unchanged portals stores no document: the writer process (a spawn and the store path's
    imports, ~1 CPU-s) starts with the first document only."""
    from scrapy.settings import Settings

    from crawler.pipelines import StorePipeline
    from spiders.column import ColumnSpider

    config = tmp_path / "govwatch.toml"
    config.write_text('[[portal]]\nid = "w"\nstart_urls = ["http://w.gov.cn/"]\n', encoding="utf-8")
    connect(tmp_path / "w.db")
    spider = ColumnSpider(config=str(config), db=str(tmp_path / "w.db"))
    crawler = type("Crawler", (), {"spider": spider, "settings": Settings({"GOVWATCH_WRITER_PROCESS": True})})()
    pipeline = StorePipeline(crawler)
    pipeline.open_spider()
    pipeline.close_spider()
    assert pipeline.writer is None
    pipeline = StorePipeline(crawler)
    pipeline.open_spider()
    assert pipeline.start_writer().process.is_alive()
    pipeline.close_spider()
    assert not pipeline.writer.process.is_alive()


def test_which_portals_of_a_batch_crawl_incrementally_in_one_query(tmp_path):
    from crawler.crawl.fetchstate import FetchState
    from spiders.column import incremental_portals

    db = connect(tmp_path / "gw.db")
    for pid, done in (("a", 1), ("b", 1), ("c", 0), ("d", 1)):
        db["portals"].insert({"id": pid, "name": pid, "baseline_done": done})
    for pid, status in (("a", "killed"), ("a", "ok"), ("b", "ok"), ("b", "killed"), ("c", "ok")):
        db["crawl_runs"].insert({"portal_id": pid, "started_at": "2026-03-01T08:00:00+00:00", "status": status})
    current = db["crawl_runs"].insert({"portal_id": "a", "started_at": "2026-03-01T09:00:00+00:00",
                                       "status": "running"}).last_pk
    # a: its previous run ended ok (the current one does not count); b: killed last; c: no baseline; d: no run
    assert incremental_portals(db, ["a", "b", "c", "d"], exclude_runs=[current]) == \
        {"a": True, "b": False, "c": False, "d": False}
    state = FetchState(db)
    state.record("http://a.gov.cn/1.html", portal_id="a", kind="detail", status=200, list_entry="fa")
    state.record("http://b.gov.cn/1.html", portal_id="b", kind="detail", status=500, list_entry="fb")
    assert state.known_entries_of(["a", "b", "x"]) == {"a": {"http://a.gov.cn/1.html": "fa"}, "b": {}, "x": {}}


def test_a_batched_recheck_of_unchanged_portals_costs_at_most_two_requests_each(tmp_path):
    """One batch over a farm slice (every CMS family of the farm), then a second: robots.txt answers 304 or
    comes from the crawl's cache, each column page answers 304, and nothing behind it is asked for again."""
    with Farm(limit=40) as farm:
        ids = farm.portal_ids(role=None)  # ordinary portals: the walls, the down and the moved ones aside
        config = farm.write_config(tmp_path / "gw.toml", ids, download_delay=0, autothrottle=False, timeout=120)
        first = crawl_batch(str(config), str(tmp_path / "gw.db"), ids, crawl=CrawlSettings(), timeout=120)
        assert {o.status for o in first.values()} == {"ok"}, {p: o.reason for p, o in first.items() if o.reason}
        farm.reset_counts()
        again = crawl_batch(str(config), str(tmp_path / "gw.db"), ids, crawl=CrawlSettings(), timeout=120)
        counts = farm.counts()
    assert {o.status for o in again.values()} == {"ok"} and sum(o.new_documents for o in again.values()) == 0
    assert {farm.site(pid).family for pid in ids} == {"trs", "hanweb", "ucap", "json", "generic"}
    assert all(counts[pid]["requests"] <= 2 for pid in ids), {pid: counts[pid] for pid in ids
                                                              if counts[pid]["requests"] > 2}
