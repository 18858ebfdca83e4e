"""`govwatch portals import|add|list|remove` on loopback: good and bad rows, column discovery for the
home-page-only rows in one batch (found / no column / unreachable / blocked), then a crawl and coverage that
see the imported portals."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

import helpers  # noqa: F401  (puts the repo on sys.path)
import storage
from crawler.cli import main
from crawler.crawl.bulk_discover import discover_columns
from crawler.demo.server import Item, Portal, PortalServer, Response
from crawler.demo.sites import SITES, BlockedPortal, CountyPortal, synthetic_report
from crawler.registry import import_portals, load_portals, read_rows


class HomeCounty(CountyPortal):
    """A county site with a home page whose navigation leads to its 法治政府建设 column."""

    def handle(self, request):
        if request.path == "/":
            return Response.html(
                '<html><head><meta charset="utf-8"><title>芜湖市镜湖区人民政府</title></head><body>'
                '<div class="nav"><a href="/">首页</a><a href="/news/list.asp?page=1">法治政府建设</a>'
                '<a href="/zwgk/">政务公开</a></div></body></html>')
        return super().handle(request)


class NoColumn(Portal):
    """A home page with nothing that looks like a 法治 column."""

    def handle(self, request):
        if request.path == "/":
            return Response.html('<html><body><a href="/xw/">新闻中心</a><a href="/fw/">办事服务</a></body></html>')
        return None


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more: connection refused


@pytest.fixture
def farm():
    site = SITES["jinghu"]
    report = Item(title="芜湖市镜湖区2023年度法治政府建设工作报告", kind="report", published="2024-03-12 09:00",
                  paragraphs=synthetic_report(site, 2023))
    news = Item(title="镜湖区召开行政执法协调监督工作会议", published="2024-01-05 10:00",
                paragraphs=["镜湖区召开会议，部署年度行政执法协调监督工作。" * 4])
    with PortalServer([HomeCounty("good", items=[report, news], site=site), NoColumn("nocol"),
                       BlockedPortal("wall", status=412)], offsite=False) as server:
        yield server


def write_rows(tmp_path, server) -> str:
    base = {pid: server.base_url(pid) + "/" for pid in ("good", "nocol", "wall")}
    lines = [
        "adcode,region,home,start_urls,name",
        f"340202,,{base['good']},,",                       # 2: column found
        f",芜湖市弋江区,{base['wall']},,",                  # 3: blocked (412 瑞数)
        f"340207,,{closed_port_url()},,",                  # 4: unreachable
        f"340210,,{base['nocol']},,湾沚区人民政府",          # 5: no column found
        f"340223,,,{server.base_url('nocol')}/col/,",     # 6: added with its column as given
        ",朝阳区,http://127.0.0.1:9/,,",                   # 7: ambiguous region
        "340212,,http//no-scheme.example/,,",             # 8: bad URL
        f"340202,,{server.base_url('nocol')}/other/,,",   # 9: duplicate id (the adcode of line 2)
        f"340281,,{base['good'].replace('http://', 'https://')},,",  # 10: duplicate home page
    ]
    path = tmp_path / "wuhu.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def config_file(tmp_path) -> str:
    path = tmp_path / "govwatch.toml"
    path.write_text("[crawl]\ndownload_delay = 0\nautothrottle = false\n", encoding="utf-8")
    return str(path)


def test_import_reports_every_row_and_registers_what_can_be_watched(tmp_path, farm):
    config, db_path = config_file(tmp_path), str(tmp_path / "gw.db")
    result = CliRunner().invoke(main, ["portals", "import", write_rows(tmp_path, farm), "--config", config,
                                       "--db", db_path])
    out = result.output
    assert result.exit_code == 4, out
    line = {int(l.split(":")[0].split()[1]): l for l in out.splitlines() if l.startswith("line ")}
    good_column = farm.base_url("good") + "/news/list.asp?page=1"
    assert line[2].startswith("line 2: 340202 芜湖市镜湖区: column found (score 100: ") and good_column in line[2]
    assert "340209 芜湖市弋江区: blocked (412 challenge from 瑞数" in line[3]
    assert "340207 芜湖市鸠江区: unreachable (cannot fetch" in line[4]
    assert "340210 芜湖市湾沚区: no column found" in line[5]
    assert line[6] == "line 6: 340223 芜湖市南陵县: added"
    assert "rejected (region '朝阳区' matches 2 regions: 北京市朝阳区 (110105), 长春市朝阳区 (220104)" in line[7]
    assert "rejected" in line[8] and "malformed URL 'http//no-scheme.example/'" in line[8]
    assert "line 9: 340202 芜湖市镜湖区: rejected (duplicate of line 2 (id 340202))" == line[9]
    assert "rejected (duplicate: its URL is already used by line 2)" in line[10]
    assert ("wuhu.csv: 9 rows, 5 registered (1 added, 1 column found, 1 no column found, 1 unreachable, "
            "1 blocked, 4 rejected)") in out

    db = storage.connect(db_path)
    portals = {p.id: p for p in load_portals(db)}
    assert set(portals) == {"340202", "340209", "340207", "340210", "340223"}
    assert portals["340202"].start_urls == (good_column,) and portals["340202"].home == farm.base_url("good") + "/"
    assert portals["340209"].start_urls == () and portals["340209"].region == "芜湖市弋江区"
    assert portals["340210"].name == "湾沚区人民政府" and portals["340207"].name == "鸠江区人民政府"
    listed = CliRunner().invoke(main, ["portals", "list", "--config", config, "--db", db_path, "--json"])
    status = {r["id"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert status["340209"]["status"] == "blocked" and "瑞数" in status["340209"]["reason"]
    assert status["340207"]["status"] == "error" and status["340223"]["status"] == "never"
    assert status["340202"]["origin"] == f"{tmp_path / 'wuhu.csv'}:2" and status["340202"]["source"] == "registry"

    # the crawl sees the imported portal (no [[portal]] in the config) and coverage the whole province
    from crawler.crawl.runner import crawl

    summary = crawl(config, db_path, ["340202"], timeout=120)
    assert summary.portals["340202"].status == "ok", summary.log[-2000:]
    assert summary.portals["340202"].new_reports == 1
    cov = CliRunner().invoke(main, ["coverage", "--config", config, "--db", db_path, "--year", "2023",
                                    "--province", "安徽省", "--json"])
    rows = {r["adcode"]: r for r in map(json.loads, cov.stdout.splitlines())}
    assert rows["340202"]["status"] == "published" and rows["340202"]["published_at"] == "2024-03-12"
    assert rows["340209"]["status"] == "blocked" and rows["340207"]["status"] == "unreachable"
    assert rows["340223"]["status"] == "never_crawled" and rows["340281"]["status"] == "no_portal"
    assert len(rows) == 121 and sum(r["portals"] != [] for r in rows.values()) == 5


def test_home_only_rows_are_discovered_in_one_batch(tmp_path, farm):
    calls = []

    def recording(targets, *, on_outcome=None):
        calls.append(list(targets))
        return discover_columns(targets, on_outcome=on_outcome, delay=0, page_timeout=5)

    rows = read_rows(open(write_rows(tmp_path, farm), encoding="utf-8").read(), "wuhu.csv")
    db = storage.connect(tmp_path / "gw.db")
    seen = []
    report = import_portals(db, rows, source="wuhu.csv", discover=recording, on_result=seen.append)
    assert len(calls) == 1 and sorted(pid for pid, _ in calls[0]) == ["340202", "340207", "340209", "340210"]
    assert len(seen) == len(report.results) == 9
    # a second import of the same file finds every good row registered: no discovery at all
    calls.clear()
    again = import_portals(db, rows, source="wuhu.csv", discover=recording)
    assert calls == [] and again.counts()["unchanged"] == 5


def test_a_hung_home_page_costs_its_own_deadline_only(tmp_path, farm):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        slow = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        outcomes = discover_columns([("slow", slow), ("good", farm.base_url("good") + "/")], delay=0,
                                    page_timeout=30, deadline=2, workers=2)
    finally:
        listener.close()
    assert outcomes["good"].status == "found"
    assert outcomes["slow"].status == "unreachable" and "within 2 s" in outcomes["slow"].reason


def test_portals_add_remove_and_the_toml_rules(tmp_path, farm):
    config, db_path = config_file(tmp_path), str(tmp_path / "gw.db")
    runner = CliRunner()
    added = runner.invoke(main, ["portals", "add", "--region", "镜湖区", "--home", farm.base_url("good") + "/",
                                 "--config", config, "--db", db_path])
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("340202 芜湖市镜湖区: column found (score 100: ")
    again = runner.invoke(main, ["portals", "add", "--adcode", "340202", "--home", "http://127.0.0.1:9/",
                                 "--config", config, "--db", db_path])
    assert again.exit_code == 4 and "rejected (duplicate: id 340202 is already registered" in again.output
    usage = runner.invoke(main, ["portals", "add", "--home", "http://x.example/", "--db", db_path])
    assert usage.exit_code == 2 and "give --adcode or --region" in usage.output
    # a [[portal]] entry cannot be removed from the registry, only from its file
    with open(config, "a", encoding="utf-8") as handle:
        handle.write('\n[[portal]]\nid = "hand"\nstart_urls = ["http://127.0.0.1:9/c/"]\n')
    refused = runner.invoke(main, ["portals", "remove", "hand", "--config", config, "--db", db_path])
    assert refused.exit_code == 1 and "remove its [[portal]] entry there" in refused.output
    removed = runner.invoke(main, ["portals", "remove", "340202", "--config", config, "--db", db_path])
    assert removed.exit_code == 0 and removed.stdout == "removed 340202\n"
    listed = runner.invoke(main, ["portals", "list", "--config", config, "--db", db_path, "--json"])
    assert [json.loads(l)["id"] for l in listed.stdout.splitlines()] == ["hand"]


def test_builtin_import_without_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no govwatch.toml here: the registry alone is used
    result = CliRunner().invoke(main, ["portals", "import", "--builtin", "provinces", "--no-discover"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "builtin provinces: 31 rows, 31 registered (31 added)"
    assert "line 13: 340000 安徽省: added (home page only; the crawl discovers the column)" in result.output
    missing = CliRunner().invoke(main, ["portals", "list", "--config", "nope.toml"])
    assert missing.exit_code == 1 and "nope.toml: config file not found" in missing.output
    csv_out = CliRunner().invoke(main, ["portals", "export"])
    assert csv_out.stdout.splitlines()[0] == "id,adcode,region,name,home,start_urls,cms,schedule,evidence"
    assert len(csv_out.stdout.splitlines()) == 32
    unknown = CliRunner().invoke(main, ["portals", "import", "--builtin", "cities"])
    assert unknown.exit_code == 1 and "no builtin registry 'cities' (have: provinces)" in unknown.output


def test_a_province_of_the_farm_imported_crawled_and_covered(tmp_path):
    """The national farm's 北京市 slice (the province and its 16 districts, every CMS family, one behind a 412
    wall): a CSV registers most of them next to bad rows; one crawl of the registry; coverage of the province
    tells published, missing, blocked and no portal apart, region by region and year by year."""
    from crawler.crawl.runner import crawl
    from crawler.demo.farm import Farm
    from crawler.monitor.coverage import coverage

    with Farm(provinces=["北京市"]) as farm:
        ids = farm.portal_ids()
        registered, left_out = ids[:12], ids[12:]
        lines = ["adcode,region,home,start_urls,name"]
        lines += [f"{pid},,,{farm.site(pid).column_url}," for pid in registered]
        lines += [",朝阳区,http://127.0.0.1:9/,,",  # ambiguous: 北京市朝阳区 or 长春市朝阳区
                  f"{left_out[0]},,http//no-scheme.example/,,",  # malformed URL
                  f"{registered[0]},,,{farm.site(registered[1]).column_url},"]  # duplicate id
        (tmp_path / "beijing.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        config, db_path = config_file(tmp_path), str(tmp_path / "gw.db")
        result = CliRunner().invoke(main, ["portals", "import", str(tmp_path / "beijing.csv"), "--config", config,
                                           "--db", db_path])
        assert result.exit_code == 4 and "15 rows, 12 registered (12 added, 3 rejected)" in result.output, \
            result.output
        summary = crawl(config, db_path, timeout=180)
        years = {pid: farm.site(pid).report_years() for pid in ids}
        blocked = set(farm.portal_ids(role="blocked412")) & set(registered)
    assert set(summary.portals) == set(registered) and blocked  # the slice has its wall among the registered
    assert {pid for pid, p in summary.portals.items() if p.status == "blocked"} == blocked
    assert {p.status for pid, p in summary.portals.items() if pid not in blocked} == {"ok"}, summary.rows()
    db = storage.connect(db_path)
    all_years = sorted({y for ys in years.values() for y in ys})
    rows = {(r["adcode"], r["year"]): r["status"] for r in coverage(db, years=all_years, province="北京市")}
    assert {code for code, _ in rows} == set(ids)
    for pid in ids:
        for year in all_years:
            status = rows[(pid, year)]
            if pid in left_out:
                assert status == "no_portal", (pid, year, status)
            elif pid in blocked:
                assert status == "blocked", (pid, year, status)
            elif year in years[pid]:
                assert status == "published", (pid, year, status)
            else:
                assert status in ("missing", "overdue"), (pid, year, status)
