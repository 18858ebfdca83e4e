"""Second robustness probe: page shapes real portals serve that the other extraction tests do not cover.

Titles only in ``og:title`` / ``<meta name="Title">``, a body holding a data table (行政复议案件统计), two
candidate containers (a 导读 box beside ``#zoom``; a TRS_Editor inside an ``.article`` that also holds the
metadata line and the tools), a body that is only a 详见附件 notice with PDF/DOC links, ``<div>``-per-paragraph
bodies with ``&nbsp;`` indents and ``<p><br></p>`` spacers, old WCM ``<font>`` markup, an ``<iframe>`` PDF viewer,
the 信息公开 attribute table above the body (索引号 … 生成日期 / 发布日期), a 300 KB body and a ``<br>``-only body.

Every page is built by a small helper with realistic chrome around it.  For each page the test demands the exact
title, the body's first and last lines, that no chrome string survives in the text, and the metadata fields
the page shows (publication date, source, author); attachment links where the page has them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

import helpers
from helpers import esc, footer_html, resolve_extract

from crawler import extract  # noqa: E402
from crawler.extract import analyse

extract = resolve_extract(extract)


def report_lines(place: str, year: int, signer: str, signed: str) -> list[str]:
    return helpers.report_lines(place, year, signer, signed, measures=[
        "（一）依法全面履行政府职能。深化“放管服”改革，动态调整权责清单，政务服务事项全程网办率达到98.6%。",
        "（二）严格规范公正文明执法。全面推行行政执法三项制度，评查执法案卷286卷，发现并整改问题37个。",
        "（三）强化行政权力制约监督。办理行政复议案件142件，行政机关负责人出庭应诉率达到100%。",
    ])


def paras_html(lines: list[str], style: str = "text-indent:2em;") -> str:
    return "\n".join(f'<p style="{style}">{esc(x)}</p>' for x in lines)


def header_html(site: str) -> str:
    return f"""<div class="topbar">欢迎访问{site}！ <a href="#">无障碍</a> <a href="#">长者模式</a> <a href="#">English</a></div>
<div class="header"><a href="/"><img alt="{site}" src="/images/logo.png"></a>
<div class="search"><input type="text" placeholder="请输入关键字"><button>搜索</button></div></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="#">政务公开</a></li><li><a href="#">政务服务</a></li><li><a href="#">互动交流</a></li></ul>"""


CHROME = ["欢迎访问", "无障碍", "长者模式", "English", "搜索", "当前位置", "打印", "关闭", "分享", "相关链接",
          "主办单位", "版权所有", "网站标识码", "ICP备", "公网安备"]


@dataclass
class Case:
    name: str
    content: bytes | str
    url: str | None
    expect: dict                                       # Record fields the page shows
    first: str                                         # the body's first line
    last: list[str]                                    # the body's last lines
    chrome: list[str] = field(default_factory=list)    # must not occur anywhere in Record.text
    attachments: list[tuple[str, str]] | None = None   # expected attachment links, when the page has some


def page(title_tag: str, head: str, body: str, site: str, site_id: str = "3402000001") -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{title_tag}</title>
{head}
</head><body>
{header_html(site)}
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="#">政务公开</a> &gt; <a href="#">法治政府建设</a></div>
{body}
<div class="related"><div class="hd">相关链接</div><ul><li><a href="#">关于开展2023年度法治政府建设督察的通知</a></li></ul></div>
{footer_html(site, site_id, "皖ICP备05012345号")}
</body></html>"""


# --- 1. the title is only in <meta property="og:title"> / <meta name="Title">; <title> is the site name ------

def case_og_title() -> Case:
    title = "繁昌区2022年度法治政府建设工作报告"
    site = "芜湖市繁昌区人民政府"
    lines = report_lines("繁昌区", 2022, "芜湖市繁昌区人民政府", "2023年3月26日")
    doc = page(site, f"""<meta property="og:title" content="{title}_{site}">
<meta property="og:site_name" content="{site}">""",
               f"""<div class="article"><div class="info">发布时间：2023-03-29 10:12　来源：区司法局</div>
<div class="TRS_Editor">{paras_html(lines)}</div>
<div class="tools"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div></div>""",
               site)
    return Case("og_title", doc, "https://www.fanchang.gov.cn/public/2000000/2023032912.html",
                dict(title=title, published_at="2023-03-29T10:12", source="区司法局", author=None),
                lines[0], lines[-3:], CHROME + ["发布时间", "来源"])


