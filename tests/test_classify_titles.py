"""Generality probe of doc_type / report_year / region on real-world title phrasing.

Table-driven: each row is a title as portals print it (with a short body where the body matters) and what the
spec demands.  Rules applied (README, crawler/extract/classify.py):

* ``annual_report`` only for a body's OWN yearly 法治政府建设 / 法治建设 / 依法行政 report -- a wrong one is a
  false alert, so wherever the spec leaves a case open the precision-safe answer (not ``annual_report``) is
  chosen and the row says why in a comment;
* ``report_year`` is the year reported on and is ``None`` for anything but an annual report;
* a region is resolved from the issuing body (title head, source, site name, first body lines), departments /
  towns / streets / development zones resolve to their division, ambiguous names stay ``None`` without
  disambiguating context, and the URL is never evidence (pinyin hosts are too weak: a false alert risk).
"""

from __future__ import annotations

import pytest

from crawler.extract import extract
from crawler.extract.classify import classify, report_year
from crawler.extract.regions import resolve_region

BODY_REPORT = "2022年，在市委、市政府的坚强领导下，我区坚持以习近平新时代中国特色社会主义思想为指导，法治政府建设取得新成效。"
BODY_PLAN = "各乡镇人民政府、街道办事处，区政府各部门：现将《2023年法治政府建设工作要点》印发给你们，请认真贯彻落实。"
BODY_NEWS = "3月15日上午，区政府召开专题会议，研究部署法治政府建设重点工作。"

AR, INT, PLAN, NEWS, OTHER = "annual_report", "interpretation", "plan", "news", "other"

