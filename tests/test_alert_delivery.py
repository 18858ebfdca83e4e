"""Delivery that never hangs and never gives up too soon, on loopback: a webhook that takes the POST and never
answers, one that answers one byte every 3 s; the total send deadline, one attempt per channel and flush, the
flush budget at the end of `govwatch crawl`, the daemon's SIGTERM, the retry window, `alerts flush|list|retry`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

import helpers
import storage
from crawler.cli import main
from crawler.config import AlertSettings, retry_window
from crawler.corpus.ingest import store_document
from crawler.monitor.delivery import flush, flush_after_crawl, list_alerts
from crawler.monitor.notify import SendResult
from crawler.monitor.sender import SendWorker
from test_alerts import body, make_db, report
from webhook_server import WebhookServer

pytestmark = pytest.mark.timeout(120)


def with_alerts(tmp_path, n: int):
    db = make_db(tmp_path)
    for i in range(n):
        store_document(db, report(url=f"http://jh.gov.cn/{i}.html", report_year=2000 + i, text=body(i),
                                  title=f"芜湖市镜湖区{2000 + i}年度法治政府建设情况报告"))
    return db


def deliveries(db):
    return list(db.query("SELECT * FROM alert_deliveries ORDER BY alert_id"))


wait_for = helpers.wait_for


# ------------------------------------------------------------------------------------- the total deadline


def test_a_trickling_answer_is_stopped_at_the_deadline_and_its_connection_closed():
    with WebhookServer() as hook, SendWorker() as worker:
        hook.trickle(1.0)  # a byte a second: Apprise's 4 s read timeout never fires
        worker.start()
        started = time.monotonic()
        result = worker.send(hook.json_url("hook"), "标题", "正文", deadline=2.5)
        returned = time.monotonic()
        assert not result.ok and "stopped" in result.error
        assert 2.5 <= returned - started < 4.5
        # the send is over for good: its connection is closed, nothing more of it can reach the channel
        [post] = wait_for(lambda: [p for p in hook.posts if p["client_gone_at"]], 3, "the client to hang up")
        assert post["client_gone_at"] - time.time() < 1.0 and not worker.running
        # the next send gets a fresh child
        hook.answer_normally()
        assert worker.send(hook.json_url("hook"), "标题", "正文", deadline=10).ok


def test_flush_stops_a_trickling_send_at_send_timeout(tmp_path):
    db = with_alerts(tmp_path, 1)
    with WebhookServer() as hook:
        hook.trickle(1.0)
        settings = AlertSettings(urls=(hook.json_url("hook"),), send_timeout=2.0)
        started = time.monotonic()
        summary = flush(db, settings)
        elapsed = time.monotonic() - started
    assert (summary.sent, summary.failed, summary.pending) == (0, 1, 1)
    assert elapsed < 2.0 + 20  # the deadline, plus loading Apprise and starting the sender (slow on a busy machine)
    [attempt] = list(db.query("SELECT * FROM alert_attempts"))
    assert not attempt["ok"] and "no answer within 2 s" in attempt["error"]


def test_a_slow_channel_never_gets_a_second_copy_from_another_sender(tmp_path):
    # before: a send held by a trickling answer outlived its lease, and a second sender claimed and sent the
    # same delivery again
    db_path = tmp_path / "gw.db"
    with_alerts(tmp_path, 1)
    with WebhookServer() as hook:
        hook.trickle(1.0)
        settings = AlertSettings(urls=(hook.json_url("hook"),), send_timeout=2.0, backoff_base=600)
        threading.Thread(target=lambda: flush(storage.connect(db_path), settings, lease_seconds=6),
                         daemon=True).start()
        wait_for(lambda: hook.posts, 20, "the first send")

        def other_sender():
            until = time.monotonic() + 9  # past the first sender's lease
            while time.monotonic() < until:
                flush(storage.connect(db_path), settings, lease_seconds=6)
                time.sleep(0.3)

        other = threading.Thread(target=other_sender, daemon=True)
        other.start()
        other.join(15)
        assert len(hook.posts) == 1


def test_a_failing_channel_is_tried_once_per_flush(tmp_path):
    # before: 20 alerts to a webhook that never answers took 20 x 4 s, and the sink got a copy every time
    db = with_alerts(tmp_path, 20)
    with WebhookServer() as hook, WebhookServer() as healthy:
        hook.hang()
        settings = AlertSettings(urls=(hook.json_url("hook"), healthy.json_url("ok")))
        started = time.monotonic()
        summary = flush(db, settings)
        elapsed = time.monotonic() - started
        assert len(hook.posts) == 1 and len(healthy.posts_to("/ok")) == 20
    assert elapsed < 4 + 20  # one hanging send (Apprise's own 4 s read timeout), starting up, 20 quick sends
    assert (summary.sent, summary.failed, summary.deferred) == (20, 1, 19)
    waiting = [d for d in deliveries(db) if d["status"] == "pending"]
    assert len(waiting) == 20 and sorted(d["attempts"] for d in waiting) == [0] * 19 + [1]


def test_the_flush_after_a_crawl_keeps_its_time_budget(tmp_path):
    db = with_alerts(tmp_path, 20)
    with WebhookServer() as hook:
        hook.trickle(1.0)
        config = type("Config", (), {"alerts": AlertSettings(urls=(hook.json_url("hook"),), crawl_flush_budget=4)})
        started = time.monotonic()
        line = flush_after_crawl(db, config)
        elapsed = time.monotonic() - started
    assert elapsed < 4 + 1.5  # the budget counts from the flush's start: loading Apprise, the sender, the send
    assert "still pending 20" in line and "not tried now" in line
    assert sum(d["attempts"] for d in deliveries(db)) <= 1  # the rest untouched, due for the next flush


def test_govwatch_crawl_exits_within_seconds_of_its_crawl(tmp_path):
    from crawler.demo.server import PortalServer
    from test_reliability import REGIONS, Site, mark_baseline_done
    from test_reliability import report as page

    db_path = tmp_path / "gw.db"
    items = [page(region, 2001 + i) for i, region in enumerate(REGIONS + REGIONS[:8])]
    with PortalServer([Site("ah", "安徽示例门户", items)]) as server, WebhookServer() as hook:
        hook.hang()
        config = server.write_config(tmp_path / "gw.toml", download_delay=0, autothrottle=False, timeout=60)
        config.write_text(f"[alerts]\nurls = [{json.dumps(hook.json_url('hook'))}]\n" + config.read_text("utf-8"),
                          encoding="utf-8")
        mark_baseline_done(db_path, "ah")
        env = dict(os.environ, PYTHONPATH=str(helpers.REPO), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--config",
                                 str(config), "--db", str(db_path), "-q"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        try:
            header = proc.stdout.readline()  # the summary table: the crawl is over, delivery begins
            crawl_done = time.monotonic()
            out, err = proc.communicate(timeout=100)
            exited = time.monotonic()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0 and header.startswith("portal"), err
        assert storage.connect(db_path).execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 20
        assert len(hook.posts) == 1  # one attempt; the channel failed, the other 19 wait for the next flush
    # before: 20 sends of 4 s each (Apprise's read timeout) held the exit for 80 s
    assert exited - crawl_done < 10 + 4, err  # the 10 s crawl_flush_budget, and the process's exit
    assert "still pending 20" in err


@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_the_daemon_stops_on_sigterm_within_10_s_while_a_send_is_stuck(tmp_path, mode):
    db_path = tmp_path / "gw.db"
    with_alerts(tmp_path, 20)
    with WebhookServer() as hook:
        getattr(hook, mode)()
        config = tmp_path / "gw.toml"
        config.write_text(f"[alerts]\nurls = [{json.dumps(hook.json_url('hook'))}]\nbackoff_base = 1.0\n",
                          encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(helpers.REPO))
        log = open(tmp_path / "watch.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "watch", "--config",
                                 str(config), "--db", str(db_path)], stderr=log, stdout=subprocess.DEVNULL, env=env)
        try:
            wait_for(lambda: hook.posts, 40, "the daemon's first send")
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            code = proc.wait(timeout=30)
            assert time.monotonic() - stopped < 10 and code == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert len(hook.posts) == 1
    [attempt] = list(storage.connect(db_path).query("SELECT * FROM alert_attempts"))
    assert not attempt["ok"] and attempt["error"]


def test_a_hanging_webhook_leaves_the_daemons_crawls_on_schedule(tmp_path):
    # before: the flush ran in the scheduler's pool, a hanging send held it, and 3 of ~15 crawls due ran
    from crawler.demo.server import PortalServer
    from test_reliability import Site
    from test_reliability import report as page

    db_path = tmp_path / "gw.db"
    with_alerts(tmp_path, 20)  # pending alerts: every flush tries the hanging channel
    with PortalServer([Site("ah", "安徽示例门户", [page("芜湖市镜湖区", 2021)])]) as server, WebhookServer() as hook:
        hook.hang()
        config = server.write_config(tmp_path / "gw.toml", download_delay=0, autothrottle=False, schedule="3s")
        config.write_text(f"[alerts]\nurls = [{json.dumps(hook.json_url('hook'))}]\nbackoff_base = 1.0\n"
                          + config.read_text("utf-8"), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(helpers.REPO))
        log_path = tmp_path / "watch.log"
        proc = subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "watch", "--config",
                                 str(config), "--db", str(db_path)], stderr=open(log_path, "wb"),
                                stdout=subprocess.DEVNULL, env=env)
        db = storage.connect(db_path)

        def finished_runs():
            return db.execute("SELECT COUNT(*) FROM crawl_runs WHERE portal_id = 'ah' AND finished_at IS NOT NULL"
                              ).fetchone()[0]

        try:
            wait_for(lambda: hook.posts, 60, "the daemon's first send")
            stuck_since, runs_then = time.monotonic(), finished_runs()
            # while sends keep hanging (each cut at send_timeout, retried every flush), crawls keep coming due
            wait_for(lambda: finished_runs() >= runs_then + 3, 60, "three more crawls while the webhook hangs")
            assert time.monotonic() - stuck_since < 60
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0
        log = log_path.read_text(encoding="utf-8", errors="replace")
        assert "maximum number of running instances" not in log and "was missed by" not in log, log[-2000:]


# ------------------------------------------------------------------------------------- retries


def test_the_default_retry_window_outlasts_a_day_long_outage(tmp_path):
    # before: 8 attempts from 30 s: `failed` for good about an hour into an outage
    db = with_alerts(tmp_path, 1)
    settings = AlertSettings(urls=("json://127.0.0.1:1/x",))
    down = SendResultSequence()
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = moment
    while True:
        flush(db, settings, now=moment, send=down)
        [d] = deliveries(db)
        if d["status"] != "pending":
            break
        moment = datetime.fromisoformat(d["next_attempt_at"])
    assert d["status"] == "failed" and d["attempts"] == settings.max_attempts
    times = [datetime.fromisoformat(r["attempted_at"]) for r in db.query("SELECT attempted_at FROM alert_attempts")]
    assert times[-1] - first >= timedelta(days=1) and retry_window(settings) >= 86400
    assert times[-1] - first == timedelta(seconds=retry_window(settings))
    # and it is never silent for long: at most max_backoff between two attempts
    assert max(b - a for a, b in zip(times, times[1:])) == timedelta(seconds=settings.max_backoff)


class SendResultSequence:
    """An injected sender: fails, or succeeds from its (ok_from+1)-th call on."""

    def __init__(self, ok_from=None):
        self.calls, self.ok_from = 0, ok_from

    def __call__(self, url, title, body):
        self.calls += 1
        ok = self.ok_from is not None and self.calls > self.ok_from
        return SendResult(ok, None if ok else "HTTP 503")


def test_a_person_s_alerts_flush_sends_what_waits_for_its_backoff(tmp_path):
    db = with_alerts(tmp_path, 1)
    with WebhookServer() as hook:
        url = hook.json_url("hook")
        config = tmp_path / "gw.toml"
        config.write_text(f"[alerts]\nurls = [{json.dumps(url)}]\nbackoff_base = 3600.0\n", encoding="utf-8")
        hook.fail_next(1)
        flush(db, AlertSettings(urls=(url,), backoff_base=3600))
        [d] = deliveries(db)
        assert d["status"] == "pending" and d["next_attempt_at"] > datetime.now(timezone.utc).isoformat()
        # the automatic retry waits an hour...
        assert flush(db, AlertSettings(urls=(url,), backoff_base=3600)).sent == 0
        # ...a person's flush does not
        out = CliRunner().invoke(main, ["alerts", "flush", "--config", str(config), "--db", str(tmp_path / "gw.db")])
        assert out.exit_code == 0 and out.output.startswith("sent 1,"), out.output
        assert len(hook.posts_to("/hook")) == 1


def test_alerts_list_shows_the_next_attempt(tmp_path):
    db = with_alerts(tmp_path, 1)
    flush(db, AlertSettings(urls=("json://127.0.0.1:1/x",), backoff_base=600), send=SendResultSequence())
    [d] = deliveries(db)
    runner = CliRunner()
    table = runner.invoke(main, ["alerts", "list", "--db", str(tmp_path / "gw.db")]).output
    header, _, row = table.splitlines()[:3]
    assert "next attempt (UTC)" in header and d["next_attempt_at"][:16].replace("T", " ") in row
    [listed] = [json.loads(line) for line in
                runner.invoke(main, ["alerts", "list", "--json", "--db", str(tmp_path / "gw.db")]).output.splitlines()]
    assert listed["next_attempt_at"] == d["next_attempt_at"] == listed["deliveries"][0]["next_attempt_at"]
    flush(db, AlertSettings(urls=("json://127.0.0.1:1/x",)), due_only=False, send=SendResultSequence(ok_from=0))
    assert list_alerts(db)[0]["next_attempt_at"] is None  # sent: nothing comes next


def test_alerts_retry_puts_failed_deliveries_back(tmp_path):
    db = with_alerts(tmp_path, 2)
    settings = AlertSettings(urls=("json://127.0.0.1:1/x",), max_attempts=1)
    flush(db, settings, send=SendResultSequence())
    flush(db, settings, send=SendResultSequence())  # the second alert: its channel had failed in the first flush
    assert [a["status"] for a in list_alerts(db)] == ["failed", "failed"]
    runner, db_arg = CliRunner(), ["--db", str(tmp_path / "gw.db")]
    assert runner.invoke(main, ["alerts", "retry", *db_arg]).exit_code == 2  # say what to retry
    out = runner.invoke(main, ["alerts", "retry", "--id", "99", *db_arg])
    assert out.exit_code == 1 and "no alert with id 99" in out.output
    out = runner.invoke(main, ["alerts", "retry", "--id", "1", *db_arg])
    assert out.exit_code == 0 and out.output.startswith("1 deliveries pending again"), out.output
    assert [a["status"] for a in list_alerts(db)] == ["failed", "pending"]  # newest first
    out = runner.invoke(main, ["alerts", "retry", "--failed", *db_arg])
    assert out.output.startswith("1 deliveries pending again")
    rows = deliveries(db)
    assert all(d["status"] == "pending" and d["attempts"] == 0 for d in rows)
    assert db.execute("SELECT COUNT(*) FROM alerts WHERE closed_at IS NULL").fetchone()[0] == 2
    summary = flush(db, settings, send=SendResultSequence(ok_from=0))
    assert summary.sent == 2 and all(a["status"] == "sent" for a in list_alerts(db))
    assert db["alert_attempts"].count == 4  # the history of the first window stays
