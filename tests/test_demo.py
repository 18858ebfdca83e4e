"""The path after `govwatch demo`: it leaves a working setup in the default database, its portals have home
pages that `discover` works on, `--keep-serving` prints a config that crawls them, and `govwatch init` writes
a commented govwatch.toml that it never overwrites."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from helpers import REPO
from crawler.cli import main
from crawler.config import (ALERT_URL_EXAMPLES, KEY_HELP, SAMPLE_PORTAL, Config, config_template, load_config,
                            parse_config, _SECTIONS)
from crawler.crawl.discover import discover
from crawler.demo import DEMO_PORT, PortalServer, demo_portals
from crawler.demo.sites import build_demo_portals


# --- govwatch init -------------------------------------------------------------------------------------


def test_every_key_of_every_section_has_a_one_line_meaning():
    from crawler.config import Portal

    for name, cls in _SECTIONS.items():
        assert set(KEY_HELP[name]) == set(cls.__dataclass_fields__), name
    assert set(KEY_HELP["portal"]) == set(Portal.__dataclass_fields__)
    assert all(text and "\n" not in text for section in KEY_HELP.values() for text in section.values())


def test_init_writes_every_default_with_its_meaning_and_a_commented_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    text = open("govwatch.toml", encoding="utf-8").read()
    config = load_config("govwatch.toml")
    assert config.portals == () and config.crawl == Config().crawl and config.alerts == Config().alerts
    assert config.dedupe == Config().dedupe
    for name, cls in _SECTIONS.items():
        for key, spec in cls.__dataclass_fields__.items():
            line = next(n for n, line in enumerate(text.splitlines()) if re.match(rf"{key} = ", line))
            around = "\n".join(text.splitlines()[line - 1:line + 1])
            assert KEY_HELP[name][key] in around, key
    assert all(url in text for url in ALERT_URL_EXAMPLES)
    assert max(len(line) for line in text.splitlines()) <= 120
    # the sample portal, uncommented, is a portal
    sample = re.sub(r"(?m)^# (\[\[portal\]\]|(?:id|name|start_urls|region|adcode) = )", r"\1", text)
    assert parse_config(sample).portals[0].id == SAMPLE_PORTAL["id"]


def test_init_never_overwrites(tmp_path):
    existing = tmp_path / "govwatch.toml"
    existing.write_text("# mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", "--config", str(existing)])
    assert result.exit_code == 1 and f"{existing} exists: not overwritten" in result.output
    assert existing.read_text(encoding="utf-8") == "# mine\n"


def test_init_demo_writes_the_demo_portals(tmp_path):
    path = tmp_path / "demo.toml"
    result = CliRunner().invoke(main, ["init", "--demo", "--config", str(path)])
    assert result.exit_code == 0, result.output
    config = load_config(path)
    assert [p.id for p in config.portals] == [p.id for p in build_demo_portals()]
    assert [p.start_urls[0] for p in config.portals] == [p.column for p in demo_portals()]
    assert config.crawl.download_delay == 0 and "(default 1.0)" in path.read_text(encoding="utf-8")
    assert "--config " + str(path) in result.output


def test_template_values_follow_the_defaults():
    text = config_template()
    assert "threshold = 0.6 " in text and 'schedule = "6h"' in text


# --- the demo ------------------------------------------------------------------------------------------


def test_demo_portals_have_home_pages_that_discover_works_on():
    with PortalServer(build_demo_portals(), port=0, offsite=False) as server:
        for pid in server.portal_ids():
            best = discover(server.base_url(pid) + "/", settings={"DOWNLOAD_DELAY": 0})[0]
            column = server.column_url(pid)
            assert best.url in (column, column.removesuffix("index.html")), (pid, best)
            assert "法治政府" in best.text


def test_fixed_ports_fall_back_to_free_ones_when_taken():
    multi = socket.socket()
    multi.bind(("127.0.0.1", 0))
    taken = multi.getsockname()[1]
    multi.listen()
    try:
        portals = build_demo_portals()[:1]
        with PortalServer(portals, port=taken, offsite=False, first_host=1) as server:
            assert not server.fixed_ports and server.base_url(portals[0].id) != f"http://127.0.0.1:{taken}"
            with socket.create_connection(("127.0.0.1", int(server.base_url(portals[0].id).rsplit(":", 1)[1]))):
                pass
    finally:
        multi.close()


def test_demo_leaves_a_working_setup_in_the_default_database(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert os.path.isfile("govwatch.db") and not os.path.exists("govwatch-demo.db")
    assert "Reports in govwatch.db" in result.output and "govwatch reports --year 2022" in result.output
    assert "--db" not in result.output
    shown = runner.invoke(main, ["reports", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = [json.loads(line) for line in shown.output.splitlines()]
    assert len(rows) == 5 and {r["report_year"] for r in rows} == {2019, 2020, 2022, 2023}
    assert runner.invoke(main, ["search", "行政复议", "--type", "annual_report"]).exit_code == 0
    assert runner.invoke(main, ["export", "--format", "txt", "--out", "reports"]).exit_code == 0
    assert len(os.listdir("reports")) == 5
    other = runner.invoke(main, ["demo", "--db", "mine.db"])
    assert other.exit_code == 0 and "govwatch reports --db mine.db --year 2022" in other.output


def test_demo_refuses_a_database_with_other_portals(tmp_path):
    from crawler.corpus.ingest import store_document
    from storage import connect

    path = tmp_path / "govwatch.db"
    db = connect(path)
    db["portals"].insert({"id": "real-portal", "name": "真实门户"})
    store_document(db, {"url": "http://127.0.0.1:9/1.html", "portal_id": "real-portal", "title": "t", "text": "x"})
    db.close()
    result = CliRunner().invoke(main, ["demo", "--db", str(path)])
    assert result.exit_code == 1 and "holds other portals (real-portal)" in result.output
    assert connect(path).execute("SELECT count(*) FROM documents").fetchone()[0] == 1


def test_keep_serving_prints_a_config_that_crawls_the_demo_portals(tmp_path):
    """The new user's walk: demo --keep-serving in one terminal; in another, the printed config crawls the
    portals (a recrawl: nothing new), discover works on a home page; Ctrl-C stops the demo."""
    from crawler.crawl.runner import crawl

    # SIGUSR1 makes the demo print its threads' stacks, should it not stop
    code = ("import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1); "
            "sys.path.insert(0, sys.argv.pop(1)); from crawler.cli import main; main()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(REPO), "demo", "--keep-serving"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if line.startswith('start_urls = ') and len([x for x in out if x.startswith("[[portal]]")]) == 4:
                break
        text = "".join(out)
        assert "Demo portals, serving until Ctrl-C" in text, text + proc.stderr.read() if proc.poll() else text
        config_text = text[text.index("[crawl]"):]
        (tmp_path / "demo.toml").write_text(config_text, encoding="utf-8")
        config = load_config(tmp_path / "demo.toml")
        assert len(config.portals) == 4
        home = re.search(r"govwatch discover (\S+)", text).group(1)
        assert "法治政府" in discover(home, settings={"DOWNLOAD_DELAY": 0})[0].text
        summary = crawl(tmp_path / "demo.toml", tmp_path / "govwatch.db", timeout=180)
        assert {p.status for p in summary.portals.values()} == {"ok"}, summary.log[-2000:]
        assert sum(p.new_reports for p in summary.portals.values()) == 0  # the demo stored them already
        if f":{DEMO_PORT}/" in home:  # the fixed ports were free: init --demo writes the same portals
            assert [p.start_urls[0] for p in config.portals] == [p.column for p in demo_portals()]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            proc.kill()
            pytest.fail("the demo did not stop within 60 s of Ctrl-C:\n" + proc.communicate()[1][-6000:])
    assert proc.returncode == 0, proc.stderr.read()


@pytest.mark.parametrize("inherited", ["ignored", "blocked"])
def test_keep_serving_stops_on_ctrl_c_even_when_its_parent_ignored_or_blocked_it(inherited):
    code = ("import signal, sys; sys.path.insert(0, sys.argv.pop(1)); from crawler.demo import serve_until_stopped; "
            "serve_until_stopped(ready=lambda: print('up', flush=True)); print('stopped')")

    def inherit():
        if inherited == "ignored":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    proc = subprocess.Popen([sys.executable, "-c", code, str(REPO)], stdout=subprocess.PIPE, text=True,
                            preexec_fn=inherit)
    try:
        assert proc.stdout.readline() == "up\n"  # the handler is in place: one Ctrl-C must do
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0 and proc.stdout.read() == "stopped\n"
    finally:
        if proc.poll() is None:
            proc.kill()
