"""Crawls on real scrapyd nodes (crawler.crawl.scrapyd): two nodes on two loopback ports with their own working
directories, the portals split across them, results stored here exactly once; a node killed mid-job, wrong
credentials, a node that is down, the egg deployment. Loopback only; every wait is bounded."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from crawler.crawl.runner import CrawlError, crawl
from crawler.demo import sites as demo_sites
from crawler.demo.server import PortalServer
from crawler.demo.sites import build_demo_portals
from storage import connect

pytest.importorskip("scrapyd", reason="the scrapyd extra is not installed (pip install -e '.[scrapyd]')")

from scrapyd_nodes import ScrapydNode, deploy_egg, egg_python  # noqa: E402

FAST = dict(obey_robots=True, download_delay=0, autothrottle=False)


def write_config(server: PortalServer, path: Path, nodes: list[str], **crawl_settings) -> Path:
    path = server.write_config(path, backend="scrapyd", scrapyd_nodes=nodes, **{**FAST, **crawl_settings})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n[alerts]\nalert_on_baseline = true\n")
    return path


def corpus(db_path: Path) -> dict:
    db = connect(db_path)
    try:
        return {
            "documents": sorted(r[0] for r in db.execute("SELECT url FROM documents")),
            "reports": sorted(r[0] for r in db.execute(
                "SELECT url FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL")),
            "alerts": sorted(r[0] for r in db.execute("SELECT dedupe_key FROM alerts")),
        }
    finally:
        db.conn.close()


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("nodes")
    with ScrapydNode(base / "a") as a, ScrapydNode(base / "b") as b:
        yield a, b


@pytest.fixture(scope="module")
def portals():
    with PortalServer(build_demo_portals()) as server:
        yield server


@pytest.fixture(scope="module")
def local_corpus(portals, tmp_path_factory):
    """The same portals crawled by the local backend: what the nodes must find."""
    tmp = tmp_path_factory.mktemp("local")
    config = portals.write_config(tmp / "govwatch.toml", **FAST)
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("\n[alerts]\nalert_on_baseline = true\n")
    summary = crawl(config, tmp / "local.db", timeout=120)
    assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
    return corpus(tmp / "local.db")


def test_two_nodes_split_the_portals_and_everything_is_stored_once(two_nodes, portals, local_corpus, tmp_path):
    a, b = two_nodes
    config = write_config(portals, tmp_path / "govwatch.toml", [a.url, b.url])
    db_path = tmp_path / "controller.db"
    events = []
    summary = crawl(config, db_path, timeout=120, progress=events.append)
    assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
    found = corpus(db_path)
    assert found == local_corpus  # every document and report found once, one alert per report
    assert len(found["alerts"]) == len(found["reports"]) > 0
    db = connect(db_path)
    placed = dict(db.execute("SELECT portal_id, node FROM scrapyd_assignments").fetchall())
    assert sorted(placed.values()) == sorted([a.url, a.url, b.url, b.url])  # spread by load
    runs = db.execute("SELECT portal_id, node, job_id, status FROM crawl_runs").fetchall()
    assert {(pid, node) for pid, node, _, _ in runs} == set(placed.items())
    assert all(job and status == "ok" for _, _, job, status in runs)
    assert {r[0] for r in db.execute("SELECT state FROM scrapyd_jobs")} == {"ingested"}
    starts = [e for e in events if e.get("event") == "start"]
    assert {e["node"] for e in starts} == {a.url, b.url}

    # the recheck: incremental on the nodes (robots.txt + one 304 per unchanged column), same nodes, nothing new
    portals.clear_log()
    again = crawl(config, db_path, timeout=120)
    assert {p.status for p in again.portals.values()} == {"ok"}, again.rows()
    per_portal = {}
    for request in portals.requests:
        per_portal[request.portal] = per_portal.get(request.portal, 0) + 1
    assert per_portal and all(count <= 2 for count in per_portal.values()), per_portal
    assert corpus(db_path) == local_corpus
    assert dict(db.execute("SELECT portal_id, node FROM scrapyd_assignments").fetchall()) == placed  # sticky
    rerun = db.execute("SELECT portal_id, node FROM crawl_runs WHERE id > ?", [max(r[0] for r in db.execute(
        "SELECT id FROM crawl_runs WHERE job_id = ?", [runs[0][2]]))]).fetchall()
    assert set(rerun) == set(placed.items())

    # `govwatch status` says where each portal ran
    from crawler.crawl.status import status

    rows = {row["id"]: row for row in status(db)}
    assert {rows[pid]["node"] for pid in placed} == {a.url, b.url}
    assert all(rows[pid]["job"] for pid in placed)
    db.conn.close()


def test_the_pages_crawled_on_nodes_are_in_the_controllers_archive(two_nodes, portals, tmp_path):
    """The nodes' WARC records travel with their hand-backs: every capture reads back here with the bytes the
    portal served (the nodes' scratch archives are gone), `govwatch reextract` works on them; with the
    controller's archive off the nodes archive nothing and no capture is stored."""
    import subprocess
    import sys
    import urllib.request

    from crawler.corpus.archive import read_capture

    a, b = two_nodes
    config = write_config(portals, tmp_path / "govwatch.toml", [a.url, b.url])
    db_path = tmp_path / "controller.db"
    summary = crawl(config, db_path, timeout=120)
    assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
    db = connect(db_path)
    captures = db.execute("SELECT document_id, url, role, warc_file, warc_offset, warc_length, record_id "
                          "FROM captures").fetchall()
    documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    with_captures = {row[0] for row in captures}
    assert len(with_captures) == documents > 0 and {row[2] for row in captures} >= {"page", "attachment"}
    for _, url, role, warc_file, offset, length, record_id in captures:
        capture = read_capture(tmp_path / "archive", {"file": warc_file, "offset": offset, "length": length})
        with urllib.request.urlopen(url, timeout=30) as answer:
            assert capture.body == answer.read(), url
        assert capture.url == url and capture.record_id == record_id and capture.status == 200
    assert not [p for node in two_nodes for p in node.directory.rglob("*.warc.gz*")]  # no copy left on a node
    # the request records travel too: each response here is followed by the request that asked for it
    from crawler.corpus.archive import iter_file

    records = [r for path in sorted((tmp_path / "archive").glob("*.warc.gz")) for r in iter_file(path)]
    pairs = {(r.record_type, r.url) for r in records}
    assert all(("request", url) in pairs for _, url, *_ in captures)
    assert [r.record_type for r in records].count("request") == [r.record_type for r in records].count("response")
    db.conn.close()

    govwatch = str(Path(sys.executable).with_name("govwatch"))
    result = subprocess.run([govwatch, "reextract", "--dry-run", "--db", str(db_path), "--config", str(config)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{documents} archived documents read: would change 0, unchanged {documents}," in result.stdout
    assert "records missing 0, failed 0" in result.stdout

    off = tmp_path / "off"
    off.mkdir()
    off_config = write_config(portals, off / "govwatch.toml", [a.url, b.url])
    with open(off_config, "a", encoding="utf-8") as handle:
        handle.write('\n[archive]\ndir = "off"\n')
    summary = crawl(off_config, off / "controller.db", timeout=120)
    assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
    db = connect(off / "controller.db")
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == documents
    assert db.execute("SELECT count(*) FROM captures").fetchone()[0] == 0
    jobs = [row[0] for row in db.execute("SELECT job_id FROM scrapyd_jobs")]
    db.conn.close()
    assert not (off / "archive").exists()
    handbacks = [path for node in two_nodes for job in jobs
                 for path in node.directory.glob(f"items/govwatch/column_job/{job}.jl")]
    assert len(handbacks) == len(jobs) >= 2
    assert all('"type": "member"' not in path.read_text(encoding="utf-8") for path in handbacks)


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["killed", "hung"])
def test_a_node_that_dies_or_hangs_mid_job_its_portals_finish_on_the_other(portals, local_corpus, tmp_path, failure):
    import signal
    import threading

    with ScrapydNode(tmp_path / "c") as c, ScrapydNode(tmp_path / "d") as d:
        # slow enough that the job is still crawling when its node dies
        config = write_config(portals, tmp_path / "govwatch.toml", [c.url, d.url], download_delay=0.4,
                              scrapyd_node_timeout=3)
        db_path = tmp_path / "controller.db"
        result = {}
        db = connect(db_path)  # created (migrated) before the crawl thread opens it
        crawler = threading.Thread(target=lambda: result.update(summary=crawl(config, db_path, timeout=180)))
        crawler.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rows = db.execute("SELECT state FROM scrapyd_jobs WHERE node = ?", [c.url]).fetchall()
            if any(state == "running" for (state,) in rows):
                break
            time.sleep(0.2)
        else:
            pytest.fail("no job started on the first node")
        time.sleep(1.5)
        if failure == "killed":
            c.kill()
        else:  # the node and its crawls stop answering; its TCP port still accepts connections
            os.killpg(c.process.pid, signal.SIGSTOP)
        crawler.join(timeout=180)
        assert not crawler.is_alive()
        summary = result["summary"]
        assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
        assert c.url in summary.nodes[c.url] and "mid-job" in summary.nodes[c.url]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert corpus(db_path) == local_corpus  # nothing lost, nothing stored twice, one alert per report
        states = dict(db.execute("SELECT node, group_concat(state) FROM scrapyd_jobs GROUP BY node").fetchall())
        assert "abandoned" in states[c.url] and "ingested" not in states[c.url]
        assert set(states[d.url].split(",")) == {"ingested"}
        killed = db.execute("SELECT count(*) FROM crawl_runs WHERE node = ? AND status = 'killed'", [c.url]).fetchone()[0]
        assert killed >= 1
        assert {r[0] for r in db.execute("SELECT node FROM scrapyd_assignments")} == {d.url}
        if failure == "hung":  # it wakes up: the next crawl cancels its job, whose hand-back is never ingested
            os.killpg(c.process.pid, signal.SIGCONT)
            again = crawl(config, db_path, timeout=180)
            assert {p.status for p in again.portals.values()} == {"ok"}, again.rows()
            assert corpus(db_path) == local_corpus
            states = {r[0] for r in db.execute("SELECT state FROM scrapyd_jobs WHERE node = ?", [c.url])}
            assert states <= {"abandoned", "cancelled"}
        db.conn.close()


def test_wrong_credentials_and_a_node_down_the_crawl_goes_on(portals, local_corpus, tmp_path, monkeypatch):
    from scrapyd_nodes import free_port

    locked_env = dict(os.environ, SCRAPYD_USERNAME="govwatch", SCRAPYD_PASSWORD="node-secret-1")
    down = f"http://127.0.0.1:{free_port()}"
    with ScrapydNode(tmp_path / "locked", env=locked_env) as locked, ScrapydNode(tmp_path / "open") as open_node:
        monkeypatch.setenv("SCRAPYD_USERNAME", "govwatch")
        monkeypatch.setenv("SCRAPYD_PASSWORD", "wrong-secret-2")
        config = write_config(portals, tmp_path / "govwatch.toml", [locked.url, down, open_node.url])
        summary = crawl(config, tmp_path / "controller.db", timeout=120)
        assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
        assert corpus(tmp_path / "controller.db") == local_corpus
        problem = summary.nodes[locked.url]
        assert problem.startswith(locked.url) and "401" in problem and "SCRAPYD_PASSWORD" in problem
        assert "node-secret-1" not in problem + summary.log and "wrong-secret-2" not in problem + summary.log
        assert summary.nodes[down].startswith(down) and "does not answer" in summary.nodes[down]
        assert summary.nodes[open_node.url] is None

        # no node usable at all: nothing can run, one line naming the nodes
        only_bad = write_config(portals, tmp_path / "bad.toml", [locked.url, down])
        with pytest.raises(CrawlError) as failure:
            crawl(only_bad, tmp_path / "other.db", timeout=60)
        message = str(failure.value)
        assert locked.url in message and down in message and "secret" not in message


def test_egg_deployment_on_a_node_without_govwatch(portals, tmp_path):
    python = egg_python(tmp_path / "venv")
    with ScrapydNode(tmp_path / "eggnode", python=python) as node:
        output = deploy_egg(node.url, tmp_path / "src")
        assert '"spiders": 2' in output, output
        config = write_config(portals, tmp_path / "govwatch.toml", [node.url])
        first = portals.portal_ids()[0]
        summary = crawl(config, tmp_path / "controller.db", [first], timeout=120)
        assert summary.portals[first].status == "ok", summary.rows()
        assert summary.portals[first].new_reports >= 1
        back = json.loads((node.directory / "items" / "govwatch" / "column_job").glob("*.jl").__next__()
                          .read_text(encoding="utf-8").splitlines()[0])
        assert ".egg" in back["code"]  # the deployed egg ran, not a copy of the checkout


def test_govwatch_scrapyd_runs_a_node_until_sigterm(tmp_path):
    import signal
    import subprocess
    import sys

    from crawler.crawl.scrapyd.service import wait_ready
    from scrapyd_nodes import free_port

    govwatch = str(Path(sys.executable).with_name("govwatch"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPYD_")}
    log = tmp_path / "node.log"
    announced = f"scrapyd node http://127.0.0.1:{port}/ serving project govwatch"
    with open(log, "w") as stderr:
        node = subprocess.Popen([govwatch, "scrapyd", "--dir", str(tmp_path / "n"),
                                 "--port", str(port)], stderr=stderr, text=True, env=env)
    try:
        status = wait_ready(f"http://127.0.0.1:{port}", node, timeout=60, env=env)
        assert status["running"] == 0
        assert (tmp_path / "n" / "scrapyd.conf").exists() and (tmp_path / "n" / "scrapy.cfg").exists()
        from crawler.crawl.scrapyd.client import NodeClient

        assert "column_job" in NodeClient(f"http://127.0.0.1:{port}", username="", password="").list_spiders("govwatch")
        # the node announces itself once its own readiness check passes, which may trail ours
        helpers.wait_for(lambda: announced in log.read_text(), 30, "the node's ready line")
    finally:
        node.send_signal(signal.SIGTERM)
        code = node.wait(timeout=30)
    assert code == 0, log.read_text()

    refused = subprocess.run([govwatch, "scrapyd", "--dir", str(tmp_path / "m"),
                              "--bind", "0.0.0.0"], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1
    assert "Error: bind address 0.0.0.0 is reachable from other machines: set SCRAPYD_USERNAME" in refused.stderr


def test_a_controller_killed_mid_crawl_the_next_crawl_collects_its_jobs(two_nodes, portals, local_corpus, tmp_path):
    import signal
    import subprocess
    import sys

    a, b = two_nodes
    config = write_config(portals, tmp_path / "govwatch.toml", [a.url, b.url], download_delay=0.3)
    db_path = tmp_path / "controller.db"
    db = connect(db_path)
    govwatch = str(Path(sys.executable).with_name("govwatch"))
    controller = subprocess.Popen([govwatch, "crawl", "--config", str(config), "--db", str(db_path), "-q"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and db.execute("SELECT count(*) FROM scrapyd_jobs").fetchone()[0] < 2:
        time.sleep(0.1)
    controller.send_signal(signal.SIGKILL)  # no chance to cancel or ingest anything
    controller.wait(timeout=10)
    jobs = dict(db.execute("SELECT job_id, state FROM scrapyd_jobs").fetchall())
    assert len(jobs) >= 2 and set(jobs.values()) <= {"scheduled", "running"}
    adopted = {pid for (portals_json,) in db.execute("SELECT portals FROM scrapyd_jobs")
               for pid in json.loads(portals_json)}

    summary = crawl(config, db_path, timeout=120)  # adopts the jobs instead of crawling their portals again
    assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
    after = {job: (state, set(json.loads(ps))) for job, state, ps in
             db.execute("SELECT job_id, state, portals FROM scrapyd_jobs").fetchall()}
    assert {job: after[job][0] for job in jobs} == dict.fromkeys(jobs, "ingested")
    # jobs the killed controller had not dispatched yet are dispatched now, for the other portals only
    assert all(state == "ingested" and not (portals & adopted) for job, (state, portals) in after.items()
               if job not in jobs)
    assert corpus(db_path) == local_corpus
    assert db.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == len(portals.portal_ids())
    db.conn.close()


class SlowDetails(demo_sites.TrsPortal):
    """A TRS portal whose detail pages take 0.2 s each: a job is mid-crawl for seconds."""

    def handle(self, request):
        if self.item_by_path(request.path) is not None:
            time.sleep(0.2)
        return super().handle(request)


@pytest.mark.slow
@pytest.mark.parametrize("ingested", ["within_the_grace", "by_the_next_crawl"])
def test_a_job_ending_within_the_stops_grace_loses_nothing_and_the_next_crawl_goes_on_from_it(
        two_nodes, tmp_path, monkeypatch, ingested):
    """A crawl stopped mid-job: the job ends on the first SIGINT (Scrapy closes gracefully) and hands back
    what it crawled. The controller ingests it within the grace (the run is `killed` with the node's
    reason), or, when storing it would overrun the grace, leaves it whole for the next crawl, which adopts
    and ingests it. Nothing the node fetched is lost, and the next crawl fetches only what the stopped one
    had not."""
    import threading

    from crawler.crawl.scrapyd import controller

    if ingested == "by_the_next_crawl":
        monkeypatch.setattr(controller, "STORE_SECONDS", 1000.0)  # no hand-back fits in the grace

    from crawler.crawl.scrapyd.client import NodeClient

    sites = demo_sites
    a, _ = two_nodes
    site = sites.SITES["jinghu"]
    reports = [sites.report_item(stem, g) for stem, g in sites.load_seed_reports().items()]
    portal = SlowDetails("slow", site=site, items=sites.column_items(site, reports[:1], newer=24, older=10,
                                                                      with_private=False))
    with PortalServer([portal]) as server:
        config = write_config(server, tmp_path / "govwatch.toml", [a.url])
        db_path = tmp_path / "controller.db"

        def details_served():
            return {r.path for r in server.requests if r.status == 200 and portal.item_by_path(r.path)}

        stop = threading.Event()

        def stop_mid_job():
            helpers.wait_for(lambda: len(details_served()) >= 6 or stop.is_set(), 90, "six detail pages fetched")
            stop.set()

        stopper = threading.Thread(target=stop_mid_job, daemon=True)
        stopper.start()
        try:
            summary = crawl(config, db_path, timeout=120, stop=stop, stop_grace=30)
        finally:
            stop.set()
            stopper.join(timeout=5)
        result = summary.portals["slow"]
        assert summary.status == "interrupted" and result.status == "killed", summary.rows()
        db = connect(db_path)
        fetched = {server.url("slow", path) for path in details_served()}
        assert not NodeClient(a.url).list_jobs("govwatch")["running"]
        if ingested == "within_the_grace":
            assert "crawl stopped on" in result.reason and "shutdown" in result.reason, result.reason
            assert [s for (s,) in db.execute("SELECT state FROM scrapyd_jobs")] == ["ingested"]
        else:
            assert "the next crawl ingests them" in result.reason, result.reason
            assert [s for (s,) in db.execute("SELECT state FROM scrapyd_jobs")] == ["finished"]
            assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
            assert db.execute("SELECT status FROM crawl_runs").fetchall() == [("killed",)]
            monkeypatch.undo()

        server.clear_log()
        again = crawl(config, db_path, timeout=120)
        assert again.portals["slow"].status == "ok", again.rows()
        assert {s for (s,) in db.execute("SELECT state FROM scrapyd_jobs")} == {"ingested"}
        first_job = db.execute("SELECT job_id FROM scrapyd_jobs ORDER BY rowid LIMIT 1").fetchone()[0]
        stored = {url for (url,) in db.execute("SELECT d.url FROM documents d JOIN crawl_runs r ON "
                                               "r.id = d.crawl_run_id WHERE r.job_id = ?", [first_job])}
        assert 6 <= len(stored) < len(portal.items) and fetched <= stored  # nothing fetched before the stop lost
        refetched = {server.url("slow", path) for path in details_served()}
        assert refetched and not refetched & stored  # the stopped job's pages are not fetched again
        urls = [u for (u,) in db.execute("SELECT url FROM documents")]
        assert len(urls) == len(set(urls)) == len(stored) + len(refetched)
        db.conn.close()


@pytest.mark.slow
def test_a_national_farm_slice_split_across_two_nodes(two_nodes, tmp_path):
    """The farm slice (crawler.demo.farm: one portal per region, each on its own 127.100.x.y host) on two
    nodes: every report found once, one alert each, the recheck <= 2 requests per unchanged portal, a report
    published between two crawls found and alerted once."""
    from crawler.demo import farm as farm_module
    a, b = two_nodes
    with farm_module.Farm(limit=30) as farm:
        ids = farm.portal_ids(role=None)[:16]
        options = dict(download_delay=0, autothrottle=False, alerts={"alert_on_baseline": True})
        local = farm.write_config(tmp_path / "local.toml", ids, **options)
        assert {p.status for p in crawl(local, tmp_path / "local.db", timeout=300).portals.values()} == {"ok"}
        config = farm.write_config(tmp_path / "govwatch.toml", ids, backend="scrapyd",
                                   scrapyd_nodes=[a.url, b.url], **options)
        farm.reset_counts()
        summary = crawl(config, tmp_path / "nodes.db", timeout=300)
        assert {p.status for p in summary.portals.values()} == {"ok"}, summary.rows()
        found = corpus(tmp_path / "nodes.db")
        expected = sum(len(farm.site(pid).report_years()) for pid in ids)
        assert len(found["reports"]) == expected and len(found["alerts"]) == expected
        assert found["documents"] == corpus(tmp_path / "local.db")["documents"]
        db = connect(tmp_path / "nodes.db")
        assert {r[0] for r in db.execute("SELECT node FROM scrapyd_assignments")} == {a.url, b.url}

        farm.reset_counts()
        again = crawl(config, tmp_path / "nodes.db", timeout=300)
        assert {p.status for p in again.portals.values()} == {"ok"}, again.rows()
        counts = farm.counts()
        assert all(counts[pid]["requests"] <= 2 for pid in ids), {pid: counts[pid] for pid in ids}

        published = farm.publish(ids[3])
        crawl(config, tmp_path / "nodes.db", timeout=300)
        after = corpus(tmp_path / "nodes.db")
        assert len(after["reports"]) == expected + 1 and len(after["alerts"]) == expected + 1
        from crawler.urls import canonicalize  # the JSON family's links carry a #fragment

        assert db.execute("SELECT count(*) FROM documents WHERE url = ?",
                          [canonicalize(published["url"])]).fetchone()[0] == 1
        db.conn.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_watch_on_two_nodes_stops_on_sigterm_within_10_s_and_the_next_start_finishes(two_nodes, tmp_path):
    """`govwatch watch` with backend = "scrapyd": a baseline cycle over a farm slice, then portals whose crawl
    is slow (1 s per request) are on the nodes when SIGTERM comes. The daemon exits 0 within 10 s, no job is
    left on either node, its jobs are cancelled or ingested with no run left running, and the next start
    crawls the unfinished portals: every report stored once, each job ingested at most once."""
    from crawler.demo import farm as farm_module
    from test_watch_national import query, start_watch, stop_watch, wait_for

    a, b = two_nodes
    nodes = [a.url, b.url]
    with farm_module.Farm(limit=50) as farm:
        ids = farm.portal_ids(role=None)
        first, later = ids[:12], ids[12:36]
        db_path = tmp_path / "gw.db"
        options = dict(backend="scrapyd", scrapyd_nodes=nodes, autothrottle=False, schedule="1h", timeout=300,
                       processes=2)

        def unfinished(portal_ids):
            placeholders = ", ".join("?" * len(portal_ids))
            return query(db_path, f"SELECT portal_id FROM watch_schedule WHERE portal_id IN ({placeholders}) "
                                  "AND last_finished_at IS NULL", portal_ids)

        def scheduled(portal_ids):
            return len(query(db_path, "SELECT portal_id FROM watch_schedule")) == len(portal_ids)

        def node_jobs():
            from crawler.crawl.scrapyd.client import NodeClient

            listed = [NodeClient(url).list_jobs("govwatch") for url in nodes]
            return [job["id"] for jobs in listed for job in jobs["pending"] + jobs["running"]]

        # the baseline cycle, then a SIGTERM to an idle daemon
        config = farm.write_config(tmp_path / "gw.toml", first, download_delay=0, **options)
        proc = start_watch(config, db_path, tmp_path / "watch1.log")
        try:
            wait_for(lambda: scheduled(first) and not unfinished(first), 120, "the baseline cycle")
        finally:
            code, took = stop_watch(proc)
        assert code == 0 and took < 10, f"watch exited with {code} after {took:.1f} s"
        assert {s for (s,) in query(db_path, "SELECT status FROM crawl_runs")} == {"ok"}
        assert {s for (s,) in query(db_path, "SELECT state FROM scrapyd_jobs")} == {"ingested"}

        # new portals, slow to crawl: SIGTERM while their jobs run on both nodes
        config = farm.write_config(tmp_path / "gw.toml", first + later, download_delay=1.0, **options)
        proc = start_watch(config, db_path, tmp_path / "watch2.log")
        try:
            wait_for(lambda: {n for (n,) in query(db_path, "SELECT DISTINCT node FROM scrapyd_jobs WHERE state = "
                                                           "'running'")} == set(nodes), 90, "jobs running on both nodes")
            time.sleep(2)  # crawling, not starting up
            assert node_jobs()
        finally:
            code, took = stop_watch(proc)
        log = (tmp_path / "watch2.log").read_text(encoding="utf-8")
        assert code == 0 and took < 10, f"watch exited with {code} after {took:.1f} s: {log[-3000:]}"
        assert node_jobs() == []  # cancelled there, none left pending or running
        assert "still ending" not in log
        states = dict(query(db_path, "SELECT job_id, state FROM scrapyd_jobs"))
        assert set(states.values()) <= {"ingested", "cancelled"} and "cancelled" in states.values(), states
        assert query(db_path, "SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'") == [(0,)]
        killed = {pid for (pid,) in query(db_path, "SELECT portal_id FROM crawl_runs WHERE status = 'killed'")}
        assert killed and killed <= set(later)
        assert query(db_path, "SELECT COUNT(*) FROM watch_schedule WHERE running_since IS NOT NULL") == [(0,)]
        assert {pid for (pid,) in unfinished(later)} >= killed  # due again at the next start

        # the next start crawls the unfinished portals; nothing stored twice
        config = farm.write_config(tmp_path / "gw.toml", first + later, download_delay=0, **options)
        proc = start_watch(config, db_path, tmp_path / "watch3.log")
        try:
            wait_for(lambda: not unfinished(first + later), 150, "every portal finished")
        finally:
            code, _ = stop_watch(proc)
        assert code == 0
        assert node_jobs() == []
        last = dict(query(db_path, "SELECT portal_id, status FROM crawl_runs WHERE id IN "
                                   "(SELECT MAX(id) FROM crawl_runs GROUP BY portal_id)"))
        assert last == dict.fromkeys(first + later, "ok")
        urls = [u for (u,) in query(db_path, "SELECT url FROM documents")]
        assert len(urls) == len(set(urls))
        reports = query(db_path, "SELECT COUNT(*) FROM documents WHERE doc_type = 'annual_report' "
                                 "AND duplicate_of IS NULL")[0][0]
        assert reports == sum(len(farm.site(pid).report_years()) for pid in first + later)
        assert set(dict(query(db_path, "SELECT job_id, state FROM scrapyd_jobs")).values()) <= {"ingested", "cancelled"}
        assert not query(db_path, "SELECT 1 FROM scrapyd_jobs WHERE state = 'cancelled' AND job_id IN "
                                  "(SELECT job_id FROM crawl_runs WHERE status = 'ok')")  # a cancelled job never ingested
