"""Generality probe: page styles that tests/fixtures/build_pages.py and ../shared/realpages do not cover.

Every page is built here by a small helper, the way a real portal of that CMS family renders an article:
a provincial gov.cn-style portal, a GB18030 Hanweb page laid out in tables, a TRS page whose editor div sits
inside ``.view.TRS_UEDITOR``, a span-per-sentence ``<br>`` body, ``站名-栏目-标题`` titles, a regenerated
``PubDate`` meta, a city department (司法局), a traditional-script page and three look-alikes.  For each page
the test demands the exact title, that no chrome line survives in the text, that the report's closing lines
stay, and the publication date, source, region/adcode, report year and doc_type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import helpers
from helpers import esc, resolve_extract
from helpers import footer_html as helpers_footer_html

from crawler import extract  # noqa: E402

extract = resolve_extract(extract)


def report_lines(place: str, year: int, signer: str, signed: str) -> list[str]:
    """A short but realistic yearly report body: preamble, numbered parts, closing and signature."""
    led_by = "在省委、省政府的坚强领导下，" if place.endswith("省") else "在市委、市政府的坚强领导下，"
    return helpers.report_lines(place, year, signer, signed, led_by=led_by, measures=[
        "（一）依法全面履行政府职能。深化“放管服”改革，动态调整权责清单，政务服务事项全程网办率达到98.6%。",
        "（二）健全依法行政制度体系。严格落实规范性文件合法性审核机制，全年审核规范性文件37件，备案审查率100%。",
        "（三）严格规范公正文明执法。全面推行行政执法公示、执法全过程记录、重大执法决定法制审核制度，评查执法案卷286卷。",
        "（四）强化行政权力制约监督。办理行政复议案件142件，行政机关负责人出庭应诉率达到100%。",
    ])


@dataclass
class Case:
    name: str
    content: bytes | str
    url: str | None
    expect: dict
    chrome: list[str] = field(default_factory=list)   # must not occur anywhere in Record.text
    closing: list[str] = field(default_factory=list)  # must be the last lines of Record.text


FOOTER_CHROME = ["主办单位", "版权所有", "网站标识码", "ICP备", "公网安备"]


def footer_html(site: str, site_id: str, icp: str) -> str:
    return helpers_footer_html(site, site_id, icp, police="浙公网安备 33010002000001号")


# --- 1. provincial gov.cn-style portal: .pages-title / .pages-date with 来源 span / #UCAP-CONTENT --------------

def case_provincial_govcn() -> Case:
    title = "浙江省人民政府关于2022年度法治政府建设情况的报告"
    lines = report_lines("浙江省", 2022, "浙江省人民政府", "2023年3月28日")
    paras = "\n".join(f'<p style="text-indent:2em;">{esc(x)}</p>' for x in lines[:-2])
    paras += f'\n<p style="text-align:right;">{lines[-2]}</p>\n<p style="text-align:right;">{lines[-1]}</p>'
    doc = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{title}_浙江省人民政府门户网站</title>
<meta name="SiteName" content="浙江省人民政府门户网站">
<meta name="ColumnName" content="省政府文件">
<meta name="PubDate" content="2023-03-30 16:05">
</head><body>
<div class="topbar">欢迎访问浙江省人民政府门户网站 <a href="#">无障碍</a> <a href="#">长者模式</a> <a href="#">English</a></div>
<div class="header"><a href="/"><img alt="浙江省人民政府门户网站" src="/logo.png"></a></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="#">省政府</a></li><li><a href="#">政务公开</a></li><li><a href="#">政务服务</a></li><li><a href="#">互动交流</a></li></ul>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="#">政务公开</a> &gt; <a href="#">省政府文件</a></div>
<div class="article">
 <div class="pages-title">{title}</div>
 <div class="pages-date">2023-03-30 16:05 <span class="font">来源：浙江省司法厅</span>
   <span class="font">字号：<a>大</a> <a>中</a> <a>小</a></span> <span class="font"><a href="javascript:window.print()">打印</a></span></div>
 <div class="pages_content" id="UCAP-CONTENT">
{paras}
 </div>
 <div class="share">分享到：<a>微信</a> <a>微博</a> <a>QQ空间</a></div>
 <div class="related"><div class="hd">相关链接</div><ul><li><a href="#">浙江省人民政府关于2021年度法治政府建设情况的报告</a></li></ul></div>
</div>
{footer_html("浙江省人民政府", "3300000001", "浙ICP备05000001号")}
</body></html>"""
    return Case(
        "provincial_govcn", doc.encode("utf-8"), "https://www.zj.gov.cn/art/2023/3/30/art_1229019364_2467213.html",
        dict(title=title, published_at="2023-03-30T16:05", source="浙江省司法厅", region="浙江省", adcode="330000",
             report_year=2022, doc_type="annual_report"),
        chrome=["当前位置", "来源", "字号", "打印", "分享", "相关链接", "欢迎访问", "English", *FOOTER_CHROME],
        closing=["特此报告。", "浙江省人民政府", "2023年3月28日"],
    )