# (title, body, published_at, doc_type, report_year)
CLASSIFY = [
    # --- the report itself, in the phrasings portals use -----------------------------------------------------
    ("关于2023年度法治政府建设工作情况的报告", "", "2024-03-20", AR, 2023),
    ("2023年法治政府建设年度报告", "", "2024-03-25", AR, 2023),
    ("休宁县人民政府关于2022年度法治政府建设情况的报告", "", "2023-03-10", AR, 2022),
    ("芜湖市司法局2023年度法治政府建设工作报告", "", "2024-02-28", AR, 2023),
    ("镜湖区2022年度法治建设工作报告", "", "2023-03-01", AR, 2022),
    ("关于2021年度依法行政工作情况的报告", "", "2022-03-15", AR, 2021),
    ("2022年度法治政府建设情况报告（公示）", "", "2023-03-30", AR, 2022),
    ("【公示】镜湖区2022年法治政府建设年度报告", "", "2023-03-30", AR, 2022),
    ("芜湖市2021年法治政府建设工作总结（2021年）", "", "2022-01-10", AR, 2021),
    ("中共镜湖区委 镜湖区人民政府关于2023年度法治政府建设情况的报告", "", "2024-03-28", AR, 2023),
    ("镜湖区2023年依法行政工作报告", "", "2024-01-30", AR, 2023),
    ("镜湖区司法局2023年法治建设工作总结", "", "2024-01-05", AR, 2023),
    ("镜湖区2023年度法治政府建设工作开展情况", "", "2024-03-01", AR, 2023),
    ("镜湖区法治政府建设情况报告（2023年度）", "", "2024-03-01", AR, 2023),
    ("二〇二三年度法治政府建设情况报告", "", "2024-03-01", AR, 2023),
    ("关于公布2023年法治政府建设年度报告的公告", "", "2024-03-29", AR, 2023),
    ("镜湖区2022年法治政府建设年度报告（2023年3月28日）", "", "2023-03-28", AR, 2022),  # dated trailer
    ("镜湖区2023年度法治政府建设年度报告.pdf", "", "2024-03-01", AR, 2023),  # attachment link text
    # the yearly report that closes with next year's plans is still the report
    ("镜湖区2023年法治政府建设工作总结及2024年工作计划", "", "2024-01-12", AR, 2023),
    ("镜湖区2022年法治政府建设工作总结和2023年工作思路", "", "2023-01-12", AR, 2022),
    ("镜湖区2023年度法治政府建设情况报告及2024年工作打算", "", "2024-01-12", AR, 2023),
    # the combined report (法治政府建设 + 第一责任人 duty) in either order, with any conjunction
    ("镜湖区2023年度党政主要负责人履行推进法治建设第一责任人职责及法治政府建设情况报告", "", "2024-03-01", AR, 2023),
    ("镜湖区2023年度法治政府建设和党政主要负责人履行推进法治建设第一责任人职责情况报告", "", "2024-03-01", AR, 2023),
    # traditional script, and the year only in the body
    ("鏡湖區2022年度法治政府建設工作報告", "", "2023-03-01", AR, 2022),
    ("關於2021年度依法行政工作情況的報告", "", "2022-03-01", AR, 2021),
    ("镜湖区法治政府建设年度报告", "2022年以来，我区深入学习贯彻习近平法治思想，全面推进依法行政。", "2023-03-01", AR, 2022),
    ("镜湖区法治政府建设年度报告", "市人民政府：\n2021年是“十四五”开局之年，我区……", "2023-02-01", AR, 2021),
    ("镜湖区法治政府建设情况报告", "一年来，我区深入学习贯彻习近平法治思想。", "2023-03-01", AR, 2022),  # pub - 1
    # no title at all: the body's heading stands in
    (None, "休宁县人民政府关于2022年度\n法治政府建设情况的报告\n" + BODY_REPORT, "2023-03-10", AR, 2022),

    # --- interpretations --------------------------------------------------------------------------------------
    ("《镜湖区2022年法治政府建设年度报告》解读", "", "2023-04-01", INT, None),
    ("图解：镜湖区2022年法治政府建设年度报告", "", "2023-04-01", INT, None),
    ("【图解】镜湖区2022年法治政府建设年度报告", "", "2023-04-01", INT, None),
    ("一图看懂｜镜湖区2023年法治政府建设年度报告", "", "2024-04-01", INT, None),  # label before a separator
    ("视频解读：镜湖区2023年度法治政府建设年度报告", "", "2024-04-01", INT, None),
    ("镜湖区法治政府建设年度报告（2022年度）解读", "", "2023-04-01", INT, None),
    ("圖解：鏡湖區2022年法治政府建設年度報告", "", "2023-04-01", INT, None),

    # --- plans, and notices that issue or request a report ----------------------------------------------------
    ("关于印发芜湖市2023年法治政府建设工作要点的通知", BODY_PLAN, "2023-03-01", PLAN, None),
    ("法治政府建设实施方案（2021-2025年）", "", "2021-12-01", PLAN, None),
    ("芜湖市人民政府办公室关于印发芜湖市法治政府建设实施方案（2021—2025年）的通知", "", "2021-12-01", PLAN, None),
    ("关于印发《镜湖区法治政府建设示范创建工作方案》的通知", "", "2022-05-01", PLAN, None),
    ("镜湖区2023年度法治政府建设工作计划", "", "2023-02-01", PLAN, None),
    ("芜湖市2023年法治政府建设工作要点（全文）", "", "2023-03-01", PLAN, None),
    ("关于做好2023年度法治政府建设年度报告发布工作的通知", "", "2024-01-10", PLAN, None),
    ("镜湖区关于报送2023年度法治政府建设年度报告的通知", "", "2024-01-10", PLAN, None),

    # --- news -------------------------------------------------------------------------------------------------
    ("镜湖区全力推进法治政府建设示范创建", BODY_NEWS, "2023-05-01", NEWS, None),
    ("镜湖区获评第三批省级法治政府建设示范地区", "", "2023-11-01", NEWS, None),
    ("2023年度法治政府建设年度报告起草工作推进会召开", "", "2024-01-20", NEWS, None),
    # a legislature hearing the report is news about it, not the report
    ("区人大常委会听取和审议区政府2023年度法治政府建设情况报告", "", "2024-04-20", NEWS, None),

    # --- look-alikes and evaluations of others: never annual_report ------------------------------------------
    ("2022年政府信息公开工作年度报告", "", "2023-01-20", OTHER, None),
    ("2023年政府工作报告", "", "2023-01-10", OTHER, None),
    ("2022年国民经济和社会发展统计公报", "", "2023-03-20", OTHER, None),
    ("关于征求《芜湖市法治政府建设实施方案（征求意见稿）》意见的公告", "", "2021-10-01", OTHER, None),
    ("关于公开征求《镜湖区法治政府建设规划》意见的公告", "", "2021-10-01", OTHER, None),
    ("关于2022年度法治政府建设工作情况的通报", "", "2023-05-01", OTHER, None),  # an evaluation of others
    ("关于2023年度法治政府建设年度报告公开情况的通报", "", "2024-05-01", OTHER, None),
    ("2022年度法治政府建设考核结果公示", "", "2023-04-01", OTHER, None),
    ("镜湖区法治政府建设第三方评估报告", "", "2023-11-01", OTHER, None),
    ("镜湖区2023年度法治政府建设督察反馈问题整改情况报告", "", "2023-11-01", OTHER, None),
    ("镜湖区法治政府建设示范创建自评报告", "", "2023-11-01", OTHER, None),
    ("镜湖区人大常委会关于区政府2023年度法治政府建设情况的调研报告", "", "2024-04-01", OTHER, None),
    # a 人大's review opinion on the report: not a plan (it ends in 意见) and not the report
    ("关于区人民政府2023年度法治政府建设情况报告的审议意见", "", "2024-04-20", OTHER, None),
    # drafts are not the published report
    ("镜湖区2023年度法治政府建设年度报告（征求意见稿）", "", "2024-03-01", OTHER, None),
    ("镜湖区2023年度法治政府建设情况报告（审议稿）", "", "2024-03-01", OTHER, None),
    # part of a year is not the yearly report
    ("镜湖区2023年上半年法治政府建设工作总结", "", "2023-07-05", OTHER, None),
    ("镜湖区2023年上半年法治政府建设工作情况", "", "2023-07-05", OTHER, None),
    ("镜湖区2023年第一季度法治政府建设工作报告", "", "2023-04-05", OTHER, None),
    ("镜湖区2023年1-6月法治政府建设工作总结", "", "2023-07-05", OTHER, None),
    # 述职 / 述法 reports.  Decision: the spec names 述职/述法报告 as `other`, and a 第一责任人职责情况报告 is the
    # 述法-type report of one official (the 党政主要负责人), not the body's own yearly report -> `other`.
    # Only the combined report (法治政府建设情况 + 第一责任人职责, above) is the annual report.
    ("党政主要负责人履行推进法治建设第一责任人职责情况报告", "", "2023-03-01", OTHER, None),
    ("镜湖区2023年度法治建设第一责任人述法报告", "", "2024-03-01", OTHER, None),
    # other reports of the legal-affairs office that are not the 法治政府建设 report
    ("镜湖区2023年度行政复议工作报告", "", "2024-01-20", OTHER, None),
    ("镜湖区2023年度“八五”普法工作报告", "", "2024-01-20", OTHER, None),
    ("镜湖区2023年度法治社会建设工作报告", "", "2024-01-20", OTHER, None),
    ("镜湖区司法局2023年工作总结", "", "2024-01-20", OTHER, None),
    # Open cases, decided precision-safe (not annual_report):
    # 依法治区 is the 委员会's report on 全面依法治区, not named by the spec (法治政府建设 / 法治建设 / 依法行政)
    ("镜湖区2023年度依法治区工作报告", "", "2024-01-20", OTHER, None),
    # a 领导小组's own work report: a committee, not the government body the spec counts
    ("镜湖区法治政府建设工作领导小组2023年工作报告", "", "2024-01-20", OTHER, None),
    # "the government reported to the 人大 on …": a news line about the report, not the report
    ("区政府向区人大常委会报告2023年度法治政府建设情况", "", "2024-04-20", OTHER, None),
    # a report on how the reports were published, and the report's drafting note
    ("镜湖区2023年度法治政府建设年度报告编制说明", "", "2024-03-01", OTHER, None),
    # an undated 情况 headline says nothing about a year: not the yearly report
    ("镜湖区法治政府建设工作情况", BODY_NEWS, "2024-03-01", OTHER, None),
]


