"""End-to-end crawls against small in-test portals on 127.0.0.x (real Scrapy subprocesses, real sockets).

Self-contained (the CMS-family portals of `tests.portal_server` are exercised in test_crawl_portals.py):
paging, User-Agent, off-site and /private/ links, 412/521/WAF blocks, PDF+DOCX attachments and a 详见附件
notice, incremental recrawl cost, publish -> only the new item fetched, CLI exit codes and JSON output.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from crawler.config import DEFAULT_USER_AGENT
from crawler.demo.server import Attachment, Item, Portal, PortalServer, Response
from crawler.crawl.runner import crawl
from storage import connect

REPORT_PARAS = ["{y}年，某县深入学习贯彻习近平法治思想，全面推进依法行政，法治政府建设取得新成效。",
                "一、主要举措和成效。完善依法行政制度体系，推进严格规范公正文明执法，强化行政权力制约监督。" * 3,
                "二、存在的不足和下一步工作安排。{y}年法治政府建设仍存在短板，将持续用力推进各项工作落实。" * 3]


def report(county: str, year: int, **kw) -> Item:
    return Item(title=f"{county}{year}年法治政府建设年度报告", kind="report", published=f"{year + 1}-03-{10 + year % 10}",
                paragraphs=[p.format(y=year) for p in REPORT_PARAS], **kw)


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF with ASCII text (Helvetica); enough for pypdf to extract."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               "/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


class CountyPortal(Portal):
    """Plain county site: dated <li> rows, ?page=N with 下一页, GBK pages, off-site and /private/ links."""

    column_path = "/fzzfjs/"
    per_page = 3

    def handle(self, request):
        if request.path == self.column_path:
            pages = self.pages()
            n = int(request.params.get("page", "1"))
            if not 1 <= n <= len(pages):
                return self.not_found()
            rows = "".join(f'<li><a href="{self.url(i)}" target="_blank">{i.title}</a><span>{i.date}</span></li>'
                           for i in pages[n - 1])
            nav = f'<a href="?page={n + 1}">下一页</a>' if n < len(pages) else "<span>下一页</span>"
            html = (f'<html><head><meta charset="gb2312"><title>{self.name}</title></head><body>'
                    f'<div class="nav"><a href="/">首页</a><a href="/private/admin.html">内部办公平台入口</a></div>'
                    f'<ul class="list">{rows}</ul><div class="page">共{len(pages)}页 {nav}</div></body></html>')
            return Response.html(html, "gb2312", codec="gb18030", last_modified=self.modified)
        item = self.item_by_path(request.path)
        if item is None:
            return None
        body = "".join(f"<p>{p}</p>" for p in item.paragraphs)
        body += "".join(f'<p><a href="{a.path}">{a.label}</a></p>' for a in item.attachments)
        html = (f'<html><head><meta charset="gb2312"><title>{item.title}_{self.name}</title></head><body>'
                f'<div class="title"><h1>{item.title}</h1></div><div class="info">发布时间：{item.published}'
                f' 来源：{self.name}</div><div id="zoom">{body}</div></body></html>')
        return Response.html(html, "gb2312", codec="gb18030", last_modified=item.published_dt)


class WallPortal(Portal):
    """Answers every page with an anti-bot wall."""

    column_path = "/col/index.html"

    def __init__(self, id, status, body, **kw):
        super().__init__(id, **kw)
        self.wall = Response(status=status, body=body, cacheable=False)

    def handle(self, request):
        return self.wall


def build_portals() -> list[Portal]:
    county = "示例县"
    notice_docx = docx_bytes([f"{county}2022年法治政府建设年度报告",
                              *(p.format(y=2022) for p in REPORT_PARAS)])
    items = [
        report(county, 2023, attachments=[
            Attachment("附件：年度报告（PDF版）.pdf", "P0202403.pdf",
                       pdf_bytes(["Rule of law government annual report 2023", "Section one: measures"]),
                       "application/pdf")]),
        Item(title=f"{county}2022年法治政府建设年度报告", kind="notice", published="2023-03-05",
             paragraphs=["详见附件。"],
             attachments=[Attachment(f"{county}2022年法治政府建设年度报告.docx", "P0202303.docx", notice_docx,
                                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]),
        Item(title="县政府召开法治政府建设工作推进会", kind="decoy", published="2022-11-20",
             paragraphs=["会议强调，要深入推进法治政府建设。" * 8]),
        report(county, 2021),
        Item(title="其他网站的法治政府建设报告", kind="offsite", published="2022-02-01", href="OFFSITE"),
        report(county, 2020),
        report(county, 2019),
        Item(title="关于印发示例县2019年法治政府建设工作要点的通知", kind="decoy", published="2019-04-01",
             paragraphs=["各乡镇人民政府，县政府各部门：现将工作要点印发给你们，请认真贯彻执行。" * 4]),
    ]
    return [
        CountyPortal("county", f"{county}人民政府", items),
        WallPortal("rs412", 412, b"<html><head><script>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=1;"
                                 b"</script><script src='/x.js' r='m'></script></head><body></body></html>",
                   name="瑞数站"),
        WallPortal("jsl521", 521, b"<html><body><script>document.cookie=('_')+('_j')+('sl_clearance')+"
                                  b"'=1';var __jsl_clearance=1;location.href=location.pathname</script></body></html>",
                   name="加速乐站"),
        WallPortal("waf", 200, "<html><head><title>访问被拦截</title></head><body><h1>您的访问被拦截</h1>"
                               "<p>网站防火墙 安全狗</p></body></html>".encode("utf-8"), name="防火墙站"),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    portals = build_portals()
    with PortalServer(portals) as server:
        for item in portals[0].items:
            if item.href == "OFFSITE":
                item.href = server.offsite_url + "/fzzf/report.html"
        config = server.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=120)
        db_path = tmp / "govwatch.db"
        started = time.monotonic()
        summary = crawl(config, db_path, timeout=120)
        first = {"summary": summary, "requests": server.requests, "seconds": time.monotonic() - started}
        yield {"server": server, "config": config, "db_path": db_path, "first": first, "tmp": tmp}


def docs(db_path, portal_id=None):
    db = connect(db_path)
    rows = [dict(r) for r in db.query("SELECT * FROM documents ORDER BY id")]
    return [r for r in rows if portal_id is None or r["portal_id"] == portal_id]


def test_first_crawl_stores_every_item_with_classification(site):
    summary = site["first"]["summary"]
    assert summary.status == "ok", summary.log[-2000:]
    county = summary.portals["county"]
    assert county.status == "ok" and county.new_documents == 7 and county.new_reports >= 4
    rows = {r["title"]: r for r in docs(site["db_path"], "county")}
    for year in (2023, 2021, 2020, 2019):
        row = rows[f"示例县{year}年法治政府建设年度报告"]
        assert row["doc_type"] == "annual_report" and row["report_year"] == year
        assert row["region"] == "示例县" or row["region"] is None or "示例县" in (row["region"] or "")
    assert rows["县政府召开法治政府建设工作推进会"]["doc_type"] != "annual_report"
    assert rows["关于印发示例县2019年法治政府建设工作要点的通知"]["doc_type"] != "annual_report"
    # GBK (declared gb2312) titles decoded right
    assert all("\ufffd" not in t for t in rows)


def test_full_text_index_of_crawled_documents_is_their_segmentation(site):
    from storage.segment import segment

    db = connect(site["db_path"])
    rows = list(db.execute("SELECT d.title, d.text, f.title, f.body FROM documents d "
                           "JOIN documents_fts f ON f.rowid = d.id"))
    assert len(rows) == db.execute("SELECT count(*) FROM documents").fetchone()[0] > 0
    for title, text, indexed_title, indexed_body in rows:
        assert (indexed_title, indexed_body) == (segment(title), segment(text))


def test_storing_in_the_crawl_process_gives_what_the_writer_process_gives(site, tmp_path):
    # GOVWATCH_WRITER_PROCESS off: one-CPU machines store in the crawl process; same rows, same counts
    db_path = tmp_path / "inprocess.db"
    summary = crawl(site["config"], db_path, timeout=120, settings={"GOVWATCH_WRITER_PROCESS": False})
    first = site["first"]["summary"]
    for pid, stats in first.portals.items():
        other = summary.portals[pid]
        assert (other.status, other.new_documents, other.new_reports, other.errors) == \
            (stats.status, stats.new_documents, stats.new_reports, stats.errors), pid

    def rows(path):
        return sorted((r["url"], r["title"], r["doc_type"], r["report_year"], r["duplicate_of"] is None)
                      for r in docs(path))

    assert rows(db_path) == rows(site["db_path"]) and rows(db_path)
    known = "SELECT url, list_entry FROM fetch_state WHERE kind = 'detail' ORDER BY url"
    assert connect(db_path).execute(known).fetchall() == connect(site["db_path"]).execute(known).fetchall()


def test_all_list_pages_visited_with_govwatch_user_agent_and_only_portal_hosts(site):
    server, log = site["server"], site["first"]["requests"]
    county_pages = {r.query for r in log if r.portal == "county" and r.path == "/fzzfjs/"}
    assert county_pages == {"", "page=2", "page=3"}
    assert all(r.headers.get("User-Agent") == DEFAULT_USER_AGENT for r in log)
    assert not [r for r in log if r.portal == "_offsite"], "an off-site link was followed"
    assert not [r for r in log if r.path.startswith("/private/")]
    hosts = {server.host(pid) for pid in server.portal_ids()}
    assert {r.host.split(":")[0] for r in log} <= hosts
    log_text = site["first"]["summary"].log
    assert "Traceback" not in log_text and "publicsuffix" not in log_text.lower(), log_text[-3000:]


def test_blocked_portals_are_recorded_with_reason_and_no_documents(site):
    from crawler.crawl.status import status

    summary = site["first"]["summary"]
    rows = {r["id"]: r for r in status(connect(site["db_path"]))}
    for pid, marker in (("rs412", "$_ts"), ("jsl521", "__jsl_clearance"), ("waf", "拦截")):
        assert summary.portals[pid].status == "blocked", summary.portals[pid]
        assert rows[pid]["status"] == "blocked" and marker in rows[pid]["reason"]
        assert rows[pid]["documents"] == 0
    db = connect(site["db_path"])
    run = next(db.query("SELECT * FROM crawl_runs WHERE portal_id = 'rs412' ORDER BY id LIMIT 1"))
    assert run["status"] == "blocked" and "$_ts" in run["reason"] and run["finished_at"]
    # the 412/521 walls are not retried
    log = site["first"]["requests"]
    assert len([r for r in log if r.portal == "rs412" and r.path != "/robots.txt"]) == 1


def test_attachments_text_and_sources(site):
    rows = {r["title"]: r for r in docs(site["db_path"], "county")}
    with_pdf = rows["示例县2023年法治政府建设年度报告"]
    (att,) = json.loads(with_pdf["attachments"])
    assert att["status"] == "ok" and att["chars"] > 20 and att["url"].endswith(".pdf")
    assert json.loads(with_pdf["text_sources"])[0]["from"] == "page"
    notice = rows["示例县2022年法治政府建设年度报告"]
    (att,) = json.loads(notice["attachments"])
    assert att["status"] == "ok" and att["url"].endswith(".docx") and att["chars"] > 200
    sources = json.loads(notice["text_sources"])
    assert [s["from"] for s in sources] == [att["url"]]
    assert "主要举措和成效" in notice["text"] and "详见附件" not in notice["text"]
    assert notice["doc_type"] == "annual_report" and notice["report_year"] == 2022


def test_recrawl_unchanged_costs_robots_plus_one_304_per_column(site):
    server = site["server"]
    server.clear_log()
    summary = crawl(site["config"], site["db_path"], ["county"], timeout=120)
    log = [r for r in server.requests if r.portal == "county"]
    assert summary.portals["county"].new_documents == 0
    assert len(log) <= 2, [(r.path, r.query, r.status) for r in log]
    assert [(r.path, r.status) for r in log if r.path != "/robots.txt"] == [("/fzzfjs/", 304)]
    site["recrawl_requests"] = len(log)


def test_publish_then_recrawl_fetches_only_list_and_new_item(site):
    server = site["server"]
    url = server.publish("county", report("示例县", 2024))
    server.clear_log()
    summary = crawl(site["config"], site["db_path"], ["county"], timeout=120)
    log = [(r.path, r.query, r.status) for r in server.requests if r.portal == "county" and r.path != "/robots.txt"]
    new_path = url.split(server.base_url("county"))[1]
    assert summary.portals["county"].new_documents == 1 and summary.portals["county"].new_reports == 1
    details = [p for p, q, s in log if p != "/fzzfjs/"]
    assert details == [new_path], log
    # page 1 holds the new item; page 2 (shifted by one, so changed) holds only known items: paging stops
    assert [(p, q) for p, q, s in log if p == "/fzzfjs/"] == [("/fzzfjs/", ""), ("/fzzfjs/", "page=2")], log


def test_cli_crawl_status_reports(site, tmp_path):
    env_cmd = [sys.executable, "-c", "from crawler.cli import main; main()"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[portal]]\nid = "x"\nstart_urls = ["notaurl"]\n', encoding="utf-8")
    result = subprocess.run(env_cmd + ["crawl", "--config", str(bad), "--db", str(tmp_path / "x.db")],
                            capture_output=True, text=True, cwd=helpers.REPO)
    assert result.returncode != 0 and "bad.toml" in result.stderr and "start_urls" in result.stderr
    result = subprocess.run(env_cmd + ["crawl", "--config", str(site["config"]), "--db", str(tmp_path / "c.db"),
                                       "--portal", "rs412", "-q"], capture_output=True, text=True,
                            cwd=helpers.REPO, timeout=120)
    assert result.returncode == 4, result.stderr  # a blocked portal: exit code 4 (see --fail-on)
    assert "blocked" in result.stdout
    result = subprocess.run(env_cmd + ["reports", "--db", str(site["db_path"]), "--json"], capture_output=True,
                            text=True, cwd=helpers.REPO)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(list(r) == ["region", "adcode", "report_year", "title", "url", "published_at"] for r in rows)
    published = [r["published_at"] for r in rows]
    assert published == sorted(published, reverse=True)
    result = subprocess.run(env_cmd + ["reports", "--db", str(site["db_path"]), "--json", "--year", "2021"],
                            capture_output=True, text=True, cwd=helpers.REPO)
    assert [json.loads(line)["report_year"] for line in result.stdout.splitlines()] == [2021]
    result = subprocess.run(env_cmd + ["status", "--db", str(site["db_path"]), "--json"], capture_output=True,
                            text=True, cwd=helpers.REPO)
    status = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(status["county"]) == {"id", "status", "reason", "last_crawl_at", "documents", "reports", "next_run",
                                     "node", "job"}
    assert status["county"]["node"] is None and status["county"]["job"] is None  # a local crawl
    assert status["county"]["status"] == "ok" and status["rs412"]["status"] == "blocked"
    assert status["county"]["next_run"] is None


def test_timeout_kills_and_records_timeout(tmp_path):
    class Slow(CountyPortal):
        def handle(self, request):
            time.sleep(3)
            return super().handle(request)

    with PortalServer([Slow("slow", "慢站", [report("示例县", 2023)])], offsite=False) as server:
        config = server.write_config(tmp_path / "g.toml", download_delay=0, autothrottle=False)
        summary = crawl(config, tmp_path / "g.db", timeout=2)
    assert summary.status == "timeout" and summary.portals["slow"].status == "timeout"
    db = connect(tmp_path / "g.db")
    assert next(db.query("SELECT status FROM crawl_runs"))["status"] == "timeout"


class HomePortal(CountyPortal):
    """A county site crawled from its home page: discovery finds the 法治政府建设 column."""

    def handle(self, request):
        if request.path == "/":
            return Response.html(
                '<html><head><meta charset="utf-8"><title>示例县人民政府</title></head><body><div class="nav">'
                '<a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/yfxz/">依法行政</a>'
                '<a href="/private/fz/">法治政府建设（内部）</a></div>'
                '<ul><li><a href="/xw/1.html">县长调研法治政府建设工作</a> 2024-01-02</li></ul></body></html>')
        if request.path == "/zwgk/":
            return Response.html('<html><body><a href="/fzzfjs/">法治政府建设</a><a href="/fzjs/">法治建设</a>'
                                 '<a href="/tjsj/">统计数据</a></body></html>')
        if request.path in ("/yfxz/", "/fzjs/"):
            return Response.html("<html><body><ul><li><a href='/fzzfjs/'>报告公示</a></li></ul></body></html>")
        return super().handle(request)


def test_discover_ranks_columns_and_home_only_portal_is_crawled(tmp_path):
    from crawler.crawl.discover import discover

    with PortalServer([HomePortal("home", "示例县人民政府", [report("示例县", 2023), report("示例县", 2022)])],
                      offsite=False) as server:
        base = server.base_url("home")
        fast = tmp_path / "fast.toml"
        fast.write_text("[crawl]\ndownload_delay = 0\nautothrottle = false\n", encoding="utf-8")
        candidates = discover(base + "/", config=fast)
        assert [c.url for c in candidates[:3]] == [base + "/fzzfjs/", base + "/fzjs/", base + "/yfxz/"]
        assert candidates[0].text == "法治政府建设" and candidates[0].score > candidates[1].score
        assert not [r for r in server.requests if r.path.startswith("/private/")]
        config = tmp_path / "g.toml"
        config.write_text(f'[crawl]\ndownload_delay = 0\nautothrottle = false\n\n'
                          f'[[portal]]\nid = "home"\nhome = "{base}/"\n', encoding="utf-8")
        server.clear_log()
        summary = crawl(config, tmp_path / "g.db", timeout=120)
        assert summary.portals["home"].status == "ok", summary.log[-2000:]
        assert summary.portals["home"].new_reports == 2
        assert all(r.headers.get("User-Agent") == DEFAULT_USER_AGENT for r in server.requests)
        assert not [r for r in server.requests if r.path.startswith("/private/")]


def test_cli_discover(tmp_path):
    with PortalServer([HomePortal("home", "示例县人民政府", [report("示例县", 2023)])], offsite=False) as server:
        fast = tmp_path / "fast.toml"
        fast.write_text("[crawl]\ndownload_delay = 0\nautothrottle = false\n", encoding="utf-8")
        result = subprocess.run([sys.executable, "-c", "from crawler.cli import main; main()", "discover",
                                 server.base_url("home") + "/", "--json", "--config", str(fast)],
                                capture_output=True, text=True, cwd=helpers.REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[0])
    assert first["text"] == "法治政府建设" and first["url"].endswith("/fzzfjs/")


def test_bundled_public_suffix_list_is_used():
    import crawler.middlewares  # noqa: F401
    from scrapy.downloadermiddlewares import cookies

    assert tuple(cookies._split_domain.suffix_list_urls) == ()
    assert cookies._is_public_domain("gov.cn") and not cookies._is_public_domain("www.jinghu.gov.cn")


def test_block_detection_units():
    from crawler.middlewares import detect_block, detect_suspicious

    assert "瑞数" in detect_block(412, b"<script>$_ts=window['$_ts']</script>")
    assert "加速乐" in detect_block(521, b"<script>document.cookie='__jsl_clearance=1'</script>")
    assert "云锁" in detect_block(403, "<html><title>云锁</title>访问被拒绝</html>".encode(), "text/html")
    # a tiny page names no wall: it is suspicious (the page fails), never a block by itself
    assert detect_block(200, b"<html></html>", "text/html", "detail") is None
    assert "tiny" in detect_suspicious(200, b"<html></html>", "text/html", "detail")
    refresh = b'<html><head><meta http-equiv="refresh" content="0;url=/art/2.html"></head></html>'
    assert detect_suspicious(200, refresh, "text/html", "detail") is None  # followed, not suspicious
    assert detect_block(200, ("<html><body>" + "<p>法治政府建设</p>" * 50 + "</body></html>").encode(),
                        "text/html", "detail") is None
    assert detect_block(200, b"%PDF-1.4 tiny", "application/pdf", "attachment") is None
    # markers are searched in the bytes: a GBK wall page and upper-case names are found too
    gbk_wall = "<html><title>网站防火墙</title><p>您的请求已被拦截</p></html>".encode("gbk")
    assert "网站防火墙" in detect_block(403, gbk_wall, "text/html; charset=gbk")
    assert "SafeDog" in detect_block(200, b"<html><a href='/'>x</a> Powered by SAFEDOG " + b"." * 200, "text/html")
    assert "Web 应用防火墙" in detect_block(403, "<html>WEB应用防火墙</html>".encode("gb18030"), "text/html")


class GkmlptPortal(Portal):
    """gkmlpt: a JavaScript shell column page, articles from /gkmlpt/api/all/5?page=N (JSON)."""

    column_path = "/gkmlpt/index"
    per_page = 2

    def handle(self, request):
        if request.path == "/gkmlpt/index":
            return Response.html("<html><head><script src='/gkmlpt/js/app.js'></script></head><body>"
                                 "<div id='app'></div><script>var TOP_ID = 5; "
                                 "fetch('/gkmlpt/api/all/5?page=1')</script></body></html>")
        if request.path == "/gkmlpt/api/all/5":
            pages = self.pages()
            n = int(request.params.get("page", "1"))
            chunk = pages[n - 1] if 1 <= n <= len(pages) else []
            data = {"articles": [{"id": i.id, "title": i.title, "url": self.url(i),
                                  "first_publish_time": int(i.published_dt.timestamp())} for i in chunk],
                    "total": len(self.items), "classify": {"id": 5}}
            return Response(body=json.dumps(data, ensure_ascii=False).encode(),
                            content_type="application/json;charset=UTF-8", last_modified=self.modified)
        item = self.item_by_path(request.path)
        if item is None:
            return None
        body = "".join(f"<p>{p}</p>" for p in item.paragraphs)
        return Response.html(f"<html><head><title>{item.title}</title></head><body><h1>{item.title}</h1>"
                             f"<div>发布日期：{item.published}</div><div class='article-content'>{body}</div>"
                             "</body></html>", last_modified=item.published_dt)

    def assign(self, item):
        return f"/gkmlpt/content/0/{item.id}/post_{item.id}.html"


def test_json_api_column_paged_and_recrawled_cheaply(tmp_path):
    portal = GkmlptPortal("gk", "示例区人民政府", [report("示例区", y) for y in range(2018, 2024)])
    with PortalServer([portal], offsite=False) as server:
        config = server.write_config(tmp_path / "g.toml", download_delay=0, autothrottle=False)
        summary = crawl(config, tmp_path / "g.db", timeout=120)
        assert summary.portals["gk"].new_reports == 6, summary.log[-2000:]
        assert {f"page={n}" for n in (1, 2, 3)} <= {r.query for r in server.requests}
        server.clear_log()
        crawl(config, tmp_path / "g.db", timeout=120)
        log = [(r.path, r.query, r.status) for r in server.requests]
        assert len(log) <= 2 and log[-1][2] == 304, log
        server.publish("gk", report("示例区", 2024))
        server.clear_log()
        summary = crawl(config, tmp_path / "g.db", timeout=120)
        assert summary.portals["gk"].new_reports == 1
        details = [p for p, q, s in [(r.path, r.query, r.status) for r in server.requests] if "/content/" in p]
        assert len(details) == 1


def test_a_down_portal_is_retried_with_backoff_then_recorded_as_error(tmp_path):
    with PortalServer([CountyPortal("down", "停机县", [report("示例县", 2023)])], offsite=False) as server:
        server.set_down("down", True)
        config = server.write_config(tmp_path / "g.toml", download_delay=0, autothrottle=False, obey_robots=False,
                                     retry_times=2)
        summary = crawl(config, tmp_path / "g.db", timeout=60)
        column_hits = [r for r in server.requests if r.portal == "down" and r.path != "/robots.txt"]
    assert summary.status == "ok"  # the crawl ran; the portal is the one in trouble
    assert summary.portals["down"].status == "error"
    assert len(column_hits) == 3 and all(r.status == 503 for r in column_hits)  # first try + 2 retries
    gaps = [b.at - a.at for a, b in zip(column_hits, column_hits[1:])]
    assert gaps[1] > gaps[0] > 0.1  # exponential backoff between the retries
    db = connect(tmp_path / "g.db")
    assert next(db.query("SELECT status, reason FROM portals WHERE id = 'down'"))["status"] == "error"
    assert db["documents"].count == 0
