"""List adapters on small snippets: items (url, title, date), next-page requests, family detection."""

from __future__ import annotations

import json


import helpers  # noqa: F401  (puts the repo on sys.path)
from spiders.adapters import ListEntry, PageRequest, detect_family, parse_list
from spiders.adapters.common import decode_html, entries_from_html

BASE = "http://www.example.gov.cn/col/fzzfjs/"

TRS_PAGE = """<html><head><meta charset="utf-8"></head><body>
<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a></div>
<div class="side"><ul><li><a href="/xw/t20240101_1.html">侧栏热点新闻标题一二三</a></li></ul></div>
<ul class="list">
 <li><a href="./202303/t20230315_4001.html" title="某某区2022年法治政府建设年度报告">某某区2022年法治政府建设年度...</a><span>2023-03-15</span></li>
 <li><a href="./202203/t20220320_3001.html">某某区2021年法治政府建设年度报告</a><span>2022-03-20</span></li>
 <li><a href="./202112/t20211201_2001.html">我区召开法治政府建设推进会</a><span>2021-12-01</span></li>
</ul>
<div class="page"><script>createPageHTML(4, 0, "index", "html");</script></div>
</body></html>"""


def test_trs_first_page_items_and_next():
    page = parse_list(TRS_PAGE, BASE + "index.html")
    assert page.family == "trs"
    assert [e.title for e in page.items] == ["某某区2022年法治政府建设年度报告", "某某区2021年法治政府建设年度报告",
                                             "我区召开法治政府建设推进会"]
    assert page.items[0] == ListEntry(BASE + "202303/t20230315_4001.html", "某某区2022年法治政府建设年度报告",
                                      "2023-03-15")
    assert [r.url for r in page.next_requests] == [BASE + "index_1.html"]
    assert page.total_pages == 4 and page.page == 1


def test_trs_middle_and_last_page():
    assert [r.url for r in parse_list(TRS_PAGE, BASE + "index_2.html").next_requests] == [BASE + "index_3.html"]
    assert parse_list(TRS_PAGE, BASE + "index_3.html").next_requests == []
    vars_page = TRS_PAGE.replace('createPageHTML(4, 0, "index", "html");',
                                 "var countPage = 2;var currentPage = 0;var prefix = 'index';var suffix = 'shtml';"
                                 "createPageHTML(countPage, currentPage, prefix, suffix);")
    page = parse_list(vars_page, BASE + "index.shtml")
    assert [r.url for r in page.next_requests] == [BASE + "index_1.shtml"]
    assert parse_list(vars_page, BASE + "index_1.shtml").next_requests == []


HANWEB_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>
<div id="4397"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=12&path=/&columnid=1229&unitid=4397&webname=%E6%9F%90&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2023/3/1/art_1229_501.html" title="某县2022年法治政府建设年度报告" target="_blank">某县2022年法治政府建设年度报告</a><span>2023-03-01</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2022/3/1/art_1229_401.html">某县2021年法治政府建设年度报告</a><span>2022-03-01</span></li>]]></record>
</recordset></datastore></script></div>
<script>$('#4397').jpage({dataStore: dataStore, perPage: 2, totalRecord: 7, groupSize: 1,
 proxyUrl: '/module/web/jpage/dataproxy.jsp'});</script>