def case_meta_title_capital() -> Case:
    title = "南陵县人民政府关于2022年度法治政府建设情况的报告"
    site = "南陵县人民政府"
    lines = report_lines("南陵县", 2022, "南陵县人民政府", "2023年3月27日")
    doc = page(f"{site}", f"""<meta name="Title" content="{site} - 法治政府建设 - {title}">
<meta name="ColumnName" content="法治政府建设">""",
               f"""<div class="main"><div class="wzinfo">日期：2023年03月30日　作者：王芳　来源：县司法局　阅读次数：<span>312</span></div>
<div id="zoom">{paras_html(lines)}</div>
<div class="wzbot">【<a href="#">打印本页</a>】【<a href="#">关闭窗口</a>】</div></div>""",
               site)
    return Case("meta_title_capital", doc, None,
                dict(title=title, published_at="2023-03-30", source="县司法局", author="王芳"),
                lines[0], lines[-3:], CHROME + ["日期", "阅读次数", "作者"])


def case_meta_title_lower() -> Case:
    # both <meta name="title"> and a <title> that is 栏目_站名: the meta wins, column and site stripped
    title = "无为市2022年法治政府建设年度报告"
    site = "无为市人民政府"
    lines = report_lines("无为市", 2022, "无为市人民政府", "2023年3月20日")
    doc = page(f"法治政府建设_{site}", f"""<meta name="title" content="{title}|{site}">
<meta name="ColumnName" content="法治政府建设"><meta name="SiteName" content="{site}">""",
               f"""<div class="con"><div class="con-info">发布日期：2023-03-22　信息来源：无为市司法局</div>
<div class="TRS_UEDITOR">{paras_html(lines)}</div></div>""",
               site)
    return Case("meta_title_lower", doc, "https://www.ww.gov.cn/content/detail/641a1b2c7f8b9a3d.html",
                dict(title=title, published_at="2023-03-22", source="无为市司法局", author=None),
                lines[0], lines[-3:], CHROME + ["发布日期", "信息来源"])


# --- 2. a data table in the body: one row per line, cells separated by spaces --------------------------------

STATS_ROWS = [
    ["类别", "收案数（件）", "结案数（件）", "维持（件）", "撤销（件）", "确认违法（件）"],
    ["行政许可", "21", "20", "15", "3", "2"],
    ["行政处罚", "86", "84", "61", "12", "11"],
    ["行政强制", "9", "9", "7", "1", "1"],
    ["信息公开", "26", "25", "22", "2", "1"],
    ["合计", "142", "138", "105", "18", "15"],
]


def _word_table(rows: list[list[str]]) -> str:
    """A table pasted from Word into the editor: every cell wraps its text in <p><span>."""
    trs = []
    for r in rows:
        tds = "".join(f'<td width="95" valign="center" style="border:1px solid #000;padding:0 7px">'
                      f'<p style="text-align:center"><span style="font-family:仿宋_GB2312;font-size:14px">{esc(c)}</span></p></td>'
                      for c in r)
        trs.append(f"<tr>{tds}</tr>")
    return ('<table border="1" cellspacing="0" cellpadding="0" width="600" style="border-collapse:collapse">'
            f'<tbody>{"".join(trs)}</tbody></table>')


def _plain_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f'<table class="MsoTable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _table_case(name: str, table: str) -> Case:
    title = "镜湖区2022年法治政府建设年度报告"
    site = "芜湖市镜湖区人民政府"
    lines = report_lines("镜湖区", 2022, "芜湖市镜湖区人民政府", "2023年3月25日")
    body_html = (paras_html(lines[:5]) + '\n<p style="text-align:center">表1  2022年行政复议案件统计表</p>\n'
                 + table + "\n" + paras_html(lines[5:]))
    doc = page(f"{title}_{site}", '<meta name="ArticleTitle" content="%s">' % title,
               f"""<div class="article"><h1>{title}</h1>
<div class="info">发布时间：2023-03-28　来源：镜湖区司法局　浏览次数：<span>90</span></div>
<div id="zoom">{body_html}</div>
<div class="tools"><a href="#">打印</a> <a href="#">关闭</a></div></div>""", site)
    return Case(name, doc, "https://www.jinghu.gov.cn/openness/public/6596441/35027311.html",
                dict(title=title, published_at="2023-03-28", source="镜湖区司法局", author=None),
                lines[0], lines[-3:], CHROME + ["发布时间", "浏览次数"])


