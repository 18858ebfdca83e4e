"""The dashboard in-process (Datasette's ASGI client, no socket): search as `govwatch search` does it, the canned
queries, the feeds, the coverage / overdue / portals / document pages, and the security rules (read-only, no
secrets served, the password off loopback)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

import pytest

pytest.importorskip("datasette", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")

import storage  # noqa: E402
from crawler.config import parse_config  # noqa: E402
from crawler.corpus.ingest import store_document  # noqa: E402
from crawler.corpus.reports import reports  # noqa: E402
from crawler.corpus.search import search  # noqa: E402
from crawler.dashboard import DashboardError, dashboard, requires_password  # noqa: E402
from crawler.dashboard.connection import READABLE_COLUMNS  # noqa: E402
from crawler.monitor.alerts import AlertPolicy, flush  # noqa: E402
from crawler.monitor.coverage import coverage, latest_due_year  # noqa: E402
from crawler.monitor.notify import SendResult, secrets_of  # noqa: E402
from crawler.registry import sync_config  # noqa: E402

# channel URLs whose secrets must never be served (bot token and signing secret, a password, a path token)
CHANNELS = ["dingtalk://SIGNsecret42@TOKENdingtalk9f8e7d6c5b4a/",
            "mailtos://alerts:PASSWORDmail77@smtp.example.com",
            "json://127.0.0.1:9/hook/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
            "tgram://123456789:AAHtelegramBotTokenSecret0123456789a/987654321"]
SECRETS = ["SIGNsecret42", "TOKENdingtalk9f8e7d6c5b4a", "PASSWORDmail77", "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
           "AAHtelegramBotTokenSecret0123456789a"]
CONFIG = f"""
[alerts]
urls = {json.dumps(CHANNELS)}
alert_on_baseline = true
[[portal]]
id = "jh"
name = "芜湖市镜湖区人民政府"
start_urls = ["http://jh.example/fzzfjs/"]
adcode = "340202"
[[portal]]
id = "ws"
name = "长沙市望城区人民政府"
start_urls = ["http://ws.example/fzzfjs/"]
adcode = "430112"
[[portal]]
id = "yj"
name = "芜湖市弋江区人民政府"
start_urls = ["http://yj.example/fzzfjs/"]
adcode = "340209"
"""
DUE = latest_due_year(datetime.now(timezone.utc).date())  # the year whose reports are overdue now
BODY = ("{place}{year}年坚持以习近平法治思想为指导，持续优化营商环境，推进严格规范公正文明执法，"
        "健全行政复议体制，落实行政机关负责人出庭应诉制度。现将有关情况报告如下。\n"
        "一、主要举措和成效\n{extra}深化“放管服”改革，推进政务服务标准化。\n二、存在的不足\n三、下一年度工作安排")


def body(place: str, year: int, extra: str = "") -> str:
    return (BODY.format(place=place, year=year, extra=extra) + "\n") * 3


DOCS = [  # (key, fields)
    ("jh_due", dict(url="http://jh.example/2.html", portal_id="jh", title=f"芜湖市镜湖区{DUE}年度法治政府建设情况报告",
                    text=body("镜湖区", DUE, "开展法治宣传进社区活动。"), published_at=f"{DUE + 1}-03-20",
                    region="芜湖市镜湖区", adcode="340202", report_year=DUE, doc_type="annual_report",
                    attachments=[{"url": "http://jh.example/2.pdf", "name": "报告全文.pdf", "status": "ok",
                                  "chars": 5120, "error": None}])),
    ("ws_before", dict(url="http://ws.example/1.html", portal_id="ws", title=f"长沙市望城区{DUE - 1}年度法治政府建设情况报告",
                       text=body("望城区", DUE - 1, "推进乡村法治建设，完善公共法律服务体系。"),
                       published_at=f"{DUE}-02-10", region="长沙市望城区", adcode="430112", report_year=DUE - 1,
                       doc_type="annual_report")),
    ("jh_repost", dict(url="http://yj.example/repost.html", portal_id="yj",
                       title=f"芜湖市镜湖区{DUE}年度法治政府建设情况报告", text=body("镜湖区", DUE, "开展法治宣传进社区活动。"),
                       published_at=f"{DUE + 1}-03-22", region="芜湖市镜湖区", adcode="340202", report_year=DUE,
                       doc_type="annual_report")),
    ("news", dict(url="http://ws.example/news.html", portal_id="ws", title="望城区召开优化营商环境工作推进会",
                  text="会议强调，持续优化营商环境，打造一流营商环境。" * 8, published_at=f"{DUE + 1}-01-05",
                  region="长沙市望城区", adcode="430112", doc_type="news")),
    ("yj_department", dict(url="http://yj.example/sfj.html", portal_id="yj", title=f"芜湖市弋江区司法局{DUE}年度法治政府建设工作报告",
                           text=body("弋江区司法局", DUE, "推进公共法律服务。"), published_at=f"{DUE + 1}-03-01",
                           region="芜湖市弋江区", adcode="340209", report_year=DUE, doc_type="annual_report")),
]


def store_all(db, config):
    policy = AlertPolicy.from_settings(config.alerts)
    ids = {}
    for key, fields in DOCS:
        store_document(db, fields, policy=policy)
        ids[key] = db.execute("SELECT id FROM documents WHERE url = ?", [fields["url"]]).fetchone()[0]
    return ids


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    path = tmp / "govwatch.db"
    db = storage.connect(path)
    config = parse_config(CONFIG, tmp / "govwatch.toml")
    sync_config(db, config)
    for pid, status, reason in (("jh", "ok", None), ("ws", "ok", None),
                                ("yj", "blocked", "412 challenge from 瑞数 (Rivers Security)")):
        db["portals"].update(pid, {"status": status, "baseline_done": int(status == "ok"), "reason": reason,
                                   "last_crawl_at": f"{DUE + 1}-05-01T00:00:00+00:00"})
    ids = store_all(db, config)
    # a failed delivery whose error echoes the channel URL, as a vendor's answer may: flush scrubs it
    flush(db, config, send=lambda url, title, text: SendResult(False, f"HTTP 500 from {url}"))
    # the daemon's job store (its alert jobs) and its schedule table with one next run
    db.execute("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BLOB)")
    next_run = datetime(DUE + 2, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    db["watch_schedule"].insert({"portal_id": "jh", "schedule": "6h", "next_run_at": next_run.isoformat(),
                                 "dispatch_at": next_run.isoformat()})
    db.conn.close()
    return {"path": path, "ids": ids, "config": config, "next_run": next_run.isoformat()}


class Client:
    """Datasette's in-process client on one event loop."""

    def __init__(self, ds):
        self.ds = ds
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(ds.invoke_startup())

    def get(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.get(path, **kwargs))

    def post(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.post(path, **kwargs))

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def close(self):
        self.loop.close()


