"""Corpus export: jsonl, csv, parquet, txt; filters; streaming; CLI."""

from __future__ import annotations

import csv
import io
import json
import sys

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402

from crawler.cli import main  # noqa: E402
from crawler.corpus.export import FIELDS, ExportError, export, parse_since, safe_filename  # noqa: E402
from crawler.corpus.ingest import store_document  # noqa: E402
from storage import connect  # noqa: E402

SEEDS = synth.load_seeds()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "t.db"
    db = connect(path)
    for i, seed in enumerate(SEEDS):
        attachments = [{"url": f"http://a.gov.cn/{i}.pdf", "name": "附件1.pdf", "status": "ok", "chars": 120}] \
            if i % 2 == 0 else []
        store_document(db, dict(seed, url=f"http://a.gov.cn/{i}.html", portal_id="p", attachments=attachments))
    # a duplicate, a notice without year/adcode and with a hostile title
    store_document(db, dict(SEEDS[0], url="http://news.cn/0.html", portal_id="news"))
    store_document(db, {"url": "http://a.gov.cn/n.html", "portal_id": "p", "title": 'a/b\\c:d*e?f"g<h>i|j\x07通知',
                        "text": "通知正文", "doc_type": "notice", "published_at": "2019-05-01",
                        "attachments": [{"url": "http://a.gov.cn/x.doc", "status": 404, "error": "not found"}]})
    return path


@pytest.fixture
def db(corpus):
    return connect(corpus)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_round_trip_and_types(db, tmp_path):
    out = tmp_path / "c.jsonl"
    n = export(db, "jsonl", out)
    rows = read_jsonl(out)
    assert n == len(rows) == 7
    for row in rows:
        assert list(row) == list(FIELDS)
        assert row["report_year"] is None or isinstance(row["report_year"], int)
        assert isinstance(row["attachments"], list)
        for attachment in row["attachments"]:
            assert set(attachment) == {"url", "name", "status", "chars", "error"}
            assert attachment["chars"] is None or isinstance(attachment["chars"], int)
            assert attachment["status"] is None or isinstance(attachment["status"], str)
    by_url = {r["url"]: r for r in rows}
    assert by_url["http://news.cn/0.html"]["duplicate_of"] == by_url["http://a.gov.cn/0.html"]["id"]
    assert by_url["http://a.gov.cn/0.html"]["text"] == SEEDS[0]["text"]
    assert by_url["http://a.gov.cn/0.html"]["portal"] == "p"
    assert by_url["http://a.gov.cn/n.html"]["attachments"][0]["status"] == "404"