def case_table_word() -> Case:
    return _table_case("table_word", _word_table(STATS_ROWS))


def case_table_plain() -> Case:
    return _table_case("table_plain", _plain_table(STATS_ROWS))


# --- 3. two candidate containers ----------------------------------------------------------------------------

def case_summary_and_zoom() -> Case:
    title = "弋江区2022年度法治政府建设情况报告"
    site = "芜湖市弋江区人民政府"
    lines = report_lines("弋江区", 2022, "芜湖市弋江区人民政府", "2023年3月24日")
    doc = page(f"{title}_{site}", "", f"""<div class="article"><div class="article-title">{title}</div>
<div class="article-info">发布时间：2023-03-27 09:30　来源：弋江区司法局</div>
<div class="summary content"><span class="lab">【导读】</span>2022年，弋江区深入学习贯彻习近平法治思想，法治政府建设取得新成效。本文介绍2022年度法治政府建设主要举措、存在不足和下一步安排。</div>
<div class="article-content"><div id="zoom">{paras_html(lines)}</div></div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
<div class="tools"><a href="#">【打印】</a><a href="#">【关闭】</a></div></div>""", site)
    return Case("summary_and_zoom", doc, None,
                dict(title=title, published_at="2023-03-27T09:30", source="弋江区司法局", author=None),
                lines[0], lines[-3:], CHROME + ["导读", "本文介绍", "发布时间"])


def case_trs_inside_article() -> Case:
    title = "鸠江区2022年法治政府建设工作报告"
    site = "芜湖市鸠江区人民政府"
    lines = report_lines("鸠江区", 2022, "芜湖市鸠江区人民政府", "2023年3月23日")
    doc = page(f"{site}-{title}", '<meta name="PubDate" content="2024-01-09 08:00">', f"""<div class="article">
<h2 class="tit">{title}</h2>
<p class="meta">发布时间：2023-03-28 16:20　　来源：鸠江区司法局　　作者：张伟　　【字体：<a>大</a> <a>中</a> <a>小</a>】</p>
<div class="TRS_Editor">{paras_html(lines)}</div>
<p class="tools"><a href="javascript:window.print()">打印</a> | <a href="javascript:window.close()">关闭</a> | <a href="#">收藏</a></p>
</div>""", site)
    return Case("trs_inside_article", doc, "https://www.jiujiang.gov.cn/xxgk/202303/t20230328_4512345.html",
                dict(title=title, published_at="2023-03-28T16:20", source="鸠江区司法局", author="张伟"),
                lines[0], lines[-3:], CHROME + ["发布时间", "字体", "收藏"])


# --- 4. the body is only a notice pointing at its attachments ------------------------------------------------

def case_notice_trs() -> Case:
    title = "湾沚区2022年度法治政府建设工作报告"
    site = "芜湖市湾沚区人民政府"
    doc = page(f"{title}_{site}", '<meta name="ArticleTitle" content="%s">' % title, f"""<div class="article">
<h1>{title}</h1>
<div class="info">发布时间：2023-03-30　来源：湾沚区司法局</div>
<div class="TRS_Editor"><p style="text-indent:2em">详见附件。</p></div>
<div class="fujian"><p>附件：</p><ul>
 <li><a href="./P020230330512345678901.pdf">湾沚区2022年度法治政府建设工作报告.pdf</a></li>
 <li><a href="./P020230330512345678902.doc">湾沚区2022年度法治政府建设工作报告.doc</a></li></ul></div>
<div class="tools"><a href="#">打印本页</a> <a href="#">关闭窗口</a></div></div>""", site)
    base = "https://www.wanzhi.gov.cn/xxgk/fzzfjs/202303/"
    return Case("notice_trs", doc, base + "t20230330_4512399.html",
                dict(title=title, published_at="2023-03-30", source="湾沚区司法局", author=None),
                "详见附件。", ["详见附件。"], CHROME + ["发布时间", ".pdf", ".doc", "附件："],
                attachments=[(base + "P020230330512345678901.pdf", "湾沚区2022年度法治政府建设工作报告.pdf"),
                             (base + "P020230330512345678902.doc", "湾沚区2022年度法治政府建设工作报告.doc")])


