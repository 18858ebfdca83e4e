"""`govwatch serve` for real: a server process on 127.0.0.1 answering while crawls of the test portals write the
database, then a real browser (Playwright driving Debian's Chromium, nothing downloaded) on its pages.

The browser tests are skipped, saying why, where Chromium or the playwright package is missing; `.ci/run`
installs Chromium and a CJK font (fonts-wqy-zenhei: without one, Chinese renders as boxes in the
screenshots). Screenshots are kept under each test's tmp dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)

pytest.importorskip("datasette", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")

from crawler.crawl.runner import crawl  # noqa: E402
from crawler.corpus.search import search  # noqa: E402
from crawler.demo.server import Item, PortalServer  # noqa: E402
from storage import connect  # noqa: E402
from tests.portal_server import build_test_portals  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GOVWATCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
POLLED = ["/", "/govwatch/latest_reports.json?_shape=array", "/govwatch/new_reports.jsonfeed",
          "/-/coverage.json?year=2023", "/-/search?q=" + quote("营商环境"), "/-/portals.json"]
MAX_POLLS = 2000  # requests while the crawl runs: a bound, not a target
START_TIMEOUT = 60
NEW_TITLE = "长沙市望城区2024年度法治政府建设情况报告"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 20) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def reports_in(db_path) -> list[str]:
    return [r["title"] for r in connect(db_path).query(
        "SELECT title FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL")]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A `govwatch serve` process on an empty database, polled while the test portals are crawled into it."""
    tmp = tmp_path_factory.mktemp("dashboard-live")
    db_path = tmp / "govwatch.db"
    connect(db_path).conn.close()  # an empty govwatch database: nothing crawled yet
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp / "serve.log", "w+b")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.pop("GOVWATCH_SERVE_PASSWORD", None)
    server = subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "serve", "--db",
                               str(db_path), "--port", str(port)], cwd=str(tmp), env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if fetch(base + "/", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"govwatch serve did not start: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        with PortalServer(build_test_portals()) as portals:
            config = portals.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=150)
            before = json.loads(fetch(base + POLLED[1])[1])
            polls = []
            outcome = {}
            thread = threading.Thread(target=lambda: outcome.setdefault("summary", crawl(config, db_path, timeout=150)))
            thread.start()
            while thread.is_alive() and len(polls) < MAX_POLLS:
                for path in POLLED:
                    status, body = fetch(base + path)
                    polls.append({"path": path, "status": status, "during_crawl": thread.is_alive(),
                                  "reports": len(json.loads(body)) if path == POLLED[1] and status == 200 else None})
                time.sleep(0.05)
            thread.join(200)
            after = json.loads(fetch(base + POLLED[1])[1])
            yield {"base": base, "db": db_path, "portals": portals, "config": config, "before": before,
                   "after": after, "polls": polls, "summary": outcome.get("summary"), "server": server,
                   "tmp": tmp}
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(20)
        log.close()


def test_every_request_answers_while_a_crawl_writes(live):
    polls = live["polls"]
    during = [p for p in polls if p["during_crawl"]]
    assert len(during) >= len(POLLED), "the crawl ended before the dashboard was asked anything"
    assert [p for p in polls if p["status"] != 200] == []
    print(f"{len(during)} requests answered during the crawl, {len(polls)} in all, every one 200")
    assert live["summary"] is not None and live["summary"].portals["trs"].status == "ok"


def test_crawled_reports_appear_without_a_restart(live):
    assert live["before"] == []  # nothing crawled when the server started
    titles = {row["title"] for row in live["after"]}
    assert titles and titles == set(reports_in(live["db"]))
    counts = [p["reports"] for p in live["polls"] if p["reports"] is not None]
    assert counts == sorted(counts)  # seen growing, never going back
    # a report published after the first crawl: crawled, it is in the feed of the same server process
    portals, base = live["portals"], live["base"]
    portals.publish("county", Item(title=NEW_TITLE, kind="report", published="2025-03-10 09:00",
                                   paragraphs=["2024年，望城区持续优化营商环境，深入推进法治政府建设。" * 12]))
    crawl(live["config"], live["db"], ["county"], timeout=150)
    feed = json.loads(fetch(base + "/govwatch/new_reports.jsonfeed")[1])
    assert feed["items"][0]["title"] == NEW_TITLE
    assert live["server"].poll() is None  # the same process all along


