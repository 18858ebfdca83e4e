"""Nothing a crawl scheduled is lost for good (real crawl subprocesses against loopback portals).

A detail page that fails (500 then 200, or always), a writer killed near the end, another process holding the
database's write lock, a list page that fails mid-paging, a tiny page: whatever a run did not store is asked
for again by the next run (a bounded number of times, its reason visible), and a run whose paging could not
finish ends `error`, so the next one pages in full. Each case failed before: the run ended `ok`, the next run
got a 304 for the first list page and stopped, and the missing pages were never requested again.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import helpers
from crawler.crawl.runner import crawl
from crawler.demo.server import Item, Portal, PortalServer, Response
from crawler.urls import canonicalize
from storage import connect, sqlite3
from test_reliability import REGIONS

pytestmark = pytest.mark.timeout(240)

PARAS = ["{y}年，{r}深入学习贯彻习近平法治思想，全面推进依法行政，法治政府建设取得新成效{n}。",
         "一、主要举措和成效。{r}完善依法行政制度体系，推进严格规范公正文明执法，强化行政权力制约监督{n}。" * 3,
         "二、存在的不足和下一步工作安排。{r}法治政府建设仍存在短板，将持续用力推进各项工作落实{n}。" * 3]




def item(n: int) -> Item:
    """A yearly report of its own (region, year) for every n < 60."""
    region, year = REGIONS[n % len(REGIONS)], 2019 + n // len(REGIONS)
    return Item(title=f"{region}{year}年度法治政府建设情况报告", kind="report",
                published=f"{year + 1}-03-{1 + n % 28:02d} 10:00", source=f"{region}司法局",
                paragraphs=[p.format(y=year, r=region, n=n) for p in PARAS])


class PagedSite(Portal):
    """A column /col/?page=N (下一页 links, `per_page` items a page), detail pages /art/N.html. `faults` maps a
    path (or "page=N" for a list page) to the Response it answers instead; `delay` slows detail pages."""

    column_path = "/col/"
    per_page = 10

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.faults: dict[str, Response] = {}

    def dispatch(self, request):
        if request.path in self.faults:  # attachments too
            return self.faults[request.path]
        return super().dispatch(request)

    def handle(self, request):
        if request.path == self.column_path:
            number = int(request.params.get("page", "1"))
            fault = self.faults.get(f"page={number}")
            if fault is not None:
                return fault
            pages = self.pages()
            if not 1 <= number <= len(pages):
                return self.not_found()
            rows = "".join(f'<li><a href="{self.url(i)}">{i.title}</a><span>{i.date}</span></li>'
                           for i in pages[number - 1])
            nav = f'<a href="?page={number + 1}">下一页</a>' if number < len(pages) else ""
            return Response.html(f"<html><head><title>{self.name}</title></head><body><ul class='list'>{rows}"
                                 f"</ul><div class='page'>共{len(pages)}页 {nav}</div></body></html>",
                                 last_modified=self.modified)
        found = self.item_by_path(request.path)
        if found is None:
            return None
        if self.options.get("delay"):
            time.sleep(self.options["delay"])
        return self.detail(found)

    def detail(self, found: Item) -> Response:
        body = "".join(f"<p>{p}</p>" for p in found.paragraphs)
        body += "".join(f'<p><a href="{a.path}">{a.label}</a></p>' for a in found.attachments)
        return Response.html(f"<html><head><title>{found.title}_{self.name}</title></head><body>"
                             f"<h1>{found.title}</h1><div class='info'>发布时间：{found.published} 来源：{found.source}"
                             f"</div><div id='zoom'>{body}</div></body></html>", last_modified=found.published_dt)


def error_500() -> Response:
    return Response(status=500, body=b"<html><body>500 Internal Server Error</body></html>", cacheable=False)


def config_for(server: PortalServer, path: Path, **crawl) -> Path:
    options = dict(download_delay=0, autothrottle=False, retry_times=1, timeout=120)
    options.update(crawl)
    return server.write_config(path, **options)


def stored_urls(db_path, portal_id: str) -> set[str]:
    return {r[0] for r in connect(db_path).execute("SELECT url FROM documents WHERE portal_id = ?", [portal_id])}


def all_urls(server: PortalServer, portal_id: str) -> set[str]:
    portal = server.portal(portal_id)
    return {canonicalize(portal.url(i)) for i in portal.served_items()}


def detail_hits(server: PortalServer, path: str) -> int:
    return len([r for r in server.requests if r.path == path])


def test_a_detail_page_that_fails_its_retries_is_fetched_again_by_the_next_run(tmp_path):
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(12)])
    with PortalServer([site], offsite=False) as server:
        config = config_for(server, tmp_path / "g.toml")
        flaky = site.items[3]
        site.faults[flaky.path] = error_500()
        db_path = tmp_path / "g.db"
        first = crawl(config, db_path, timeout=120)
        p = first.portals["p"]
        assert p.status == "ok", first.log[-3000:]
        assert "1 pages not stored yet" in p.reason and "HTTP 500" in p.reason
        assert stored_urls(db_path, "p") == all_urls(server, "p") - {canonicalize(site.url(flaky))}
        row = connect(db_path).execute("SELECT status, tries, error FROM fetch_state WHERE url = ?",
                                       [canonicalize(site.url(flaky))]).fetchone()
        assert row[0] == 500 and row[1] == 1 and "HTTP 500" in row[2]

        del site.faults[flaky.path]  # the server is back
        server.clear_log()
        second = crawl(config, db_path, timeout=120)
        assert second.portals["p"].status == "ok" and second.portals["p"].reason is None
        log = [(r.path, r.query, r.status) for r in server.requests if r.path != "/robots.txt"]
        assert ("/col/", "", 304) in log  # the list is unchanged: an incremental run ...
        assert detail_hits(server, flaky.path) == 1  # ... which still asks for the page it did not store
        assert stored_urls(db_path, "p") == all_urls(server, "p")
        assert len(log) == 2, log


def test_a_detail_page_that_always_fails_is_given_up_after_max_tries_with_its_reason(tmp_path):
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(6)])
    with PortalServer([site], offsite=False) as server:
        config = config_for(server, tmp_path / "g.toml", retry_times=0)
        broken = site.items[1]
        site.faults[broken.path] = error_500()
        db_path = tmp_path / "g.db"
        reasons = []
        for _ in range(4):
            summary = crawl(config, db_path, timeout=120, settings={"GOVWATCH_MAX_TRIES": 2})
            assert summary.portals["p"].status == "ok", summary.log[-3000:]
            reasons.append(summary.portals["p"].reason)
        assert detail_hits(server, broken.path) == 2  # two runs tried it, the later ones did not
        assert "1 pages not stored yet" in reasons[0]
        assert all("1 pages given up after 2 tries" in r and "HTTP 500" in r for r in reasons[1:]), reasons
        row = connect(db_path).execute("SELECT status, tries, error FROM fetch_state WHERE url = ?",
                                       [canonicalize(site.url(broken))]).fetchone()
        assert row == (500, 2, f"HTTP 500 ({site.url(broken)})")
        assert stored_urls(db_path, "p") == all_urls(server, "p") - {canonicalize(site.url(broken))}



def _query(db_path, sql, params=()):
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the writer process through /proc")
def test_a_notice_whose_attachment_fails_is_fetched_again_for_its_text(tmp_path):
    from crawler.demo.server import Attachment
    from crawler.demo.sites import make_docx

    report = item(0)
    notice = Item(title=report.title, kind="notice", published=report.published, paragraphs=["详见附件。"],
                  attachments=[Attachment(f"{report.title}.docx", "report.docx", make_docx(report.title, report.paragraphs),
                                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
    site = PagedSite("p", "示例县人民政府", [notice] + [item(n) for n in range(1, 5)])
    with PortalServer([site], offsite=False) as server:
        config = config_for(server, tmp_path / "g.toml")
        path = site.items[0].attachments[0].path
        site.faults[path] = error_500()
        db_path = tmp_path / "g.db"
        first = crawl(config, db_path, timeout=120)
        assert first.portals["p"].status == "ok" and "1 pages not stored yet" in first.portals["p"].reason, first
        url = canonicalize(site.url(site.items[0]))
        text = connect(db_path).execute("SELECT text FROM documents WHERE url = ?", [url]).fetchone()[0]
        assert "主要举措" not in text  # stored without the attachment's text ...
        del site.faults[path]
        server.clear_log()
        second = crawl(config, db_path, timeout=120)
        assert second.portals["p"].status == "ok" and second.portals["p"].reason is None
        assert detail_hits(server, path) == 1  # ... and fetched again, although the list answered 304
        text = connect(db_path).execute("SELECT text FROM documents WHERE url = ?", [url]).fetchone()[0]
        assert "主要举措和成效" in text


def test_a_writer_killed_near_the_end_loses_nothing_for_good(tmp_path):
    from test_reliability import mark_baseline_done

    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(40)], delay=0.2)
    with PortalServer([site], offsite=False) as server:
        config = config_for(server, tmp_path / "g.toml")
        db_path = tmp_path / "g.db"
        mark_baseline_done(db_path, "p")  # reports alert: each must alert exactly once in the end
        result = {}
        thread = threading.Thread(target=lambda: result.update(s=crawl(config, db_path, timeout=60,
                                                                        settings={"GOVWATCH_WRITER_PROCESS": True})))
        thread.start()
        deadline = time.monotonic() + 60
        writer = None
        while time.monotonic() < deadline:
            stored = _query(db_path, "SELECT COUNT(*) FROM documents")
            running = _query(db_path, "SELECT pid FROM crawl_runs WHERE status = 'running'")
            if running and stored and stored[0][0] >= 20:
                writer = next((pid for pid, cmd in helpers.children(running[0][0]).items()
                               if "spawn_main" in cmd and "resource_tracker" not in cmd), None)
                break
            time.sleep(0.05)
        assert writer is not None, "no writer process found"
        os.kill(writer, signal.SIGKILL)
        thread.join(90)
        first_stored = len(stored_urls(db_path, "p"))
        assert first_stored < 40  # the kill did cost documents in that run
        unstored = _query(db_path, "SELECT COUNT(*) FROM fetch_state WHERE kind = 'detail' AND status = 0")
        if result["s"].portals["p"].status == "ok":  # the run went on to the end of the column ...
            assert unstored[0][0] == 40 - first_stored  # ... and every page it did not store is written down

        second = crawl(config, db_path, timeout=60)
        assert second.portals["p"].status == "ok", second.log[-3000:]
        assert stored_urls(db_path, "p") == all_urls(server, "p")
        keys = _query(db_path, "SELECT dedupe_key, COUNT(*) FROM alerts GROUP BY dedupe_key")
        assert len(keys) == 40 and all(n == 1 for _, n in keys)  # each report alerted, once


def test_another_process_holding_the_write_lock_neither_skips_a_page_nor_stops_the_paging(tmp_path, monkeypatch):
    # SQLite's busy timeout is cut to 1 s for the crawl (and its writer): the lock is held for 6 s, so only
    # the retry of whole transactions until their deadline carries the crawl through it
    monkeypatch.setenv("GOVWATCH_DB_BUSY_TIMEOUT", "1")
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(60)], delay=0.03)
    with PortalServer([site], offsite=False) as server:
        config = config_for(server, tmp_path / "g.toml")
        db_path = tmp_path / "g.db"
        connect(db_path).conn.close()
        held = threading.Event()

        def hold_lock_once_crawl_started():
            while not _query(db_path, "SELECT 1 FROM documents LIMIT 1"):
                time.sleep(0.05)
            conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(6)
            conn.execute("COMMIT")
            conn.close()

        holder = threading.Thread(target=hold_lock_once_crawl_started, daemon=True)
        holder.start()
        summary = crawl(config, db_path, timeout=120)
        holder.join(30)
    assert held.is_set()
    p = summary.portals["p"]
    assert (p.status, p.reason, p.errors) == ("ok", None, 0), summary.log[-3000:]
    assert p.pages == 6 and p.new_documents == 60
    assert "database is locked" not in summary.log


def test_a_list_page_failing_mid_paging_makes_the_run_an_error_and_the_next_pages_in_full(tmp_path):
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(30)])
    with PortalServer([site], offsite=False) as server:
        config = config_for(server, tmp_path / "g.toml")
        db_path = tmp_path / "g.db"
        site.faults["page=2"] = error_500()
        first = crawl(config, db_path, timeout=120)
        p = first.portals["p"]
        assert p.status == "error" and "paging of" in p.reason and "HTTP 500" in p.reason, p
        assert len(stored_urls(db_path, "p")) == 10
        del site.faults["page=2"]
        second = crawl(config, db_path, timeout=120)
        assert second.portals["p"].status == "ok"
        assert stored_urls(db_path, "p") == all_urls(server, "p")
        server.clear_log()
        third = crawl(config, db_path, timeout=120)  # now incremental again: one 304
        assert third.portals["p"].status == "ok"
        assert [(r.path, r.status) for r in server.requests if r.path != "/robots.txt"] == [("/col/", 304)]


def test_a_tiny_page_fails_alone_a_same_host_meta_refresh_is_followed(tmp_path):
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(30)])
    moved, tiny, looping = site.items[4], site.items[7], site.items[9]
    with PortalServer([site], offsite=False) as server:
        refresh = '<html><head><meta http-equiv="refresh" content="0;url=/moved/4.html"></head></html>'
        assert len(refresh) < 100  # a bare meta-refresh page, as small as the one that blocked a portal
        site.faults[moved.path] = Response.html(refresh)
        site.faults["/moved/4.html"] = site.detail(moved)
        site.faults[tiny.path] = Response.html("<html><body></body></html>")
        # refreshes that go round in a circle end (and the page stays unstored)
        site.faults[looping.path] = Response.html('<meta http-equiv="refresh" content="0;url=/loop/b.html">')
        site.faults["/loop/b.html"] = Response.html(f'<meta http-equiv="refresh" content="0;url={looping.path}">')
        config = config_for(server, tmp_path / "g.toml")
        db_path = tmp_path / "g.db"
        summary = crawl(config, db_path, timeout=120)
        p = summary.portals["p"]
        assert p.status == "ok", (p, summary.log[-3000:])  # one tiny page blocks nothing
        assert p.pages == 3  # paging went on to the end
        stored = stored_urls(db_path, "p")
        assert len(stored) == 28 and not {canonicalize(site.url(tiny)), canonicalize(site.url(looping))} & stored
        assert server.url("p", "/moved/4.html") in stored  # the refresh was followed, its target stored
        assert "2 pages not stored yet" in p.reason
        assert detail_hits(server, "/loop/b.html") <= 5
        errors = dict(connect(db_path).execute("SELECT url, error FROM fetch_state WHERE status != 200 "
                                               "AND kind = 'detail'").fetchall())
        assert "suspiciously tiny" in errors[canonicalize(site.url(tiny))]
        assert "redirected to a page already requested" in errors[canonicalize(site.url(looping))]


def test_a_portal_answering_mostly_tiny_pages_is_blocked(tmp_path):
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(12)])
    with PortalServer([site], offsite=False) as server:
        for it in site.items[1:]:
            site.faults[it.path] = Response.html("<html></html>")
        config = config_for(server, tmp_path / "g.toml")
        summary = crawl(config, tmp_path / "g.db", timeout=120)
    p = summary.portals["p"]
    assert p.status == "blocked" and "most answers are no pages" in p.reason, p