def case_notice_generic() -> Case:
    # no CMS container: a short generic .content box with a 点击下载 line and its link
    title = "三山经济开发区2022年度法治政府建设情况报告"
    site = "芜湖市三山经济开发区管委会"
    doc = page(f"{title}-{site}", "", f"""<div class="wrap">
<div class="title">{title}</div>
<div class="source">日期：2023-03-31　来源：开发区党政办</div>
<div class="content"><p>《三山经济开发区2022年度法治政府建设情况报告》全文请点击下载：</p>
<p><a href="/uploadfile/2023/0331/20230331101512345.pdf">三山经济开发区2022年度法治政府建设情况报告</a></p></div>
<div class="tools"><a href="#">【打印】</a> <a href="#">【关闭】</a></div></div>""", site)
    return Case("notice_generic", doc, "https://www.sanshan.gov.cn/news/show-12345.html",
                dict(title=title, published_at="2023-03-31", source="开发区党政办", author=None),
                "《三山经济开发区2022年度法治政府建设情况报告》全文请点击下载：",
                ["三山经济开发区2022年度法治政府建设情况报告"], CHROME + ["日期"],
                attachments=[("https://www.sanshan.gov.cn/uploadfile/2023/0331/20230331101512345.pdf",
                              "三山经济开发区2022年度法治政府建设情况报告")])


# --- 5. editor markup: <div> per paragraph, &nbsp; indents, <p><br></p> spacers; old WCM <font>; iframe PDF ---

def case_div_paragraphs() -> Case:
    title = "芜湖市2022年度法治政府建设情况报告"
    site = "芜湖市人民政府"
    lines = report_lines("芜湖市", 2022, "芜湖市人民政府", "2023年3月28日")
    divs = []
    for i, x in enumerate(lines):
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" if i % 2 else "\u3000\u3000"
        divs.append(f"<div>{indent}{esc(x)}</div>")
        if i in (0, 4, 8):
            divs.append("<p><br></p>")
        if i == 9:
            divs.append("<div><br/></div><div>&nbsp;</div>")
    doc = page(f"{title}_{site}", "", f"""<div class="detail"><div class="detail-title">{title}</div>
<div class="detail-info"><span>发布时间：2023-03-29 17:03</span><span>来源：市司法局</span><span>浏览量：<i>1203</i></span></div>
<div class="detail-content">{"".join(divs)}</div>
<div class="detail-tools"><a href="#">打印本页</a><a href="#">关闭窗口</a></div></div>""", site)
    return Case("div_paragraphs", doc, "https://www.wuhu.gov.cn/openness/public/6596121/1234567.html",
                dict(title=title, published_at="2023-03-29T17:03", source="市司法局", author=None),
                lines[0], lines[-3:], CHROME + ["发布时间", "浏览量", "\xa0"])


