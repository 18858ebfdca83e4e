"""Classification tests: look-alike pages that are NOT 法治政府建设 annual reports, and annual reports whose
titles have unusual shapes.  Each case is wrapped as a small CMS page with a few body paragraphs."""

from __future__ import annotations

import html

import pytest

from helpers import resolve_extract

from crawler import extract  # noqa: E402

extract = resolve_extract(extract)

NEWS_BODY = [
    "3月15日上午，我区召开法治政府建设工作推进会，区委常委、常务副区长出席会议并讲话，区法治政府建设领导小组成员单位主要负责同志参加会议。",
    "会议通报了上一年度法治政府建设考核情况，解读了本年度法治政府建设工作要点，对法治政府建设示范创建、行政执法“三项制度”、行政复议体制改革等重点任务作了具体部署。",
    "会议强调，各单位要切实提高政治站位，深刻认识法治政府建设的重要意义，认真履行推进法治建设第一责任人职责，对标对表法治政府建设实施纲要，确保各项任务落地见效。",
    "会上，区司法局、区市场监管局、区城管局等单位作交流发言。（区司法局 供稿）",
]
INTERPRETATION_BODY = [
    "一、报告出台背景",
    "根据《法治政府建设与责任落实督察工作规定》要求，县级以上地方各级政府每年第一季度要向同级党委、人大常委会报告上一年度法治政府建设情况，并向社会公开。",
    "二、报告主要内容",
    "报告分为三个部分：一是主要举措和成效；二是存在的不足和原因；三是下一年度推进法治政府建设的主要安排。",
    "三、解读机关及联系方式",
    "解读机关：区司法局；解读人：张明；联系电话：0371-12345678。",
]
PLAN_BODY = [
    "各镇人民政府、街道办事处，区政府各部门、各直属机构：",
    "现将《法治政府建设实施方案》印发给你们，请结合实际认真贯彻落实。各单位要于每年11月底前将法治政府建设情况报区依法治区办。",
    "一、总体要求",
    "坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻习近平法治思想，到2025年，政府行为全面纳入法治轨道。",
    "二、主要任务",
    "（一）健全政府机构职能体系。（二）健全依法行政制度体系。（三）健全行政决策制度体系。（四）健全行政执法工作体系。",
]
REPORT_BODY = [
    "{year}年，在上级党委、政府的坚强领导下，我们坚持以习近平法治思想为指导，深入推进依法行政，法治政府建设取得新成效。现将有关情况报告如下：",
    "一、{year}年度推进法治政府建设的主要举措和成效",
    "（一）依法全面履行政府职能。深化“放管服”改革，动态调整权责清单，政务服务事项网上可办率达100%。",
    "（二）严格规范公正文明执法。全面落实行政执法“三项制度”，开展行政执法案卷评查，评查案卷120卷。",
    "二、存在的不足和原因",
    "基层法治力量仍较薄弱，个别执法人员法治意识有待提高。",
    "三、下一年度推进法治政府建设的主要安排",
    "持续深化法治政府建设示范创建，压实法治建设第一责任人职责。",
    "特此报告。",
]