</body></html>"""


def test_hanweb_inline_records_and_dataproxy_paging():
    body = HANWEB_PAGE.encode("gb18030")
    url = "http://www.example.gov.cn/col/col1229/index.html"
    page = parse_list(body, url)
    assert page.family == "hanweb"
    assert [e.title for e in page.items] == ["某县2022年法治政府建设年度报告", "某县2021年法治政府建设年度报告"]
    assert page.items[0].date == "2023-03-01"
    (req,) = page.next_requests
    assert req.method == "POST"
    assert req.url == "http://www.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=4&perpage=2"
    form = dict(req.formdata)
    assert form["columnid"] == "1229" and form["unitid"] == "4397" and form["webid"] == "12"
    # the dataproxy answer (an XML datastore) continues to the next group, and stops at totalRecord
    answer = ("<datastore><totalrecord>7</totalrecord><recordset>"
              "<record><![CDATA[<li><a href='/art/2021/2/1/art_1229_301.html'>某县2020年法治政府建设年度报告</a>"
              "<span>2021-02-01</span></li>]]></record>"
              "<record><![CDATA[<li><a href='/art/2021/1/1/art_1229_201.html'>关于印发法治政府建设要点的通知</a>"
              "<span>2021-01-01</span></li>]]></record></recordset></datastore>")
    page2 = parse_list(answer, req.url, context=dict(req.context, family=req.family))
    assert [e.date for e in page2.items] == ["2021-02-01", "2021-01-01"]
    (req2,) = page2.next_requests
    assert "startrecord=5&endrecord=6" in req2.url
    page3 = parse_list(answer, req2.url, context=dict(req2.context, family="hanweb"))
    (req3,) = page3.next_requests
    assert "startrecord=7&endrecord=7" in req3.url
    assert parse_list(answer, req3.url, context=dict(req3.context, family="hanweb")).next_requests == []


UCAP_PAGE = """<html><body><div class="list"><ul>
<li><a href="/zwgk/fzzf/2023/0301/101.html">某市2022年度法治政府建设工作报告</a><span>[2023-03-01]</span></li>
<li><a href="/zwgk/fzzf/2022/0301/91.html">某市2021年度法治政府建设工作报告</a><span>[2022-03-01]</span></li>
</ul></div>
<div class="pages">共3页 <a href="list.html">首页</a> <a href="list_2.html">下一页</a> <a href="list_3.html">尾页</a></div>
</body></html>"""


def test_pager_next_link_and_last_page():
    url = "http://www.example.gov.cn/zwgk/fzzf/list.html"
    page = parse_list(UCAP_PAGE, url)
    assert page.family == "pager" and page.total_pages == 3
    assert [r.url for r in page.next_requests] == ["http://www.example.gov.cn/zwgk/fzzf/list_2.html"]
    last = UCAP_PAGE.replace('<a href="list_2.html">下一页</a>', "<span>下一页</span>")
    assert parse_list(last, "http://www.example.gov.cn/zwgk/fzzf/list_3.html").next_requests == []


def test_pager_query_param_pages():
    html = """<ul><li><a href="/a/1.html">某县关于2023年法治政府建设情况的报告</a> 2024-01-05</li></ul>
    <a href="?page=2">下一页</a><a href="?page=5">尾页</a>"""
    page = parse_list(html, "http://county.example.cn/fzjs/?page=1")
    assert [r.url for r in page.next_requests] == ["http://county.example.cn/fzjs/?page=2"]
    page = parse_list(html.replace('<a href="?page=2">下一页</a>', ""), "http://county.example.cn/fzjs/?page=4")
    assert [r.url for r in page.next_requests] == ["http://county.example.cn/fzjs/?page=5"]
    assert parse_list(html.replace('<a href="?page=2">下一页</a>', ""),
                      "http://county.example.cn/fzjs/?page=5").next_requests == []


def test_gkmlpt_json_api():
    data = {"articles": [{"id": 1, "title": "某区2022年法治政府建设年度报告", "url": "http://gk.example.cn/gkmlpt/content/1/1.html",
                          "first_publish_time": 1677628800},
                         {"id": 2, "title": "某区2021年法治政府建设年度报告", "url": "/gkmlpt/content/1/2.html",
                          "date": "2022-02-28 10:00:00"}],
            "total": 5, "classify": {"id": 5}}
    url = "http://gk.example.cn/gkmlpt/api/all/5?page=1"
    page = parse_list(json.dumps(data, ensure_ascii=False), url)
    assert page.family == "json"
    assert [(e.url, e.date) for e in page.items] == [("http://gk.example.cn/gkmlpt/content/1/1.html", "2023-03-01"),
                                                     ("http://gk.example.cn/gkmlpt/content/1/2.html", "2022-02-28")]
    assert page.total_pages == 3
    (req,) = page.next_requests
    assert req.url == "http://gk.example.cn/gkmlpt/api/all/5?page=2"
    page3 = parse_list(json.dumps(data), "http://gk.example.cn/gkmlpt/api/all/5?page=3",
                       context={"per_page": 2, "family": "json"})
    assert page3.next_requests == []


def test_gkmlpt_html_shell_starts_the_api():
    page = parse_list("<html><body><div id='app'></div></body></html>", "http://gk.example.cn/gkmlpt/index#5")
    assert [r.url for r in page.next_requests] == ["http://gk.example.cn/gkmlpt/api/all/5?page=1"]


def test_igs_style_json():
    data = {"data": {"list": [{"DOCTITLE": "某省2022年法治政府建设年度报告", "DOCPUBURL": "/art/1.html",
                               "DOCRELTIME": "2023-03-30 09:00:00"}], "totalPage": 2}, "code": 0}
    page = parse_list(json.dumps(data, ensure_ascii=False), "http://igs.example.cn/igs/front/search/list.html?pageNumber=1")
    assert page.items == [ListEntry("http://igs.example.cn/art/1.html", "某省2022年法治政府建设年度报告", "2023-03-30")]


def test_generic_prefers_dated_list_over_sidebar_and_nav():
    html = """<div id="nav"><a href="/">首页</a><a href="/fzzf/">法治政府建设专栏</a></div>
    <div class="right"><ul><li><a href="/x/1.html">侧栏新闻一条标题很长</a><span>2024-01-01</span></li></ul></div>
    <div class="main-list"><table><tr><td><a href="/fz/2.html">区2023年法治政府建设年度报告</a></td><td>2024-02-01</td></tr>
    <tr><td><a href="/fz/3.html">区2022年法治政府建设年度报告</a></td><td>2023-02-01</td></tr></table></div>"""
    page = parse_list(html, "http://plain.example.cn/fz/", cms="generic")
    assert [e.url for e in page.items] == ["http://plain.example.cn/fz/2.html", "http://plain.example.cn/fz/3.html"]


def test_detection():
    assert detect_family(TRS_PAGE, BASE) == "trs"
    assert detect_family(HANWEB_PAGE, BASE) == "hanweb"
    assert detect_family(UCAP_PAGE, BASE) == "pager"
    assert detect_family('{"articles": []}', BASE) == "json"
    assert detect_family("<ul><li><a href='/a.html'>x</a></li></ul>", BASE) == "generic"


def test_gbk_decoding_of_gb2312_declared_page():
    html = '<meta charset="gb2312"><ul><li><a href="/a/1.html">镕基·法治政府建设报告—2022</a> 2023-01-02</li></ul>'
    body = html.encode("gb18030")
    assert "镕基·法治政府建设报告—2022" in decode_html(body)
    assert "·" in decode_html(body, "text/html; charset=GB2312")
    assert entries_from_html(decode_html(body), "http://x.cn/")[0].title == "镕基·法治政府建设报告—2022"


def test_entry_fingerprint_changes_with_title_or_date():
    a = ListEntry("http://x/1.html", "标题", "2023-01-01")
    assert a.fingerprint == ListEntry("http://x/1.html", "标题", "2023-01-01").fingerprint
    assert a.fingerprint != ListEntry("http://x/1.html", "标题（更新）", "2023-01-01").fingerprint
    assert PageRequest("http://x/p", "POST", (("a", "1"),)).key == "http://x/p#post:a=1"