def case_wcm_font() -> Case:
    title = "繁昌县人民政府2015年度法治政府建设情况报告"
    lines = report_lines("繁昌县", 2015, "繁昌县人民政府", "2016年3月18日")
    paras = "".join(f'<P style="TEXT-INDENT: 2em; MARGIN: 0px; LINE-HEIGHT: 150%"><FONT face=仿宋_GB2312 size=4>'
                    f'<FONT color=#000000>{esc(x)}</FONT></FONT></P>\r\n' for x in lines[:-2])
    paras += (f'<P align=right><FONT face=仿宋_GB2312 size=4>{lines[-2]}</FONT></P>\r\n'
              f'<P align=right><FONT face=仿宋_GB2312 size=4>{lines[-1]}</FONT></P>')
    doc = f"""<HTML><HEAD><META http-equiv=Content-Type content="text/html; charset=utf-8">
<TITLE>{title}</TITLE></HEAD>
<BODY leftMargin=0 topMargin=0>
<TABLE width=980 align=center><TR><TD><FONT size=2>您现在的位置：<A href="/">首页</A> &gt;&gt; <A href="#">依法行政</A></FONT></TD></TR></TABLE>
<TABLE width=980 align=center><TR><TD align=middle><FONT style="FONT-SIZE: 20px; COLOR: #c00000"><B>{title}</B></FONT></TD></TR>
<TR><TD align=middle><FONT color=#666666 size=2>发布时间：2016-03-21 &nbsp; 来源：县法制办 &nbsp; 点击数：<SPAN>48</SPAN></FONT></TD></TR>
<TR><TD class=TRS_Editor>{paras}</TD></TR>
<TR><TD align=right><A href="javascript:window.print()"><FONT size=2>[打印此页]</FONT></A> <A href="javascript:window.close()"><FONT size=2>[关闭窗口]</FONT></A></TD></TR></TABLE>
<TABLE width=980 align=center><TR><TD align=middle><FONT size=2>版权所有：繁昌县人民政府 &nbsp; 皖ICP备05001234号</FONT></TD></TR></TABLE>
</BODY></HTML>"""
    return Case("wcm_font", doc, "http://www.fanchang.gov.cn/content/detail/2016/03/21/56ef8a2b.html",
                dict(title=title, published_at="2016-03-21", source="县法制办", author=None),
                lines[0], lines[-3:], ["您现在的位置", "发布时间", "点击数", "打印", "关闭", "版权所有", "ICP备"])


def case_iframe_pdf() -> Case:
    title = "鸠江区2023年法治政府建设年度报告"
    site = "芜湖市鸠江区人民政府"
    notice = "鸠江区2023年法治政府建设年度报告全文如下（如无法显示，请下载附件查看）："
    doc = page(f"{title}_{site}", "", f"""<div class="article"><h1>{title}</h1>
<div class="info">发布时间：2024-03-26　来源：鸠江区司法局</div>
<div id="zoom"><p>{notice}</p>
<p><iframe src="/pdfjs/web/viewer.html?file=/group1/M00/2024/0326/report.pdf" width="100%" height="800"></iframe></p>
<p>附件：<a href="/group1/M00/2024/0326/report.pdf">鸠江区2023年法治政府建设年度报告.pdf</a></p></div>
<div class="tools"><a href="#">打印</a> <a href="#">关闭</a></div></div>""", site)
    return Case("iframe_pdf", doc, "https://www.jiujiang.gov.cn/public/2024/03/26/1234.html",
                dict(title=title, published_at="2024-03-26", source="鸠江区司法局", author=None),
                notice, ["附件：鸠江区2023年法治政府建设年度报告.pdf"], CHROME + ["viewer.html", "发布时间"],
                attachments=[("https://www.jiujiang.gov.cn/group1/M00/2024/0326/report.pdf",
                              "鸠江区2023年法治政府建设年度报告.pdf")])


# --- 6. the 信息公开 attribute table above the body -----------------------------------------------------------

XXGK_CHROME = ["索引号", "索 引 号", "发布机构", "生成日期", "发布日期", "主题分类", "文号", "11340", "芜司",
               "政府办公室"]


def case_xxgk_colon_cells() -> Case:
    title = "芜湖市司法局2022年度法治政府建设情况报告"
    site = "芜湖市人民政府"
    lines = report_lines("芜湖市司法局", 2022, "芜湖市司法局", "2023年3月20日")
    doc = page(f"{title}_{site}", '<meta name="PubDate" content="2024-02-01 10:00">', f"""<div class="xxgk-detail">
<table class="table_suoyin"><tbody>
<tr><th>索 引 号：</th><td>11340200003115117X/202303-00012</td><th>发布机构：</th><td>芜湖市司法局</td></tr>
<tr><th>主题分类：</th><td>政府法制</td><th>文　　号：</th><td>芜司〔2023〕12号</td></tr>
<tr><th>生成日期：</th><td>2023-03-21</td><th>发布日期：</th><td>2023-03-24</td></tr>
<tr><th>名　　称：</th><td colspan="3">{title}</td></tr></tbody></table>
<div class="wztit">{title}</div>
<div class="j-fontContent" id="zoom">{paras_html(lines)}</div>
<div class="wzbot">【<a href="#">打印本页</a>】【<a href="#">关闭窗口</a>】</div></div>""", site)
    return Case("xxgk_colon_cells", doc, "https://www.wuhu.gov.cn/openness/public/6596121/1234599.html",
                dict(title=title, published_at="2023-03-24", source=None, author=None),
                lines[0], lines[-3:], CHROME + XXGK_CHROME)