# --- 2. Hanweb JCMS in GB18030 bytes: table layout, #zoom, ArticleTitle/PubDate/ContentSource meta -------------

def case_hanweb_gb18030() -> Case:
    title = "安吉县人民政府关于2022年法治政府建设工作情况的报告"
    lines = report_lines("安吉县", 2022, "安吉县人民政府", "2023年3月20日")
    paras = "".join(f'<p style="text-indent:2em;"><font face="仿宋_GB2312" size="4">{esc(x)}</font></p>\r\n'
                    for x in lines)
    doc = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{title}</title>
<meta name="SiteName" content="安吉县人民政府">
<meta name="SiteDomain" content="www.anji.gov.cn">
<meta name="SiteIDCode" content="3305230001">
<meta name="ColumnName" content="法治政府建设">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="2023-03-24 09:30">
<meta name="ContentSource" content="县司法局">
</head><body>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr><td>
 <table width="100%"><tr><td class="topbar">今天是：2024年4月9日 星期二</td><td align="right"><a href="#">设为首页</a> | <a href="#">加入收藏</a></td></tr></table>
 <table width="100%"><tr><td height="30" class="bt_link">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="#">政务公开</a> &gt;&gt; <a href="#">法治政府建设</a></td></tr></table>
 <table width="100%" class="main"><tr><td align="center">
   <table width="90%"><tr><td class="title" align="center" style="font-size:22px;font-weight:bold">{title}</td></tr>
   <tr><td align="center" class="bt_content">发布日期：2023-03-24&nbsp;&nbsp;信息来源：县司法局&nbsp;&nbsp;浏览次数：<span id="hits">1324</span>&nbsp;&nbsp;【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</td></tr>
   <tr><td class="bt_content">
<!--ZJEG_RSS.content.begin--><meta name="ContentStart"><div id="zoom">
{paras}</div><meta name="ContentEnd"><!--ZJEG_RSS.content.end-->
   </td></tr>
   <tr><td align="right">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
   </table>
 </td></tr></table>
 <table width="100%" class="bottom"><tr><td align="center">主办：安吉县人民政府办公室　承办：安吉县大数据发展管理局<br>
 网站标识码：3305230001　浙ICP备05012345号-1　浙公网安备 33052302000123号<br>版权所有 &copy; 2015-2024 安吉县人民政府</td></tr></table>