@pytest.fixture(scope="module")
def client(corpus):
    c = Client(dashboard(corpus["path"]))
    yield c
    c.close()


def rows(client, path: str) -> list[dict]:
    response = client.get(path + ("&" if "?" in path else "?") + "_shape=array")
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def reader(corpus):
    return storage.connect(corpus["path"])


# ---------------------------------------------------------------------------------------------------------
# search


@pytest.mark.parametrize("query", ["严格规范公正文明执法", "营商环境", "复议", '"行政复议 体制"', "负责人出庭",
                                   "营商环境 NOT 乡村", "乡村 OR 社区"])
def test_search_query_finds_what_govwatch_search_finds_in_the_same_order(client, corpus, query):
    expected = [hit.id for hit in search(reader(corpus), query, limit=100)]
    assert expected, f"the corpus should hold {query}"
    found = rows(client, f"/govwatch/search.json?q={query}")
    assert [row["document"] for row in found] == expected


def test_unsegmented_chinese_is_found_only_through_the_segmenting_function(client, corpus):
    """Handed to FTS5 as typed, the phrase is one token the index does not hold; segmented it is found."""
    raw = rows(client, "/govwatch.json?sql=select rowid from documents_fts where documents_fts match '严格规范公正文明执法'")
    assert raw == []
    found = rows(client, "/govwatch.json?sql=select rowid from documents_fts where documents_fts match "
                 "govwatch_fts('严格规范公正文明执法')")
    canonical_with_phrase = {doc_id for (doc_id,) in reader(corpus).execute(
        "SELECT id FROM documents WHERE text LIKE '%严格规范公正文明执法%'")}
    assert {row["rowid"] for row in found} == canonical_with_phrase


