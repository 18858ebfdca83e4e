"""Real crawls of the CMS-family test portals (`tests.portal_server.build_test_portals`): every family yields
its reports, every list page is visited, blocks are honest, recrawls are cheap."""

from __future__ import annotations

import json
import time

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)

portal_server = pytest.importorskip("tests.portal_server", reason="tests/portal_server.py not available yet")

from crawler.config import DEFAULT_USER_AGENT  # noqa: E402
from crawler.demo.server import PortalServer  # noqa: E402
from crawler.crawl.runner import crawl  # noqa: E402
from crawler.urls import canonicalize  # noqa: E402
from storage import connect  # noqa: E402

CMS_PORTALS = ("trs", "hanweb", "ucap", "gkmlpt", "county")
BLOCKED = {"blocked412": "$_ts", "blocked521": "__jsl_clearance"}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portals")
    with PortalServer(portal_server.build_test_portals()) as server:
        config = server.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=150)
        started = time.monotonic()
        summary = crawl(config, tmp / "govwatch.db", timeout=150)
        yield {"server": server, "config": config, "db": tmp / "govwatch.db", "summary": summary,
               "log": server.requests, "seconds": time.monotonic() - started}


def stored(db_path) -> dict[str, dict]:
    return {r["url"]: dict(r) for r in connect(db_path).query("SELECT * FROM documents")}


@pytest.mark.parametrize("pid", CMS_PORTALS)
def test_each_cms_portal_yields_its_reports(crawled, pid):
    server, summary = crawled["server"], crawled["summary"]
    if pid not in server.portals:
        pytest.skip(f"no {pid} portal")
    assert summary.portals[pid].status == "ok", (summary.portals[pid], summary.log[-3000:])
    docs = stored(crawled["db"])
    portal = server.portal(pid)
    for item in portal.served_items():
        url = canonicalize(portal.url(item))
        if item.kind in ("private",):
            assert url not in docs
            continue
        if item.kind not in ("report", "notice", "decoy"):
            continue
        assert url in docs, f"{pid}: {item.title} ({item.kind}) not stored"
        row = docs[url]
        if item.kind == "decoy":
            assert row["doc_type"] != "annual_report", row["title"]
            continue
        assert row["doc_type"] == "annual_report", (row["title"], row["doc_type"])
        assert "\ufffd" not in (row["title"] or "")
        if item.golden:
            expected = helpers.load_expected(item.golden)
            assert row["title"] == expected["title"]
            assert row["report_year"] == expected["report_year"]
            assert row["region"] == expected["region"]
        if item.kind == "notice":
            sources = json.loads(row["text_sources"])
            assert sources and all(s["from"] != "page" for s in sources), sources
            atts = json.loads(row["attachments"])
            assert any(a["status"] == "ok" and a["chars"] > 200 for a in atts), atts


def test_attachments_pdf_and_docx_text_stored(crawled):
    docs = stored(crawled["db"])
    kinds = {}
    for row in docs.values():
        for att in json.loads(row["attachments"] or "[]"):
            kinds.setdefault(att["url"].rsplit(".", 1)[-1].lower(), []).append(att)
    for ext in ("pdf", "docx"):
        if ext in kinds:
            assert any(a["status"] == "ok" and a["chars"] > 0 for a in kinds[ext]), kinds[ext]


def test_every_list_page_visited(crawled):
    server, log = crawled["server"], crawled["log"]
    for pid in CMS_PORTALS:
        if pid not in server.portals:
            continue
        portal = server.portal(pid)
        pages = len(portal.pages())
        own = [r for r in log if r.portal == pid]
        if pid == "trs":
            assert {f"index_{n}.html" for n in range(1, pages)} <= {r.path.rsplit("/", 1)[-1] for r in own}
        elif pid == "hanweb":
            posts = [r for r in own if r.method == "POST"]
            assert posts and all("dataproxy.jsp" in r.path for r in posts)
            starts = sorted(int(dict(p.split("=") for p in r.query.split("&"))["startrecord"]) for r in posts)
            assert starts[-1] <= len(portal.items) and starts == sorted(set(starts))
        elif pid == "gkmlpt":
            assert {f"page={n}" for n in range(1, pages + 1)} <= {r.query for r in own}
        elif pid == "county":
            assert {f"page={n}" for n in range(2, pages + 1)} <= {r.query for r in own}
        elif pid == "ucap":
            names = {r.path.rsplit("/", 1)[-1] for r in own}
            assert len([n for n in names if n.startswith("list")]) >= pages


def test_polite_and_on_site(crawled):
    log = crawled["log"]
    assert all(r.headers.get("User-Agent") == DEFAULT_USER_AGENT for r in log)
    assert not [r for r in log if r.portal == "_offsite"]
    assert not [r for r in log if r.path.startswith("/private/")]
    assert "Traceback" not in crawled["summary"].log


def test_blocked_portals(crawled):
    from crawler.crawl.status import status

    rows = {r["id"]: r for r in status(connect(crawled["db"]))}
    for pid, marker in BLOCKED.items():
        if pid not in crawled["server"].portals:
            continue
        assert rows[pid]["status"] == "blocked" and marker in rows[pid]["reason"], rows[pid]
        assert rows[pid]["documents"] == 0


def test_recrawl_unchanged_costs_at_most_two_requests_per_column(crawled):
    server = crawled["server"]
    server.clear_log()
    ids = [pid for pid in CMS_PORTALS if pid in server.portals]
    summary = crawl(crawled["config"], crawled["db"], ids, timeout=150)
    assert summary.status == "ok", summary.log[-3000:]
    for pid in ids:
        own = [r for r in server.requests if r.portal == pid]
        print(f"recrawl {pid}: {len(own)} requests {[(r.method, r.path, r.status) for r in own]}")
        assert 1 <= len(own) <= 2 and own[-1].status == 304, (pid, [(r.method, r.path, r.query, r.status) for r in own])
        assert summary.portals[pid].new_documents == 0


@pytest.mark.parametrize("pid", ["hanweb", "trs", "gkmlpt"])
def test_publish_then_recrawl_fetches_lists_and_the_new_item_only(crawled, pid):
    from crawler.demo.server import Item

    server = crawled["server"]
    portal = server.portal(pid)
    url = server.publish(pid, Item(title=f"{portal.name}2024年度法治政府建设工作报告", kind="report",
                                   published="2025-03-01 10:00",
                                   paragraphs=["2024年，我们深入推进法治政府建设，取得明显成效。" * 10]))
    server.clear_log()
    summary = crawl(crawled["config"], crawled["db"], [pid], timeout=150)
    own = [r for r in server.requests if r.portal == pid and r.path != "/robots.txt"]
    new_path = url.split(server.base_url(pid))[1].split("#")[0]
    details = [r.path for r in own if r.path == new_path or r.path.startswith(("/art/", "/gkmlpt/content"))
               or r.path.endswith((".shtml",)) and "list" not in r.path]
    assert details == [new_path], [(r.method, r.path, r.query) for r in own]
    assert len(own) <= 3, [(r.method, r.path, r.query, r.status) for r in own]  # list page(s) + the new item
    assert summary.portals[pid].new_documents == 1