</td></tr></table>
</body></html>"""
    return Case(
        "hanweb_gb18030", doc.encode("gb18030"), "https://www.anji.gov.cn/art/2023/3/24/art_1229211492_58912345.html",
        dict(title=title, published_at="2023-03-24", source="县司法局", region="湖州市安吉县", adcode="330523",
             report_year=2022, doc_type="annual_report"),
        chrome=["您现在的位置", "发布日期", "信息来源", "浏览次数", "字体", "打印本页", "关闭窗口", "今天是",
                "设为首页", "主办", "网站标识码", "ICP备", "版权所有"],
        closing=["特此报告。", "安吉县人民政府", "2023年3月20日"],
    )


# --- 3. TRS WCM: .TRS_Editor inside div.view.TRS_UEDITOR, date written by <script>, 相关附件 list -------------

def case_trs_ueditor() -> Case:
    title = "成都市武侯区2022年法治政府建设年度报告"
    lines = report_lines("武侯区", 2022, "成都市武侯区人民政府", "2023年3月27日")
    paras = "".join(f'<p style="text-indent:2em;line-height:1.75em;"><span style="font-family:仿宋;font-size:16px">'
                    f'{esc(x)}</span></p>' for x in lines)
    doc = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{title}-成都市武侯区人民政府门户网站</title>
<meta name="SiteName" content="成都市武侯区人民政府门户网站">
<meta name="ColumnName" content="法治政府建设">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="2023-03-28 10:21">
<meta name="ContentSource" content="区司法局">
<script>var _hmt = _hmt || [];</script>
</head><body>
<div class="head"><div class="logo"><img src="../../images/logo.png" alt="武侯区人民政府"></div>
<div class="search"><input type="text" placeholder="请输入关键字"><button>搜索</button></div></div>
<div class="nav"><a href="../../">首页</a><a href="#">走进武侯</a><a href="#">政务公开</a><a href="#">政务服务</a><a href="#">政民互动</a></div>
<div class="location">您当前的位置：<a href="../../">首页</a> &gt; <a href="../">政务公开</a> &gt; <a href="./">法治政府建设</a></div>
<div class="detail">
 <h2 class="tit">{title}</h2>
 <div class="info"><span>发布时间：<script>var pubdate="2023-03-28 10:21";document.write(pubdate.substring(0,10));</script></span>
   <span>来源：区司法局</span><span>浏览次数：<script>document.write(countNum);</script></span></div>
 <div class="view TRS_UEDITOR trs_paper_default trs_web"><div class="TRS_Editor">
{paras}
 </div></div>
 <div class="fujian"><p>相关附件：</p><ul>
  <li><a href="./P020230328560109871234.pdf" oldsrc="W020230328560109871234.pdf">成都市武侯区2022年法治政府建设年度报告.pdf</a></li>
 </ul></div>
 <div class="tools"><a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></div>
</div>
<script>
 var currentPage = 0; var countPage = 1;
 createPageHTML(countPage, currentPage, "index", "html");
</script>
{footer_html("成都市武侯区人民政府", "5101070001", "蜀ICP备05012345号")}
</body></html>"""
    return Case(
        "trs_ueditor", doc.encode("utf-8"), "https://www.cdwh.gov.cn/wuhou/c148091/2023-03/28/content_b3d7e0.shtml",
        dict(title=title, published_at="2023-03-28T10:21", source="区司法局", region="成都市武侯区", adcode="510107",
             report_year=2022, doc_type="annual_report"),
        chrome=["您当前的位置", "发布时间", "浏览次数", "相关附件", ".pdf", "【打印】", "【关闭】", *FOOTER_CHROME],
        closing=["特此报告。", "成都市武侯区人民政府", "2023年3月27日"],
    )


# --- 4. div.article-content, a <span style> per sentence, <br> line breaks instead of <p> ---------------------

def _sentence_spans(line: str) -> str:
    parts = [s + "。" for s in line.split("。")]
    parts[-1] = parts[-1][:-1]  # the text after the last 。 (empty when the line ends with one)
    parts = [p for p in parts if p]
    return "".join(f'<span style="font-family:仿宋_GB2312;font-size:16pt;">{esc(p)}</span>' for p in parts)


def case_span_br() -> Case:
    title = "洛阳市2022年度法治政府建设工作报告"
    lines = report_lines("洛阳市", 2022, "洛阳市人民政府", "2023年3月29日")
    body = "<br/>\n".join("&nbsp;&nbsp;&nbsp;&nbsp;" + _sentence_spans(x) for x in lines)
    doc = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>洛阳市人民政府 - {title}</title>
