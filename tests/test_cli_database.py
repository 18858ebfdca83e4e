"""Commands that only read never create or change a database, and no command writes to another
application's SQLite file; bad filters get one line, never a traceback."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from helpers import REPO
from crawler.cli import main
from crawler.corpus.ingest import store_document
from storage import connect
from storage.schema import migrations

READ_ONLY_COMMANDS = [
    ["reports"], ["status"], ["search", "行政复议"], ["export", "--format", "jsonl", "--out", "{tmp}/out.jsonl"],
    ["alerts", "list"], ["coverage", "--config", "{tmp}/govwatch.toml"],
]
CONFIG = '[[portal]]\nid = "p"\nname = "某县人民政府"\nstart_urls = ["http://127.0.0.1:9/list.html"]\n'


def report(n: int, **fields) -> dict:
    doc = {"url": f"http://127.0.0.1:9/{n}.html", "portal_id": "p", "title": f"某县{2020 + n}年法治政府建设工作报告",
           "text": f"{2020 + n}年，某县深入推进依法行政，办理行政复议案件{n + 10}件。\n第{n}段正文内容。" * 3,
           "region": "某县", "adcode": "999999", "report_year": 2020 + n, "doc_type": "annual_report",
           "published_at": f"{2021 + n}-03-01"}
    doc.update(fields)
    return doc


def run(args: list[str], tmp_path) -> object:
    (tmp_path / "govwatch.toml").write_text(CONFIG, encoding="utf-8")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    return CliRunner().invoke(main, args)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=lambda c: c[0] + (c[1] if c[0] == "alerts" else ""))
def test_a_missing_database_is_named_and_not_created(tmp_path, command):
    missing = tmp_path / "sub" / "govwatch.db"
    result = run(command + ["--db", str(missing)], tmp_path)
    assert result.exit_code == 1, result.output
    assert f"no database at {missing} (run `govwatch crawl` first)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "sub").exists()


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS + [["alerts", "flush", "--config", "{tmp}/govwatch.toml"],
                                                          ["crawl", "--config", "{tmp}/govwatch.toml"], ["demo"]],
                         ids=lambda c: c[0] + (c[1] if c[0] == "alerts" else ""))
def test_another_applications_sqlite_file_is_refused_untouched(tmp_path, command):
    other = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = digest(other)
    result = run(command + ["--db", str(other)], tmp_path)
    assert result.exit_code == 1, result.output
    assert f"{other} is not a govwatch database" in result.output and "notes" in result.output
    assert digest(other) == before
    tables = [r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["notes"]
    assert not (tmp_path / "notes.sqlite-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    text = tmp_path / "govwatch.db"
    text.write_text("just some text, not a database\n" * 100)
    result = run(["reports", "--db", str(text)], tmp_path)
    assert result.exit_code == 1 and str(text) in result.output and "not a database" in result.output
    assert text.read_text().startswith("just some text")


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "govwatch.db"
    db = connect(path)
    for n in range(3):
        store_document(db, report(n))
    store_document(db, report(3, region="某_县", title="某_县2023年法治政府建设工作报告", adcode=None))
    db.close()
    return path


def test_read_only_commands_leave_a_govwatch_database_byte_identical(tmp_path, corpus):
    sqlite3.connect(corpus).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    before = digest(corpus)
    for command in READ_ONLY_COMMANDS:
        result = run(command + ["--db", str(corpus)], tmp_path)
        assert result.exit_code == 0, (command, result.output)
    assert digest(corpus) == before


def test_the_read_only_connection_cannot_write(corpus):
    from crawler.cli.common import open_db_read_only

    db = open_db_read_only(str(corpus))
    with pytest.raises(Exception, match="readonly"):
        db.execute("DELETE FROM documents")
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 4


def test_an_older_govwatch_database_is_brought_up_to_date_first(tmp_path):
    old = tmp_path / "old.db"
    db = connect(old, migrate_schema=False)
    db.execute("CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT)")
    for migration in migrations._migrations[:3]:
        migration.fn(db)
        db.execute("INSERT INTO _sqlite_migrations VALUES ('govwatch', ?, '2026-01-01')", [migration.name])
    db.close()
    result = run(["reports", "--db", str(old)], tmp_path)
    assert result.exit_code == 0, result.output
    assert not migrations.pending(connect(old, read_only=True))


def test_region_wildcards_are_plain_characters(tmp_path, corpus):
    def regions(value: str) -> list[str]:
        result = run(["reports", "--db", str(corpus), "--json", "--region", value], tmp_path)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["region"] for line in result.output.splitlines()]

    assert regions("%") == [] and regions("某%") == []
    assert regions("_") == ["某_县"]
    assert len(regions("某")) == 4 and regions("999999") == ["某县"] * 3


def test_an_overlong_region_is_one_line(tmp_path, corpus):
    result = run(["reports", "--db", str(corpus), "--region", "县" * 60_000], tmp_path)
    assert result.exit_code == 1 and "--region has 60,000 characters" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["search"], ["reports", "--region"]])
def test_non_utf8_bytes_in_arguments_are_one_line(tmp_path, corpus, command):
    code = "import sys; sys.path.insert(0, sys.argv.pop(1)); from crawler.cli import main; main()"
    args = [sys.executable, "-c", code, str(REPO)] + command + [b"\xff\xfe\xe8\xa1"] + ["--db", str(corpus)]
    result = subprocess.run(args, capture_output=True, timeout=120, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, stderr
    assert "not valid UTF-8" in stderr and "Traceback" not in stderr


def test_crawl_timeout_must_be_positive(tmp_path):
    result = run(["crawl", "--config", str(tmp_path / "govwatch.toml"), "--timeout", "-1",
                  "--db", str(tmp_path / "x.db")], tmp_path)
    assert result.exit_code == 2 and "--timeout" in result.output
    assert not (tmp_path / "x.db").exists()


def test_tables_fit_120_columns_unless_wide(tmp_path):
    path = tmp_path / "govwatch.db"
    db = connect(path)
    long_title = "某县人民政府关于" + "持续深入推进法治政府建设" * 8 + "的工作报告"
    store_document(db, report(1, title=long_title, url="http://127.0.0.1:9/" + "a" * 150 + ".html"))
    db.close()
    narrow = run(["reports", "--db", str(path)], tmp_path)
    assert narrow.exit_code == 0, narrow.output
    from crawler.cli.common import _width

    assert max(_width(line) for line in narrow.output.splitlines()) <= 120
    assert "某县人民政府关于持续" in narrow.output and "…" in narrow.output and "2021" in narrow.output
    wide = run(["reports", "--db", str(path), "--wide"], tmp_path)
    assert long_title in wide.output and "a" * 150 in wide.output


def test_fit_widths_lowers_the_widest_columns_first():
    from crawler.cli.common import fit_widths

    assert fit_widths([10, 100, 60], [2, 5, 3], 120, []) == [10, 53, 53]
    assert fit_widths([10, 100, 60], [2, 5, 3], 120, [2]) == [10, 98, 8]
    assert fit_widths([10, 20], [2, 5], 120, []) == [10, 20]
    assert fit_widths([50] * 20, [4] * 20, 120, []) == [8] * 20  # the floor wins over the limit


def test_an_overlong_query_is_refused_at_once(tmp_path, corpus):
    result = run(["search", "--db", str(corpus), "行政复议" * 500], tmp_path)
    assert result.exit_code == 1 and "the query has 2,000 characters; at most 1,000" in result.output


@pytest.mark.parametrize("command", [["reports"], ["coverage", "--config", "{tmp}/govwatch.toml"]])
def test_a_year_out_of_range_is_a_usage_error(tmp_path, corpus, command):
    result = run(command + ["--db", str(corpus), "--year", "99999999999999999999"], tmp_path)
    assert result.exit_code == 2 and "--year" in result.output and "Traceback" not in result.output
