"""List adapters on template variants seen on real portals but not in the test portals: other createPageHTML
signatures, Hanweb totals as XML elements, javascript pager links, decorated pager labels, JSON APIs with
other key spellings, page parameters and JSONP. Items only have to be found here: decoys reach extraction
(classification happens later), off-site entries are dropped by the spider and its middleware."""

from __future__ import annotations

import json

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from spiders.adapters import parse_list

SITE = "http://www.example.gov.cn"
COLUMN = SITE + "/zwgk/fzzfjs/"

TRS_LIST = """<html><body><div class="nav"><a href="/">首页</a></div>
<ul class="list">
 <li><a href="./202303/t20230328_123.html" target="_blank">某区2022年法治政府建设年度报告</a><span>2023-03-28</span></li>
 <li><a href="../../xxgk/202303/t20230301_1.html">一图读懂某区2022年法治政府建设年度报告</a><em>2023-03-01</em></li>
 <li><a href="http://www.gov.cn/zhengce/2021-08/11/content_5630802.htm">法治政府建设实施纲要（2021－2025年）</a><span>2021-08-11</span></li>
</ul>
<div class="page"><script>{call}</script></div></body></html>"""


@pytest.mark.parametrize("call, suffix", [
    ('createPageHTML(5, 0, "index", "html");', "html"),
    ("createPageHTML(5,0,'index','shtml');", "shtml"),
    ('createPageHTML( 5 , 0 , "index" , "html" )', "html"),
    ("var countPage = 5//共多少页\nvar currentPage = 0;\ncreatePageHTML(countPage, currentPage, \"index\", \"shtml\");",
     "shtml"),
    ("createPageHTML('page_div',5,0,'index','html',87);", "html"),
    ("var countPage = 5;createPageHTML('page_div', countPage, 0, 'index', 'shtml', 12);", "shtml"),
    ('var _nPageCount = 5;var _nCurrIndex = 0;var _sPageName = "index";var _sPageExt = "shtml";'
     "createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt);", "shtml"),
])
def test_trs_pager_signatures(call, suffix):
    page = parse_list(TRS_LIST.replace("{call}", call), COLUMN + f"index.{suffix}")
    assert page.family == "trs" and page.total_pages == 5 and page.page == 1
    assert [r.url for r in page.next_requests] == [COLUMN + f"index_1.{suffix}"]
    last = parse_list(TRS_LIST.replace("{call}", call), COLUMN + f"index_4.{suffix}")
    assert last.page == 5 and last.next_requests == []


def test_trs_items_relative_links_dates_in_span_and_em():
    page = parse_list(TRS_LIST.replace("{call}", 'createPageHTML(2, 0, "index", "html");'), COLUMN + "index.html")
    assert [(e.url, e.date) for e in page.items] == [
        (COLUMN + "202303/t20230328_123.html", "2023-03-28"),
        (SITE + "/xxgk/202303/t20230301_1.html", "2023-03-01"),  # the decoy still reaches extraction
        ("http://www.gov.cn/zhengce/2021-08/11/content_5630802.htm", "2021-08-11"),  # dropped by the spider
    ]


def test_trs_suffix_from_own_url_and_single_page():
    html = TRS_LIST.replace("{call}", "var countPage = 3;")
    assert [r.url for r in parse_list(html, COLUMN + "index.shtml").next_requests] == [COLUMN + "index_1.shtml"]
    single = TRS_LIST.replace("{call}", 'createPageHTML(1, 0, "index", "html");')
    assert parse_list(single, COLUMN + "index.html").next_requests == []


def test_date_inside_the_link_is_not_part_of_the_title():
    html = """<ul class="list">
    <li><a href="/fz/202303/t20230328_1.html"><span>某区2022年法治政府建设年度报告</span><span>2023-03-28</span></a></li>
    <li><a href="/fz/202303/t20230301_2.html">[2023-03-01] 某区法治政府建设示范创建工作动态</a></li>
    <li><a href="/fz/202302/t20230201_3.html">2023年2月1日召开法治政府建设工作会议</a><span>2023-02-01</span></li></ul>"""
    page = parse_list(html, SITE + "/fz/", cms="generic")
    assert [(e.title, e.date) for e in page.items] == [
        ("某区2022年法治政府建设年度报告", "2023-03-28"), ("某区法治政府建设示范创建工作动态", "2023-03-01"),
        ("2023年2月1日召开法治政府建设工作会议", "2023-02-01")]


HANWEB_URL = SITE + "/col/col1229/index.html"
RECORDS = """<recordset>
<record><![CDATA[<li><a href="/art/2023/3/28/art_1229_123.html" title="某县2022年法治政府建设年度报告">某县2022年法治政府建设...</a><span>2023-03-28</span></li>]]></record>
<record><![CDATA[
<li><a href="/art/2023/1/5/art_1229_100.html" title="关于印发2023年法治政府建设工作要点的通知">关于印发2023年法治政府建设工作要点的通知</a><span>2023-01-05</span></li>
]]></record>
</recordset>"""