</head><body>
<div class="top">今天是2024年4月2日 星期二　<a href="#">手机版</a> | <a href="#">无障碍</a></div>
<div class="menu"><a href="/">网站首页</a><a href="#">洛阳概况</a><a href="#">政务公开</a><a href="#">办事服务</a></div>
<div class="position">位置：<a href="/">首页</a> » <a href="#">政务公开</a> » <a href="#">法治政府</a></div>
<div class="article">
 <h1>{title}</h1>
 <div class="article-info">时间：2023-03-30 09:00:12　来源：洛阳市司法局　作者：李明　点击数：<em>2481</em></div>
 <div class="article-content">
{body}
 </div>
 <div class="article-tools"><a href="#">打印本页</a> <a href="#">关闭窗口</a> <a href="#">返回顶部</a></div>
 <div class="prenext"><p>上一篇：<a href="#">洛阳市召开2023年法治政府建设工作会议</a></p><p>下一篇：<a href="#">洛阳市司法局开展行政执法案卷评查</a></p></div>
</div>
{footer_html("洛阳市人民政府", "4103000001", "豫ICP备05012345号")}
</body></html>"""
    return Case(
        "span_br", doc, "https://www.ly.gov.cn/html/1/2/10/34/11839571.html",
        dict(title=title, published_at="2023-03-30T09:00", source="洛阳市司法局", author="李明", region="河南省洛阳市",
             adcode="410300", report_year=2022, doc_type="annual_report"),
        chrome=["今天是", "位置：", "时间：", "点击数", "打印本页", "关闭窗口", "返回顶部", "上一篇", "下一篇",
                *FOOTER_CHROME],
        closing=["特此报告。", "洛阳市人民政府", "2023年3月29日"],
    )


# --- 5. <title> is 站名-栏目-标题 with hyphens, and another with |; in-page heading is an unrelated <h1> --------

def case_title_hyphens() -> Case:
    title = "滁州市2022年法治政府建设年度报告"
    lines = report_lines("滁州市", 2022, "滁州市人民政府", "2023年3月25日")
    paras = "".join(f"<p>{esc(x)}</p>" for x in lines)
    doc = f"""<html><head><meta charset="utf-8">
<title>滁州市人民政府-法治政府建设-{title}</title>
</head><body>
<h1 class="logo">滁州市人民政府</h1>
<div class="crumbs">首页 &gt; 政务公开 &gt; 法治政府建设</div>
<div class="wzy_main">
 <div class="wztit">{title}</div>
 <div class="wzinfo"><span>发布日期：2023-03-31</span> <span>发布机构：滁州市司法局</span> <span>字号：[ 大 中 小 ]</span></div>
 <div class="j-fontContent minh500" id="zoomcon">{paras}</div>
 <div class="wzbot"><a href="#">【打印本页】</a><a href="#">【关闭窗口】</a></div>
</div>
{footer_html("滁州市人民政府", "3411000001", "皖ICP备05012345号")}
</body></html>"""
    return Case(
        "title_hyphens", doc, "https://www.chuzhou.gov.cn/public/5902/111234567.html",
        dict(title=title, published_at="2023-03-31", source=None, region="安徽省滁州市", adcode="341100",
             report_year=2022, doc_type="annual_report"),
        chrome=["首页", "发布日期", "发布机构", "字号", "打印本页", "关闭窗口", *FOOTER_CHROME],
        closing=["特此报告。", "滁州市人民政府", "2023年3月25日"],
    )


def case_title_pipes() -> Case:
    title = "铜陵市义安区人民政府关于2022年度法治政府建设情况的报告"
    lines = report_lines("义安区", 2022, "铜陵市义安区人民政府", "2023年3月24日")
    paras = "".join(f"<p>{esc(x)}</p>" for x in lines)
    doc = f"""<html><head><meta charset="utf-8">
<title>铜陵市义安区人民政府 | 法治政府建设 | {title}</title>
</head><body>
<div class="top">义安区人民政府 <a href="#">简体版</a> <a href="#">繁體版</a></div>
<div class="navbar">当前位置：首页 &gt; 信息公开 &gt; 法治政府建设</div>
<div class="content">
 <div class="newstitle">{title}</div>
 <div class="newsinfo">2023-03-29 15:42:07　来源：义安区司法局　阅读：<span>556</span>次</div>
 <div class="newscontent">{paras}</div>
 <div class="share">分享：<a>微信</a> <a>微博</a></div>