def test_search_filters_by_type_region_and_year(client, corpus):
    ids = corpus["ids"]
    everything = {row["document"] for row in rows(client, "/govwatch/search.json?q=营商环境")}
    assert {ids["jh_due"], ids["ws_before"], ids["news"], ids["yj_department"]} <= everything
    assert ids["jh_repost"] not in everything  # canonical documents only
    news = rows(client, "/govwatch/search.json?q=营商环境&doc_type=news")
    assert [row["document"] for row in news] == [ids["news"]]
    region = rows(client, "/govwatch/search.json?q=营商环境&region=望城&doc_type=annual_report")
    assert [row["document"] for row in region] == [ids["ws_before"]]
    year = rows(client, f"/govwatch/search.json?q=营商环境&year={DUE}")
    assert {row["document"] for row in year} == {ids["jh_due"], ids["yj_department"]}


def test_search_page_highlights_the_snippet_and_reports_bad_queries(client):
    page = client.get("/-/search?q=营商环境&doc_type=annual_report")
    assert page.status_code == 200
    assert "<mark>营商环境</mark>" in page.text
    assert page.text.count('class="gw-hit-title"') == 3
    assert "/govwatch/search.csv?q=" in page.text  # the same query, exported
    bad = client.get("/-/search?q=%28%29%2B-")
    assert bad.status_code == 200 and "no searchable words" in bad.text
    # the canned query's own page marks the snippet too (render_cell)
    assert "<mark>营商环境</mark>" in client.get("/govwatch/search?q=营商环境").text


# ---------------------------------------------------------------------------------------------------------
# canned queries and feeds


def test_latest_reports_match_govwatch_reports(client, corpus):
    expected = reports(reader(corpus))
    found = rows(client, "/govwatch/latest_reports.json")
    assert [(r["title"], r["url"]) for r in found] == [(r["title"], r["url"]) for r in expected]
    narrowed = rows(client, f"/govwatch/latest_reports.json?year={DUE}&region=芜湖")
    assert [(r["title"], r["url"]) for r in narrowed] == [
        (r["title"], r["url"]) for r in reports(reader(corpus), year=DUE, region="芜湖")]
    page = client.get("/govwatch/latest_reports").text
    assert f'href="/-/document/{corpus["ids"]["jh_due"]}"' in page  # the stored text, beside the portal's page


