"""The local portal server (tests/portal_server.py, crawler/demo/server.py) exercised with urllib."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from urllib.parse import urljoin

import pytest

from tests.portal_server import CRAWLABLE_IDS, Item, PortalServer, build_test_portals


@pytest.fixture(scope="module")
def server():
    with PortalServer(build_test_portals()) as srv:
        yield srv


def fetch(url, *, data=None, headers=None, method=None):
    """(status, headers, body) without raising on HTTP errors."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def text(url, **kw):
    status, headers, body = fetch(url, **kw)
    assert status == 200, (url, status)
    return body.decode("utf-8")


def test_hosts_are_distinct_loopback_addresses(server):
    hosts = [server.host(pid) for pid in server.portal_ids()]
    assert len(set(hosts)) == len(hosts)
    assert all(h.startswith("127.") for h in hosts)
    assert server.base_url("trs").startswith("http://127.0.0.")
    assert server.offsite_url and server.host("_offsite") not in hosts


def test_every_portal_serves_its_column(server):
    for pid in CRAWLABLE_IDS:
        status, _, body = fetch(server.column_url(pid))
        assert status == 200, pid
        assert len(body) > 500


def test_every_served_item_has_a_detail_page(server):
    for pid in CRAWLABLE_IDS:
        portal = server.portal(pid)
        for item in portal.served_items():
            status, _, body = fetch(server.url(pid, item))
            assert status == 200, (pid, item.path)
        for item in portal.items:
            for att in item.attachments:
                assert fetch(server.url(pid, att.path))[0] == 200
    assert fetch(server.base_url("trs") + "/zwgk/fzzfjs/nope.html")[0] == 404


def test_trs_pagination_and_relative_item_links(server):
    column = server.column_url("trs")
    first = text(column)
    assert 'createPageHTML(3, 0, "index", "html")' in first and "var countPage = 3" in first
    seen = []
    for n in range(3):
        url = column if n == 0 else urljoin(column, f"index_{n}.html")
        page = text(url)
        seen += [urljoin(url, h) for h in re.findall(r'<li><a href="([^"]+)" target="_blank" title=', page)]
    assert fetch(urljoin(column, "index_3.html"))[0] == 404
    portal = server.portal("trs")
    assert sorted(seen) == sorted(portal.url(i) for i in portal.items)
    report = next(i for i in portal.items if i.kind == "report")
    assert re.fullmatch(r"/zwgk/fzzfjs/202103/t20210331_\d+\.html", report.path)
    detail = text(portal.url(report))
    assert 'class="TRS_Editor"' in detail and '<meta name="ArticleTitle"' in detail
    assert '<meta name="PubDate" content="2021-03-31 14:47">' in detail


def test_ucap_next_links_and_kaipuyun_tags(server):
    url, pages = server.column_url("ucap"), 0
    while url:
        page = text(url)
        pages += 1
        nxt = re.search(r'<a href="([^"]+)">下一页</a>', page)
        url = urljoin(url, nxt.group(1)) if nxt else None
    assert pages == 3 and "尾页" in page
    report = next(i for i in server.portal("ucap").items if i.kind == "report")
    detail = text(server.url("ucap", report))
    assert "<ucaptitle>" in detail and "<ucapcontent>" in detail and report.path.endswith(".shtml")


def test_gkmlpt_json_api(server):
    assert "/gkmlpt/api/all/5" in text(server.column_url("gkmlpt"))
    base = server.base_url("gkmlpt")
    data = json.loads(text(base + "/gkmlpt/api/all/5?page=1"))
    assert data["page"] == 1 and data["pages"] == 3 and data["total"] == len(server.portal("gkmlpt").items)
    art = data["articles"][0]
    assert {"title", "url", "first_publish_time", "publish_time"} <= set(art)
    assert isinstance(art["first_publish_time"], int) and art["url"].startswith(base)
    urls = [a["url"] for p in (1, 2, 3) for a in json.loads(text(base + f"/gkmlpt/api/all/5?page={p}"))["articles"]]
    assert len(urls) == data["total"]
    report = json.loads(text(base + "/gkmlpt/api/all/5?page=2"))["articles"]
    assert any("吉林市2022年度法治政府建设工作报告" == a["title"] for a in report)