</div>
{footer_html("铜陵市义安区人民政府", "3407060001", "皖ICP备05012399号")}
</body></html>"""
    return Case(
        "title_pipes", doc, "https://www.ahyian.gov.cn/public/6596211/1123456789.html",
        dict(title=title, published_at="2023-03-29T15:42", source="义安区司法局", region="铜陵市义安区",
             adcode="340706", report_year=2022, doc_type="annual_report"),
        chrome=["当前位置", "来源", "阅读", "分享", "繁體", *FOOTER_CHROME],
        closing=["特此报告。", "铜陵市义安区人民政府", "2023年3月24日"],
    )


# --- 6. PubDate meta is a 2024 regeneration date, the visible date is 2023-03-28; header date widget ---------

def case_regenerated_pubdate() -> Case:
    title = "宣城市宣州区2022年度法治政府建设情况报告"
    lines = report_lines("宣州区", 2022, "宣城市宣州区人民政府", "2023年3月27日")
    paras = "".join(f'<p style="text-indent:2em">{esc(x)}</p>' for x in lines)
    doc = f"""<html><head><meta charset="utf-8">
<title>{title}_宣州区人民政府</title>
<meta name="PubDate" content="2024-06-12 08:00:00">
<meta name="ContentSource" content="宣州区司法局">
</head><body>
<div class="date-widget">今天是2023年3月28日 星期二</div>
<div class="weather">宣城 多云 12℃~21℃</div>
<div class="bread">您的位置：<a>首页</a> &gt; <a>政务公开</a> &gt; <a>法治政府建设</a></div>
<div class="main">
 <div class="article_title">{title}</div>
 <div class="article_att">发布时间：2023-03-28 17:10　信息来源：宣州区司法局　浏览次数：<span>913</span></div>
 <div class="article_content">{paras}</div>
 <div class="article_print">【打印本页】　【关闭窗口】</div>
</div>
{footer_html("宣州区人民政府", "3418020001", "皖ICP备05012377号")}
</body></html>"""
    return Case(
        "regenerated_pubdate", doc, "https://www.xuanzhou.gov.cn/OpennessContent/show/2398765.html",
        dict(title=title, published_at="2023-03-28T17:10", source="宣州区司法局", region="宣城市宣州区",
             adcode="341802", report_year=2022, doc_type="annual_report"),
        chrome=["今天是", "多云", "您的位置", "发布时间", "浏览次数", "打印本页", "关闭窗口", *FOOTER_CHROME],
        closing=["特此报告。", "宣城市宣州区人民政府", "2023年3月27日"],
    )


# --- 7. a city department (XX市司法局): the region is the city --------------------------------------------

def case_city_department() -> Case:
    title = "宿州市司法局2022年度法治政府建设工作报告"
    lines = report_lines("市司法局", 2022, "宿州市司法局", "2023年2月20日")
    paras = "".join(f"<p>{esc(x)}</p>" for x in lines)
    doc = f"""<html><head><meta charset="utf-8">
<title>{title}_宿州市司法局</title>
<meta name="SiteName" content="宿州市司法局">
</head><body>
<div class="hd"><span class="site">宿州市司法局</span></div>
<div class="wz">当前位置：<a>首页</a> &gt; <a>信息公开</a> &gt; <a>法治政府建设年度报告</a></div>
<div class="detail">
 <h1>{title}</h1>
 <p class="meta">发布时间：2023-02-22 10:03　来源：宿州市司法局　【字体：大 中 小】</p>
 <div class="article-content">{paras}</div>
 <p class="tools">打印　|　关闭</p>