def atom_entries(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    return feed, [(e.findtext("a:title", namespaces=ns), e.findtext("a:id", namespaces=ns),
                   e.find("a:link[@rel='alternate']", ns).get("href")) for e in feed.findall("a:entry", ns)]


def test_atom_feed_of_new_reports_with_province_filter(client, corpus):
    db = reader(corpus)
    expected = [(r["title"], r["url"]) for r in db.query(
        "SELECT title, url FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL "
        "ORDER BY first_seen_at DESC, id DESC")]
    _, entries = atom_entries(client, "/govwatch/new_reports.atom")
    assert [(title, link) for title, _, link in entries] == expected
    _, anhui = atom_entries(client, "/govwatch/new_reports.atom?province=安徽省")
    assert {link for _, _, link in anhui} == {"http://jh.example/2.html", "http://yj.example/sfj.html"}
    _, by_code = atom_entries(client, "/govwatch/new_reports.atom?province=34")
    assert by_code == anhui
    feed, none = atom_entries(client, "/govwatch/new_reports.atom?province=西藏自治区")
    assert none == [] and feed.findtext("{http://www.w3.org/2005/Atom}updated")  # an empty feed, still valid


def test_json_feed_of_new_reports(client, corpus):
    response = client.get("/govwatch/new_reports.jsonfeed?province=湖南")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/feed+json")
    feed = response.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    (item,) = feed["items"]
    assert item["external_url"] == "http://ws.example/1.html"
    assert item["url"].endswith(f"/-/document/{corpus['ids']['ws_before']}")
    assert item["title"].startswith("长沙市望城区")
    assert item["_govwatch"]["adcode"] == "430112" and item["_govwatch"]["year"] == DUE - 1
    datetime.fromisoformat(item["date_published"])  # RFC 3339


# ---------------------------------------------------------------------------------------------------------
# pages


def test_coverage_json_is_the_coverage_function(client, corpus):
    data = client.get(f"/-/coverage.json?province=安徽省&year={DUE}").json()
    expected = coverage(reader(corpus), None, years=[DUE], province="安徽省")
    assert data["rows"] == json.loads(json.dumps(expected, ensure_ascii=False, default=str))
    by_code = {row["adcode"]: row for row in data["rows"]}
    assert by_code["340202"]["status"] == "published"
    assert by_code["340209"]["status"] == "blocked"
    assert by_code["340209"]["departments"][0]["department"] == "芜湖市弋江区司法局"


def test_coverage_page_totals_picture_and_drill_down(client, corpus):
    country = client.get(f"/-/coverage?year={DUE}").text
    assert "<svg" in country and 'class="gw-bars"' in country
    assert country.count('href="?province=') == 31  # every province links to its tree
    province = client.get(f"/-/coverage?province=340000&year={DUE - 1}&year={DUE}").text
    assert "镜湖区" in province and "弋江区" in province and "芜湖市" in province
    assert f'href="/-/document/{corpus["ids"]["jh_due"]}">已发布 {DUE + 1}-03-20' in province
    assert "芜湖市弋江区司法局" in province  # a department's report beside its government's
    city = client.get(f"/-/coverage?province=340000&city=340200&year={DUE}").text
    assert "镜湖区" in city and "合肥市" not in city and "瑶海区" not in city
    unknown = client.get("/-/coverage?province=亚特兰蒂斯")
    assert unknown.status_code == 400 and "unknown province" in unknown.text  # a message, not a crash
    assert client.get("/-/coverage.json?year=20x3").status_code == 400


def test_overdue_page_lists_checked_regions_without_their_report(client):
    data = client.get("/-/overdue.json").json()
    assert data["year"] == DUE
    assert [row["adcode"] for row in data["rows"]] == ["430112"]  # 望城区: crawled, no report for DUE
    page = client.get("/-/overdue").text
    assert "望城区" in page and "镜湖区" not in page


def test_portals_page_shows_status_last_crawl_next_run_and_reason(client, corpus):
    from crawler.crawl.daemonlock import daemon_lock

    with daemon_lock(corpus["path"]):  # next runs are shown while a daemon runs on the database
        data = client.get("/-/portals.json").json()
    by_id = {row["id"]: row for row in data["rows"]}
    assert data["counts"] == {"ok": 2, "blocked": 1}
    assert by_id["jh"]["next_run"] == corpus["next_run"]
    assert {row["next_run"] for row in client.get("/-/portals.json").json()["rows"]} == {None}  # no daemon now
    assert by_id["yj"]["status"] == "blocked" and "瑞数" in by_id["yj"]["reason"]
    assert by_id["ws"]["last_crawl_at"] == f"{DUE + 1}-05-01T00:00:00+00:00"
    page = client.get("/-/portals?status=blocked").text
    assert "瑞数" in page and "长沙市望城区人民政府" not in page


def test_long_lists_are_paged(client, monkeypatch):
    from crawler.dashboard import pages

    monkeypatch.setattr(pages, "PAGE_ROWS", 2)
    first = client.get("/-/portals").text
    assert first.count('class="gw-status gw-status-') - 2 == 2  # two rows (the filter links show two more)
    assert 'href="?page=2"' in first and "1–2 / 3" in first
    second = client.get("/-/portals?page=2").text
    assert "3–3 / 3" in second and 'href="?page=1"' in second and "芜湖市弋江区人民政府" in second
    assert "gw-pager" not in client.get("/-/portals?status=ok").text  # two ok portals: one page
    monkeypatch.setattr(pages, "PAGE_ROWS", 1)
    assert 'href="?status=ok&amp;page=2"' in client.get("/-/portals?status=ok").text  # the filter is kept
    assert client.get("/-/portals?page=x").status_code == 200


def test_document_page_shows_text_attachments_and_copies(client, corpus):
    ids = corpus["ids"]
    page = client.get(f"/-/document/{ids['jh_due']}").text
    assert f"芜湖市镜湖区{DUE}年度法治政府建设情况报告" in page
    assert "开展法治宣传进社区活动。" in page and "报告全文.pdf" in page
    assert f'href="/-/document/{ids["jh_repost"]}"' in page  # its copy on another portal
    copy = client.get(f"/-/document/{ids['jh_repost']}").text
    assert f'href="/-/document/{ids["jh_due"]}"' in copy  # a copy points at its canonical document
    assert client.get("/-/document/999999").status_code == 404


def test_document_page_links_the_archived_page_served_sandboxed(tmp_path):
    from crawler.config import ArchiveSettings
    from crawler.corpus.archive import Exchange, WarcWriter

    db = storage.connect(tmp_path / "govwatch.db")
    served = "<html><head><meta charset=gbk></head><body><script>steal()</script>镜湖区法治政府建设报告</body></html>"
    with WarcWriter(tmp_path / "archive") as writer:
        pointer = writer.write_exchange(Exchange(
            url="http://jh.example/2.html", status=200, body=served.encode("gb18030"),
            response_headers=[("Content-Type", "text/html; charset=GBK")]))
    fields = dict(DOCS[0][1], archive=[{**pointer, "role": "page"}])
    store_document(db, fields, policy=AlertPolicy())
    document_id = db.execute("SELECT id FROM documents").fetchone()[0]
    db.conn.close()
    c = Client(dashboard(tmp_path / "govwatch.db"))  # the archive beside the database, as crawls write it
    try:
        page = c.get(f"/-/document/{document_id}").text
        assert f'href="/-/document/{document_id}/archived/0"' in page and "页面 page" in page
        raw = c.get(f"/-/document/{document_id}/archived/0")
        assert raw.status_code == 200 and raw.content == served.encode("gb18030")
        assert raw.headers["content-type"] == "text/html; charset=GBK"
        assert raw.headers["content-security-policy"] == "sandbox"  # the portal's scripts never run here
        assert c.get(f"/-/document/{document_id}/archived/1").status_code == 404
    finally:
        c.close()
    off = Client(dashboard(tmp_path / "govwatch.db", archive=ArchiveSettings(dir="off")))
    try:
        assert "/archived/0" not in off.get(f"/-/document/{document_id}").text
        assert off.get(f"/-/document/{document_id}/archived/0").status_code == 404
    finally:
        off.close()
    (tmp_path / "archive").rename(tmp_path / "moved")  # the files gone: a clear 404, not a crash
    gone = Client(dashboard(tmp_path / "govwatch.db"))
    try:
        answer = gone.get(f"/-/document/{document_id}/archived/0")
        assert answer.status_code == 404 and "WARC file not found" in answer.text
    finally:
        gone.close()


def test_home_page_and_every_page_render(client, corpus):
    home = client.get("/")
    assert home.status_code == 200
    assert f"芜湖市镜湖区{DUE}年度法治政府建设情况报告" in home.text
    for path in ("/govwatch", "/govwatch/documents", "/govwatch/portals", "/govwatch/crawl_runs", "/govwatch/alerts",
                 "/govwatch/alert_deliveries", "/govwatch/new_reports", "/-/coverage", "/-/overdue", "/-/portals",
                 "/-/search", f"/govwatch/documents/{corpus['ids']['jh_due']}", "/-/govwatch-static/govwatch.css"):
        assert client.get(path).status_code == 200, path
    for path in ("/govwatch/documents.csv", "/govwatch/portals.json", "/govwatch/latest_reports.csv"):
        assert client.get(path).status_code == 200, path  # Datasette's own exports


def test_metadata_describes_real_tables_and_columns_and_hides_internal_ones(client, corpus):
    from crawler.dashboard.resources import load_metadata

    db = reader(corpus)
    tables = load_metadata()["databases"]["govwatch"]["tables"]
    for table, meta in tables.items():
        if table == "apscheduler_jobs":  # the daemon's, created when it first runs
            continue
        assert db[table].exists() or table in db.view_names(), table
        for column in meta.get("columns", {}):
            assert column in db[table].columns_dict, f"{table}.{column}"
    listed = {t["name"]: t["hidden"] for t in client.get("/govwatch.json").json()["tables"]}
    for internal in ("fetch_state", "minhash_bands", "report_keys", "_sqlite_migrations", "apscheduler_jobs",
                     "watch_schedule", "scrapyd_jobs", "scrapyd_assignments"):
        assert listed[internal] is True, internal
    assert listed["documents"] is False and listed["portals"] is False and listed["captures"] is False


# ---------------------------------------------------------------------------------------------------------
# security


def test_a_write_query_is_refused_and_the_file_is_unchanged(client, corpus):
    before = hashlib.sha256(corpus["path"].read_bytes()).hexdigest()
    response = client.get("/govwatch.json?sql=delete from documents")
    assert response.status_code == 400
    database = client.ds.get_database("govwatch")
    for sql in ("DELETE FROM documents", "UPDATE portals SET status = 'ok'", "DROP TABLE documents",
                "PRAGMA query_only = 0"):
        with pytest.raises(Exception, match="not authorized|readonly|read-only"):
            client.run(database.execute_write(sql))
    assert reader(corpus).execute("SELECT COUNT(*) FROM documents").fetchone()[0] == len(DOCS)
    assert client.get("/govwatch.db").status_code in (403, 404)  # no download of the raw file
    assert hashlib.sha256(corpus["path"].read_bytes()).hexdigest() == before
    assert not any(query.get("write") for query in client.ds.metadata("queries", database="govwatch").values())


def served_texts(client) -> dict[str, str]:
    """Every table and view in full, every column of every row, plus the instance's JSON pages and ours."""
    out = {}
    tables = client.get("/govwatch.json").json()["tables"]
    for table in [t["name"] for t in tables] + ["canonical_documents"]:
        out[table] = client.get(f"/govwatch/{table}.json?_shape=array&_size=max").text
        out[f"sql:{table}"] = client.get(f"/govwatch.json?sql=select * from [{table}]&_shape=array").text
    for path in ("/-/metadata.json", "/-/settings.json", "/-/plugins.json", "/-/databases.json", "/-/portals.json",
                 f"/-/coverage.json?year={DUE}", "/-/overdue.json", "/govwatch/new_reports.atom",
                 "/govwatch/new_reports.jsonfeed", "/", "/-/portals"):
        out[path] = client.get(path).text
    return out


def test_no_secret_of_a_channel_is_served(client, corpus):
    db = reader(corpus)
    assert db.execute("SELECT COUNT(*) FROM alert_deliveries").fetchone()[0] > 0  # the test has something to hide
    assert db.execute("SELECT COUNT(*) FROM alert_attempts WHERE error IS NOT NULL").fetchone()[0] > 0
    secrets = set(SECRETS)
    for url in CHANNELS:
        secrets.update(s for s in secrets_of(url) if len(s) >= 8)
    for where, text in served_texts(client).items():
        for secret in secrets:
            assert secret not in text, f"{secret} served by {where}"
    # the channel labels and errors read as NULL whatever they hold, even if redaction ever failed
    for row in rows(client, "/govwatch/alert_deliveries.json"):
        assert row["channel_label"] is None and row["last_error"] is None and row["channel"]


def test_unreadable_columns_stay_hidden_even_when_they_hold_a_raw_url(tmp_path, corpus):
    import shutil

    path = tmp_path / "copy.db"
    shutil.copy(corpus["path"], path)
    db = storage.connect(path)
    db.execute("UPDATE alert_deliveries SET channel_label = ?, last_error = ?", [CHANNELS[0], CHANNELS[1]])
    db.execute("UPDATE alert_attempts SET error = ?", [CHANNELS[2]])
    db.conn.close()
    c = Client(dashboard(path))
    try:
        for table, readable in READABLE_COLUMNS.items():
            for probe in (f"/govwatch/{table}.json?_shape=array", f"/govwatch.json?sql=select * from {table}&_shape=array",
                          f"/govwatch.json?sql=select count(*) as n from {table} where channel_label like '%dingtalk%' "
                          "or last_error like '%mailtos%'&_shape=array" if table == "alert_deliveries" else
                          f"/govwatch.json?sql=select count(*) as n from {table} where error like '%json%'&_shape=array"):
                text = c.get(probe).text
                for secret in SECRETS:
                    assert secret not in text, (probe, text[:300])
                if "count" in probe:
                    assert c.get(probe).json() == [{"n": 0}]  # no query can probe the value either
    finally:
        c.close()


def test_password_protects_every_request(corpus):
    c = Client(dashboard(corpus["path"], password="correct horse battery"))
    try:
        paths = ["/", "/govwatch", "/govwatch/documents.json", "/govwatch/new_reports.atom", "/-/coverage",
                 "/-/search?q=营商环境", "/-/govwatch-static/govwatch.css", "/-/metadata.json"]
        for path in paths:
            assert c.get(path).status_code == 401, path
        wrong = base64.b64encode(b"govwatch:wrong").decode()
        assert c.get("/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        right = {"Authorization": "Basic " + base64.b64encode(b"govwatch:correct horse battery").decode()}
        for path in paths:
            assert c.get(path, headers=right).status_code == 200, path
        metadata = c.get("/-/metadata.json", headers=right).text
        assert "pbkdf2" not in metadata and "correct horse" not in metadata  # neither the hash nor the password
    finally:
        c.close()


@pytest.mark.parametrize("host, needed", [("127.0.0.1", False), ("127.0.0.2", False), ("localhost", False),
                                          ("::1", False), ("[::1]", False), ("0.0.0.0", True), ("::", True),
                                          ("192.168.1.20", True), ("dashboard.example.org", True)])
def test_a_password_is_required_off_loopback(host, needed):
    assert requires_password(host) is needed


def test_serve_refuses_a_public_address_without_a_password_and_a_missing_database(corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from crawler.cli import main

    monkeypatch.delenv("GOVWATCH_SERVE_PASSWORD", raising=False)
    result = CliRunner().invoke(main, ["serve", "--db", str(corpus["path"]), "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "0.0.0.0 is not a loopback address" in result.output and "GOVWATCH_SERVE_PASSWORD" in result.output
    missing = tmp_path / "nothing.db"
    result = CliRunner().invoke(main, ["serve", "--db", str(missing)])
    assert result.exit_code == 1 and str(missing) in result.output and not missing.exists()
    with pytest.raises(DashboardError, match="not a govwatch database"):
        other = tmp_path / "other.db"
        storage.sqlite3.connect(other).execute("CREATE TABLE t (x)")
        dashboard(other)


def test_connection_functions_match_search(corpus):
    from crawler.corpus.search import parse_query
    from crawler.dashboard import connection

    assert connection.fts_expression("营商环境") == parse_query("营商环境").match
    assert connection.fts_expression("") is None and connection.fts_expression("()+-") is None
    assert connection.fts_expression("负责人出庭", "near") == parse_query("负责人出庭").near
    assert connection.province_prefix("安徽") == "34" and connection.province_prefix("") == ""
    assert connection.province_prefix("亚特兰蒂斯") is None
    text = DOCS[0][1]["text"]
    assert re.search("【营商环境】", connection.snippet("营商环境", DOCS[0][1]["title"], text))
    assert connection.holds_terms("负责人出庭", None, text) == 1
    assert connection.holds_terms("负责人出庭", None, "负责人今天出庭") == 0

