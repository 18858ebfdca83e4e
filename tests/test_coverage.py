"""Coverage matrix, deadlines and the after-deadline digest."""

from __future__ import annotations

from datetime import date

import storage
from crawler.monitor.alerts import deadline
from crawler.config import AlertSettings, Config, Portal, parse_config
from crawler.monitor.coverage import coverage, latest_due_year, matrix, missing_digest
from crawler.corpus.ingest import store_document

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
adcode = "340203"
[[portal]]
id = "anon"
name = "某门户"
start_urls = ["http://anon.example/col/"]
"""


def setup(tmp_path):
    db = storage.connect(tmp_path / "gw.db")
    for pid in ("jh", "yj", "anon"):
        db["portals"].insert({"id": pid, "name": pid, "baseline_done": 1})
    store_document(db, {"url": "http://jh.example/2022.html", "portal_id": "jh", "report_year": 2022,
                        "title": "芜湖市镜湖区2022年度法治政府建设情况报告", "text": "二〇二二" * 80,
                        "published_at": "2023-03-20", "doc_type": "annual_report", "adcode": "340202",
                        "region": "芜湖市镜湖区"})
    store_document(db, {"url": "http://anon.example/r.html", "portal_id": "anon", "report_year": 2022,
                        "title": "芜湖市鸠江区2022年度法治政府建设情况报告", "text": "鸠江区全文" * 80,
                        "published_at": "2023-04-20", "doc_type": "annual_report", "adcode": "340207",
                        "region": "芜湖市鸠江区"})
    return db, make_config()


def make_config() -> Config:
    """The CONFIG above, built directly (independent of the TOML loader)."""
    return Config(alerts=AlertSettings(urls=("json://127.0.0.1:1/hook",)), portals=(
        Portal("jh", name="镜湖区人民政府", start_urls=("http://jh.example/col/",), adcode="340202"),
        Portal("yj", name="弋江区人民政府", start_urls=("http://yj.example/col/",), adcode="340203"),
        Portal("anon", name="某门户", start_urls=("http://anon.example/col/",))))


def test_deadline_rules():
    assert deadline(2023) == date(2024, 4, 1)
    assert latest_due_year(date(2024, 4, 1)) == 2022  # due today: not overdue yet
    assert latest_due_year(date(2024, 4, 2)) == 2023


def test_matrix(tmp_path):
    db, config = setup(tmp_path)
    rows = coverage(db, config, years=[2022, 2023], today=date(2024, 3, 1))
    cell = {(r["region"], r["year"]): r for r in rows}
    assert len(cell) == 6
    jh = [r for r in rows if r["adcode"] == "340202"]
    assert [r["status"] for r in jh] == ["published", "missing"]
    assert jh[0]["published_at"] == "2023-03-20" and jh[0]["url"] == "http://jh.example/2022.html"
    yj = [r for r in rows if r["adcode"] == "340203"]
    assert [r["status"] for r in yj] == ["overdue", "missing"]
    anon = [r for r in rows if "anon" in r["portals"]]  # region resolved from its documents
    assert anon[0]["adcode"] == "340207" and anon[0]["status"] == "published" and anon[0]["late"]
    after = coverage(db, config, year=2023, today=date(2024, 4, 2))
    assert {r["status"] for r in after} == {"overdue"}
    table, columns = matrix(rows)
    assert columns == ["region", "adcode", "2022", "2023"] and len(table) == 3


def test_a_departments_report_does_not_cover_its_region(tmp_path):
    db, config = setup(tmp_path)
    # 弋江区司法局 resolves to 弋江区 (340203), but it is the bureau's own report, not the district's
    store_document(db, {"url": "http://yj.example/sfj.html", "portal_id": "yj", "report_year": 2022,
                        "title": "芜湖市弋江区司法局2022年度法治政府建设工作报告", "text": "司法局全文" * 80,
                        "published_at": "2023-03-10", "doc_type": "annual_report", "adcode": "340203",
                        "region": "芜湖市弋江区"})
    yj = [r for r in coverage(db, config, years=[2022], today=date(2024, 3, 1)) if r["adcode"] == "340203"]
    assert [r["status"] for r in yj] == ["overdue"]


def test_digest_once_per_region_per_year(tmp_path):
    db, config = setup(tmp_path)
    first = missing_digest(db, config, today=date(2024, 3, 1))  # latest due year: 2022
    message = next(db.query("SELECT message FROM alerts WHERE id = ?", [first]))["message"]
    assert "2022年度" in message and "弋江区" in message and "镜湖区" not in message
    alert_id = missing_digest(db, config, today=date(2024, 4, 5))
    [alert] = list(db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
    assert alert["kind"] == "missing_digest" and "2023年度" in alert["message"]
    assert "镜湖区" in alert["message"] and "弋江区" in alert["message"]
    assert db["alert_deliveries"].count == 2
    assert missing_digest(db, config, today=date(2024, 4, 6)) is None  # named once per year per region
    # a region that was not crawled yet (no baseline) is never called missing
    db.execute("DELETE FROM deadline_notices")
    db.execute("DELETE FROM alerts")
    db.execute("UPDATE portals SET baseline_done = 0 WHERE id = 'yj'")
    alert_id = missing_digest(db, config, today=date(2024, 4, 5))
    message = next(db.query("SELECT message FROM alerts WHERE id = ?", [alert_id]))["message"]
    assert "弋江区" not in message


def test_late_report_after_digest(tmp_path):
    db, config = setup(tmp_path)
    store_document(db, {"url": "http://yj.example/2023.html", "portal_id": "yj", "report_year": 2023,
                        "title": "芜湖市弋江区2023年度法治政府建设情况报告", "text": "弋江区" * 90,
                        "published_at": "2024-05-01", "doc_type": "annual_report", "adcode": "340203"})
    kinds = [r["kind"] for r in db.query("SELECT kind FROM alerts WHERE dedupe_key LIKE 'report:adcode:340203%'")]
    assert kinds == ["late_report"]


def test_cli_coverage(tmp_path):
    from click.testing import CliRunner

    from crawler.cli import main

    setup(tmp_path)
    (tmp_path / "gw.toml").write_text(CONFIG, encoding="utf-8")
    out = CliRunner().invoke(main, ["coverage", "--config", str(tmp_path / "gw.toml"), "--db",
                                    str(tmp_path / "gw.db"), "--year", "2022"])
    assert out.exit_code == 0, out.output
    assert "2022" in out.output and "✓ 2023-03-20" in out.output
    out = CliRunner().invoke(main, ["coverage", "--config", str(tmp_path / "gw.toml"), "--db",
                                    str(tmp_path / "gw.db"), "--json"])
    assert out.exit_code == 0 and '"status"' in out.output


def test_table_cells_use_the_words_of_the_json_rows(tmp_path):
    db, config = setup(tmp_path)
    rows = coverage(db, config, years=[2022, 2023], today=date(2024, 3, 1))
    table, _ = matrix(rows)
    for row in rows:
        line = next(t for t in table if t["region"] == row["region"])
        cell = line[str(row["year"])]
        if row["status"] == "published":
            assert cell.startswith("✓ " + row["published_at"]) and ("late" in cell) == row["late"]
        else:
            assert cell.split()[0] == row["status"], (cell, row["status"])