def test_county_pages_and_offsite_links(server):
    status, _, body = fetch(server.column_url("county"))
    page = body.decode("gb18030")
    assert status == 200 and "下一页" in page and 'href="list.asp?page=2"' in page
    assert server.offsite_url + "/news/show.asp?id=7" in page and "https://www.gov.cn/" in page
    assert fetch(server.base_url("county") + "/news/list.asp?page=3")[0] == 200
    assert fetch(server.base_url("county") + "/news/list.asp?page=4")[0] == 404
    item = next(i for i in server.portal("county").items if i.kind == "report")
    detail = fetch(server.url("county", item))[2].decode("gb18030")
    assert "<meta name=" not in detail and "<table" in detail


def test_etag_and_conditional_requests(server):
    url = server.column_url("trs")
    status, headers, _ = fetch(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag.startswith('"') and modified.endswith("GMT")
    assert fetch(url, headers={"If-None-Match": etag})[0] == 304
    assert fetch(url, headers={"If-None-Match": '"other"'})[0] == 200
    assert fetch(url, headers={"If-Modified-Since": modified})[0] == 304
    assert fetch(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
    item = server.portal("hanweb").served_items()[0]
    status, headers, _ = fetch(server.url("hanweb", item))
    assert status == 200 and fetch(server.url("hanweb", item), headers={"If-None-Match": headers["ETag"]})[0] == 304


def test_robots_txt_and_private_page(server):
    for pid in CRAWLABLE_IDS:
        robots = text(server.base_url(pid) + "/robots.txt")
        assert "Disallow: /private/" in robots
        private = [i for i in server.portal(pid).items if i.kind == "private"]
        assert len(private) == 1 and private[0].path.startswith("/private/")
        assert fetch(server.url(pid, private[0]))[0] == 200


def test_hanweb_column_datastore_and_dataproxy(server):
    portal = server.portal("hanweb")
    status, headers, raw = fetch(server.column_url("hanweb"))
    assert "charset" not in headers["Content-Type"]
    page = raw.decode("gb18030")
    assert 'charset=gb2312' in page and '<script type="text/xml"><datastore>' in page
    assert "/module/web/jpage/dataproxy.jsp" in page and "columnid" in page and "unitid" in page
    assert "perPage: 10" in page
    embedded = re.findall(r'<record><!\[CDATA\[\s*<li><a href="([^"]+)"', page)
    assert embedded == [i.path for i in portal.items[:10]]
    base = server.base_url("hanweb")
    form = urllib.parse.urlencode({"col": 1, "appid": 1, "webid": 1, "path": "/", "columnid": 1234,
                                   "unitid": 5678, "permissiontype": 0}).encode()
    status, headers, raw = fetch(base + "/module/web/jpage/dataproxy.jsp?startrecord=11&endrecord=20&perpage=10",
                                 data=form, method="POST")
    xml = raw.decode("gb18030")
    assert status == 200 and f"<totalrecord>{len(portal.items)}</totalrecord>" in xml
    got = re.findall(r'<li><a href="([^"]+)"', xml)
    assert got == [i.path for i in portal.items[10:20]]
    # all parameters in the form body work too
    form2 = urllib.parse.urlencode({"startrecord": 21, "endrecord": 30, "perpage": 10, "columnid": 1234}).encode()
    xml2 = fetch(base + "/module/web/jpage/dataproxy.jsp", data=form2, method="POST")[2].decode("gb18030")
    assert re.findall(r'<li><a href="([^"]+)"', xml2) == [i.path for i in portal.items[20:30]]
    report = next(i for i in portal.items if i.kind == "report")
    assert report.path in got and re.fullmatch(r"/art/2023/2/28/art_1234_\d+\.html", report.path)


def test_hanweb_detail_is_gbk_under_gb2312(server):
    portal = server.portal("hanweb")
    report = next(i for i in portal.items if i.kind == "report")
    raw = fetch(server.url("hanweb", report))[2]
    page = raw.decode("gb18030")
    assert 'charset=gb2312' in page and '<div id="zoom">' in page and portal.gbk_only in page
    assert report.paragraphs[1] in page
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")


def test_blocked_portals(server):
    status, headers, body = fetch(server.column_url("blocked412"))
    assert status == 412 and b"$_ts=window['$_ts']" in body and b"$_ts.nsd=" in body and len(body) < 2000
    assert fetch(server.base_url("blocked412") + "/robots.txt")[0] == 412
    status, headers, body = fetch(server.column_url("blocked521"))
    assert status == 521 and b"document.cookie=('__jsl_clearance=" in body
    assert "ETag" not in headers


def test_pdf_and_docx_attachments(server):
    pypdf = pytest.importorskip("pypdf")
    docx = pytest.importorskip("docx")
    portal = server.portal("ucap")
    report = next(i for i in portal.items if i.kind == "report")
    page = text(server.url("ucap", report))
    links = re.findall(r'<a href="([^"]+)" target="_blank">附件\d：', page)
    assert len(links) == 2
    status, headers, pdf = fetch(urljoin(server.url("ucap", report), links[0]))
    assert status == 200 and headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF-")
    extracted = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert report.title in extracted
    assert report.paragraphs[1][:20] in extracted.replace("\n", "")
    status, headers, raw = fetch(urljoin(server.url("ucap", report), links[1]))
    document = docx.Document(io.BytesIO(raw))
    paras = [p.text for p in document.paragraphs]
    assert paras[0] == report.title and paras[1:] == report.paragraphs
    notice = next(i for i in portal.items if i.kind == "notice")
    page = text(server.url("ucap", notice))
    assert "详见附件" in page and ".docx" in page
    raw = fetch(server.url("ucap", notice.attachments[0].path))[2]
    assert "法治政府建设" in "\n".join(p.text for p in docx.Document(io.BytesIO(raw)).paragraphs)


def test_publish_adds_item_on_top_and_changes_etag():
    with PortalServer(build_test_portals()) as srv:
        for pid in ("trs", "hanweb", "ucap", "gkmlpt", "county"):
            # gkmlpt's column is a static shell: its list is the JSON API
            list_url = srv.base_url(pid) + "/gkmlpt/api/all/5?page=1" if pid == "gkmlpt" else srv.column_url(pid)
            status, headers, _ = fetch(list_url)
            url = srv.publish(pid, Item(title=f"新发布的{pid}测试报告", paragraphs=["第一段。", "第二段。"],
                                        published="2024-03-28 10:00", source="区司法局"))
            status2, headers2, body2 = fetch(list_url, headers={"If-None-Match": headers["ETag"]})
            assert status2 == 200 and headers2["ETag"] != headers["ETag"], pid
            first = srv.portal(pid).items[0]
            assert first.title == f"新发布的{pid}测试报告" and srv.url(pid, first) == url
            assert fetch(url)[0] == 200
        page = fetch(srv.column_url("trs"))[2].decode()
        assert re.search(r'<ul class="list">\s*<li><a href="./202403/t20240328_\d+\.html"', page)


def test_set_down_and_request_log(server):
    server.clear_log()
    server.set_down("county", True)
    try:
        assert fetch(server.column_url("county"))[0] == 503
    finally:
        server.set_down("county", False)
    assert fetch(server.column_url("county"), headers={"User-Agent": "govwatch-test/1"})[0] == 200
    fetch(server.base_url("trs") + "/robots.txt")
    log = server.requests
    assert [(r.portal, r.status) for r in log] == [("county", 503), ("county", 200), ("trs", 200)]
    entry = log[1]
    assert entry.method == "GET" and entry.path == "/news/list.asp" and entry.query == "page=1"
    assert entry.headers["User-Agent"] == "govwatch-test/1" and entry.bytes > 0
    assert entry.host == server.host("county") and abs(entry.at - time.time()) < 10
    assert log[2].path == "/robots.txt"


def test_write_config(server, tmp_path):
    import tomllib

    path = server.write_config(tmp_path / "govwatch.toml", ["trs", "hanweb"], download_delay=0,
                               autothrottle=False, obey_robots=True)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["crawl"] == {"download_delay": 0, "autothrottle": False, "obey_robots": True}
    assert [p["id"] for p in data["portal"]] == ["trs", "hanweb"]
    assert data["portal"][0]["start_urls"] == [server.column_url("trs")]
    assert data["portal"][1]["name"] == "郑州市惠济区人民政府"
    everything = tomllib.loads(server.write_config(tmp_path / "all.toml", cms=True).read_text(encoding="utf-8"))
    assert len(everything["portal"]) == 7 and everything["portal"][1]["cms"] == "hanweb"
    assert "crawl" not in everything


def test_write_config_loads_with_govwatch_config(server, tmp_path):
    from crawler.config import load_config

    config = load_config(server.write_config(tmp_path / "govwatch.toml", download_delay=0, autothrottle=False))
    assert [p.id for p in config.portals] == list(server.portal_ids())
    assert config.portal("county").start_urls == (server.column_url("county"),)
    assert config.crawl.download_delay == 0 and config.crawl.autothrottle is False
