"""Coverage over the division tree, deadlines and the after-deadline digest."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

import storage
from crawler.config import parse_config
from crawler.corpus.ingest import store_document
from crawler.monitor.alerts import deadline
from crawler.monitor.coverage import coverage, latest_due_year, matrix, missing_digest, resolve_province, totals
from crawler.registry import import_portals, sync_config

CONFIG = """
[alerts]
urls = ["json://127.0.0.1:1/hook"]
[[portal]]
id = "jh"
name = "镜湖区人民政府"
start_urls = ["http://jh.example/col/"]
adcode = "340202"
[[portal]]
id = "yj"
name = "弋江区人民政府"
start_urls = ["http://yj.example/col/"]
region = "芜湖市弋江区"
[[portal]]
id = "anon"
name = "某门户"
start_urls = ["http://anon.example/col/"]
[[portal]]
id = "nowhere"
name = "无名门户"
start_urls = ["http://nowhere.example/col/"]
"""
# registry rows (portals import): 湾沚区 never finished a crawl, 繁昌区 blocked, 南陵县 failing, 无为市 was
# crawled once but is blocked now
REGISTRY = [{"adcode": "340210", "home": "http://wz.example/"}, {"adcode": "340212", "home": "http://fc.example/"},
            {"adcode": "340223", "home": "http://nl.example/"}, {"adcode": "340281", "home": "http://ww.example/"}]
STATE = {"jh": ("ok", 1), "yj": ("ok", 1), "anon": ("ok", 1), "nowhere": ("ok", 1), "340210": ("never", 0),
         "340212": ("blocked", 0), "340223": ("error", 0), "340281": ("blocked", 1)}
TODAY = date(2024, 3, 1)  # 2022 reports overdue, 2023 reports due on 1 April


def report(db, url, portal, year, title, published, adcode=None, region=None):
    store_document(db, {"url": url, "portal_id": portal, "report_year": year, "title": title,
                        "text": title * 40, "published_at": published, "doc_type": "annual_report",
                        "adcode": adcode, "region": region})


@pytest.fixture
def setup(tmp_path):
    db = storage.connect(tmp_path / "gw.db")
    config = parse_config(CONFIG, tmp_path / "gw.toml")
    (tmp_path / "gw.toml").write_text(CONFIG, encoding="utf-8")
    sync_config(db, config)
    import_portals(db, list(enumerate(REGISTRY, start=2)), source="wuhu.csv")
    for pid, (status, done) in STATE.items():
        db["portals"].update(pid, {"status": status, "baseline_done": done, "reason": f"{status} reason",
                                   "last_crawl_at": "2024-02-28T00:00:00+00:00"})
    report(db, "http://jh.example/2022.html", "jh", 2022, "芜湖市镜湖区2022年度法治政府建设情况报告", "2023-03-20",
           "340202", "芜湖市镜湖区")
    # found on another portal, after the deadline; its portal has no region of its own
    report(db, "http://anon.example/r.html", "anon", 2022, "芜湖市鸠江区2022年度法治政府建设情况报告", "2023-04-20",
           "340207", "芜湖市鸠江区")
    # a department's report resolves to its district but is not the district's
    report(db, "http://yj.example/sfj.html", "yj", 2022, "芜湖市弋江区司法局2022年度法治政府建设工作报告",
           "2023-03-10", "340209", "芜湖市弋江区")
    return db, config


def by_code(rows, year):
    return {r["adcode"] or r["region_key"]: r for r in rows if r["year"] == year}


def test_deadline_rules():
    assert deadline(2023) == date(2024, 4, 1)
    assert latest_due_year(date(2024, 4, 1)) == 2022  # due today: not overdue yet
    assert latest_due_year(date(2024, 4, 2)) == 2023


def test_every_region_of_the_province_with_configured_and_unconfigured_ones(setup):
    db, config = setup
    rows = coverage(db, config, years=[2022, 2023], province="安徽省", today=TODAY)
    assert len(rows) == 121 * 2 and all(r["province"] == "安徽省" for r in rows)
    y22, y23 = by_code(rows, 2022), by_code(rows, 2023)
    assert y22["340202"]["status"] == "published" and y22["340202"]["published_at"] == "2023-03-20"
    assert y22["340202"]["url"] == "http://jh.example/2022.html" and not y22["340202"]["late"]
    assert y23["340202"]["status"] == "missing"  # crawled, not due yet
    assert y22["340209"]["status"] == "overdue" and y22["340209"]["portals"] == ["yj"]  # region name only
    assert y22["340209"]["departments"] == [{"department": "芜湖市弋江区司法局", "published_at": "2023-03-10",
                                             "url": "http://yj.example/sfj.html",
                                             "title": "芜湖市弋江区司法局2022年度法治政府建设工作报告"}]
    assert y22["340207"]["status"] == "published" and y22["340207"]["late"]  # no portal of its own: found elsewhere
    assert y22["340207"]["portals"] == ["anon"]  # anon's region comes from its own reports
    # never overdue without a portal that finished a crawl and is healthy now
    assert y22["340210"]["status"] == "never_crawled"
    assert y22["340212"]["status"] == "blocked" and y22["340212"]["reason"] == "blocked reason"
    assert y22["340223"]["status"] == "unreachable" and y22["340223"]["reason"] == "error reason"
    assert y22["340281"]["status"] == "blocked"  # crawled before, blocked now: we cannot tell
    assert y22["340200"]["status"] == "no_portal" and y22["340000"]["status"] == "no_portal"
    assert y22["340100"]["level"] == "city" and y22["340102"]["city"] == "安徽省合肥市"
    assert y22["340209"]["checked_at"] == "2024-02-28T00:00:00+00:00"


def test_after_the_deadline_only_checked_regions_are_overdue(setup):
    db, config = setup
    rows = by_code(coverage(db, config, year=2023, province="34", today=date(2024, 4, 2)), 2023)
    overdue = sorted(code for code, r in rows.items() if r["status"] == "overdue")
    assert overdue == ["340202", "340207", "340209"]  # jh, anon (placed by its reports), yj
    assert {rows[c]["status"] for c in ("340210", "340212", "340223", "340281", "340100")} == {
        "never_crawled", "blocked", "unreachable", "no_portal"}


def test_totals_per_province_and_country(setup):
    db, config = setup
    rows = coverage(db, config, year=2022, today=TODAY)
    assert rows[-1]["level"] == "unplaced" and rows[-1]["portals"] == ["nowhere"]
    assert rows[-1]["status"] == "overdue"  # a portal whose region is unknown still shows
    counts = {t["province"]: t for t in totals(rows)}
    anhui, country = counts["安徽省"], counts["全国"]
    assert anhui == {"province": "安徽省", "adcode": "340000", "year": 2022, "regions": 121, "portals": 7,
                     "published": 2, "missing": 0, "overdue": 1, "no_portal": 114, "blocked": 2, "unreachable": 1,
                     "never_crawled": 1, "late": 1, "departments": 1}
    assert country["regions"] == 3214 and country["portals"] == 7 and country["published"] == 2
    assert counts["北京市"]["no_portal"] == counts["北京市"]["regions"] == 17
    assert len(counts) == 32
    assert sum(t["regions"] for t in counts.values() if t["province"] != "全国") == 3214


def test_level_and_province_filters(setup):
    db, config = setup
    cities = coverage(db, config, year=2022, level="city", today=TODAY)
    assert {r["level"] for r in cities} == {"city"} and len(cities) == 333
    assert resolve_province("安徽").code == resolve_province("340000").code == "340000"
    with pytest.raises(ValueError, match="unknown province '芜湖市'"):
        coverage(db, config, province="芜湖市", today=TODAY)
    with pytest.raises(ValueError, match="unknown level 'town'"):
        coverage(db, config, level="town", today=TODAY)


def test_matrix_shows_departments_beside_the_government(setup):
    db, config = setup
    table, columns = matrix(coverage(db, config, years=[2022, 2023], province="安徽省", today=TODAY))
    assert columns == ["adcode", "region", "level", "portals", "2022", "2023", "departments"]
    line = {r["adcode"]: r for r in table}
    assert line["340202"]["2022"] == "published 2023-03-20" and line["340202"]["2023"] == "missing"
    assert line["340207"]["2022"] == "published 2023-04-20 (late)"
    assert line["340209"]["2022"] == "overdue"
    assert line["340209"]["departments"] == "芜湖市弋江区司法局 2023-03-10 [2022]"


def test_digest_once_per_region_per_year(setup):
    db, config = setup
    first = missing_digest(db, config, today=TODAY)  # latest due year: 2022
    payload = json.loads(next(db.query("SELECT payload FROM alerts WHERE id = ?", [first]))["payload"])
    assert [r["key"] for r in payload["regions"]] == ["adcode:340209", "portal:nowhere"]
    assert payload["regions"][0]["portals"] == ["弋江区人民政府"]
    assert missing_digest(db, config, today=date(2024, 3, 2)) is None  # named once per year per region
    alert_id = missing_digest(db, config, today=date(2024, 4, 5))  # 2023 now due
    message = next(db.query("SELECT message FROM alerts WHERE id = ?", [alert_id]))["message"]
    assert "2023年度" in message and "镜湖区" in message and "弋江区" in message
    for never in ("湾沚区", "繁昌区", "南陵县", "无为市"):  # not crawled, blocked or failing: never missing
        assert never not in message
    assert db["alert_deliveries"].count == 2


def test_late_report_after_the_deadline(setup):
    db, _ = setup
    report(db, "http://yj.example/2023.html", "yj", 2023, "芜湖市弋江区2023年度法治政府建设情况报告", "2024-05-01",
           "340209")
    kinds = [r["kind"] for r in db.query("SELECT kind FROM alerts WHERE dedupe_key = 'report:adcode:340209:2023'")]
    assert kinds == ["late_report"]


def test_cli_coverage(setup, tmp_path):
    from click.testing import CliRunner

    from crawler.cli import main

    args = ["coverage", "--config", str(tmp_path / "gw.toml"), "--db", str(tmp_path / "gw.db"), "--year", "2022"]
    out = CliRunner().invoke(main, args + ["--province", "安徽"])
    assert out.exit_code == 0, out.output
    assert "published 2023-03-20" in out.output and "芜湖市弋江区司法局 2023-03-10" in out.output
    from crawler.cli.common import _width  # display width: a Chinese character takes two columns

    widest = max(out.stdout.splitlines(), key=_width)
    assert _width(widest) <= 120, widest
    rows = [json.loads(line) for line in CliRunner().invoke(main, args + ["--json"]).stdout.splitlines()]
    assert len(rows) == 3214 + 1 and {r["status"] for r in rows} >= {"published", "overdue", "no_portal"}
    totals_csv = CliRunner().invoke(main, args + ["--csv", "--totals", "--province", "340000"]).stdout
    parsed = list(csv.DictReader(io.StringIO(totals_csv)))
    assert [r["province"] for r in parsed] == ["安徽省"] and parsed[0]["overdue"] == "1"
    bad = CliRunner().invoke(main, args + ["--province", "火星"])
    assert bad.exit_code == 1 and "unknown province '火星'" in bad.output