</div>
{footer_html("宿州市司法局", "3413000012", "皖ICP备05012388号")}
</body></html>"""
    return Case(
        "city_department", doc, "https://sfj.ahsz.gov.cn/public/2653/149876543.html",
        dict(title=title, published_at="2023-02-22T10:03", source="宿州市司法局", region="安徽省宿州市",
             adcode="341300", report_year=2022, doc_type="annual_report"),
        chrome=["当前位置", "发布时间", "字体", "打印", *FOOTER_CHROME],
        closing=["特此报告。", "宿州市司法局", "2023年2月20日"],
    )


# --- 8. a traditional-script page (繁體 version served by a conversion gateway) ------------------------------

def case_traditional() -> Case:
    title = "珠海市香洲區人民政府關於2022年度法治政府建設情況的報告"
    body = [
        "2022年，在市委、市政府和區委的堅強領導下，香洲區堅持以習近平新時代中國特色社會主義思想為指導，深入學習貫徹習近平法治思想，法治政府建設取得新成效。現將有關情況報告如下：",
        "一、2022年度推進法治政府建設的主要舉措和成效",
        "（一）依法全面履行政府職能。深化“放管服”改革，動態調整權責清單，政務服務事項全程網辦率達到98.6%。",
        "（二）嚴格規範公正文明執法。全面推行行政執法“三項制度”，評查執法案卷286卷。",
        "二、存在的不足和原因",
        "一是基層法治力量仍然薄弱；二是部分執法人員法治意識和執法能力有待提高。",
        "三、下一年度推進法治政府建設的主要安排",
        "持續深化法治政府建設示範創建，壓實黨政主要負責人履行推進法治建設第一責任人職責。",
        "特此報告。",
        "珠海市香洲區人民政府",
        "2023年3月27日",
    ]
    paras = "".join(f"<p>{esc(x)}</p>" for x in body)
    doc = f"""<html><head><meta charset="utf-8">
<title>{title}_珠海市香洲區人民政府門戶網站</title>
</head><body>
<div class="top"><a href="#">簡體版</a> | <a href="#">無障礙瀏覽</a> | <a href="#">長者模式</a></div>
<div class="crumb">當前位置：<a>首頁</a> &gt; <a>政務公開</a> &gt; <a>法治政府建設</a></div>
<div class="article">
 <h1>{title}</h1>
 <div class="info">發布時間：2023-03-29 09:15　來源：香洲區司法局　瀏覽次數：<span>311</span></div>
 <div class="article_content">{paras}</div>
 <div class="tools">【打印本頁】【關閉窗口】</div>
 <div class="share">分享到：<a>微信</a> <a>微博</a></div>
</div>
<div class="footer"><p>主辦單位：珠海市香洲區人民政府辦公室</p><p>版權所有：珠海市香洲區人民政府　網站標識碼：4404020001　粵ICP備05012345號</p></div>
</body></html>"""
    return Case(
        "traditional", doc, "https://www.zhxz.gov.cn/zwgk/fzzfjs/content/post_3512345.html",
        dict(title=title, published_at="2023-03-29T09:15", source="香洲區司法局", region="珠海市香洲区",
             adcode="440402", report_year=2022, doc_type="annual_report"),
        chrome=["當前位置", "發布時間", "瀏覽次數", "打印本頁", "關閉窗口", "分享", "主辦", "版權所有", "網站標識碼",
                "ICP備", "簡體版"],
        closing=["特此報告。", "珠海市香洲區人民政府", "2023年3月27日"],
    )


# --- 9. look-alikes that are not the annual report ----------------------------------------------------------

def _simple_page(title: str, paras: list[str], date: str, source: str) -> str:
    body = "".join(f"<p>{esc(x)}</p>" for x in paras)
    return f"""<html><head><meta charset="utf-8"><title>{title}_泾县人民政府</title></head><body>