def _hanweb_page(datastore_head: str, script: str) -> str:
    return (f"<html><body><div id='5821'><script type=\"text/xml\"><datastore>{datastore_head}{RECORDS}</datastore>"
            f"</script></div>{script}</body></html>")


@pytest.mark.parametrize("head, script", [
    # the nextgroup link carries the parameters; the totals are XML elements of the datastore
    ('<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3&path=/&columnid=1229'
     '&unitid=5821&webname=%E6%9F%90&permissiontype=0"></a>]]></nextgroup><totalrecord>6</totalrecord>'
     "<totalpage>3</totalpage>", ""),
    # the parameters in another order, in a JS object literal with quoted keys
    ("", '<script>$.ajax({url: "/module/web/jpage/dataproxy.jsp", data: {"permissiontype": 0, "webid": "3",'
         ' "unitid": "5821", "columnid": "1229", "path": "/"}}); var totalRecord = 6;</script>'),
    # the parameters in the proxy URL of a variable, perPage/totalRecord in the jpage call
    ("", "<script>var url = '/module/web/jpage/dataproxy.jsp?permissiontype=0&unitid=5821&columnid=1229&webid=3';"
         "$('#5821').jpage({dataStore: dataStore, perPage: 2, totalRecord: 6, proxyUrl: url});</script>"),
])
def test_hanweb_variants(head, script):
    page = parse_list(_hanweb_page(head, script), HANWEB_URL)
    assert page.family == "hanweb" and page.total_pages == 3
    assert [(e.url, e.date) for e in page.items] == [(SITE + "/art/2023/3/28/art_1229_123.html", "2023-03-28"),
                                                     (SITE + "/art/2023/1/5/art_1229_100.html", "2023-01-05")]
    assert page.items[0].title == "某县2022年法治政府建设年度报告"  # the title attribute beats the cut text
    (req,) = page.next_requests
    assert req.method == "POST" and req.url.endswith("dataproxy.jsp?startrecord=3&endrecord=4&perpage=2")
    form = dict(req.formdata)
    assert (form["columnid"], form["unitid"], form["webid"]) == ("1229", "5821", "3")


def test_hanweb_dataproxy_answer_total_as_xml_element_stops_paging():
    first = parse_list(_hanweb_page("", "<script>var url = '/module/web/jpage/dataproxy.jsp?unitid=5821&columnid=1229';"
                                        "var perpage = 2;</script>"), HANWEB_URL)
    (req,) = first.next_requests
    assert first.total_pages is None  # the column page does not say how many records there are
    answer = (f"<?xml version='1.0' encoding='UTF-8'?><datastore><nextgroup><![CDATA[<a></a>]]></nextgroup>"
              f"{RECORDS}<totalrecord>4</totalrecord><totalpage>2</totalpage></datastore>")
    page = parse_list(answer.encode("utf-8"), req.url, context=dict(req.context, family=req.family))
    assert len(page.items) == 2 and page.total_pages == 2 and page.page == 2
    assert page.next_requests == []


PAGER_LIST = """<div class="list"><ul>
<li><a href="/zwgk/fzzf/202303/t20230301_101.html">某市2022年度法治政府建设工作报告</a><span>2023-03-01</span></li>
<li><a href="/zwgk/fzzf/202203/t20220301_91.html">某市2021年度法治政府建设工作报告</a><span>2022-03-01</span></li>
</ul></div><div class="page">{pager}</div>"""


@pytest.mark.parametrize("url, pager, expected", [
    ("list.html", "<a href='list_2.html'>下一页 &gt;</a><a href='list_9.html'>尾页 &gt;&gt;</a>", "list_2.html"),
    ("list.html", "<a href='list_2.html'>[下一页]</a>", "list_2.html"),
    ("list.html", "<a href='list_2.html'>下 一 页</a>", "list_2.html"),
    ("list.html", "<a href='list_2.html' title='下一页'><img src='next.gif'></a>", "list_2.html"),
    ("index.shtml", "<a href='index.shtml'>首页</a><a href='index_7.shtml'>尾页</a>", "index_2.shtml"),
    ("", "<a href='?page=2'>下一页</a><a href='?page=9'>【尾页】</a>", "?page=2"),
    ("list.jsp?catid=3", "<a href='list.jsp?catid=3&pageNo=2'>下一页</a>", "list.jsp?catid=3&pageNo=2"),
    # javascript links: the URL in the onclick, or its page number applied to the current URL's numbering
    ("list.html", "共 12 条 1/3 页 <a href='javascript:void(0)' onclick=\"location.href='list_2.html'\">下一页</a>",
     "list_2.html"),
    ("list.html", "<a href=\"javascript:window.open('list_2.html','_self')\">下一页</a>", "list_2.html"),
    ("list_2.shtml", "共7页 <a href='javascript:;' onclick='goPage(3)'>下一页</a>", "list_3.shtml"),
    ("?page=2", "共7页 <a href='javascript:;' onclick=\"turnPage('3')\">下一页</a>", "?page=3"),
])
def test_pager_variants(url, pager, expected):
    base = SITE + "/zwgk/fzzf/"
    page = parse_list(PAGER_LIST.replace("{pager}", pager), base + url)
    assert len(page.items) == 2
    assert [r.url for r in page.next_requests] == [base + expected]