# ---------------------------------------------------------------------------------------------------------
# in a browser


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does): browser test skipped")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live, tmp_path):
    """A fresh page that records console errors, page errors and failed requests; screenshots go to tmp_path."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    problems = []
    tab.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
           if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    tab.on("response", lambda response: problems.append(f"HTTP {response.status}: {response.url}")
           if response.status >= 400 else None)
    tab.problems = problems
    tab.shot = lambda name: tab.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    yield tab
    context.close()


def canonical_reports(db_path) -> list[dict]:
    return list(connect(db_path).query(
        "SELECT id, title, region, report_year, substr(published_at, 1, 10) AS published FROM documents "
        "WHERE doc_type = 'annual_report' AND duplicate_of IS NULL"))


def test_home_page_lists_the_latest_reports(page, live):
    page.goto(live["base"] + "/")
    titles = page.locator(".gw-latest tbody tr td:nth-child(3)").all_inner_texts()
    assert set(titles) == {r["title"] for r in canonical_reports(live["db"])}
    assert page.locator(".gw-nav a").count() == 7
    page.shot("home")
    assert page.problems == []


def test_coverage_page_with_its_picture_and_drill_down(page, live):
    page.goto(live["base"] + "/-/coverage?year=2022&year=2023")
    assert page.locator("svg.gw-bars rect").count() > 31  # a bar per province, a swatch per status
    hunan_2023 = page.locator(".gw-totals tbody tr", has_text="湖南省").filter(has_text="2023")
    cells = hunan_2023.locator("td").all_inner_texts()
    assert cells[0] == "湖南省" and cells[4] == "1"  # 望城区's 2023 report: one region published
    page.shot("coverage")
    hunan_2023.locator("a", has_text="湖南省").click()
    page.wait_for_url(re.compile(r"/-/coverage\?province=430000"))
    wangcheng = page.locator(".gw-tree tr", has_text="望城区")
    assert "已发布 2024-01-31" in wangcheng.inner_text()
    assert page.locator(".gw-tree tr.gw-level-city", has_text="长沙市").count() == 1
    page.shot("coverage-hunan")
    assert page.problems == []


def test_chinese_search_in_the_browser(page, live):
    page.goto(live["base"] + "/-/search")
    page.fill("input[name=q]", "营商环境")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/-/search\?q="))
    expected = [hit.title for hit in search(connect(live["db"]), "营商环境", limit=100)]
    assert expected
    assert page.locator(".gw-hit-title").all_inner_texts() == expected
    marks = set(page.locator(".gw-snippet mark").all_inner_texts())
    assert marks and marks <= {"营商环境", "营商", "环境"}
    page.shot("search")
    assert page.problems == []


def test_feeds_render(page, live):
    titles = {r["title"] for r in canonical_reports(live["db"])}
    page.goto(live["base"] + "/govwatch/new_reports.atom")
    text = page.locator("body").inner_text()
    assert all(title in text for title in titles), text[:1000]
    page.shot("feed-atom")
    page.goto(live["base"] + "/govwatch/new_reports.jsonfeed?province=" + quote("湖南省"))
    feed = json.loads(page.locator("body").inner_text())
    assert {item["title"] for item in feed["items"]} == {r["title"] for r in canonical_reports(live["db"])
                                                         if r["region"] and r["region"].startswith("长沙")}
    page.shot("feed-json")
    page.goto(live["base"] + "/govwatch/new_reports")
    assert page.locator("a", has_text="Atom").count() >= 1
    page.shot("feeds-page")
    assert page.problems == []