<div class="crumb">当前位置：首页 &gt; 政务公开</div>
<div class="article"><h1>{title}</h1>
<div class="info">发布时间：{date}　来源：{source}　浏览次数：28</div>
<div class="article-content">{body}</div>
<div class="tools">【打印本页】【关闭窗口】</div></div>
{footer_html("泾县人民政府", "3418230001", "皖ICP备05012311号")}
</body></html>"""


def case_lookalike_plan() -> Case:
    title = "关于印发《泾县2023年法治政府建设工作要点》的通知"
    paras = ["各乡镇人民政府，县政府各部门：",
             "现将《泾县2023年法治政府建设工作要点》印发给你们，请结合实际认真贯彻落实。",
             "泾县人民政府办公室", "2023年3月10日"]
    return Case("lookalike_plan", _simple_page(title, paras, "2023-03-13 16:20", "县政府办"), None,
                dict(title=title, published_at="2023-03-13T16:20", source="县政府办", region="宣城市泾县",
                     adcode="341823", report_year=None, doc_type="plan"),
                chrome=["当前位置", "发布时间", *FOOTER_CHROME], closing=["泾县人民政府办公室", "2023年3月10日"])


def case_lookalike_xxgk() -> Case:
    title = "泾县人民政府2022年政府信息公开工作年度报告"
    paras = ["本报告根据《中华人民共和国政府信息公开条例》要求编制，全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况等内容。",
             "一、总体情况", "2022年，泾县坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开。",
             "泾县人民政府", "2023年1月18日"]
    return Case("lookalike_xxgk", _simple_page(title, paras, "2023-01-19 09:00", "县政务公开办"), None,
                dict(title=title, published_at="2023-01-19T09:00", source="县政务公开办", region="宣城市泾县",
                     adcode="341823", report_year=None, doc_type="other"),
                chrome=["当前位置", "发布时间", *FOOTER_CHROME], closing=["泾县人民政府", "2023年1月18日"])


def case_lookalike_news() -> Case:
    title = "泾县召开法治政府建设示范创建工作推进会"
    paras = ["3月21日，泾县召开法治政府建设示范创建工作推进会，县委常委、常务副县长出席会议并讲话。",
             "会议通报了2022年度法治政府建设工作情况，部署了2023年示范创建重点任务。",
             "（县司法局 供稿）"]
    return Case("lookalike_news", _simple_page(title, paras, "2023-03-22 08:45", "县司法局"), None,
                dict(title=title, published_at="2023-03-22T08:45", source="县司法局", region="宣城市泾县",
                     adcode="341823", report_year=None, doc_type="news"),
                chrome=["当前位置", "发布时间", *FOOTER_CHROME], closing=["（县司法局 供稿）"])


# --- 10. a long title broken over two lines in <h1> (<br>), an unlabelled date under it ----------------------

def case_split_heading() -> Case:
    title = "福州市鼓楼区人民政府关于2022年度法治政府建设情况的报告"
    lines = report_lines("鼓楼区", 2022, "福州市鼓楼区人民政府", "2023年3月27日")
    paras = "".join(f"<p>{esc(x)}</p>" for x in lines)
    doc = f"""<html><head><meta charset="utf-8"><title>法治政府建设 - 福州市鼓楼区人民政府</title></head><body>
<div class="crumb">您现在所在的位置：首页 &gt; 法治政府建设</div>
<h1 class="art-title">福州市鼓楼区人民政府关于2022年度<br>法治政府建设情况的报告</h1>
<div class="art-date">2023-03-28</div>
<div class="TRS_Editor">{paras}</div>
<div class="qr">扫一扫在手机打开当前页</div>
{footer_html("福州市鼓楼区人民政府", "3501020001", "闽ICP备05012345号")}
</body></html>"""
    return Case(
        "split_heading", doc, "https://www.gl.gov.cn/xxgk/fzzfjs/content_4567.html",
        dict(title=title, published_at="2023-03-28", source=None, region="福州市鼓楼区", adcode="350102",
             report_year=2022, doc_type="annual_report"),
        chrome=["所在的位置", "扫一扫", *FOOTER_CHROME],
        closing=["特此报告。", "福州市鼓楼区人民政府", "2023年3月27日"],
    )


# --- 11. 繁體 page whose one generic wrapper holds breadcrumb, title, metadata, body and tool links -----------

def case_traditional_one_wrapper() -> Case:
    title = "潮州市湘橋區2022年度法治政府建設工作報告"
    body = [
        "2022年，湘橋區堅持以習近平法治思想為指導，全面落實法治政府建設各項任務，現將有關情況報告如下：",
        "一、主要舉措和成效",
        "（一）深化“放管服”改革，動態調整權責清單，政務服務事項全程網辦率達到98.6%。",
        "（二）嚴格規範公正文明執法，評查執法案卷286卷，行政機關負責人出庭應訴率100%。",
        "二、存在的不足和下一步安排",
        "基層法治力量仍然薄弱，下一步將持續深化法治政府建設示範創建。",
        "潮州市湘橋區人民政府",
        "2023年3月26日",
    ]
    paras = "".join(f"<p>{esc(x)}</p>" for x in body)
    doc = f"""<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="content">
 <div class="crumb">您當前所在的位置：首頁 &gt; 政務公開 &gt; 法治政府建設</div>
 <h2>{title}</h2>
 <div>發布日期：2023-03-30　信息來源：湘橋區司法局　閱讀次數：12</div>
 {paras}
 <div>【打印本頁】【關閉窗口】</div>
 <div>分享到：微信 微博</div>