@pytest.mark.parametrize("title,body,published,doc_type,year", CLASSIFY)
def test_classify_title(title, body, published, doc_type, year):
    assert classify(title, body) == doc_type
    got_year = report_year(title, body, published) if doc_type == AR else None  # as extract() keeps it
    assert got_year == year


# (title, body, kwargs for resolve_region, full name, adcode)
REGIONS = [
    # departments resolve to their region
    ("屯溪区司法局2023年度法治政府建设工作报告", "", {}, "黄山市屯溪区", "341002"),
    ("万载县司法局2023年度法治政府建设工作报告", "", {}, "宜春市万载县", "360922"),
    ("合肥市公安局2023年度法治政府建设情况报告", "", {}, "安徽省合肥市", "340100"),
    ("安徽省司法厅2023年度法治政府建设情况报告", "", {}, "安徽省", "340000"),
    ("香洲区司法局关于2023年度法治政府建设情况的报告", "", {}, "珠海市香洲区", "440402"),
    ("2023年度法治政府建设年度报告", "", {"source": "镜湖区司法局"}, "芜湖市镜湖区", "340202"),
    ("2023年度法治政府建设年度报告", "", {"source": "区司法局", "site_name": "芜湖市镜湖区人民政府"},
     "芜湖市镜湖区", "340202"),
    # towns and streets resolve to their county
    ("镜湖区方村街道2023年度法治政府建设工作报告", "", {}, "芜湖市镜湖区", "340202"),
    ("方村街道2023年度法治政府建设工作报告", "", {"source": "镜湖区方村街道办事处"}, "芜湖市镜湖区", "340202"),
    ("万载县株潭镇2023年度法治政府建设工作报告", "", {}, "宜春市万载县", "360922"),
    ("株潭镇人民政府2023年度法治建设工作总结", "", {"site_name": "万载县人民政府"}, "宜春市万载县", "360922"),
    # development zones: the 管委会 is sent out by the city, so the zone resolves to the city it is named after
    ("芜湖经济技术开发区2023年度法治政府建设工作报告", "", {}, "安徽省芜湖市", "340200"),
    ("合肥高新区2023年度法治政府建设工作报告", "", {}, "安徽省合肥市", "340100"),
    ("合肥高新技术产业开发区管委会2023年度法治政府建设情况报告", "", {}, "安徽省合肥市", "340100"),
    # ambiguous names, disambiguated by the body or the source/site
    ("鼓楼区2023年法治政府建设年度报告", "2023年，在南京市委、市政府的坚强领导下，鼓楼区……", {},
     "南京市鼓楼区", "320106"),
    ("鼓楼区人民政府关于2023年度法治政府建设情况的报告", "2023年，在徐州市委、市政府的坚强领导下", {},
     "徐州市鼓楼区", "320302"),
    ("鼓楼区人民政府关于2023年度法治政府建设情况的报告", "2023年，在开封市委、市政府的坚强领导下", {},
     "开封市鼓楼区", "410204"),
    ("朝阳区2022年法治政府建设年度报告", "2022年，朝阳区在北京市委、市政府的坚强领导下", {}, "北京市朝阳区", "110105"),
    ("朝阳区2022年法治政府建设年度报告", "", {"site_name": "长春市朝阳区人民政府"}, "长春市朝阳区", "220104"),
    ("新城区2022年法治政府建设年度报告", "", {"source": "西安市新城区司法局"}, "西安市新城区", "610102"),
    ("新城区2022年法治政府建设年度报告", "2022年，在呼和浩特市委、市政府的坚强领导下", {},
     "呼和浩特市新城区", "150102"),
    ("舟山市普陀区2023年法治政府建设年度报告", "", {}, "舟山市普陀区", "330903"),
    # 红谷滩区 (created 2019), municipality districts, 自治州 / 自治县 names and abbreviations
    ("红谷滩区2023年法治政府建设年度报告", "", {}, "南昌市红谷滩区", "360113"),
    ("南昌市红谷滩区人民政府关于2023年度法治政府建设情况的报告", "", {}, "南昌市红谷滩区", "360113"),
    ("静海区司法局2023年度法治政府建设工作报告", "", {}, "天津市静海区", "120118"),
    ("延边朝鲜族自治州2023年法治政府建设年度报告", "", {}, "吉林省延边朝鲜族自治州", "222400"),
    ("黔东南州2023年度法治政府建设工作报告", "", {}, "贵州省黔东南苗族侗族自治州", "522600"),
    ("长阳土家族自治县2023年法治政府建设年度报告", "", {}, "宜昌市长阳土家族自治县", "420528"),
    ("吉林市司法局2023年度法治政府建设工作报告", "", {}, "吉林省吉林市", "220200"),
    # traditional script
    ("鏡湖區司法局2023年度法治政府建設工作報告", "", {}, "芜湖市镜湖区", "340202"),
]

