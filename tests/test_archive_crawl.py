"""Crawls archive what they fetch, and `reextract` rebuilds the corpus from the archive.

Real crawls (Scrapy subprocesses) of the demo portals on 127.0.0.x: every detail page and attachment is a
WARC record holding what the server served; documents point at their records; re-extracting gives back the
crawl's own documents, repairs documents an older extractor got wrong, and a report found that way is a
`reclassified` alert, delivered only when asked.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.request
from datetime import datetime, timezone

import pytest

import helpers
from crawler.config import DEFAULT_USER_AGENT, load_config
from crawler.corpus.archive import iter_file, read_capture
from crawler.corpus.reextract import reextract
from crawler.crawl.runner import crawl
from crawler.demo import sites
from crawler.demo.server import PortalServer, Response
from crawler.monitor.alerts import AlertPolicy
from storage import connect

GOVWATCH = [sys.executable, "-c", "from crawler.cli import main; main()"]
FIELDS = ("title", "text", "published_at", "source", "author", "region", "adcode", "report_year", "doc_type",
          "site_name", "attachments", "text_sources")


class GzipCounty(sites.CountyPortal):
    """A county site whose server gzips its detail pages (Content-Encoding: gzip)."""

    def handle(self, request):
        response = super().handle(request)
        if response is not None and request.path == "/news/show.asp":
            response = Response(body=gzip.compress(response.body), content_type=response.content_type,
                                headers={"Content-Encoding": "gzip"}, last_modified=response.last_modified)
        return response


def portals():
    demo = sites.build_demo_portals()
    site = sites.SITES["jilin"]
    report = sites.Item(title="吉林市2022年度法治政府建设工作报告", published="2023-02-15 14:49", source="吉林市司法局",
                        kind="report", paragraphs=sites.synthetic_report(site, 2022))
    return demo + [GzipCounty("gzipped", site=site, items=sites.column_items(site, [report], newer=2, older=1))]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = answer.read()
        return gzip.decompress(body) if answer.headers.get("Content-Encoding") == "gzip" else body


def rows(db, sql, params=()):
    return [dict(r) for r in db.query(sql, params)]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("archive")
    with PortalServer(portals()) as server:
        config = server.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=180)
        started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        summary = crawl(config, tmp / "govwatch.db", timeout=180)
        assert summary.status == "ok", summary.log[-2000:]
        db = connect(tmp / "govwatch.db")
        captures = rows(db, "SELECT * FROM captures ORDER BY document_id, role DESC, url")
        served = {c["url"]: fetch(c["url"]) for c in captures}
        urls = [f"{r.host}{r.path}{'?' + r.query if r.query else ''}" for r in server.requests]
        yield {"tmp": tmp, "config": config, "db_path": tmp / "govwatch.db", "captures": captures,
               "served": served, "started": started, "requests": urls}


def test_every_document_points_at_a_record_of_what_the_portal_served(crawled):
    db = connect(crawled["db_path"])
    documents = rows(db, "SELECT id, url FROM documents")
    archive_dir = crawled["tmp"] / "archive"
    pages = {c["document_id"]: c for c in crawled["captures"] if c["role"] in ("page", "file")}
    assert len(documents) > 20 and set(pages) == {d["id"] for d in documents}
    for document in documents:
        capture = pages[document["id"]]
        assert capture["url"] == document["url"] and capture["status"] == 200
        record = read_capture(archive_dir, {"file": capture["warc_file"], "offset": capture["warc_offset"],
                                            "length": capture["warc_length"]})
        assert record.body == crawled["served"][capture["url"]]
        assert record.record_id == capture["record_id"] and record.date == capture["captured_at"]
        assert record.date >= crawled["started"]


def test_attachments_are_archived_with_their_document(crawled):
    db = connect(crawled["db_path"])
    archive_dir = crawled["tmp"] / "archive"
    by_document: dict[int, list[str]] = {}
    for c in crawled["captures"]:
        if c["role"] == "attachment":
            by_document.setdefault(c["document_id"], []).append(c["url"])
            record = read_capture(archive_dir, {"file": c["warc_file"], "offset": c["warc_offset"],
                                                "length": c["warc_length"]})
            assert record.body == crawled["served"][c["url"]] and record.body[:4] in (b"%PDF", b"PK\x03\x04")
    assert len(by_document) == 2  # 红谷滩区's report (PDF + DOCX) and its 2019 notice (DOCX)
    for document_id, urls in by_document.items():
        (doc,) = rows(db, "SELECT attachments FROM documents WHERE id = ?", [document_id])
        assert sorted(urls) == sorted(a["url"] for a in json.loads(doc["attachments"]) if a["status"] == "ok")


def test_only_detail_pages_and_attachments_are_archived_and_files_are_closed(crawled):
    archive_dir = crawled["tmp"] / "archive"
    names = sorted(os.listdir(archive_dir))
    assert names and all(n.endswith(".warc.gz") for n in names)  # no .open left behind
    records = [f for name in names for f in iter_file(archive_dir / name)]
    responses = {f.url for f in records if f.record_type == "response"}
    assert responses == set(crawled["served"])
    assert not any("robots.txt" in url or "list" in url or "index" in url for url in responses)
    requests = [f for f in records if f.record_type == "request"]
    assert sorted(f.url for f in requests) == sorted(responses)  # each response with the request it answered
    raw = b"".join(gzip.decompress((archive_dir / n).read_bytes()) for n in names)
    assert raw.count(f"User-Agent: {DEFAULT_USER_AGENT}\r\n".encode()) == len(requests)


def test_a_gzipped_page_is_archived_decoded_with_headers_that_describe_it(crawled):
    gzipped = [c for c in crawled["captures"] if "/news/show.asp" in c["url"] and c["role"] == "page"]
    assert gzipped
    archive_dir = crawled["tmp"] / "archive"
    for c in gzipped:
        record = read_capture(archive_dir, {"file": c["warc_file"], "offset": c["warc_offset"],
                                            "length": c["warc_length"]})
        assert record.body.startswith(b"<html>") and record.header("Content-Encoding") is None
        assert record.header("Content-Length") == str(len(record.body))


def test_reextract_gives_back_the_crawls_own_documents(crawled):
    db = connect(crawled["db_path"])
    before = rows(db, f"SELECT id, {', '.join(FIELDS)}, fetched_at, crawl_run_id FROM documents ORDER BY id")
    summary = reextract(db, crawled["tmp"] / "archive")
    assert (summary.documents, summary.changed, summary.missing, summary.failed) == (len(before), 0, 0, 0)
    assert rows(db, f"SELECT id, {', '.join(FIELDS)}, fetched_at, crawl_run_id FROM documents ORDER BY id") == before


@pytest.fixture()
def copy(crawled, tmp_path):
    """A copy of the crawled database (same archive) that a test may change."""
    import shutil

    db = connect(crawled["db_path"])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(crawled["db_path"], tmp_path / "govwatch.db")
    return tmp_path / "govwatch.db"


def older_extractor(db) -> tuple[dict, dict]:
    """What an older extractor left: a report typed `other` with no year or region (its key never
    recorded) and a page whose body kept the chrome. Returns (the report row, the page row) as crawled."""
    report = rows(db, "SELECT * FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL "
                      "AND portal_id = 'jinghu'")[0]
    page = rows(db, "SELECT * FROM documents WHERE doc_type != 'annual_report' AND portal_id = 'wangcheng' "
                    "AND attachments = '[]' ORDER BY id LIMIT 1")[0]
    db.execute("UPDATE documents SET doc_type = 'other', report_year = NULL, region = NULL, adcode = NULL "
               "WHERE id = ?", [report["id"]])
    db.execute("DELETE FROM report_keys WHERE document_id = ?", [report["id"]])
    db.execute("UPDATE documents SET text = '首页 > 政务公开\n' || text || '\n版权所有' WHERE id = ?", [page["id"]])
    return report, page


def dump(db) -> dict:
    return {table: rows(db, f"SELECT * FROM {table}") for table in ("documents", "report_keys", "alerts",
                                                                     "alert_deliveries", "captures")}


def test_reextract_repairs_an_older_extraction_and_lists_the_report_as_reclassified(copy, crawled):
    db = connect(copy)
    report, page = older_extractor(db)
    before = dump(db)
    dry = reextract(db, crawled["tmp"] / "archive", dry_run=True)
    assert dump(db) == before  # nothing written
    assert (dry.changed, dry.reclassified) == (2, 1)
    assert dry.fields == {"doc_type": 1, "report_year": 1, "region": 1, "adcode": 1, "text": 1}
    assert {c.url for c in dry.examples["doc_type"]} == {report["url"]}
    assert dry.examples["doc_type"][0].old == "other" and dry.examples["doc_type"][0].new == "annual_report"

    summary = reextract(db, crawled["tmp"] / "archive")
    assert (summary.changed, summary.reclassified, summary.fields) == (2, 1, dry.fields)
    for original in (report, page):
        (now,) = rows(db, f"SELECT {', '.join(FIELDS)}, fetched_at, crawl_run_id FROM documents WHERE id = ?",
                      [original["id"]])
        assert now == {f: original[f] for f in (*FIELDS, "fetched_at", "crawl_run_id")}
    (alert,) = rows(db, "SELECT * FROM alerts WHERE kind = 'reclassified'")
    assert alert["document_id"] == report["id"] and alert["deliver"] == 0
    assert not rows(db, "SELECT * FROM alert_deliveries WHERE alert_id = ?", [alert["id"]])
    assert rows(db, "SELECT key FROM report_keys WHERE document_id = ?", [report["id"]])
    # the full-text index follows: the chrome is gone from the page's index entry
    (indexed,) = rows(db, "SELECT body FROM documents_fts WHERE rowid = ?", [page["id"]])
    assert "版权所有" not in indexed["body"].replace(" ", "")
    again = reextract(db, crawled["tmp"] / "archive")
    assert (again.changed, again.reclassified) == (0, 0)


def test_a_document_failing_to_store_is_undone_alone_and_the_batch_commits(copy, crawled, monkeypatch):
    from crawler.corpus import reextract as module

    db = connect(copy)
    report, page = older_extractor(db)
    real = module.store_document

    def half_then_fail(db, doc, **options):
        result = real(db, doc, **options)  # everything of the document written, then the store fails
        if doc["url"] == report["url"]:
            raise RuntimeError("disk full")
        return result

    monkeypatch.setattr(module, "store_document", half_then_fail)
    summary = reextract(db, crawled["tmp"] / "archive")
    assert (summary.changed, summary.failed) == (1, 1) and "disk full" in summary.errors[0]
    assert not db.conn.in_transaction
    (stored,) = rows(db, "SELECT doc_type, region FROM documents WHERE id = ?", [report["id"]])
    assert stored == {"doc_type": "other", "region": None}  # its savepoint undone: not half-written
    assert not rows(db, "SELECT * FROM report_keys WHERE document_id = ?", [report["id"]])
    assert not rows(db, "SELECT * FROM alerts WHERE document_id = ?", [report["id"]])
    other = connect(copy)  # the repaired page is committed: another connection sees it
    (repaired,) = rows(other, "SELECT text FROM documents WHERE id = ?", [page["id"]])
    assert "版权所有" not in repaired["text"]


def test_reextract_holds_the_write_lock_no_longer_than_commit_seconds(copy, crawled, monkeypatch):
    """Between commits another writer (the daemon's) waits: with COMMIT_SECONDS = 0 it never waits, also
    while unchanged documents follow a changed one."""
    from crawler.corpus import reextract as module

    db = connect(copy)
    older_extractor(db)
    monkeypatch.setattr(module, "COMMIT_SECONDS", 0.0)
    other = connect(copy, busy_timeout=0).conn  # the same SQLite library: its locks see each other
    refused = []

    def another_writer(done):
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        except Exception as exc:  # noqa: BLE001 - sqlite's "database is locked"
            refused.append((done, str(exc)))

    summary = reextract(db, crawled["tmp"] / "archive", progress=another_writer)
    assert summary.changed == 2 and summary.documents > 2 and refused == []


def test_a_run_stopped_half_way_leaves_the_uncommitted_batch_as_it_was_and_the_next_run_does_it(copy, crawled,
                                                                                                monkeypatch):
    from crawler.corpus import reextract as module

    db = connect(copy)
    older_extractor(db)
    before = dump(db)
    monkeypatch.setattr(module, "COMMIT_SECONDS", 3600.0)

    def interrupt(done):
        if done == rows(db, "SELECT count(*) AS n FROM captures WHERE role = 'page'")[0]["n"] - 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reextract(db, crawled["tmp"] / "archive", progress=interrupt)
    assert not db.conn.in_transaction and dump(db) == before
    summary = reextract(db, crawled["tmp"] / "archive")
    assert (summary.changed, summary.reclassified) == (2, 1)


def test_a_reclassified_report_is_delivered_only_with_alert_on_reclassified(copy, crawled):
    db = connect(copy)
    older_extractor(db)
    policy = AlertPolicy(urls=("json://127.0.0.1:9/hook",), alert_on_reclassified=True)
    summary = reextract(db, crawled["tmp"] / "archive", policy=policy)
    assert summary.reclassified == 1
    (alert,) = rows(db, "SELECT * FROM alerts WHERE kind = 'reclassified'")
    assert alert["deliver"] == 1 and alert["closed_at"] is None
    assert [d["status"] for d in rows(db, "SELECT status FROM alert_deliveries WHERE alert_id = ?",
                                     [alert["id"]])] == ["pending"]
    assert alert["message"].startswith("【新识别的报告】")


def test_reextract_selects_by_portal_and_archive_date(copy, crawled):
    db = connect(copy)
    older_extractor(db)
    archive_dir = crawled["tmp"] / "archive"
    county = reextract(db, archive_dir, portal="wangcheng", dry_run=True)
    total = rows(db, "SELECT count(*) AS n FROM documents WHERE portal_id = 'wangcheng'")[0]["n"]
    assert (county.documents, county.changed) == (total, 1)
    assert reextract(db, archive_dir, since="2999-01-01").documents == 0
    assert reextract(db, archive_dir, since=crawled["started"][:10], dry_run=True).changed == 2


def test_a_missing_warc_file_is_counted_and_named_and_the_command_fails(copy, crawled, tmp_path):
    db = connect(copy)
    (first,) = rows(db, "SELECT document_id, warc_file FROM captures WHERE role = 'page' ORDER BY document_id LIMIT 1")
    db.execute("UPDATE captures SET warc_file = 'moved-away.warc.gz' WHERE document_id = ?", [first["document_id"]])
    summary = reextract(db, crawled["tmp"] / "archive")
    assert summary.missing == 1 and "moved-away.warc.gz: WARC file not found" in summary.errors[0]
    config = tmp_path / "govwatch.toml"
    config.write_text(f'[archive]\ndir = "{crawled["tmp"] / "archive"}"\n', encoding="utf-8")
    result = subprocess.run(GOVWATCH + ["reextract", "--db", str(copy), "--config",
                             str(config)], capture_output=True, text=True, cwd=helpers.REPO)
    assert result.returncode == 1
    assert "records missing 1" in result.stdout
    (line,) = [l for l in result.stderr.splitlines() if "moved-away" in l]
    assert line.startswith("govwatch reextract: ")


def test_cli_reextract_dry_run_prints_counts_by_field_and_examples(copy, crawled, tmp_path):
    db = connect(copy)
    report, _ = older_extractor(db)
    config = tmp_path / "govwatch.toml"
    config.write_text(f'[archive]\ndir = "{crawled["tmp"] / "archive"}"\n', encoding="utf-8")
    cmd = GOVWATCH + ["reextract", "--db", str(copy), "--config", str(config)]
    result = subprocess.run(cmd + ["--dry-run"], capture_output=True, text=True, cwd=helpers.REPO)
    assert result.returncode == 0, result.stderr
    assert "would change 2" in result.stdout and "would be reclassified as new reports 1" in result.stdout
    assert "doc_type 1" in result.stdout and f"doc_type: other -> annual_report  {report['url']}" in result.stdout
    result = subprocess.run(cmd + ["--json"], capture_output=True, text=True, cwd=helpers.REPO)
    (summary,) = map(json.loads, result.stdout.splitlines())
    assert (summary["changed"], summary["reclassified"], summary["dry_run"]) == (2, 1, False)


def test_archive_off_writes_no_warc_and_no_pointers(tmp_path):
    with PortalServer(sites.build_demo_portals()[:1]) as server:
        config = server.write_config(tmp_path / "govwatch.toml", download_delay=0, autothrottle=False)
        with open(config, "a", encoding="utf-8") as handle:
            handle.write('\n[archive]\ndir = "off"\n')
        assert load_config(config).archive.directory(tmp_path / "g.db") is None
        summary = crawl(config, tmp_path / "g.db", timeout=120)
    assert summary.status == "ok" and summary.portals["jinghu"].new_documents > 5
    db = connect(tmp_path / "g.db")
    assert not rows(db, "SELECT * FROM captures") and not (tmp_path / "archive").exists()


def test_archive_dir_from_the_config_and_a_killed_crawls_file_finished_by_the_next(tmp_path):
    from crawler.corpus.archive import Exchange, WarcWriter

    archive_dir = tmp_path / "db" / "raw" / "warc"  # `dir` is relative to the database's folder
    killed = WarcWriter(archive_dir)  # what a crawl killed mid-write left: an .open file with a torn record
    killed.write_exchange(Exchange("http://127.0.0.2/a.html", 200, [("Content-Type", "text/html")], b"<html>a</html>"))
    (torn,) = archive_dir.iterdir()
    whole = torn.stat().st_size
    with open(torn, "ab") as handle:
        handle.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + os.urandom(4000))[:100])
    os.close(killed._fd)  # the process is gone: its lock with it
    killed._fd = None
    with PortalServer(sites.build_demo_portals()[:1]) as server:
        config = server.write_config(tmp_path / "govwatch.toml", download_delay=0, autothrottle=False)
        with open(config, "a", encoding="utf-8") as handle:
            handle.write('\n[archive]\ndir = "raw/warc"\nmax_file_bytes = 1048576\n')
        summary = crawl(config, tmp_path / "db" / "g.db", timeout=120)
    assert summary.status == "ok"
    names = sorted(os.listdir(archive_dir))
    assert len(names) == 2 and all(n.startswith("govwatch-") and n.endswith(".warc.gz") for n in names)
    finished = archive_dir / torn.name.removesuffix(".open")
    assert finished.stat().st_size == whole and [f.record_type for f in iter_file(finished)] == [
        "warcinfo", "response", "request"]
    assert "finished" in summary.log and torn.name.removesuffix(".open") in summary.log