def case_xxgk_in_container() -> Case:
    # the attribute table sits inside the only (generic) container, labels without colons, one per cell
    title = "繁昌区人民政府关于2022年度法治政府建设情况的报告"
    site = "芜湖市繁昌区人民政府"
    lines = report_lines("繁昌区", 2022, "芜湖市繁昌区人民政府", "2023年3月19日")
    doc = page(f"{title}_{site}", "", f"""<div class="article-content">
<table class="xxgk_table"><tbody>
<tr><td class="lab">索引号</td><td>113402220031163589/202303-00021</td><td class="lab">发布机构</td><td>繁昌区政府办公室</td></tr>
<tr><td class="lab">主题分类</td><td>综合政务</td><td class="lab">文号</td><td>繁政〔2023〕8号</td></tr>
<tr><td class="lab">生成日期</td><td>2023-03-22</td><td class="lab">发布日期</td><td>2023-03-25</td></tr></tbody></table>
<h1>{title}</h1>
{paras_html(lines)}
<div class="tools"><a href="#">打印本页</a> <a href="#">关闭窗口</a></div></div>""", site)
    return Case("xxgk_in_container", doc, None,
                dict(title=title, published_at="2023-03-25", source=None, author=None),
                lines[0], lines[-3:], CHROME + XXGK_CHROME)


def case_xxgk_vertical_no_colons() -> Case:
    # a two-column attribute table above the body: label cells without colons, Word-style <p> inside cells;
    # 生成日期 comes before 发布日期 and the PubDate meta is a later regeneration date
    title = "芜湖市生态环境局2022年度法治政府建设工作报告"
    site = "芜湖市人民政府"
    lines = report_lines("芜湖市生态环境局", 2022, "芜湖市生态环境局", "2023年3月17日")
    rows = [("索 引 号", "113402000031152467/202303-00007"), ("发布机构", "芜湖市生态环境局"),
            ("生成日期", "2023-03-21"), ("发布日期", "2023-03-24"), ("主题分类", "环境保护"), ("文 号", "")]
    trs = "".join(f'<tr><td class="t1"><p>{k}</p></td><td class="t2"><p><span>{v}</span></p></td></tr>' for k, v in rows)
    doc = page(f"{title}_{site}", '<meta name="PubDate" content="2024-02-01 10:00">', f"""<div class="xxgk">
<table class="xxgk-attr" width="100%"><tbody>{trs}</tbody></table>
<h1 class="xxgk_title">{title}</h1>
<div class="TRS_Editor">{paras_html(lines)}</div>
<div class="tools"><a href="#">【打印】</a><a href="#">【关闭】</a></div></div>""", site)
    return Case("xxgk_vertical_no_colons", doc, None,
                dict(title=title, published_at="2023-03-24", source=None, author=None),
                lines[0], lines[-3:], CHROME + XXGK_CHROME)


# --- 7. a <br>-only body keeps its closing lines; a 300 KB body (timed in its own test) -----------------------

def case_br_only() -> Case:
    title = "镜湖区2023年度法治政府建设工作报告"
    site = "芜湖市镜湖区人民政府"
    lines = report_lines("镜湖区", 2023, "芜湖市镜湖区人民政府", "2024年3月25日")
    body = "<br>\n".join("&nbsp;&nbsp;&nbsp;&nbsp;" + esc(x) for x in lines) + "<br><br>"
    doc = page(f"{title}_{site}", "", f"""<div class="article"><h1>{title}</h1>
<div class="info">发布时间：2024-03-28 11:00　来源：镜湖区司法局　作者：刘金兰</div>
<div class="article_content">{body}</div>
<div class="tools"><a href="#">打印本页</a> <a href="#">关闭窗口</a></div></div>""", site)
    return Case("br_only", doc, None,
                dict(title=title, published_at="2024-03-28T11:00", source="镜湖区司法局", author="刘金兰"),
                lines[0], lines[-3:], CHROME + ["发布时间"])