UNRESOLVED = [
    # ambiguous names without context are never guessed
    ("鼓楼区2023年法治政府建设年度报告", "2023年，在市委、市政府的坚强领导下，鼓楼区……", {}),
    ("朝阳区2022年法治政府建设年度报告", "", {}),
    ("新城区2022年法治政府建设年度报告", "", {}),
    ("市中区2023年法治政府建设年度报告", "", {}),
    # the URL is not evidence (pinyin hosts such as gl / jh are shared by many regions)
    ("鼓楼区2023年法治政府建设年度报告", "", {"url": "http://www.gl.gov.cn/art/2024/3/1/art_1.html"}),
    ("2023年度法治政府建设年度报告", "", {"url": "https://www.jinghu.gov.cn/a.html"}),
    # a zone named after an ambiguous short name (南昌市 / 南昌县, 吉林省 / 吉林市) stays unresolved
    ("南昌高新区2023年度法治政府建设工作报告", "", {}),
    ("吉林高新区2023年度法治政府建设工作报告", "", {}),
    # 新区 that are not divisions
    ("雄安新区2023年法治政府建设年度报告", "", {}),
]


@pytest.mark.parametrize("title,body,kw,name,code", REGIONS)
def test_region(title, body, kw, name, code):
    assert resolve_region(title, body, **kw) == (name, code)


