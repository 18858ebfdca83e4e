"""Typing (doc_type, report_year) from the page body when the title is missing, generic or mangled.

The page shapes come from tests/fixtures/typing_pages.py: yearly reports in many variants (every level from
province to town, departments, a development zone, joint party-government reports, 2012-2025, the pre-2015
依法行政 name, the combined …及下一年度工作安排 name, 工作总结 reporting upwards, reports that walk through the
纲要's chapters or tell their shortcomings in a closing paragraph) and every look-alike kind, each rendered as a
titled dump, a body-only dump, a dump whose title line is a breadcrumb or site section, and a spam mirror's
traditional-script copy with pinyin glosses.  The rules under test are in crawler/extract/bodytype.py and
classify.py; the figures per shape are printed by bench/bench_typing.py.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from helpers import SEED_EXPECTED

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import typing_pages  # noqa: E402

from crawler.extract import extract  # noqa: E402
from crawler.extract.bodytype import TOPIC_WINDOW, body_type, body_year, plain  # noqa: E402
from crawler.extract.classify import classify, report_year, usable_title  # noqa: E402
from crawler.extract.text import parse_text  # noqa: E402

CASES = typing_pages.cases()
AR = "annual_report"


def test_the_cases_cover_every_kind_level_and_year():
    kinds = {c.kind for c in CASES}
    assert set(typing_pages.NEGATIVE_KINDS) <= kinds and {"report", "report_old", "report_thematic"} <= kinds
    reports = [c for c in CASES if c.doc_type == AR]
    assert {c.year for c in reports} >= set(range(2012, 2025))
    assert len({c.title.split("关于")[0][:3] for c in reports}) >= 20  # many issuers
    assert sum(c.doc_type != AR for c in CASES) >= 90


def _body_names_year(case: typing_pages.Case) -> bool:
    """A body-only dump can only give the year when its body names it (outside the titles of documents it
    cites), is signed and dated, or names the year its plans are for."""
    text = re.sub(r"《[^》]*》", "", "\n".join(case.lines))
    signed = any(re.fullmatch(r"[\d〇一二三四五六七八九十]{4}年[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日", x)
                 for x in case.lines[-2:])
    plans = any((re.match(r"[一二三四五六七八九十]、", x) and f"{case.year + 1}年" in x) or x.startswith(f"{case.year + 1}年，")
                for x in case.lines)  # 四、2024年…主要安排 / 2024年，我区将……
    return f"{case.year}年" in text or signed or plans


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_typing_in_every_shape(case):
    wrong = []
    for shape in typing_pages.SHAPES:
        rec = extract(typing_pages.dump(case, shape))
        want_year = case.year
        if shape in ("body", "flat") and case.year is not None and not _body_names_year(case):
            want_year = None  # no date on the page at all: nothing to take the year from
        if (rec.doc_type, rec.report_year) != (case.doc_type, want_year):
            wrong.append(f"{shape}: {rec.doc_type}/{rec.report_year}, want {case.doc_type}/{want_year}")
    assert not wrong, wrong


@pytest.mark.parametrize("case", [c for c in CASES if c.doc_type != AR], ids=lambda c: c.name)
def test_a_look_alike_is_never_a_report_when_read_from_its_body(case):
    """The precision guarantee on its own: body typing alone, no title, no page chrome."""
    assert body_type("\n".join(case.lines)) != AR


# --- the seeds: real reports, typed from their bodies alone -------------------------------------------------

SEEDS = sorted(SEED_EXPECTED.glob("*.json"))


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_a_seed_report_body_alone_is_typed_with_its_year(path):
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert classify(None, expected["text"]) == AR
    assert report_year(None, expected["text"], None) == expected["report_year"]
    assert report_year("网站公告", expected["text"], None) == expected["report_year"]


# --- titles that say nothing -------------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["网站公告", "政务公告", "> 陇西动态 > 政务公告", "首页→ 网站公告", "首页 >> 通知公告",
                                   "法治政府建设", "工作报告", "政府信息公开", "镜湖区人民政府", "通知公告", "【政务公告】",
                                   "陇西动态", None, ""])
def test_generic_titles_are_not_used(title):
    assert usable_title(title) == ""


@pytest.mark.parametrize("title", ["镜湖区2022年法治政府建设年度报告", "2023年政府工作报告", "关于做好年度报告工作的通知",
                                   "法治政府建设年度报告"])
def test_real_titles_are_used(title):
    assert usable_title(title)


@pytest.mark.parametrize("head", [["当前位置 : 首页", "> 陇西动态 > 政务公告"], ["法制查询", "首页→ 网站公告"], ["政务公告"],
                                  ["网站首页 → 政务公开 → 工作动态"], ["首页 › 新闻中心 › 网站公告"], ["通知公告"]])
def test_a_breadcrumb_or_site_section_is_never_the_title_of_a_dump(head):
    body = ["2022年，在市委、市政府的坚强领导下，我县深入学习贯彻习近平法治思想，法治政府建设取得新成效。现将有关情况报告如下：",
            "一、主要举措和成效", "（一）依法全面履行政府职能。深化“放管服”改革。", "二、存在的问题", "基层法治力量薄弱。"]
    parts = parse_text("\n".join(head + ["发布时间：2023-02-20 09:30  来源：司法局"] + body))
    assert parts.title is None
    assert parts.lines[0] == body[0]  # and no section name is left on top of the body


def test_a_section_line_does_not_push_out_the_real_title():
    parts = parse_text("首页→ 网站公告\n石家庄市人民政府关于2016年度法治政府建设情况的报告\n发布时间:2017年02月28日\n"
                       "2016年以来，我市深入推进依法行政，法治政府建设取得新成效。现将主要工作情况报告如下：\n一、主要做法")
    assert parts.title == "石家庄市人民政府关于2016年度法治政府建设情况的报告"


# --- traditional script and pinyin glosses -------------------------------------------------------------------

def test_glosses_and_traditional_script_are_read_as_simplified():
    assert plain("法治政府建設(shè)年度報告") == "法治政府建设年度报告"
    assert plain("（一）依法全面履行政府职能") == "（一）依法全面履行政府职能"  # outline numerals are no glosses
    assert classify("長沙市望城區(qū)人民政府關(guān)於2022年法治政府建設(shè)情況的報告", "") == AR
    assert report_year("關(guān)於2022年法治政府建設(shè)情況的報告", "", "2023-03-01") == 2022


# --- older and combined names; titles that are not reports ----------------------------------------------------

@pytest.mark.parametrize("title,doc_type", [
    ("南昌县人民政府关于2013年推进依法行政工作情况的报告", AR),
    ("陇西县2014年推进依法行政工作情况", AR),
    ("吉林市人民政府关于2021年法治政府建设情况及2022年度工作安排的报告", AR),
    ("宿州市司法局2022年法治政府建设工作情况和2023年工作打算的报告", AR),
    ("休宁县发布2021年法治政府建设年度报告", "news"),
    ("局长在2023年法治建设领导小组会议上的讲话", "other"),
    ("XX区2022年度法治政府建设情况报告", "other"),
    ("2023年法治政府建设工作总结范文（精选3篇）", "other"),
    ("关于公布2023年法治政府建设年度报告的公告", AR),  # the report itself, published
])
def test_older_combined_and_look_alike_titles(title, doc_type):
    assert classify(title, "") == doc_type


@pytest.mark.parametrize("title", ["法治政府建設(shè)-澳门新葡京娱乐", "镜湖区人民政府关于2022年度法治政府建设…",
                                   "99热精品在线_国产高清免费视频"])
def test_a_title_that_cannot_tell_leaves_it_to_the_body(title):
    body = TEMPLATE_BODY.format(who="2022年，镜湖区")
    assert classify(title, body) == AR
    assert classify(title, "3月28日，区政府召开常务会议，研究部署法治政府建设工作。\n会议强调，要压实责任。") == "news"


def test_a_summary_reporting_upwards_is_a_report_from_its_body():
    body = ("市司法局：\n2023年，我局深入学习贯彻习近平法治思想，扎实推进法治政府建设，依法行政水平不断提升。现将有关情况报告如下：\n"
            "一、主要工作举措和成效\n（一）依法全面履行职能。\n二、存在的问题\n执法力量不足。\n三、下一步工作打算\n持续推进。\n"
            "特此报告。\n赣州市自然资源局\n2023年12月20日")
    assert classify("赣州市自然资源局2023年法治政府建设工作总结", body) == AR
    assert classify(None, body) == AR
    assert report_year(None, body, None) == 2023  # signed in December: the year itself


# --- anonymised templates ------------------------------------------------------------------------------------

TEMPLATE_BODY = ("{who}坚持以习近平法治思想为指导，深入推进依法行政，法治政府建设取得新成效。现将2022年度法治政府建设情况报告如下：\n"
                 "一、主要举措和成效\n（一）依法全面履行政府职能。\n二、存在的不足和原因\n基层力量薄弱。\n三、下一步工作安排\n持续推进。")


@pytest.mark.parametrize("who", ["2022年，某县", "2022年，XX区", "2022年，*市", "20XX年，我县", "2022年，**区"])
def test_an_anonymised_template_body_is_not_a_report(who):
    assert classify(None, TEMPLATE_BODY.format(who=who)) == "other"


def test_a_template_site_copy_is_not_a_report_even_with_a_title():
    body = "下面是小编为大家整理的法治政府建设工作报告，供大家参考。\n" + TEMPLATE_BODY.format(who="2022年，某县")
    assert classify("某县2022年度法治政府建设情况报告", body) == "other"
    # without the 范文 site's marks a titled page keeps its title's verdict (test portals use 某县 names)
    assert classify("某县2022年度法治政府建设情况报告", TEMPLATE_BODY.format(who="2022年，某县")) == AR


# --- the year from the body -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,limit,year", [
    ("一年来，我县法治政府建设扎实推进。现将2021年度法治政府建设情况报告如下：\n一、主要举措和成效", 2022, 2021),
    ("2023年，我区坚持依法行政，法治政府建设取得新成效。\n一、主要举措和成效", 2024, 2023),
    ("二〇二〇年，我市法治政府建设取得新进展。\n一、主要举措和成效", 2021, 2020),
    ("一年来，我镇法治政府建设扎实推进。\n一、2022年推进法治政府建设的主要举措和成效\n二、2023年工作安排", 2023, 2022),
    ("一年来，我镇法治政府建设扎实推进。\n一、主要举措和成效\n二、下一步工作安排\n2023年，我镇将持续推进。", 2023, 2022),
    ("一年来，我镇法治政府建设扎实推进。\n一、主要举措和成效\n特此报告。\n某镇人民政府\n2024年2月1日", 2024, 2023),
    ("一年来，我镇法治政府建设扎实推进。\n一、主要举措和成效\n特此报告。\n某镇人民政府\n2023年12月28日", 2024, 2023),
    ("我市认真落实《法治政府建设实施纲要（2021—2025年）》，法治政府建设扎实推进。\n一、主要举措和成效", 2024, None),
    ("2026年，我区坚持依法行政，法治政府建设取得新成效。", 2024, None),  # after the published year
])
def test_body_year(text, limit, year):
    assert body_year(text, limit) == year


# --- the issuer's signature names the region of a body-only page -------------------------------------------

@pytest.mark.parametrize("signer,name,code", [
    ("陇西县人民政府", "定西市陇西县", "621122"),
    ("長沙市望城區人民政府", "长沙市望城区", "430112"),  # traditional script
    ("中共清水县委 清水县人民政府", "天水市清水县", "620521"),
    ("宿州市司法局", "安徽省宿州市", "341300"),
])
def test_a_body_only_report_takes_its_region_from_the_signature(signer, name, code):
    body = ("一年来，我们深入学习贯彻习近平法治思想，法治政府建设取得新成效。现将有关情况报告如下：\n一、主要举措和成效\n"
            "（一）依法全面履行政府职能。\n二、存在的不足和原因\n基层力量薄弱。\n三、下一步工作安排\n持续推进法治政府建设。\n"
            f"特此报告。\n{signer}\n2024年2月20日")
    rec = extract(body)
    assert (rec.doc_type, rec.report_year, rec.region, rec.adcode) == (AR, 2023, name, code)


def test_a_long_body_is_read_at_its_head_outline_and_end():
    """Past the head window (bodytype.TOPIC_WINDOW characters) the body is read raw: the headings further on and
    the signature at the very end still count."""
    filler = "（一）依法全面履行政府职能。深化“放管服”改革，動態調整權責清單，推进法治政府建设。" * 40
    body = "\n".join(["一年来，我们深入学习贯彻习近平法治思想，扎实推进法治政府建设。", "一、主要举措和成效"]
                     + [filler] * 120 + ["二、存在的不足和原因", "基层力量薄弱。", "三、下一步工作安排", "持续推进。",
                                         "特此报告。", "陇西县人民政府", "二〇二四年二月二十日"])
    assert len(body) > 5 * TOPIC_WINDOW
    rec = extract(body)
    assert (rec.doc_type, rec.report_year, rec.region) == (AR, 2023, "定西市陇西县")


def test_a_list_of_report_titles_is_not_a_report():
    listing = "\n".join(f"{r}{y}年法治政府建设年度报告\n{y + 1}-03-2{y % 10}" for r, y in
                        [("镜湖区", 2022), ("镜湖区", 2021), ("弋江区", 2022), ("鸠江区", 2020)])
    assert classify(None, listing) == "other"


def test_a_template_body_under_a_title_without_a_region_is_not_a_report():
    body = TEMPLATE_BODY.format(who="2022年，某县")
    assert classify("2022年度法治政府建设工作报告", body) == "other"
    assert classify("某县2022年度法治政府建设工作报告", body) == AR
    assert classify("示例县2022年度法治政府建设工作报告", body) == AR  # the body's 某县 stands for the title's place
