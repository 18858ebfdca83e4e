"""Unit tests of the extraction core: dates, decoding, chrome lines, titles, HTML/text detection, bad input,
and the five seed dumps."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from crawler import ExtractError, Record, extract
from crawler.extract import analyse
from crawler.extract.chrome import clean_value, is_chrome, parse_fields
from crawler.extract.dates import choose_published, is_bare_date, parse_date, to_iso, url_date_range
from crawler.extract.decode import decode
from crawler.extract.text import looks_like_html
from crawler.extract.title import clean_title_tag, title_span

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds" / "pages").glob("*.txt"))
from helpers import REALPAGES  # noqa: E402


# --- dates --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, iso", [
    ("2021年3月31日", "2021-03-31"),
    ("2021/03/31 14:47", "2021-03-31T14:47"),
    ("日期:2021/03/31 14:47来源:镜湖区司法局", "2021-03-31T14:47"),
    ("2021-03-31 14:47:00", "2021-03-31T14:47"),
    ("2021.03.31", "2021-03-31"),
    ("发布时间：2023-02-28 11:30:49", "2023-02-28T11:30"),
    ("2024-03-29-18:32:11", "2024-03-29T18:32"),
    ("二〇二四年一月二十五日", "2024-01-25"),
    ("2021年13月40日", None),
    ("没有日期", None),
])
def test_parse_dates(text, iso):
    assert to_iso(text) == iso


def test_bare_date_lines():
    assert is_bare_date("2023-02-15 14:49")
    assert is_bare_date("2024年1月25日")
    assert is_bare_date("（2023年4月12日）")
    assert not is_bare_date("2023年，我区法治政府建设工作取得成效")
    assert not is_bare_date("发布时间：2023-02-15")


def test_url_dates():
    lo, hi, day = url_date_range("http://x.gov.cn/col/202103/t20210331_123.html")
    assert (lo.isoformat(), day) == ("2021-03-31", True)
    lo, hi, day = url_date_range("http://x.gov.cn/art/2021/3/31/art_1_2.html")
    assert lo.isoformat() == "2021-03-31"
    lo, hi, day = url_date_range("https://www.yichun.gov.cn/ycsrmzf/tjgb/202305/36796cdc.shtml")
    assert (lo.isoformat(), hi.isoformat(), day) == ("2023-05-01", "2023-05-31", False)
    assert url_date_range("http://x.gov.cn/content_6942219.htm") is None


def test_choose_published_rules():
    vis, meta = [parse_date("2017-05-15 10:49")], [parse_date("2022-04-24 10:00:43")]
    # PubDate is a regeneration date: the visible one wins, with or without a URL
    assert choose_published(vis, meta) == "2017-05-15T10:49"
    assert choose_published(vis, meta, "http://w.gov.cn/a/201705/x.shtml") == "2017-05-15T10:49"
    # the URL month disagrees with the visible date by weeks: the candidate consistent with the URL wins
    assert choose_published([parse_date("2023-04-18")], [parse_date("2023-05-16 12:34:05")],
                            "https://w.gov.cn/a/202305/x.shtml") == "2023-05-16T12:34"
    # signing date only as last resort, day precision
    assert choose_published([], [], None, parse_date("2024年1月25日")) == "2024-01-25"
    assert choose_published([], [], None, None) is None


# --- decoding -----------------------------------------------------------------------------------------------

_GBK_PAGE = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
             '<title>朱镕基与王堃的报告</title></head><body><div id="zoom"><p>朱镕基与王堃出席会议，'
             '研究部署法治政府建设工作，推进依法行政。</p></div></body></html>')


def test_decode_gb2312_declared_gbk_chars():
    raw = _GBK_PAGE.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")  # the declaration is wrong: 镕/堃 are GBK-only
    assert "朱镕基与王堃" in decode(raw)


def test_decode_undeclared_gbk_and_bom():
    raw = _GBK_PAGE.replace("; charset=gb2312", "").encode("gbk")
    assert "朱镕基与王堃" in decode(raw)
    bom = b"\xef\xbb\xbf" + _GBK_PAGE.replace("gb2312", "utf-8").encode("utf-8")
    text = decode(bom)
    assert text.startswith("<html>") and "王堃" in text
    assert decode("\ufeff<p>x</p>") == "<p>x</p>"


def test_decode_declared_gb_but_utf8():
    assert "王堃" in decode(_GBK_PAGE.encode("utf-8"))


# --- chrome lines -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "您当前所在位置:首页 > 专题专栏 > 法治政府建设 > 报告公示",
    "当前位置: 首页 > 专题专栏 > 红谷滩区法治建设",
    "您现在的位置：首页 > 政务公开",
    "您当前的位置：",
    "日期:2021/03/31 14:47来源:镜湖区司法局作者:刘金兰阅读次数:",
    "来源:本站  时间:2023-02-28 11:30:49",
    "来源：望城区政府办 发布时间：2024-01-31 字体大小：",
    "发布时间:2021-03-18 13:48:00 来源:红谷滩区司法局 浏览量: 字体:",
    "索 引 号：014717475N/2023-0040295",
    "2024-03-29 18:32 来源： 新华社",
    "打印此文 关闭窗口", "打印此页|关闭窗口", "【打印本页】【关闭窗口】", "分享", "分享到：",
    "扫一扫在手机打开", "【字体：大 中 小】", "【返回顶部】【关闭本页】", "关怀版", "无障碍",
    "简体| 繁體| 登录| 注册", "今天是2024年3月5日 星期二", "2023年10月11日 星期三", "望城区人民政府LOGO",
    "主办：长沙市人民政府办公厅", "版权所有：某某市人民政府 网站标识码：4301000001", "湘ICP备05001234号",
    "上一篇：关于开展XX的通知", "网站地图 | 联系我们",
])
def test_chrome_positives(line):
    assert is_chrome(line)


@pytest.mark.parametrize("line", [
    "市人民政府:",
    "特此报告。",
    "长沙市望城区人民政府",
    "2024年1月25日",
    "一、坚持统筹推进，法治政府建设迈上新台阶",
    "来源于群众的意见建议均得到及时办理，打印、复印等办公费用严格控制。",
    "严格落实《政府信息公开条例》，对来源：各部门报送的信息进行审核，确保发布时间、来源、作者等要素齐全，"
    "全年主动公开政府信息2万余条，办理依申请公开24件，答复率100%。",
    "资料来源：",
    "（万载县统计局）",
])
def test_chrome_negatives(line):
    assert not is_chrome(line)


def test_metadata_fields():
    f = dict(parse_fields("日期:2021/03/31 14:47来源:镜湖区司法局作者:刘金兰阅读次数:"))
    assert (f["日期"], f["来源"], f["作者"], f["阅读次数"]) == ("2021/03/31 14:47", "镜湖区司法局", "刘金兰", "")
    assert clean_value(dict(parse_fields("来源：  浏览次数：12"))["来源"]) is None
    assert clean_value(dict(parse_fields("来源：本站  时间：2023-02-28"))["来源"]) == "本站"


# --- titles -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, site, column, title", [
    ("长沙市2023年度法治政府建设情况报告_长沙市人民政府", None, None, "长沙市2023年度法治政府建设情况报告"),
    ("万载县2022年国民经济和社会发展统计公报 | 万载县人民政府", None, None, "万载县2022年国民经济和社会发展统计公报"),
    ("万载县人民政府 | 万载县2015年国民经济和社会发展统计公报", None, None, "万载县2015年国民经济和社会发展统计公报"),
    ("宜春市2022年统计公报 | 中国宜春", "中国宜春", None, "宜春市2022年统计公报"),
    ("某某区人民政府 法治政府建设 某某区2022年法治政府建设年度报告", None, None, "某某区2022年法治政府建设年度报告"),
    ("关于XX的报告-某市政府网", None, None, "关于XX的报告"),
    ("XX市法治政府建设规划（2021-2025年）_XX市人民政府", None, None, "XX市法治政府建设规划（2021-2025年）"),
])
def test_clean_title_tag(raw, site, column, title):
    assert clean_title_tag(raw, site, column)[0] == title


def test_title_span_split_over_lines():
    lines = ["日期:2021/03/31", "镜湖区人民政府关于2020年法治政府", "建设情况的报告", "2020年，在市委领导下……"]
    assert title_span(lines, "镜湖区人民政府关于2020年法治政府建设情况的报告") == (1, 3)


# --- detection and bad input --------------------------------------------------------------------------------

def test_html_vs_text_detection():
    assert looks_like_html("<!DOCTYPE html><html><body><p>x</p></body></html>")
    assert looks_like_html("<div class='a'>正文</div>")
    assert looks_like_html('<meta charset="utf-8"><p>x')
    assert not looks_like_html("镜湖区人民政府关于2020年法治政府建设情况的报告\n日期:2021/03/31 14:47")
    assert not looks_like_html("a < b and c > d")


def test_empty_input():
    for empty in (b"", "", "   \n", None):
        rec = extract(empty)
        assert isinstance(rec, Record)
        assert (rec.title, rec.text, rec.published_at) == (None, "", None)


@pytest.mark.parametrize("blob", [
    os.urandom(4096),
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj",
    "%PDF-1.7 decoded as text",
    b"PK\x03\x04" + b"\x00" * 64,
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
])
def test_binary_input_raises(blob):
    with pytest.raises(ExtractError):
        extract(blob)


def test_truncated_html_best_effort():
    page = ("<html><head><title>某县2023年法治政府建设年度报告_某县人民政府</title></head><body>"
            "<div class='TRS_Editor'><p>2023年，某县深入推进依法行政，法治政府建设取得明显成效。</p><p>一、主要做法")
    rec = extract(page.encode("utf-8")[:-2])  # cut inside a multi-byte character
    assert rec.title == "某县2023年法治政府建设年度报告"
    assert rec.text.startswith("2023年，某县深入推进依法行政")


def test_huge_page_is_bounded():
    para = "<p>" + "法治政府建设取得新进展，依法行政水平不断提高。" * 10 + "</p>\n"
    body = para * (50_000_000 // len(para.encode("utf-8")))
    page = f"<html><head><title>大页面报告_某县人民政府</title></head><body><div id='zoom'>{body}</div></body></html>"
    start = time.perf_counter()
    rec = extract(page.encode("utf-8"))
    assert time.perf_counter() - start < 60  # generous: it takes about a second
    assert rec.title == "大页面报告"
    assert rec.text.startswith("法治政府建设取得新进展")


# --- HTML containers ----------------------------------------------------------------------------------------

_TRS = """<html><head><meta name="SiteName" content="长沙市人民政府"><meta name="PubDate" content="2024-03-20 09:00">
<title>长沙市2023年度法治政府建设情况报告_长沙市人民政府</title></head><body>
<div class="top">今天是2024年3月25日 星期一 <a>无障碍</a></div><div class="crumb">当前位置：<a>首页</a> &gt; <a>法治</a></div>
<div class="main"><h2 class="title">长沙市2023年度法治政府建设情况报告</h2>
<div class="info">发布时间：2024-02-01 10:20 &nbsp; 信息来源：市司法局 &nbsp; 【字体：<a>大</a> <a>中</a> <a>小</a>】</div>
<div class="TRS_Editor"><p>长沙市2023年度法治政府建设情况报告</p><p>2023年，长沙市全面推进法治政府建设，取得明显成效。现报告如下：</p>
<p>特此报告。</p><p>长沙市人民政府</p><p>2024年1月30日</p></div>
<div>附件：<a href="/att/P020240201.pdf">报告全文.pdf</a></div><div>【<a>打印本页</a>】【<a>关闭窗口</a>】</div>
</div><div class="footer">版权所有：长沙市人民政府 湘ICP备05001234号</div></body></html>"""


def test_trs_container_page():
    page = analyse(_TRS.encode("gbk"), "http://www.changsha.gov.cn/zfxxgk/202402/t20240201_1.html")
    rec = page.record
    assert rec.title == "长沙市2023年度法治政府建设情况报告"
    assert rec.published_at == "2024-02-01T10:20"  # visible date beats PubDate
    assert rec.source == "市司法局"
    assert rec.text.split("\n") == ["2023年，长沙市全面推进法治政府建设，取得明显成效。现报告如下：", "特此报告。",
                                    "长沙市人民政府", "2024年1月30日"]
    assert page.attachments == [("http://www.changsha.gov.cn/att/P020240201.pdf", "报告全文.pdf")]
    assert page.site_name == "长沙市人民政府"


@pytest.mark.skipif(not REALPAGES.is_dir(), reason="shared real pages not mounted")
def test_realpages_body_is_ucapcontent():
    from lxml import etree
    from helpers import realpage_files
    for path in realpage_files():
        raw = path.read_bytes()
        ucap = etree.HTML(raw).find(".//ucapcontent")
        if ucap is None:  # not a Kaipuyun page
            continue
        saved = re.search(rb"saved from url=\(\d+\)(\S+)", raw)
        rec = extract(raw, saved.group(1).decode() if saved else None)
        want = re.sub(r"\s+", "", "".join(ucap.itertext()))
        got = re.sub(r"\s+", "", rec.text)
        assert got in want and len(got) >= 0.99 * len(want), path.name
        assert rec.title == " ".join(etree.HTML(raw).find(".//ucaptitle").text.split()), path.name
    wanzai = REALPAGES / "wanzai-2015-tjgb.html"
    if wanzai.exists():  # no PubDate tag: the date of the info table
        rec = extract(wanzai.read_bytes(),
                      "http://www.wanzai.gov.cn/wzxrmzf/tjgb/201705/9c059bf058ef4db8b3c8f920e22186fe.shtml")
        assert (rec.published_at, rec.source) == ("2017-05-15T10:49", None)


# --- seeds --------------------------------------------------------------------------------------------------

CHROME_STRINGS = ("当前位置", "所在位置", "现在的位置", "当前的位置", "阅读次数", "浏览量", "字体大小", "打印此文",
                  "打印此页", "关闭窗口", "相关链接", "相关文档", "扫一扫", "LOGO", "关怀版", "无障碍", "繁體", "登录",
                  "创新实干", "分享", "访问量", "版权所有")
META_START = re.compile(r"^(日期|来源|作者|发布时间|时间|浏览量|字体)[:：]")

SEED_EXPECT = {
    "000": ("镜湖区人民政府关于2020年法治政府建设情况的报告", "2021-03-31T14:47", "镜湖区司法局", "刘金兰",
            "2020年,在市委、市政府和区委的坚强领导下", "四是突出普法重点,实施精准普法。"),
    "001": ("郑州市惠济区人民政府关于2022年度法治政府建设情况的报告", "2023-02-28T11:30", "本站", None,
            "市人民政府:", "2023年2月27日"),
    "002": ("关于长沙市望城区2023年度法治政府建设情况的报告", "2024-01-31", "望城区政府办", None,
            "2023年,在市委、市政府及区委的坚强领导下", "2024年1月25日"),
    "003": ("吉林市2022年度法治政府建设工作报告", "2023-02-15T14:49", None, None,
            "2022年,吉林市坚持以习近平新时代中国特色社会主义思想为指导", "总结回顾2022年的工作"),
    "004": ("红谷滩区2020年度法治政府建设工作报告", "2021-03-18T13:48", "红谷滩区司法局", None,
            "2020年,我区法治政府建设工作在区委的正确领导下", "()继续推进法治政府建设。"),
}


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seed_pages(path):
    title, published, source, author, first, last = SEED_EXPECT[path.name[:3]]
    rec = extract(path.read_bytes())
    lines = rec.text.split("\n")
    assert (rec.title, rec.published_at, rec.source, rec.author) == (title, published, source, author)
    assert lines[0].startswith(first)
    assert lines[-1].startswith(last)
    assert title not in lines[:3]
    for s in CHROME_STRINGS:
        assert s not in rec.text, s
    assert not any(META_START.match(ln) for ln in lines)
    assert all(ln == ln.strip(" \t\u3000\xa0") and ln for ln in lines)


def test_seed_000_split_title_removed():
    rec = extract((ROOT / "seeds/pages/000_83755337ab745d3f.txt").read_text("utf-8"))
    assert "建设情况的报告" not in rec.text.split("\n")
    assert not rec.text.startswith("镜湖区人民政府关于")


def test_seed_002_closing_lines_kept():
    rec = extract((ROOT / "seeds/pages/002_5f949e49d371bf8d.txt").read_text("utf-8"))
    assert rec.text.split("\n")[-2:] == ["长沙市望城区人民政府", "2024年1月25日"]


def test_attachment_only_notice_keeps_its_body_and_finds_the_attachment_list():
    from crawler.extract import analyse

    html = """<html><head><title>某县2022年度法治政府建设工作报告_某县人民政府</title></head><body>
    <div class="nav"><a href="/">首页</a></div>
    <div class="main"><h1><ucaptitle>某县2022年度法治政府建设工作报告</ucaptitle></h1>
    <div class="info">发布时间：2023-03-20 09:30 来源：某县司法局</div>
    <div id="zoom"><ucapcontent><p>详见附件。</p></ucapcontent></div>
    <div class="attachments"><a href="/files/report.pdf">附件：某县2022年度法治政府建设工作报告.pdf</a></div>
    </div><div class="footer">主办单位：某县人民政府办公室 版权所有</div></body></html>"""
    page = analyse(html, "http://www.example.gov.cn/art/2023/3/20/art_1_2.html")
    assert page.record.text == "详见附件。"
    assert page.attachments == [("http://www.example.gov.cn/files/report.pdf",
                                 "附件：某县2022年度法治政府建设工作报告.pdf")]
    assert page.record.doc_type == "annual_report" and page.record.report_year == 2022


# --- per-line caches ------------------------------------------------------------------------------------------

def test_cached_line_tests_give_the_same_records_and_fresh_field_lists():
    from crawler.extract import clear_caches

    pages = [p.read_bytes() for p in SEEDS] + [p.read_bytes() for p in sorted(REALPAGES.glob("*.html"))]
    clear_caches()
    cold = [analyse(c).record for c in pages]
    warm = [analyse(c).record for c in pages]  # every line test now answered from the caches
    assert warm == cold
    fields = parse_fields("发布时间：2023-03-24 来源：镜湖区司法局")
    fields.append(("injected", "x"))  # a caller changing its list must not change the cached answer
    assert parse_fields("发布时间：2023-03-24 来源：镜湖区司法局") == [("发布时间", "2023-03-24"), ("来源", "镜湖区司法局")]