@pytest.mark.parametrize("title,body,kw", UNRESOLVED)
def test_region_unresolved(title, body, kw):
    assert resolve_region(title, body, **kw) == (None, None)


# a realistic report body: preamble, numbered parts, closing
_MIDDLE = ["一、主要举措和成效", "（一）依法全面履行政府职能。深化“放管服”改革，动态调整权责清单。",
           "（二）严格规范公正文明执法。全面推行行政执法三项制度。"]


def _page(title: str, info: str, paras: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paras[:1] + _MIDDLE + paras[1:])
    return (f"<html><head><meta charset='utf-8'><title>{title}_人民政府网站</title></head><body>"
            f"<div class='nav'>首页 > 法治政府建设 > 年度报告</div><div class='article'><h1>{title}</h1>"
            f"<div class='info'>{info}</div><div class='content'>{body}</div></div>"
            f"<div class='footer'>主办单位：人民政府办公室 版权所有</div></body></html>")


def test_extract_traditional_page():
    page = _page("鏡湖區2023年度法治政府建設年度報告", "發布時間：2024-03-20 來源：鏡湖區司法局",
                 ["2023年，在市委、市政府的堅強領導下，我區堅持以習近平新時代中國特色社會主義思想為指導。", "特此報告。"])
    r = extract(page, url="https://www.jinghu.gov.cn/a/1.html")
    assert (r.doc_type, r.report_year, r.region, r.adcode) == ("annual_report", 2023, "芜湖市镜湖区", "340202")


def test_extract_year_only_in_body_and_region_from_source():
    page = _page("法治政府建设年度报告", "发布时间：2023-03-28 来源：万载县司法局",
                 ["2022年，在市委、市政府的坚强领导下，我县坚持以习近平法治思想为指导。", "特此报告。"])
    r = extract(page)
    assert (r.doc_type, r.report_year, r.region, r.adcode) == ("annual_report", 2022, "宜春市万载县", "360922")


def test_extract_half_year_summary_is_not_a_report():
    page = _page("镜湖区2023年上半年法治政府建设工作总结", "发布时间：2023-07-05 来源：镜湖区司法局",
                 ["2023年上半年，我区法治政府建设工作稳步推进。"])
    r = extract(page)
    assert (r.doc_type, r.report_year) == ("other", None)
    assert (r.region, r.adcode) == ("芜湖市镜湖区", "340202")


def test_extract_ambiguous_region_with_url_only_stays_null():
    page = _page("鼓楼区2023年法治政府建设年度报告", "发布时间：2024-03-20",
                 ["2023年，在市委、市政府的坚强领导下，我区坚持以习近平法治思想为指导。"])
    r = extract(page, url="http://www.gl.gov.cn/art/2024/3/20/art_1.html")
    assert (r.doc_type, r.report_year) == ("annual_report", 2023)
    assert (r.region, r.adcode) == (None, None)
