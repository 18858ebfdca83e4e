"""The portal registry (crawler.registry): TOML sync and what wins, removal, selection, region names, file
formats and the builtin provinces. No network: discovery is tested on loopback in test_portals_import.py."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

import storage
from crawler.config import parse_config
from crawler.extract.regions import divisions
from crawler.registry import (
    RegistryError, builtin_rows, entries, import_portals, load_portals, read_rows, registry_stamp,
    remove_portals, resolve_division, select_portals, sync_config, with_registry,
)
from crawler.registry.export import export_portals

TOML = """
[[portal]]
id = "jinghu"
name = "镜湖区人民政府"
start_urls = ["http://127.0.0.2/col/"]
adcode = "340202"

[[portal]]
id = "340209"
name = "弋江区（手写的栏目）"
start_urls = ["http://127.0.0.3/pinned/"]
"""


def db_at(tmp_path):
    return storage.connect(tmp_path / "gw.db")


def add_registry(db, rows):
    return import_portals(db, list(enumerate(rows, start=2)), source="rows.csv")


def test_toml_entries_are_synced_into_the_table_and_removed_with_the_file(tmp_path):
    db = db_at(tmp_path)
    config = parse_config(TOML, "gw.toml")
    report = sync_config(db, config)
    assert report.added == ["jinghu", "340209"]
    rows = {r["id"]: r for r in db.query("SELECT * FROM portals")}
    assert rows["jinghu"]["source"] == "config" and rows["jinghu"]["origin"] == "gw.toml"
    assert json.loads(rows["jinghu"]["start_urls"]) == ["http://127.0.0.2/col/"]
    assert not sync_config(db, config).changed  # a second sync writes nothing
    stamp = registry_stamp(db)
    # the entry is edited, then removed from the file
    edited = parse_config(TOML.replace("/col/", "/col2/"), "gw.toml")
    assert sync_config(db, edited).updated == ["jinghu"]
    assert registry_stamp(db) != stamp
    only_one = parse_config(TOML.split("[[portal]]\nid = \"340209\"")[0], "gw.toml")
    assert sync_config(db, only_one).removed == ["340209"]
    assert [p.id for p in load_portals(db, only_one)] == ["jinghu"]
    assert [p.id for p in load_portals(db)] == ["jinghu"]  # the table alone says the same
    removed = next(db.query("SELECT removed_at FROM portals WHERE id = '340209'"))
    assert removed["removed_at"]  # the row (and any history) stays, marked removed


def test_a_toml_entry_overrides_a_registry_row_until_it_leaves_the_file(tmp_path):
    db = db_at(tmp_path)
    report = add_registry(db, [{"adcode": "340209", "start_urls": "http://127.0.0.9/fzzfjs/"},
                               {"region": "鸠江区", "start_urls": "http://127.0.0.10/fzzfjs/"}])
    assert [r.outcome for r in report.results] == ["added", "added"]
    config = parse_config(TOML, "gw.toml")
    # read-only callers see the override before any sync ...
    before = {p.id: p for p in load_portals(db, config)}
    assert before["340209"].start_urls == ("http://127.0.0.3/pinned/",)
    # ... and the sync writes the same set
    assert sync_config(db, config).overridden == ["340209"]
    after = {p.id: p for p in load_portals(db, config)}
    assert after == before and set(after) == {"jinghu", "340209", "340207"}
    entry = {e.portal.id: e for e in entries(db, config)}["340209"]
    assert entry.source == "config" and entry.overrides_registry
    with pytest.raises(RegistryError, match="defined in gw.toml"):
        remove_portals(db, ["340209"], config)
    # the entry leaves the file: the registry's own definition comes back, with its origin
    without = parse_config(TOML.split("[[portal]]\nid = \"340209\"")[0], "gw.toml")
    assert sync_config(db, without).restored == ["340209"]
    restored = {e.portal.id: e for e in entries(db, without)}["340209"]
    assert restored.source == "registry" and restored.portal.start_urls == ("http://127.0.0.9/fzzfjs/",)
    assert restored.origin == "rows.csv:2" and restored.portal.region == "芜湖市弋江区"


def test_remove_marks_registry_rows_removed_all_or_nothing(tmp_path):
    db = db_at(tmp_path)
    add_registry(db, [{"adcode": "340209", "home": "http://127.0.0.9/"},
                      {"adcode": "340207", "home": "http://127.0.0.10/"}])
    with pytest.raises(RegistryError, match="no portal with id 'nope'"):
        remove_portals(db, ["340209", "nope"])
    assert len(load_portals(db)) == 2  # nothing removed
    assert remove_portals(db, ["340209"]) == ["340209"]
    assert [p.id for p in load_portals(db)] == ["340207"]
    # the id can be registered again; the old row (and its crawl history) is reused
    again = add_registry(db, [{"adcode": "340209", "home": "http://127.0.0.11/"}])
    assert again.results[0].outcome == "added"
    assert db["portals"].count == 2


def test_select_and_with_registry_see_registry_portals(tmp_path):
    db = db_at(tmp_path)
    add_registry(db, [{"adcode": "340209", "home": "http://127.0.0.9/"}])
    config = parse_config(TOML, "gw.toml")
    assert [p.id for p in select_portals(db, config, ["340209", "jinghu"])] == ["340209", "jinghu"]
    with pytest.raises(RegistryError, match="no portal with id 'x'.*known: 340209, jinghu"):
        select_portals(db, config, ["x"])
    merged = with_registry(db, parse_config(TOML.split("[[portal]]\nid = \"340209\"")[0], "gw.toml"))
    assert [p.id for p in merged.portals] == ["jinghu", "340209"]
    assert merged.portal("340209").home == "http://127.0.0.9/"


@pytest.mark.parametrize("name, code", [
    ("镜湖区", "340202"), ("芜湖市镜湖区", "340202"), ("安徽省芜湖市镜湖区", "340202"), ("镜湖区人民政府", "340202"),
    ("安徽", "340000"), ("内蒙古", "150000"), ("广西", "450000"), ("天津市静海区", "120118"),
    ("北京市朝阳区", "110105"), ("吉林省吉林市", "220200"),
])
def test_region_names_resolve(name, code):
    assert resolve_division(region=name).code == code


@pytest.mark.parametrize("kwargs, message", [
    ({"region": "朝阳区"}, "matches 2 regions: 北京市朝阳区 (110105), 长春市朝阳区 (220104)"),
    ({"region": "吉林"}, "matches 2 regions: 吉林省 (220000), 吉林省吉林市 (220200)"),
    ({"region": "不存在县"}, "not in the division data"),
    ({"adcode": "999999"}, "'999999' is not in the division data"),
    ({"adcode": "340202", "region": "弋江区"}, "340202 is 芜湖市镜湖区, not '弋江区'"),
])
def test_region_errors_name_the_candidates(kwargs, message):
    with pytest.raises(ValueError) as info:
        resolve_division(**kwargs)
    assert message in str(info.value)


def test_csv_tsv_and_json_lines_read_alike():
    csv_text = "# a comment\nadcode,home,name\n340202,http://a.example/,镜湖\n\n340209,http://b.example/,弋江\n"
    tsv_text = csv_text.replace(",", "\t")
    jsonl = ('{"adcode": "340202", "home": "http://a.example/", "name": "镜湖"}\n'
             '{"adcode": 340209, "start_urls": ["http://b.example/c/"]}\n')
    assert read_rows(csv_text, "p.csv") == [(3, {"adcode": "340202", "home": "http://a.example/", "name": "镜湖"}),
                                            (5, {"adcode": "340209", "home": "http://b.example/", "name": "弋江"})]
    assert read_rows(tsv_text, "p.tsv") == read_rows(csv_text, "p.csv")
    assert read_rows(tsv_text, "p.txt") == read_rows(csv_text, "p.csv")  # sniffed
    assert [n for n, _ in read_rows(jsonl, "p.jsonl")] == [1, 2]
    with pytest.raises(RegistryError, match=r"p.csv:1: unknown column 'hme'"):
        read_rows("adcode,hme\n340202,http://a/\n", "p.csv")
    with pytest.raises(RegistryError, match="needs an adcode or region column"):
        read_rows("name,home\nx,http://a/\n", "p.csv")
    with pytest.raises(RegistryError, match="p.jsonl:2: not a JSON object"):
        read_rows('{"adcode": "340202"}\n[1]\n', "p.jsonl")


def test_bad_rows_are_rejected_one_by_one(tmp_path):
    db = db_at(tmp_path)
    rows = read_rows("adcode,region,home,start_urls,id,cms\n"
                     "340202,,http://a.example/,,,\n"        # good
                     ",朝阳区,http://b.example/,,,\n"         # ambiguous
                     "340209,,htp:/bad,,,\n"                 # bad URL
                     "340202,,http://c.example/,,,\n"        # duplicate id (adcode)
                     "340207,,https://a.example,,,\n"        # duplicate home (scheme ignored)
                     "340210,,,http://d.example/c/,jz,xx\n"  # bad cms
                     "340210,,,http://d.example/c/,jz,\n",   # good, explicit id
                     "p.csv")
    report = import_portals(db, rows, source="p.csv")
    outcome = {r.line: (r.outcome, r.detail) for r in report.results}
    assert outcome[2][0] == "added" and outcome[8][0] == "added"
    assert "matches 2 regions" in outcome[3][1] and "110105" in outcome[3][1]
    assert "malformed URL 'htp:/bad'" in outcome[4][1]
    assert outcome[5] == ("rejected", "duplicate of line 2 (id 340202)")
    assert outcome[6] == ("rejected", "duplicate: its URL is already used by line 2")
    assert outcome[7][0] == "rejected" and "cms must be one of" in outcome[7][1]
    assert not report.ok and report.counts()["rejected"] == 5
    assert {p.id for p in load_portals(db)} == {"340202", "jz"}
    # importing the same file again changes nothing: the good rows are `unchanged`
    again = import_portals(db, rows, source="p.csv")
    assert [r.outcome for r in again.results if r.outcome != "rejected"] == ["unchanged", "unchanged"]


def test_builtin_provinces_cover_the_31_provinces_with_evidence(tmp_path):
    origin, rows = builtin_rows("provinces")
    provinces = {d.code for d in divisions() if d.level == "province"}
    assert origin == "builtin:provinces" and len(rows) == 31
    assert {row["adcode"] for _, row in rows} == provinces
    hosts = [urlsplit(row["home"]).hostname for _, row in rows]
    assert len(set(hosts)) == 31 and all(h.endswith(".gov.cn") for h in hosts)
    for _, row in rows:
        assert resolve_division(adcode=row["adcode"], region=row["region"]).level == "province"
        assert row["name"] == row["region"] + "人民政府"
        assert all(url.startswith("https://") for url in row["evidence"].split()), row
    db = db_at(tmp_path)
    report = import_portals(db, rows, source="builtin provinces", origin=origin)
    assert report.ok and report.counts()["added"] == 31
    ah = {e.portal.id: e for e in entries(db)}["340000"]
    assert ah.portal.home == "http://www.ah.gov.cn/" and ah.origin.startswith("builtin:provinces:")
    assert "henan.gov.cn" in ah.evidence


def test_export_round_trips_through_import(tmp_path):
    db = db_at(tmp_path)
    add_registry(db, [{"adcode": "340209", "home": "http://127.0.0.9/", "evidence": "https://e.example/a"},
                      {"region": "鸠江区", "start_urls": "http://127.0.0.10/c/ http://127.0.0.10/d/", "cms": "trs",
                       "schedule": "12h"}])
    other = storage.connect(tmp_path / "other.db")
    for fmt in ("csv", "jsonl"):
        text = export_portals(db, None, fmt)
        report = import_portals(other, read_rows(text, f"export.{fmt}"), source=f"export.{fmt}")
        assert report.ok, report.results
        assert load_portals(other) == load_portals(db)
    toml = parse_config(export_portals(db, None, "toml"), "export.toml")
    assert list(toml.portals) == load_portals(db)
