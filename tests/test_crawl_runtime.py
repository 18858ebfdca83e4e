"""The crawl under its runners: `scrapy crawl column` as incremental as `govwatch crawl`, processes that never
hang or outlive their parent (real SIGKILLs; processes checked through /proc and os.kill), runs that say what
happened (reasons, logs, exit codes, killed crawls, the baseline), `status` and the one-daemon lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import helpers
from crawler.crawl.lifeline import process_alive
from crawler.crawl.runner import crawl
from crawler.demo.server import Item, PortalServer
from crawler.demo.sites import SITES, BlockedPortal, CountyPortal, filler_items, synthetic_report
from storage import connect

CONFIG_AGENT = "govwatch-runtime-test/1.0 (+config)"
CLI = [sys.executable, "-c", "from crawler.cli import main; main()"]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(helpers.REPO), os.environ.get("PYTHONPATH")])))


class Portal(CountyPortal):
    """A plain county column; detail pages of `gone` items answer 404, every detail page takes `delay` s."""

    def __init__(self, id, items, *, gone=(), delay=0.0):
        super().__init__(id, items=items, site=SITES["wangcheng"])
        self.gone, self.delay = set(gone), delay

    def handle(self, request):
        if request.path == "/news/show.asp":
            time.sleep(self.delay)
            item = self.item_by_path(f"/news/show.asp?id={request.params.get('id', '')}")
            if item is not None and item.title in self.gone:
                return None
        return super().handle(request)


def reports(years) -> list[Item]:
    site = SITES["wangcheng"]
    return [Item(title=f"长沙市望城区{y}年法治政府建设年度报告", kind="report", paragraphs=synthetic_report(site, y),
                 published=f"{y + 1}-03-1{y % 10} 09:00", source=site["office"]) for y in years]


GONE = "望城区关于公开征求意见的公告（已撤回）"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runtime")
    gone = Item(title=GONE, paragraphs=["本公告已撤回。" * 30], published="2024-01-05 10:00", kind="news")
    portals = [
        Portal("county", reports(range(2020, 2024)) + [gone], gone={GONE}),
        Portal("slow", filler_items(SITES["wangcheng"], 40, "2023-01-01 09:00"), delay=0.4),
        BlockedPortal("walled", "瑞数防护站点", status=412, column_path="/zwgk/fzzfjs/index.html"),
    ]
    with PortalServer(portals, offsite=False) as server:
        config = server.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=120,
                                     user_agent=CONFIG_AGENT)
        yield {"server": server, "config": config, "tmp": tmp}


# ---------------------------------------------------------------------------------------------------------
# helpers: processes seen through /proc


children = helpers.children


wait_for = helpers.wait_for


def writer_of(crawl_pid: int) -> int | None:
    return next((pid for pid, cmd in children(crawl_pid).items()
                 if "multiprocessing" in cmd and "resource_tracker" not in cmd), None)


def stored(db_path) -> int:
    try:
        return connect(db_path).execute("SELECT count(*) FROM documents").fetchone()[0]
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def runs(db_path, portal_id):
    return [dict(r) for r in connect(db_path).query("SELECT * FROM crawl_runs WHERE portal_id = ? ORDER BY id",
                                                    [portal_id])]


def detail_requests(server, portal_id):
    return [r for r in server.requests if r.portal == portal_id and r.path == "/news/show.asp"]


# ---------------------------------------------------------------------------------------------------------
# the spider is self-sufficient


def test_scrapy_crawl_applies_the_config_and_its_second_run_is_robots_plus_one_304(site, tmp_path):
    server, db_path = site["server"], tmp_path / "scrapy.db"
    command = [sys.executable, "-m", "scrapy", "crawl", "column", "-a", f"config={site['config']}",
               "-a", "portals=county", "-a", f"db={db_path}", "-s", "LOG_LEVEL=INFO"]
    env = dict(ENV, SCRAPY_SETTINGS_MODULE="crawler.settings")
    server.clear_log()
    first = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    log = [r for r in server.requests if r.portal == "county"]
    assert log and {r.headers.get("User-Agent") for r in log} == {CONFIG_AGENT}  # the config's [crawl] table
    (run,) = runs(db_path, "county")  # the run bookkeeping, without govwatch's runner
    assert run["status"] == "ok" and run["new_documents"] == 4 and run["pid"] and run["finished_at"]
    assert "HTTP 404" in run["reason"] and "HTTP 404" in run["log_tail"]
    portal = next(connect(db_path).query("SELECT * FROM portals WHERE id = 'county'"))
    assert portal["baseline_done"] == 1 and portal["status"] == "ok"

    server.clear_log()
    second = subprocess.run(command + ["-s", "USER_AGENT=override/2.0"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=180)
    assert second.returncode == 0, second.stderr[-3000:]
    log = [(r.path, r.status) for r in server.requests if r.portal == "county"]
    # robots.txt, one 304, and the page that failed (404) in the first run: asked for again (see
    # test_nothing_lost), until GOVWATCH_MAX_TRIES runs have tried it
    assert sorted(log) == [("/news/list.asp", 304), ("/news/show.asp", 404), ("/robots.txt", 200)], log
    assert {r.headers.get("User-Agent") for r in server.requests} == {"override/2.0"}  # -s wins over the config
    assert [r["status"] for r in runs(db_path, "county")] == ["ok", "ok"]


# ---------------------------------------------------------------------------------------------------------
# processes that never hang or outlive their parent


def test_a_writer_killed_mid_crawl_fails_the_run_at_once_with_the_reason(site, tmp_path):
    server, db_path, events = site["server"], tmp_path / "w.db", []
    result = {}
    thread = threading.Thread(target=lambda: result.update(summary=crawl(
        site["config"], db_path, ["slow"], timeout=120, progress=events.append)))
    server.clear_log()
    thread.start()
    crawl_pid = wait_for(lambda: next((e["pid"] for e in events if e.get("event") == "start"), None), 60, "start")
    wait_for(lambda: stored(db_path) >= 2, 60, "two stored documents")
    writer = wait_for(lambda: writer_of(crawl_pid), 10, "the writer process")
    os.kill(writer, signal.SIGKILL)
    thread.join(60)
    assert not thread.is_alive(), "the crawl hung after its writer died"
    summary = result["summary"]
    slow = summary.portals["slow"]
    assert summary.status == "ok" and slow.status == "error"  # the crawl process ended by itself
    assert slow.reason.startswith("writer process killed by SIGKILL: crawl stopped"), slow.reason
    assert len(detail_requests(server, "slow")) < 40  # it stopped instead of fetching the rest for nothing
    (run,) = runs(db_path, "slow")
    assert run["status"] == "error" and "SIGKILL" in run["reason"]
    assert next(connect(db_path).query("SELECT baseline_done FROM portals WHERE id = 'slow'"))["baseline_done"] == 0


def test_a_sigkilled_crawl_leaves_no_process_behind_and_its_run_is_closed_as_killed_next_time(site, tmp_path):
    db_path = tmp_path / "k.db"
    proc = subprocess.Popen([sys.executable, "-m", "crawler.crawl.process", "--config", str(site["config"]),
                             "--db", str(db_path), "--portal", "slow"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=ENV, cwd=tmp_path)
    try:
        wait_for(lambda: stored(db_path) >= 1, 60, "a stored document")
        helpers_ = wait_for(lambda: len(children(proc.pid)) >= 2 and children(proc.pid), 10,
                            "the writer and the resource tracker")
        assert any("resource_tracker" in cmd for cmd in helpers_.values()) and writer_of(proc.pid)
        proc.kill()
        proc.wait(10)
        wait_for(lambda: not any(process_alive(pid) for pid in helpers_), 10, "the children to die with the crawl")
    finally:
        proc.kill()
    (run,) = runs(db_path, "slow")
    assert run["status"] == "running" and run["pid"] == proc.pid

    summary = crawl(site["config"], db_path, ["walled"], timeout=120)  # the next start, of any portal
    assert summary.portals["walled"].status == "blocked"
    (run,) = runs(db_path, "slow")
    assert run["status"] == "killed" and f"crawl process {proc.pid} died" in run["reason"]
    from crawler.crawl.status import status

    row = next(r for r in status(connect(db_path)) if r["id"] == "slow")
    assert row["status"] == "error" and "died" in row["reason"]


def test_a_crawl_dies_with_its_runner(site, tmp_path):
    db_path = tmp_path / "r.db"
    cli = subprocess.Popen(CLI + ["crawl", "--config", str(site["config"]), "--db", str(db_path), "--portal", "slow",
                                  "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=tmp_path)
    try:
        crawl_pid = wait_for(lambda: next((pid for pid, cmd in children(cli.pid).items()
                                           if "crawler.crawl.process" in cmd), None), 60, "the crawl process")
        wait_for(lambda: stored(db_path) >= 1, 60, "a stored document")
        writer = wait_for(lambda: writer_of(crawl_pid), 10, "the writer")
        cli.kill()
        cli.wait(10)
        # SIGTERM from the kernel at the runner's death: Scrapy stops, the run is closed, the writer ends
        wait_for(lambda: not process_alive(crawl_pid) and not process_alive(writer), 30, "the orphans to exit")
    finally:
        cli.kill()
    (run,) = runs(db_path, "slow")
    assert run["status"] == "killed" and run["reason"] == "crawl stopped: its runner died", run


def test_a_crawl_killed_by_a_signal_is_reported_as_such_and_status_says_error(site, tmp_path):
    db_path, events = tmp_path / "s.db", []

    def kill_at_start(event):
        events.append(event)
        if event.get("event") == "start":
            os.kill(event["pid"], signal.SIGKILL)

    summary = crawl(site["config"], db_path, ["slow"], timeout=120, progress=kill_at_start)
    assert summary.status == "killed" and summary.error == "crawl process killed by SIGKILL"
    assert summary.portals["slow"].status == "killed"
    assert summary.portals["slow"].reason == "crawl process killed by SIGKILL"
    result = CliRunner().invoke(_main(), ["status", "--db", str(db_path), "--json"])
    # every configured portal is in the registry; the others never ran
    rows = {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert (rows["slow"]["status"], rows["slow"]["reason"]) == ("error", "crawl process killed by SIGKILL")
    assert {row["status"] for pid, row in rows.items() if pid != "slow"} <= {"never"}


def test_sigterm_stops_govwatch_crawl_which_reports_killed_not_ok(site, tmp_path):
    db_path = tmp_path / "t.db"
    cli = subprocess.Popen(CLI + ["crawl", "--config", str(site["config"]), "--db", str(db_path), "--portal",
                                  "slow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                           cwd=tmp_path)
    try:
        wait_for(lambda: stored(db_path) >= 1, 60, "a stored document")
        cli.send_signal(signal.SIGTERM)
        out, err = cli.communicate(timeout=60)
    finally:
        cli.kill()
    assert cli.returncode == 4, err
    (line,) = [line for line in out.splitlines() if line.startswith("slow")]
    assert line.split()[1] == "killed" and "crawl stopped by SIGTERM" in line
    (run,) = runs(db_path, "slow")
    assert run["status"] == "killed" and run["reason"] == "crawl stopped by SIGTERM"


# ---------------------------------------------------------------------------------------------------------
# errors that surface: summary reasons, logs, exit codes, the baseline


def _main():
    from crawler.cli import main

    return main


def test_cli_crawl_shows_errors_keeps_the_log_and_says_what_the_baseline_did(site, tmp_path):
    db_path = tmp_path / "c.db"
    result = subprocess.run(CLI + ["crawl", "--config", str(site["config"]), "--db", str(db_path), "--portal",
                                   "county", "--wide"], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr  # ok with an error on one page is still ok
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("county")]
    assert "ok" in row.split() and "1 pages not stored yet, asked for again next run (last error: HTTP 404" in row
    lines = result.stderr.splitlines()
    assert "  1/1 portals done (county), 1 pages, 4 new documents" in "\n".join(lines)
    assert not [line for line in lines if "county" in line and " ok" in line]  # final statuses: the table only
    assert "first crawl of portal county: 4 reports recorded as baseline, no alerts (alert_on_baseline = false)" \
        in lines
    log_file = Path(next(line for line in lines if line.startswith("crawl log: "))[len("crawl log: "):])
    assert log_file.parent == tmp_path / "c-logs" and "Spider opened" in log_file.read_text(encoding="utf-8")
    (run,) = runs(db_path, "county")
    assert run["log_file"] == str(log_file) and "HTTP 404" in run["log_tail"]


def test_cli_crawl_exit_codes_and_fail_on(site, tmp_path):
    db_path, log_file = tmp_path / "e.db", tmp_path / "walled.log"
    base = CLI + ["crawl", "--config", str(site["config"]), "--db", str(db_path), "--portal", "walled"]
    # (a blocked portal exits 4: test_crawl_e2e) --fail-on error: a block does not count; -v shows the crawl's
    # log; --log-file puts it there
    allowed = subprocess.run(base + ["--fail-on", "error", "-v", "--log-file", str(log_file)], capture_output=True,
                             text=True, env=ENV, cwd=tmp_path, timeout=120)
    assert allowed.returncode == 0, allowed.stderr
    assert "Spider opened" in allowed.stderr and "Spider opened" in log_file.read_text(encoding="utf-8")
    assert f"crawl log: {log_file}" in allowed.stderr
    never = subprocess.run(base + ["--fail-on", "never", "-q"], capture_output=True, text=True, env=ENV,
                           cwd=tmp_path, timeout=120)
    assert never.returncode == 4  # blocked since it was added: it never had an ok crawl
    usage = CliRunner().invoke(_main(), ["crawl", "--config", str(site["config"]), "--db", str(db_path),
                                         "--fail-on", "blokced"])
    assert usage.exit_code == 2 and "blokced" in usage.output
    missing = CliRunner().invoke(_main(), ["crawl", "--config", str(tmp_path / "none.toml"), "--db", str(db_path)])
    assert missing.exit_code == 1 and "none.toml" in missing.output


def test_progress_without_a_terminal_prints_totals_and_leaves_final_statuses_to_the_table(capsys):
    from crawler.cli.progress import CrawlProgress

    progress = CrawlProgress(["a", "b"], bar=False)
    progress({"event": "start", "portal": "a"})
    progress({"event": "progress", "portal": "a", "status": "running", "pages": 1, "documents": 2})
    progress.last_heartbeat -= 60  # a long crawl: a line of totals now and then
    progress({"event": "progress", "portal": "b", "status": "running", "pages": 3, "documents": 1})
    for _ in range(2):
        progress({"event": "done", "portal": "a", "status": "ok", "pages": 1, "documents": 2, "reports": 1})
    progress({"event": "done", "portal": "b", "status": "blocked", "reason": "412", "pages": 1})
    progress.close()
    assert capsys.readouterr().err.splitlines() == ["  0/2 portals done, 4 pages, 3 new documents (0 s)",
                                                    "  1/2 portals done (a), 4 pages, 3 new documents (0 s)",
                                                    "  2/2 portals done (b), 2 pages, 2 new documents (0 s)"]


# ---------------------------------------------------------------------------------------------------------
# status and the daemon lock


def test_status_lists_configured_portals_that_never_ran_and_next_runs_only_with_a_daemon(tmp_path):
    from crawler.crawl.daemonlock import daemon_lock
    from crawler.crawl.status import status
    from crawler.crawl.watch import sync_schedule
    from crawler.config import load_config

    config_path = tmp_path / "govwatch.toml"
    config_path.write_text('[[portal]]\nid = "a"\nstart_urls = ["http://a.example/"]\n\n'
                           '[[portal]]\nid = "b"\nstart_urls = ["http://b.example/"]\n', encoding="utf-8")
    db_path = str(tmp_path / "gw.db")
    db = connect(db_path)
    db["portals"].insert({"id": "a", "name": "a", "status": "ok"})
    sync_schedule(db, load_config(config_path))  # the daemon's schedule of both portals
    result = CliRunner().invoke(_main(), ["status", "--db", db_path, "--config", str(config_path), "--json"])
    rows = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["b"]["status"] == "never" and rows["a"]["status"] == "ok"
    assert rows["a"]["next_run"] is None  # scheduled, but no daemon running: no next runs
    with daemon_lock(db_path):
        assert all(r["next_run"] for r in status(db, config=load_config(config_path)))


def test_a_second_daemon_exits_at_once_naming_the_first_and_a_dead_one_leaves_no_lock(tmp_path):
    from crawler.crawl.daemonlock import DaemonRunning, running_daemon
    from crawler.crawl.watch import watch

    db_path = tmp_path / "gw.db"
    config_path = tmp_path / "govwatch.toml"
    # a yearly schedule: the daemon started at the end runs no crawl (a.example is not on loopback)
    config_path.write_text('[[portal]]\nid = "a"\nstart_urls = ["http://a.example/"]\nschedule = "0 3 1 1 *"\n',
                           encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom crawler.crawl.daemonlock import "
                               f"daemon_lock\nwith daemon_lock({str(db_path)!r}):\n    print('held', flush=True)\n"
                               "    time.sleep(120)\n"], stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert running_daemon(db_path) == holder.pid
        with pytest.raises(DaemonRunning, match=f"PID {holder.pid}"):
            watch(str(config_path), str(db_path), install_signals=False)
        result = CliRunner().invoke(_main(), ["watch", "--config", str(config_path), "--db", str(db_path)])
        assert result.exit_code == 1 and f"already running on this database (PID {holder.pid})" in result.output
    finally:
        holder.kill()
        holder.wait(10)
    assert running_daemon(db_path) is None  # the kernel dropped the dead holder's lock
    stop = threading.Event()
    stop.set()
    watch(str(config_path), str(db_path), stop=stop, install_signals=False)  # and a new daemon can start