NEGATIVES = [
    ("关于《惠济区2020年法治政府建设情况报告》的解读", "interpretation", INTERPRETATION_BODY),
    ("图解：洛阳市2022年度法治政府建设年度报告", "interpretation", INTERPRETATION_BODY),
    ("一图读懂《吉林市2022年度法治政府建设工作报告》", "interpretation", INTERPRETATION_BODY),
    ("关于2021年度法治政府建设工作报告的政策解读", "interpretation", INTERPRETATION_BODY),
    ("鼓楼区2021年法治政府建设工作要点", "plan", PLAN_BODY),
    ("关于印发《泾县法治政府建设实施方案（2021—2025年）》的通知", "plan", PLAN_BODY),
    ("关于开展2022年度法治政府建设年度报告工作的通知", "plan", PLAN_BODY),
    ("洛阳市法治政府建设规划（2021-2025年）", "plan", PLAN_BODY),
    ("红谷滩区2023年法治政府建设工作计划", "plan", PLAN_BODY),
    ("洛阳市2023年政府信息公开工作年度报告", "other", [
        "本报告根据《中华人民共和国政府信息公开条例》要求编制，全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况等内容。",
        "一、总体情况", "2023年，我市深入贯彻落实政府信息公开条例，主动公开政府信息12000余条。"]),
    ("2022年政府工作报告", "other", [
        "各位代表：", "现在，我代表区人民政府，向大会报告政府工作，请予审议，并请区政协委员提出意见。",
        "一、2021年工作回顾", "过去的一年，我们坚持稳中求进，统筹推进经济发展和法治政府建设，地区生产总值增长7.5%。"]),
    ("芜湖市2022年国民经济和社会发展统计公报", "other", [
        "2022年，全市上下坚持稳中求进工作总基调，经济运行总体平稳。", "一、综合", "初步核算，全年全市生产总值4502.1亿元，比上年增长2.5%。"]),
    ("芜湖市司法局局长2022年度述职述廉报告", "other", [
        "按照市委组织部安排，现将本人2022年度履行职责、法治政府建设和廉洁自律情况报告如下：",
        "一、履职情况", "牵头推进法治政府建设示范创建，组织起草法治政府建设年度报告。", "二、廉洁自律情况", "严格落实中央八项规定精神。"]),
    ("鼓楼区交通运输局主要负责人2022年度述法报告", "other", [
        "根据区委依法治区办部署，现将本人2022年度履行推进法治建设第一责任人职责情况述法如下：",
        "一、学法用法情况", "带头学习习近平法治思想，全年组织局党组理论学习中心组学法6次。"]),
    ("我区召开2021年度法治政府建设工作推进会", "news", NEWS_BODY),
    ("望城区获评全省法治政府建设示范地区", "news", NEWS_BODY),
    ("法治政府建设示范创建｜桥驿镇扎实推进基层法治建设", "news", NEWS_BODY),
    ("市司法局召开2022年度法治政府建设年度报告工作部署会", "news", NEWS_BODY),
]

POSITIVES = [
    ("芜湖市司法局关于2021年度法治政府建设工作情况的报告", 2021),
    ("泾县2022年度法治建设工作报告", 2022),
    ("鼓楼区人民政府2019年度依法行政工作报告", 2019),
    ("关于洛阳市2023年法治政府建设情况的报告", 2023),
    ("浙江省2020年法治政府建设年度报告", 2020),
]


def wrap(title: str, paragraphs: list[str], date: str = "2022-03-15 10:20") -> bytes:
    t = html.escape(title)
    body = "\n".join(f'<p style="text-indent:2em">{html.escape(p)}</p>' for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{t}_门户网站</title>
<meta name="ArticleTitle" content="{html.escape(title, quote=True)}"><meta name="PubDate" content="{date}:00">
</head><body>
<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/zt/">专题专栏</a></div>
<div class="crumbs">当前位置：首页 &gt; 专题专栏 &gt; 法治政府建设</div>
<div class="article"><h1>{t}</h1>
<div class="info">发布时间：{date}　来源：司法局　字体：大 中 小</div>
<div class="TRS_Editor">
{body}
</div>
<div class="tools">打印本页 关闭窗口</div></div>
<div class="footer">主办单位：人民政府办公室 版权所有</div>
</body></html>""".encode("utf-8")


@pytest.mark.parametrize("title,doc_type,body", NEGATIVES, ids=[f"neg{i:02d}-{n[1]}" for i, n in enumerate(NEGATIVES)])
def test_lookalike_is_not_annual_report(title, doc_type, body):
    rec = extract(wrap(title, body))
    assert rec.doc_type != "annual_report", f"{title}: a look-alike classified as annual_report"
    assert rec.doc_type == doc_type, f"{title}: expected {doc_type}, got {rec.doc_type}"


@pytest.mark.parametrize("title,year", POSITIVES, ids=[f"pos{i}-{p[1]}" for i, p in enumerate(POSITIVES)])
def test_annual_report_title_shapes(title, year):
    body = [line.format(year=year) for line in REPORT_BODY]
    rec = extract(wrap(title, body, date=f"{year + 1}-03-20 09:00"))
    assert rec.doc_type == "annual_report", title
    assert rec.report_year == year, title


def test_counts():
    assert len(NEGATIVES) >= 15 and len(POSITIVES) >= 5
