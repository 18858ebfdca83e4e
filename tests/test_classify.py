import pytest

from crawler.extract.classify import classify, normalize_title, report_year
from crawler.extract.record import DOC_TYPES

TITLES = [
    # dated 情况 titles are the report itself; drafts and events are not
    ("某区2022年度法治政府建设工作情况", "annual_report"),
    ("某市法治政府建设年度报告（2022年）", "annual_report"),
    ("某市2022年度法治政府建设工作报告（征求意见稿）", "other"),
    ("某区召开2022年度法治政府建设工作情况通报会", "news"),
    ("关于某区2022年度法治政府建设工作情况的通报", "other"),
    ("某区法治政府建设工作情况", "other"),
    # annual reports
    ("镜湖区人民政府关于2020年法治政府建设情况的报告", "annual_report"),
    ("郑州市惠济区人民政府关于2022年度法治政府建设情况的报告", "annual_report"),
    ("关于长沙市望城区2023年度法治政府建设情况的报告", "annual_report"),
    ("吉林市2022年度法治政府建设工作报告", "annual_report"),
    ("红谷滩区2020年度法治政府建设工作报告", "annual_report"),
    ("芜湖市2020年度法治政府建设年度报告", "annual_report"),
    ("芜湖市司法局2021年度法治政府建设工作情况报告", "annual_report"),
    ("万载县2022年度法治建设工作报告", "annual_report"),
    ("芜湖市2019年度依法行政工作报告", "annual_report"),
    ("镜湖区2020年法治政府建设工作总结", "annual_report"),
    ("关于镜湖区2021年推进法治政府建设情况的报告", "annual_report"),
    ("镜湖区2021年度法治政府建设情况暨党政主要负责人履行推进法治建设第一责任人职责情况的报告", "annual_report"),
    ("镜湖區人民政府關於2020年法治政府建設情況的報告", "annual_report"),
    ("镜湖区2022年法治政府建设年度报告 - 芜湖市镜湖区人民政府", "annual_report"),
    ("镜湖区2022年法治政府建设年度报告（全文）", "annual_report"),
    ("镜湖区关于2021年度法治政府建设年度报告的公示", "annual_report"),
    # interpretations
    ("关于《镜湖区2020年法治政府建设情况报告》的解读", "interpretation"),
    ("图解：镜湖区2021年度法治政府建设年度报告", "interpretation"),
    ("一图读懂芜湖市2022年法治政府建设年度报告", "interpretation"),
    ("政策解读：《镜湖区2022年度法治政府建设工作报告》", "interpretation"),
    # plans
    ("关于印发《镜湖区2022年法治政府建设工作要点》的通知", "plan"),
    ("关于做好2022年度法治政府建设年度报告工作的通知", "plan"),
    ("芜湖市法治政府建设实施方案（2021—2025年）", "plan"),
    ("关于印发《镜湖区2020年法治政府建设情况报告》的通知", "plan"),
    ("芜湖市2023年法治政府建设工作安排", "plan"),
    # news
    ("镜湖区召开法治政府建设工作推进会", "news"),
    ("望城区获评第二批全省法治政府建设示范地区", "news"),
    ("省司法厅来我市调研法治政府建设工作", "news"),
    ("镜湖区举办法治政府建设专题培训班", "news"),
    # other, including look-alikes
    ("芜湖市2020年政府信息公开工作年度报告", "other"),
    ("2021年镜湖区政府工作报告", "other"),
    ("芜湖市2022年国民经济和社会发展统计公报", "other"),
    ("镜湖区司法局局长2021年度述职述廉报告", "other"),
    ("镜湖区2022年度述法报告", "other"),
    ("镜湖区2022年度党政主要负责人履行推进法治建设第一责任人职责情况报告", "other"),
    ("镜湖区法治政府建设第三方评估报告", "other"),
    ("镜湖区2022年度法治政府建设示范创建自查报告", "other"),
    ("2020年度工作报告", "other"),
    ("法治政府建设", "other"),
    ("关于公布2022年度行政执法案卷评查结果的通知", "other"),
    ("", "other"),
]


@pytest.mark.parametrize("title,expected", TITLES)
def test_classify_title(title, expected):
    assert classify(title, "") == expected
    assert expected in DOC_TYPES


def test_generic_title_body_does_not_make_a_report():
    body = "2020年，我区法治政府建设取得新成效。\n法治政府建设、法治政府建设、法治政府建设。"
    assert classify("2020年度工作报告", body) == "other"


def test_missing_title_uses_first_body_line():
    body = "镜湖区人民政府关于2020年法治政府\n建设情况的报告\n2020年，在市委、市政府和区委的坚强领导下……"
    assert classify(None, body) == "annual_report"
    assert report_year(None, body, "2021-03-31") == 2020
    assert classify(None, "2020年，在市委、市政府的坚强领导下，我区法治政府建设……") == "other"


def test_normalize_title():
    assert normalize_title(" 鏡湖區2022年法治政府建設年度報告_芜湖市镜湖区人民政府 ") == "镜湖区2022年法治政府建设年度报告"
    assert normalize_title(None) == ""


@pytest.mark.parametrize(
    "title,text,published,expected",
    [
        ("镜湖区人民政府关于2020年法治政府建设情况的报告", "", "2021-03-31", 2020),
        ("郑州市惠济区人民政府关于2022年度法治政府建设情况的报告", "", "2023-02-28 11:30:49", 2022),
        ("吉林市2022年度法治政府建设工作报告", "", "2023-02-15", 2022),
        ("镜湖区2020年法治政府建设工作总结", "", None, 2020),
        ("二〇二〇年度法治政府建设工作报告", "", "2021-01-20", 2020),
        ("关于2020年法治政府建设情况的报告（2021年3月）", "", "2021-03-31", 2020),
        # body first lines when the title has no year
        ("镜湖区法治政府建设年度报告", "市人民政府：\n2020年，在市委、市政府的坚强领导下", "2021-03-01", 2020),
        # published year - 1 for a report naming no year at all
        ("镜湖区法治政府建设年度报告", "我区坚持以习近平法治思想为指导", "2021-02-10", 2020),
        # ... but not for a non-report
        ("镜湖区召开法治政府建设工作推进会", "会议要求……", "2021-02-10", None),
        # spans and impossible years
        ("芜湖市法治政府建设实施方案（2021—2025年）", "2021年，……", "2021-06-01", None),
        ("芜湖市2021-2025年法治政府建设规划", "", "2021-06-01", None),
        ("关于2024年法治政府建设情况的报告", "", "2021-03-31", None),
        ("关于1998年依法行政工作情况的报告", "", "1999-03-31", None),
        ("法治政府建设年度报告", "", None, None),
    ],
)
def test_report_year(title, text, published, expected):
    assert report_year(title, text, published) == expected