</div>
<div class="foot">版權所有：潮州市湘橋區人民政府　粵ICP備05012345號</div>
</body></html>"""
    return Case(
        "traditional_one_wrapper", doc, None,
        dict(title=title, published_at="2023-03-30", source="湘橋區司法局", region="潮州市湘桥区", adcode="445102",
             report_year=2022, doc_type="annual_report"),
        chrome=["當前", "發布日期", "閱讀次數", "打印", "關閉窗口", "分享", "版權所有"],
        closing=["潮州市湘橋區人民政府", "2023年3月26日"],
    )


# --- 12. the metadata line opens with a date and its weekday ("2023年03月28日 星期二　来源：…") -------------

def case_weekday_meta() -> Case:
    title = "宣城市2022年法治政府建设年度报告"
    lines = report_lines("宣城市", 2022, "宣城市人民政府", "2023年3月27日")
    paras = "".join(f"<p>{esc(x)}</p>" for x in lines)
    doc = f"""<html><head><meta charset="utf-8"><title>{title}</title>
<meta name="PubDate" content="2024-01-05 12:00"></head><body>
<div class="path">首页 &gt; 政务公开 &gt; 法治政府建设</div>
<h1>{title}</h1>
<div class="info">2023年03月28日 星期二　来源：宣城市司法局　浏览：<span>88</span>次</div>
<div id="zoom">{paras}</div>
{footer_html("宣城市人民政府", "3418000001", "皖ICP备05012300号")}
</body></html>"""
    return Case(
        "weekday_meta", doc, None,
        dict(title=title, published_at="2023-03-28", source="宣城市司法局", region="安徽省宣城市", adcode="341800",
             report_year=2022, doc_type="annual_report"),
        chrome=["首页", "星期二", "浏览", *FOOTER_CHROME],
        closing=["特此报告。", "宣城市人民政府", "2023年3月27日"],
    )


CASES = [case_provincial_govcn(), case_hanweb_gb18030(), case_trs_ueditor(), case_span_br(), case_title_hyphens(),
         case_title_pipes(), case_regenerated_pubdate(), case_city_department(), case_traditional(),
         case_split_heading(), case_traditional_one_wrapper(),
         case_weekday_meta(),
         case_lookalike_plan(), case_lookalike_xxgk(), case_lookalike_news()]


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def case(request):
    c = request.param
    return c, extract(c.content, url=c.url)


def test_fields(case):
    c, rec = case
    got = {k: getattr(rec, k) for k in c.expect}
    assert got == c.expect


def test_no_chrome(case):
    c, rec = case
    leaked = [s for s in c.chrome if s in rec.text]
    assert not leaked, f"chrome leaked: {leaked}\n---\n{rec.text[:300]}\n...\n{rec.text[-300:]}"


def test_closing_lines_kept(case):
    c, rec = case
    lines = rec.text.split("\n")
    assert lines[-len(c.closing):] == c.closing, lines[-6:]


def test_body_starts_with_first_paragraph(case):
    c, rec = case
    first = rec.text.split("\n")[0]
    assert len(first) > 10 and "当前位置" not in first and first != c.expect["title"], first