def test_pager_javascript_next_without_a_known_numbering_is_not_guessed():
    html = PAGER_LIST.replace("{pager}", "共7页 <a href='javascript:;' onclick='goPage(2)'>下一页</a>")
    page = parse_list(html, SITE + "/zwgk/fzzf/index.html")
    assert page.total_pages == 7 and page.next_requests == []


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def test_gkmlpt_without_page_parameter_and_past_the_last_page():
    articles = [{"id": i, "title": f"某区{2023 - i}年法治政府建设年度报告", "url": f"/gkmlpt/content/1/{i}/post_{i}.html#5",
                 "display_publish_time": 1677628800 - i * 86400 * 365} for i in range(3)]
    api = "http://gk.example.cn/gkmlpt/api/all/5"
    page = parse_list(_json({"articles": articles, "total": 7, "classify": {"id": 5}}), api)
    assert [e.date for e in page.items] == ["2023-03-01", "2022-03-01", "2021-03-01"]
    assert page.total_pages == 3 and [r.url for r in page.next_requests] == [api + "?page=2"]
    empty = parse_list(_json({"articles": [], "total": 7}), api + "?page=4", context={"per_page": 3})
    assert empty.items == [] and empty.next_requests == []


IGS_RECORDS = [
    {"DOCTITLE": "某省2022年法治政府建设年度报告", "DOCPUBURL": "https://www.example.gov.cn/art/2023/3/30/art_1_1.html",
     "PUBDATE": "2023-03-30 09:00:00"},
    {"DOCTITLE": "<em>法治政府</em>建设工作要点", "DOCPUBURL": "/art/2023/1/2/art_1_2.html", "PUBDATE": 1672617600000},
]


@pytest.mark.parametrize("data, url, pages, next_url", [
    ({"data": {"data": IGS_RECORDS, "total": 25}, "code": 200},
     "https://www.example.gov.cn/igs/front/search/list.html?index=file&pageNumber=1&pageSize=10", 13,
     "https://www.example.gov.cn/igs/front/search/list.html?index=file&pageSize=10&pageNumber=2"),
    ({"datas": IGS_RECORDS, "TOTAL": 25, "pagecount": 3}, "https://www.example.gov.cn/api/list?channelId=3&page=1", 3,
     "https://www.example.gov.cn/api/list?channelId=3&page=2"),
    ({"result": {"records": IGS_RECORDS, "pages": 4, "current": 1}},
     "https://www.example.gov.cn/api/list?current=1&size=2", 4, "https://www.example.gov.cn/api/list?size=2&current=2"),
])
def test_json_api_variants(data, url, pages, next_url):
    page = parse_list(_json(data), url)
    assert page.family == "json" and page.total_pages == pages
    assert [(e.url, e.title, e.date) for e in page.items] == [
        ("https://www.example.gov.cn/art/2023/3/30/art_1_1.html", "某省2022年法治政府建设年度报告", "2023-03-30"),
        ("https://www.example.gov.cn/art/2023/1/2/art_1_2.html", "法治政府建设工作要点", "2023-01-02")]
    assert [r.url for r in page.next_requests] == [next_url]


def test_json_other_key_spellings_and_jsonp():
    records = [{"docTitle": "某市2022年度法治政府建设报告", "docUrl": "/x/1.html", "docPubTime": "2023-03-30"},
               {"TITLE": "某市2021年度法治政府建设报告", "URL": "/x/2.html", "createDate": "2022年3月1日"}]
    url = "https://www.example.gov.cn/api/list?page=1"
    for text in (_json({"data": {"list": records, "totalPage": 2}}),
                 "jQuery1123_456(" + _json({"data": {"list": records, "totalPage": 2}}) + ");"):
        page = parse_list(text, url)
        assert page.family == "json"
        assert [(e.url, e.date) for e in page.items] == [("https://www.example.gov.cn/x/1.html", "2023-03-30"),
                                                         ("https://www.example.gov.cn/x/2.html", "2022-03-01")]
        assert [r.url for r in page.next_requests] == ["https://www.example.gov.cn/api/list?page=2"]
