import csv
import time
from pathlib import Path

import pytest

from crawler.extract.regions import division, full_name, resolve_region, to_simplified

CSV = Path(__file__).resolve().parent.parent / "crawler" / "data" / "divisions.csv"


@pytest.fixture(scope="module")
def rows():
    with CSV.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: r for r in csv.DictReader(fh)}


def test_csv_shape(rows):
    levels = {}
    for r in rows.values():
        levels[r["level"]] = levels.get(r["level"], 0) + 1
        assert len(r["code"]) == 6 and r["code"].isdigit()
        assert r["name"] not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
        if r["level"] != "province":
            assert r["parent_code"] in rows
    assert levels["province"] == 31 and levels["city"] >= 330 and levels["county"] >= 2800
    assert rows["360113"]["name"] == "红谷滩区" and rows["360113"]["parent_code"] == "360100"
    assert rows["120118"]["parent_code"] == "120000"  # municipality district -> the municipality
    assert rows["419001"]["parent_code"] == "410000"  # 省直辖县级 -> the province
    assert rows["429004"]["name"] == "仙桃市" and rows["429004"]["parent_code"] == "420000"


# (title, kwargs, expected full name, expected code, expected short name in the CSV)
CASES = [
    ("镜湖区人民政府关于2020年法治政府建设情况的报告", {}, "芜湖市镜湖区", "340202", "镜湖区"),
    ("郑州市惠济区人民政府关于2022年度法治政府建设情况的报告", {}, "郑州市惠济区", "410108", "惠济区"),
    ("关于长沙市望城区2023年度法治政府建设情况的报告", {}, "长沙市望城区", "430112", "望城区"),
    ("吉林市2022年度法治政府建设工作报告", {}, "吉林省吉林市", "220200", "吉林市"),
    ("红谷滩区2020年度法治政府建设工作报告", {"source": "红谷滩区司法局"}, "南昌市红谷滩区", "360113", "红谷滩区"),
    ("芜湖市司法局关于2021年度法治政府建设情况的报告", {}, "安徽省芜湖市", "340200", "芜湖市"),
    ("芜湖市镜湖区司法局2021年度法治政府建设工作情况报告", {}, "芜湖市镜湖区", "340202", "镜湖区"),
    ("天津市静海区2022年法治政府建设年度报告", {}, "天津市静海区", "120118", "静海区"),
    ("静海区2022年法治政府建设年度报告", {}, "天津市静海区", "120118", "静海区"),
    ("鏡湖區人民政府關於2020年法治政府建設情況的報告", {}, "芜湖市镜湖区", "340202", "镜湖区"),
    ("朝阳区人民政府关于2020年法治政府建设情况的报告", {"site_name": "北京市朝阳区人民政府"},
     "北京市朝阳区", "110105", "朝阳区"),
    ("朝阳区人民政府关于2020年法治政府建设情况的报告", {"site_name": "长春市人民政府"},
     "长春市朝阳区", "220104", "朝阳区"),
    ("鼓楼区2020年法治政府建设年度报告", {"source": "福州市鼓楼区司法局"}, "福州市鼓楼区", "350102", "鼓楼区"),
    ("南京市鼓楼区2020年法治政府建设年度报告", {}, "南京市鼓楼区", "320106", "鼓楼区"),
    ("安徽省人民政府关于2020年法治政府建设情况的报告", {}, "安徽省", "340000", "安徽省"),
    ("吉林省2020年法治政府建设情况报告", {}, "吉林省", "220000", "吉林省"),
    ("天津市2020年法治政府建设情况报告", {}, "天津市", "120000", "天津市"),
    ("济源市2021年度法治政府建设工作报告", {}, "河南省济源市", "419001", "济源市"),
    ("仙桃市人民政府关于2021年法治政府建设情况的报告", {}, "湖北省仙桃市", "429004", "仙桃市"),
    ("恩施州2021年法治政府建设工作报告", {}, "湖北省恩施土家族苗族自治州", "422800", "恩施土家族苗族自治州"),
    ("关于2020年法治政府建设情况的报告", {"site_name": "万载县人民政府"}, "宜春市万载县", "360922", "万载县"),
    ("2022年度法治政府建设工作报告", {"text": "2022年，吉林市坚持以习近平新时代中国特色社会主义思想为指导"},
     "吉林省吉林市", "220200", "吉林市"),
    # conflicting context: the stronger evidence (source) decides
    ("鼓楼区2020年法治政府建设年度报告", {"source": "南京市司法局", "site_name": "福州市人民政府"},
     "南京市鼓楼区", "320106", "鼓楼区"),
    ("福州鼓楼区2021年法治政府建设年度报告", {}, "福州市鼓楼区", "350102", "鼓楼区"),
    ("阳泉市城区2021年法治政府建设年度报告", {}, "阳泉市城区", "140302", "城区"),
]


@pytest.mark.parametrize("title,kw,name,code,short", CASES)
def test_resolve(rows, title, kw, name, code, short):
    kw = dict(kw)
    text = kw.pop("text", "")
    assert rows[code]["name"] == short  # the expectation itself is checked against the vendored data
    assert resolve_region(title, text, **kw) == (name, code)
    assert full_name(code) == name


@pytest.mark.parametrize(
    "title,kw",
    [
        ("朝阳区人民政府关于2020年法治政府建设情况的报告", {}),
        ("鼓楼区2020年法治政府建设年度报告", {}),
        ("鼓楼区2020年法治政府建设年度报告", {"source": "上海市司法局"}),  # unrelated context does not pick one
        ("普陀区2021年法治政府建设情况报告", {"source": "区司法局"}),
        ("关于2020年法治政府建设情况的报告", {}),
        ("2020年度法治政府建设工作报告", {"source": "本站"}),
        ("城区2021年法治政府建设年度报告", {}),  # 城区 is a word as well as two divisions
        ("区政府和县委召开法治建设专题会议", {}),  # 和县 must not match inside a sentence
        (None, {}),
    ],
)
def test_unresolved(title, kw):
    assert resolve_region(title, "2020年，我区坚持以习近平新时代中国特色社会主义思想为指导", **kw) == (None, None)


def test_body_salutation_and_book_titles_are_not_evidence():
    text = "芜湖市人民政府：\n按照《安徽省法治政府建设实施方案》要求，现将我区情况报告如下"
    assert resolve_region("2020年度法治政府建设工作报告", text) == (None, None)


def test_forwarded_document_region_is_not_the_issuer():
    got = resolve_region("关于转发《安徽省2022年法治政府建设工作要点》的通知", "", site_name="芜湖市镜湖区人民政府")
    assert got == ("芜湖市镜湖区", "340202")


def test_title_beats_source_and_site():
    got = resolve_region("镜湖区人民政府关于2020年法治政府建设情况的报告", "",
                         source="芜湖市司法局", site_name="芜湖市人民政府")
    assert got == ("芜湖市镜湖区", "340202")


def test_helpers():
    assert division("340202").parent == "340200"
    assert division("999999") is None
    assert to_simplified("鏡湖區") == "镜湖区"
    assert to_simplified("镜湖区") == "镜湖区"


def test_speed():
    text = "2020年，在市委、市政府的坚强领导下，我区坚持以习近平新时代中国特色社会主义思想为指导。\n" * 50
    titles = [c[0] for c in CASES]
    resolve_region(titles[0], text)  # warm the caches
    t = time.perf_counter()
    for i in range(1000):
        resolve_region(titles[i % len(titles)], text, source="区司法局", site_name="人民政府")
    assert time.perf_counter() - t < 5.0
