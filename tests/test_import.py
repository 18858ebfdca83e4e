"""`govwatch import`: saved pages, text dumps, PDF/Word files, folders, WARC files and JSON Lines become
documents through the crawl's own store path, with their provenance, silently unless asked."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

import helpers
from crawler import extract
from crawler.config import AlertSettings
from crawler.corpus import ingest
from crawler.corpus.archive import iter_file, read_capture
from crawler.corpus.imports import import_paths, input_bytes, portal_name, saved_url
from crawler.corpus.reextract import reextract
from crawler.demo.sites import make_docx
from storage import connect

GOVWATCH = [sys.executable, "-c", "from crawler.cli import main; main()"]
RECORD = ("title", "text", "published_at", "source", "author", "region", "adcode", "report_year", "doc_type")


def rows(db, sql, params=()):
    return [dict(r) for r in db.query(sql, params)]


def record_of(row: dict) -> dict:
    return {f: row[f] for f in RECORD}


def seeds() -> dict[str, bytes]:
    return {stem: (helpers.SEED_PAGES / f"{stem}.txt").read_bytes() for stem in helpers.seed_stems()}


@pytest.fixture()
def db(tmp_path):
    return connect(tmp_path / "govwatch.db")


def test_seeds_and_saved_pages_become_documents_with_the_fields_extract_gives(db, tmp_path):
    realpages = helpers.realpage_files()
    summary = import_paths(db, [helpers.SEED_PAGES, *realpages], archive_dir=tmp_path / "archive")
    real_reports = [p for p in realpages if extract(p.read_bytes(), url=saved_url(p.read_bytes())).doc_type
                    == "annual_report"]
    assert (summary.imported, summary.unreadable) == (5 + len(realpages), [])
    # a saved page may be the same report as a seed's text dump: a report, not a new one
    assert summary.reports == 5 + len(real_reports) and 5 <= summary.new_reports <= summary.reports
    for stem, content in seeds().items():
        url = (helpers.SEED_PAGES / f"{stem}.txt").resolve().as_uri()
        (row,) = rows(db, "SELECT * FROM documents WHERE url = ?", [url])
        assert record_of(row) == extract(content).to_dict() == helpers.load_expected(stem)
        assert row["portal_id"] == "import:pages"
    for path in realpages:  # a browser's `saved from url=` names the page: extraction gets it too
        content = path.read_bytes()
        url = saved_url(content)
        if url is not None:
            assert urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname, path
        (row,) = rows(db, "SELECT * FROM documents WHERE url = ?", [url or path.resolve().as_uri()])
        assert record_of(row) == extract(content, url=url).to_dict()
        if helpers.titled_doc_type(helpers.realpage_title(path)) == "not annual_report":
            assert row["doc_type"] != "annual_report", path.name
    # provenance: each document points at a resource record holding the bytes as imported
    captures = rows(db, "SELECT * FROM captures ORDER BY document_id")
    assert len(captures) == summary.imported == summary.archived
    for capture in captures:
        record = read_capture(tmp_path / "archive", {"file": capture["warc_file"], "offset": capture["warc_offset"],
                                                     "length": capture["warc_length"]})
        assert record.record_type == "resource" and capture["origin"].startswith("import:/")
        assert record.body == open(capture["origin"].removeprefix("import:"), "rb").read()
    # silent: report keys are known (a later crawl will not alert), nothing is to be delivered
    assert len(rows(db, "SELECT * FROM report_keys")) == summary.new_reports
    assert not rows(db, "SELECT * FROM alerts WHERE deliver = 1") and not rows(db, "SELECT * FROM alert_deliveries")


def test_importing_again_changes_nothing_and_reextract_agrees(db, tmp_path):
    first = import_paths(db, [helpers.SEED_PAGES], archive_dir=tmp_path / "archive")
    before = rows(db, "SELECT * FROM documents ORDER BY id")
    again = import_paths(db, [helpers.SEED_PAGES], archive_dir=tmp_path / "archive")
    assert (first.imported, again.imported, again.unchanged, again.reports) == (5, 0, 5, 5)
    assert (first.archived, again.archived) == (5, 0)  # the same bytes again: no second record
    records = [f for path in (tmp_path / "archive").iterdir() for f in iter_file(path) if f.record_type == "resource"]
    assert len(records) == 5
    assert [{k: v for k, v in r.items() if k not in ("fetched_at",)} for r in rows(db, "SELECT * FROM documents "
            "ORDER BY id")] == [{k: v for k, v in r.items() if k not in ("fetched_at",)} for r in before]
    summary = reextract(db, tmp_path / "archive")
    assert (summary.documents, summary.changed, summary.failed) == (5, 0, 0)


def chunked(data: bytes, size: int = 700) -> bytes:
    return b"".join(f"{len(data[i:i + size]):x}\r\n".encode() + data[i:i + size] + b"\r\n"
                    for i in range(0, len(data), size)) + b"0\r\n\r\n"


def write_warc(path, *, gzip_records: bool = True) -> dict:
    """A crawler's WARC (written by warcio): the five seeds as text responses (one chunked and gzipped), their
    request records, a metadata record, a revisit of one seed under another URL, an older capture, an image,
    a 404, a report page whose PDF attachment is in the file, and a DOCX no page links."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from crawler.demo.sites import make_pdf

    pages = {f"https://www.example.gov.cn/fzzf/{n}.txt": content for n, content in enumerate(seeds().values())}
    report_paragraphs = ["2023年，示例县深入学习贯彻习近平法治思想，法治政府建设取得新成效。现将有关情况报告如下：",
                         "一、主要举措和成效", "完善依法行政制度体系，推进严格规范公正文明执法。" * 8,
                         "二、存在的不足", "基层法治力量仍然薄弱。" * 5, "特此报告。", "示例县人民政府", "2024年3月1日"]
    pdf = make_pdf("示例县2023年法治政府建设年度报告", report_paragraphs)
    docx = make_docx("样例区2022年度法治政府建设情况报告", [p.replace("示例县", "样例区").replace("2023", "2022")
                                                        for p in report_paragraphs])
    notice = ('<html><head><meta charset="utf-8"><title>示例县2023年法治政府建设年度报告</title></head><body>'
              '<h1>示例县2023年法治政府建设年度报告</h1><div class="info">发布时间：2024-03-05 来源：示例县司法局</div>'
              '<div id="zoom"><p>详见附件。</p><p><a href="/fzzf/P020240305.pdf">示例县2023年法治政府建设年度报告.pdf</a>'
              '</p></div></body></html>').encode()

    def response(writer, url, body, headers, status="200 OK", date="2024-05-01T10:00:00Z"):
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                           warc_headers_dict={"WARC-Date": date},
                                           http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"))
        request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), length=0,
                                            warc_headers_dict={"WARC-Date": date},
                                            http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")],
                                                                          is_http_request=True))
        writer.write_request_response_pair(request, record)
        return record

    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzip_records)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "Wget/1.21.3"}))
        first = None
        for n, (url, content) in enumerate(pages.items()):
            if n == 0:  # an older capture of the same URL, with other content: the later one counts
                response(writer, url, b"old version", [("Content-Type", "text/plain")], date="2023-01-01T00:00:00Z")
            if n == 1:
                body = chunked(gzip.compress(content))
                headers = [("Content-Type", "text/plain; charset=utf-8"), ("Transfer-Encoding", "chunked"),
                           ("Content-Encoding", "gzip")]
            else:
                body, headers = content, [("Content-Type", "text/plain; charset=utf-8")]
            record = response(writer, url, body, headers)
            first = first or record
        writer.write_record(writer.create_warc_record("metadata://example/crawl-log", "metadata",
                                                      payload=io.BytesIO(b"log"), length=3))
        writer.write_record(writer.create_revisit_record(
            "https://mirror.example.org/copy.txt", first.rec_headers.get_header("WARC-Payload-Digest"),
            list(pages)[0], "2024-05-01T10:00:00Z"))
        response(writer, "https://www.example.gov.cn/logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
                 [("Content-Type", "image/png")])
        response(writer, "https://www.example.gov.cn/gone.html", b"<html>404</html>", [("Content-Type", "text/html")],
                 status="404 Not Found")
        response(writer, "https://www.example.gov.cn/fzzf/notice.html", notice,
                 [("Content-Type", "text/html; charset=utf-8")])
        response(writer, "https://www.example.gov.cn/fzzf/P020240305.pdf", pdf, [("Content-Type", "application/pdf")])
        response(writer, "https://www.example.gov.cn/fzzf/P020230301.docx", docx, [(
            "Content-Type", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
    return pages


@pytest.mark.parametrize("gzip_records", [True, False])
def test_a_warc_file_imports_its_pages_with_the_fields_extract_gives(db, tmp_path, gzip_records):
    path = tmp_path / ("crawl.warc.gz" if gzip_records else "crawl.warc")
    pages = write_warc(path, gzip_records=gzip_records)
    summary = import_paths(db, [path], archive_dir=tmp_path / "archive")
    assert summary.unreadable == []
    for url, content in pages.items():  # the five seeds, found with the same fields as `extract`
        (row,) = rows(db, "SELECT * FROM documents WHERE url = ?", [url])
        assert record_of(row) == extract(content, url=url).to_dict()
        assert row["doc_type"] == "annual_report" and row["fetched_at"] == "2024-05-01T10:00:00+00:00"
    # the page whose text is its attachment (in the same file), and the DOCX no page links
    (notice,) = rows(db, "SELECT * FROM documents WHERE url LIKE '%notice.html'")
    assert notice["doc_type"] == "annual_report" and notice["report_year"] == 2023
    assert [a["status"] for a in json.loads(notice["attachments"])] == ["ok"]
    (docx,) = rows(db, "SELECT * FROM documents WHERE url LIKE '%.docx'")
    assert (docx["doc_type"], docx["report_year"]) == ("annual_report", 2022)
    assert not rows(db, "SELECT * FROM documents WHERE url LIKE '%.pdf' OR url LIKE '%.png' OR url LIKE '%gone%'")
    # the revisit of a seed under another URL is that seed's payload: a duplicate of it
    (copy,) = rows(db, "SELECT * FROM documents WHERE url = 'https://mirror.example.org/copy.txt'")
    assert copy["duplicate_of"] == rows(db, "SELECT id FROM documents WHERE url = ?", [list(pages)[0]])[0]["id"]
    assert (summary.imported, summary.duplicates, summary.reports) == (8, 1, 7)
    assert summary.skipped["request record"] == 11 and summary.skipped["metadata record"] == 1
    assert summary.skipped["HTTP 404 response"] == 1 and summary.skipped["older capture of a URL"] == 1
    assert summary.skipped["attachment of an imported page"] == 1 and summary.skipped["not a page (image/png)"] == 1
    # the records stay where they are: documents point into the imported file, nothing is copied
    assert summary.archived == 0
    assert {c["warc_file"] for c in rows(db, "SELECT warc_file FROM captures")} == {str(path.resolve())}
    assert reextract(db, tmp_path / "archive").changed == 0


def test_json_lines_with_html_or_text_and_a_fetch_time(db, tmp_path):
    content = seeds()
    stems = list(content)
    html = ("<html><head><title>{t}</title></head><body><div id='zoom'>{b}</div></body></html>")
    expected = helpers.load_expected(stems[0])
    lines = [
        json.dumps({"url": "https://a.gov.cn/1.html", "fetched_at": "2024-04-02T08:00:00+08:00",
                    "html": html.format(t=expected["title"], b="".join(f"<p>{p}</p>" for p in expected["text"].split("\n")))},
                   ensure_ascii=False),
        json.dumps({"url": "https://a.gov.cn/2.txt", "text": content[stems[1]].decode("utf-8")}, ensure_ascii=False),
        "",
        "{not json",
        json.dumps({"html": "<p>no url</p>"}),
        json.dumps({"url": "https://a.gov.cn/3.html", "text": "x", "fetched_at": "last tuesday"}),
    ]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_paths(db, [path], archive_dir=tmp_path / "archive")
    assert summary.imported == 2 and summary.reports == 2
    assert [(where.rsplit(":", 1)[1], reason.split(" ")[0]) for where, reason in summary.unreadable] == [
        ("4", "not"), ("5", "needs"), ("6", "fetched_at")]
    (first,) = rows(db, "SELECT * FROM documents WHERE url = 'https://a.gov.cn/1.html'")
    assert first["fetched_at"] == "2024-04-02T00:00:00+00:00" and first["region"] == expected["region"]
    (second,) = rows(db, "SELECT * FROM documents WHERE url = 'https://a.gov.cn/2.txt'")
    assert record_of(second) == extract(content[stems[1]].decode("utf-8"), url="https://a.gov.cn/2.txt").to_dict()
    assert first["portal_id"] == "import:dump"


def test_files_that_are_the_document_folders_recursive_and_bad_files_one_line_each(db, tmp_path):
    folder = tmp_path / "saved"
    (folder / "2022" / ".cache").mkdir(parents=True)
    paragraphs = ["2022年，样例区坚持以习近平法治思想为指导，法治政府建设取得新成效。现将有关情况报告如下：", "一、主要举措和成效",
                  "推进严格规范公正文明执法。" * 10, "二、存在的不足", "基层法治力量仍然薄弱。" * 4, "特此报告。",
                  "样例区人民政府", "2023年3月1日"]
    (folder / "2022" / "样例区2022年度法治政府建设情况报告.docx").write_bytes(make_docx("报告", paragraphs))
    (folder / "2022" / ".cache" / "hidden.html").write_text("<html><title>x</title></html>")
    shutil.copy(helpers.SEED_PAGES / f"{helpers.seed_stems()[0]}.txt", folder / "seed.txt")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is no pdf")
    (folder / "scan.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (folder / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "empty.html").write_bytes(b"")
    errors = []
    summary = import_paths(db, [folder], on_error=lambda where, reason: errors.append((where, reason)))
    assert summary.imported == 2 and summary.reports == 2
    (docx,) = rows(db, "SELECT * FROM documents WHERE url LIKE '%.docx'")
    assert docx["title"] == "样例区2022年度法治政府建设情况报告" and docx["report_year"] == 2022
    assert not rows(db, "SELECT * FROM documents WHERE url LIKE '%hidden%'")
    assert summary.skipped == {"not an importable file (.xlsx)": 1}
    assert errors == summary.unreadable and sorted(where.rsplit("/", 1)[1] for where, _ in errors) == [
        "broken.pdf", "empty.html", "scan.doc"]
    assert all("\n" not in reason for _, reason in errors)
    assert not rows(db, "SELECT * FROM captures")  # archive off: no provenance records, documents still stored
    assert portal_name(folder) == "import:saved" and portal_name(tmp_path / "a.warc.gz") == "import:a"
    assert input_bytes([folder]) > 0


def test_a_document_and_its_provenance_are_written_together_or_not_at_all(db, tmp_path, monkeypatch):
    real = ingest.assign_duplicate

    def fails_for_one(db_, document_id, **kw):
        if db_.execute("SELECT url FROM documents WHERE id = ?", [document_id]).fetchone()[0].endswith("002_5f949e49d371bf8d.txt"):
            raise RuntimeError("disk I/O error")
        return real(db_, document_id, **kw)

    monkeypatch.setattr(ingest, "assign_duplicate", fails_for_one)
    summary = import_paths(db, [helpers.SEED_PAGES], archive_dir=tmp_path / "archive")
    assert summary.imported == 4 and len(summary.unreadable) == 1 and "disk I/O error" in summary.unreadable[0][1]
    assert not rows(db, "SELECT * FROM documents WHERE url LIKE '%002_5f949e49d371bf8d.txt'")
    assert len(rows(db, "SELECT * FROM captures")) == 4  # the failed one's capture went with it
    monkeypatch.undo()
    assert import_paths(db, [helpers.SEED_PAGES], archive_dir=tmp_path / "archive").imported == 1


def test_imports_alert_only_when_asked(db, tmp_path):
    settings = AlertSettings(urls=("json://127.0.0.1:9/hook",))
    import_paths(db, [helpers.SEED_PAGES / f"{helpers.seed_stems()[0]}.txt"], alerts=settings)
    assert not rows(db, "SELECT * FROM alert_deliveries")
    summary = import_paths(db, [helpers.SEED_PAGES], alerts=settings, alert=True)
    assert summary.new_reports == 4
    alerts = rows(db, "SELECT * FROM alerts WHERE deliver = 1")
    assert len(alerts) == 4 and {a["kind"] for a in alerts} <= {"new_report", "late_report"}
    assert len(rows(db, "SELECT * FROM alert_deliveries WHERE status = 'pending'")) == 4


def test_cli_import_summary_errors_and_exit_status(tmp_path):
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"this is not a warc")
    cmd = GOVWATCH + ["import", "--db", str(tmp_path / "g.db"), str(helpers.SEED_PAGES)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "5 documents read: imported 5" in result.stdout and "reports found 5 (5 new, not alerted)" in result.stdout
    assert (tmp_path / "archive").is_dir()  # beside the database, without a config file
    result = subprocess.run(cmd + [str(bad), "--portal", "mine", "--json"], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 1
    (summary,) = map(json.loads, result.stdout.splitlines())
    assert summary["unchanged"] == 5 and len(summary["unreadable"]) == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"govwatch import: {bad}: unreadable after offset 0")
    result = subprocess.run(GOVWATCH + ["import", "--db", str(tmp_path / "g.db"), str(tmp_path / "missing")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr


def _on_a_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run govwatch with stderr on a pseudo-terminal (a progress bar is drawn only there)."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.run(GOVWATCH + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                          cwd=cwd, timeout=300)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end is closed: all read
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.returncode, shown.decode("utf-8", "replace")


def test_import_and_reextract_show_a_progress_bar_on_a_terminal(tmp_path):
    db_path = str(tmp_path / "govwatch.db")
    code, shown = _on_a_terminal(["import", str(helpers.SEED_PAGES), "--db", db_path], tmp_path)
    assert code == 0 and "importing" in shown and "100%" in shown, shown
    code, shown = _on_a_terminal(["reextract", "--dry-run", "--db", db_path], tmp_path)
    assert code == 0 and "re-extracting" in shown and "100%" in shown, shown
    piped = subprocess.run(GOVWATCH + ["reextract", "--dry-run", "--db", db_path], capture_output=True, text=True,
                           cwd=tmp_path, timeout=300)
    assert piped.returncode == 0 and "re-extracting" not in piped.stderr  # no bar into a pipe or a log