def long_page() -> tuple[str, list[str]]:
    lines = report_lines("镜湖区", 2022, "芜湖市镜湖区人民政府", "2023年3月25日")
    filler = [f"（{i}）第{i}项工作：严格落实行政执法公示制度，全面推行执法全过程记录，评查行政执法案卷{i}卷，整改问题{i % 37}个，"
              f"并将评查结果纳入法治政府建设考核，持续提升依法行政水平。" for i in range(1, 2400)]
    body = lines[:5] + filler + lines[5:]
    title = "镜湖区2022年度法治政府建设工作报告（全文）"
    doc = page(f"{title}_芜湖市镜湖区人民政府", "", f"""<div class="article"><h1>{title}</h1>
<div class="info">发布时间：2023-03-28　来源：镜湖区司法局</div>
<div class="TRS_Editor">{paras_html(body)}</div></div>""", "芜湖市镜湖区人民政府")
    return doc, body


CASES = [case_og_title(), case_meta_title_capital(), case_meta_title_lower(), case_table_word(), case_table_plain(),
         case_summary_and_zoom(), case_trs_inside_article(), case_notice_trs(), case_notice_generic(),
         case_div_paragraphs(), case_wcm_font(), case_iframe_pdf(), case_xxgk_colon_cells(), case_xxgk_in_container(),
         case_xxgk_vertical_no_colons(), case_br_only()]


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def case(request):
    c = request.param
    return c, analyse(c.content, url=c.url)


def test_fields(case):
    c, page = case
    got = {k: getattr(page.record, k) for k in c.expect}
    assert got == c.expect


def test_first_and_last_lines(case):
    c, page = case
    lines = page.record.text.split("\n")
    assert lines[0] == c.first, lines[:3]
    assert lines[-len(c.last):] == c.last, lines[-5:]


def test_no_chrome(case):
    c, page = case
    text = page.record.text
    leaked = [s for s in c.chrome if s in text]
    assert not leaked, f"chrome leaked: {leaked}\n---\n{text[:300]}\n...\n{text[-300:]}"


def test_attachments(case):
    c, page = case
    if c.attachments is not None:
        assert page.attachments == c.attachments


def test_extract_matches_analyse(case):
    c, page = case
    assert extract(c.content, url=c.url) == page.record


@pytest.mark.parametrize("kind", ["word", "plain"])
def test_table_rows_are_lines_with_separated_cells(kind):
    c = case_table_word() if kind == "word" else case_table_plain()
    lines = extract(c.content, url=c.url).text.split("\n")
    i = lines.index("表1 2022年行政复议案件统计表")  # a whitespace run inside a line reads as one space
    rows = lines[i + 1:i + 1 + len(STATS_ROWS)]
    assert [r.replace("\t", " ").split() for r in rows] == STATS_ROWS, rows
    assert lines[i + 1 + len(STATS_ROWS)] == "二、存在的不足和原因"


def test_div_paragraphs_are_one_per_line():
    c = case_div_paragraphs()
    lines = extract(c.content, url=c.url).text.split("\n")
    assert lines == report_lines("芜湖市", 2022, "芜湖市人民政府", "2023年3月28日")


def test_300kb_body_extracts_fast_and_whole():
    doc, body = long_page()
    assert len(doc.encode("utf-8")) > 300_000
    extract(doc)  # warm-up: lazy imports
    t0 = time.perf_counter()
    rec = extract(doc, url="https://www.jinghu.gov.cn/xxgk/202303/t20230328_1.html")
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed
    assert rec.title == "镜湖区2022年度法治政府建设工作报告（全文）"
    assert rec.text.split("\n") == body
    assert rec.published_at == "2023-03-28" and rec.source == "镜湖区司法局"
