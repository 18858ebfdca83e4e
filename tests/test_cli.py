"""CLI behaviour at the edges: JSON Lines out, one-line errors for bad input, the rest still processed."""

import json
from pathlib import Path

from click.testing import CliRunner

from crawler.cli import main

SEEDS = sorted((Path(__file__).parents[1] / "seeds" / "pages").glob("*.txt"))


def test_extract_prints_one_utf8_json_line_per_file():
    result = CliRunner().invoke(main, ["extract", *map(str, SEEDS)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(SEEDS) == 5
    records = [json.loads(line) for line in lines]
    assert set(records[0]) == {"title", "text", "published_at", "source", "author", "region", "adcode",
                               "report_year", "doc_type"}
    assert "镜湖区" in lines[0]  # not ASCII-escaped
    assert [r["adcode"] for r in records] == ["340202", "410108", "430112", "220200", "360113"]


def test_bad_files_get_a_one_line_error_and_the_others_still_run(tmp_path):
    pdf = tmp_path / "report.html"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(range(256)) * 10)
    missing = tmp_path / "missing.html"
    result = CliRunner().invoke(main, ["extract", str(pdf), str(missing), str(SEEDS[3])])
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert str(pdf) in errors[0] and str(missing) in errors[1]
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["title"] == "吉林市2022年度法治政府建设工作报告"


def test_url_option_feeds_dates_from_the_url(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><head><title>某县2021年度法治政府建设工作报告_某县人民政府</title></head><body>"
                    "<div class='TRS_Editor'><p>" + "2021年，某县坚持依法行政。" * 20 + "</p></div></body></html>",
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(page), "--url",
                                       "http://www.example.gov.cn/zwgk/202203/t20220330_1.html"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published_at"] == "2022-03-30"


def test_discover_reports_an_unreachable_home_page_in_one_line():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(main, ["discover", f"http://127.0.0.1:{port}/"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot fetch http://127.0.0.1:{port}/")
    assert "Traceback" not in result.output