def test_jsonl_loads_with_datasets(db, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "c.jsonl"
    export(db, "jsonl", out)
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert ds.num_rows == 7 and "attachments" in ds.column_names


def test_csv_round_trip_with_bom(db, tmp_path):
    out = tmp_path / "c.csv"
    export(db, "csv", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 7 and list(rows[0]) == list(FIELDS)
    by_url = {r["url"]: r for r in rows}
    assert by_url["http://a.gov.cn/0.html"]["text"] == SEEDS[0]["text"]
    assert json.loads(by_url["http://a.gov.cn/0.html"]["attachments"])[0]["name"] == "附件1.pdf"


def test_parquet_round_trip(db, tmp_path):
    out = tmp_path / "c.parquet"
    export(db, "parquet", out, segmented=True)
    table = pq.read_table(out)
    assert table.num_rows == 7
    assert table.schema.names == list(FIELDS) + ["text_segmented"]
    assert str(table.schema.field("report_year").type) == "int32"
    rows = {r["url"]: r for r in table.to_pylist()}
    assert rows["http://a.gov.cn/0.html"]["text"] == SEEDS[0]["text"]
    assert rows["http://a.gov.cn/0.html"]["attachments"][0]["chars"] == 120
    assert "法治 政府" in rows["http://a.gov.cn/0.html"]["text_segmented"] or \
        "法治政府" in rows["http://a.gov.cn/0.html"]["text_segmented"]


def test_txt_folder_safe_names(db, tmp_path):
    out = tmp_path / "txt"
    n = export(db, "txt", out, reports_only=False)
    files = sorted(p.name for p in out.iterdir())
    assert n == len(files) == 7
    for name in files:
        assert not any(c in name for c in '/\\:*?"<>|') and all(ord(c) >= 32 for c in name)
        assert len(name.encode("utf-8")) <= 210
    assert "340202-2020-镜湖区人民政府关于2020年法治政府建设情况的报告.txt" in files
    assert "340202-2020-镜湖区人民政府关于2020年法治政府建设情况的报告-2.txt" in files  # unique on collision
    assert any(name.startswith("unknown-unknown-") for name in files)
    body = (out / "340202-2020-镜湖区人民政府关于2020年法治政府建设情况的报告.txt").read_text(encoding="utf-8")
    assert SEEDS[0]["text"] in body


def test_txt_holds_one_file_per_report_unless_all(db, tmp_path):
    assert export(db, "txt", tmp_path / "reports") == 5
    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert len(names) == 5 and not any(name.endswith("-2.txt") or "通知" in name for name in names)
    runner = CliRunner()
    corpus = db.execute("PRAGMA database_list").fetchone()[2]
    default = runner.invoke(main, ["export", "--format", "txt", "--out", str(tmp_path / "cli"), "--db", corpus])
    assert default.exit_code == 0 and "exported 5 reports" in default.output, default.output
    every = runner.invoke(main, ["export", "--format", "txt", "--out", str(tmp_path / "all"), "--db", corpus,
                                 "--all"])
    assert every.exit_code == 0 and "exported 7 documents" in every.output, every.output
    assert len(list((tmp_path / "all").iterdir())) == 7


def test_txt_names_take_the_region_where_the_adcode_is_unknown():
    assert safe_filename(None, 2023, "某县2023年法治政府建设工作报告", "某县") == "某县-2023-某县2023年法治政府建设工作报告.txt"
    assert safe_filename(None, 2023, "报告", "阿拉善/左旗-新区") == "阿拉善左旗_新区-2023-报告.txt"
    assert safe_filename("150421", 2023, "报告", "某旗") == "150421-2023-报告.txt"


def test_safe_filename_caps_length():
    name = safe_filename("110000", 2022, "很长的标题" * 50)
    assert name.startswith("110000-2022-") and name.endswith(".txt") and len(name) < 80
    assert safe_filename(None, None, None) == "unknown-unknown-untitled.txt"
    assert safe_filename("../..", 2020, "../../etc/passwd") == "unknown-2020-etcpasswd.txt"


def test_reports_only_and_since(db, tmp_path):
    out = tmp_path / "r.jsonl"
    assert export(db, "jsonl", out, reports_only=True) == 5
    assert all(r["duplicate_of"] is None and r["doc_type"] == "annual_report" for r in read_jsonl(out))
    assert export(db, "jsonl", out, since="2023-01-01") == 3
    assert all(r["published_at"] >= "2023-01-01" for r in read_jsonl(out))
    assert export(db, "jsonl", out, since="2023-02-28") == 2  # 2023-02-28T11:30 counts
    with pytest.raises(ExportError):
        parse_since("2023-13-01")
    with pytest.raises(ExportError):
        export(db, "jsonl", out, since="last year")
    with pytest.raises(ExportError):
        export(db, "xml", out)


def test_progress_callback(db, tmp_path):
    seen = []
    n = export(db, "jsonl", tmp_path / "p.jsonl", progress=seen.append)
    assert seen and seen[-1] == n


def test_export_streams(db, tmp_path, monkeypatch):
    """The cursor is read in batches (fetchmany), never fetchall."""
    from storage import sqlite3

    calls = []
    original = sqlite3.Cursor.fetchmany

    class Spy(sqlite3.Cursor):
        def fetchall(self):  # pragma: no cover - must not be called
            raise AssertionError("fetchall used")

        def fetchmany(self, size=None):
            calls.append(size)
            return original(self, size)

    from crawler.corpus import export as export_module

    monkeypatch.setattr(export_module, "BATCH", 2)
    real_execute = db.conn.execute

    class Conn:
        def execute(self, sql, params=()):
            return db.conn.cursor(Spy).execute(sql, params)

    rows = list(export_module.iter_rows(type("D", (), {"conn": Conn()})(), batch=2))
    assert len(rows) == 7 and len(calls) >= 4
    assert real_execute


def test_cli_export(corpus, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli.parquet"
    result = runner.invoke(main, ["export", "--format", "parquet", "--out", str(out), "--db", str(corpus),
                                  "--reports-only"])
    assert result.exit_code == 0, result.output
    assert "exported 5 reports" in result.output
    assert pq.read_table(out).num_rows == 5
    result = runner.invoke(main, ["export", "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"),
                                  "--db", str(corpus), "--since", "2023-99-01"])
    assert result.exit_code != 0 and "invalid --since date" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["export", "--format", "csv", "--out", str(tmp_path), "--db", str(corpus)])
    assert result.exit_code != 0 and "directory" in result.output


def test_parquet_without_pyarrow_is_one_line(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    out = tmp_path / "x.parquet"
    result = CliRunner().invoke(main, ["export", "--format", "parquet", "--out", str(out), "--db", str(corpus)])
    assert result.exit_code == 1 and "pip install 'govwatch[parquet]'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_export_shows_a_progress_bar_when_stderr_is_a_terminal(corpus, tmp_path):
    import os
    import pty
    import subprocess

    master, slave = pty.openpty()
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from crawler.cli import main; main()"
    out = tmp_path / "bar.jsonl"
    proc = subprocess.run([sys.executable, "-c", code, str(REPO), "export", "--format", "jsonl", "--out", str(out),
                           "--db", str(corpus)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                          timeout=120)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    text = shown.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "exporting 7 documents" in text and "100%" in text and "7/7" in text, text
    assert "exported 7 documents" in text and len(read_jsonl(out)) == 7
