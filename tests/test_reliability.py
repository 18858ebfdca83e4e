"""End to end on loopback: scheduled crawls (real subprocesses) -> documents -> outbox -> local webhook.

Each test is bounded (< 60 s): a report published between two runs arrives exactly once; a webhook down for
several attempts gets it exactly once later; a crawl killed with SIGKILL loses nothing and duplicates nothing;
a restarted daemon neither duplicates jobs nor re-alerts; a repost on a second portal is silent; a bot that
answers HTTP 200 + errcode is a failed delivery and its secrets never show.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import helpers
from crawler.monitor.alerts import flush, list_alerts
from crawler.config import load_config
from crawler.demo.server import Item, Portal, PortalServer, Response
from crawler.crawl.runner import crawl
from storage import connect, sqlite3
from webhook_server import WebhookServer

pytestmark = pytest.mark.timeout(90)

PARAS = ["{y}年，{r}深入学习贯彻习近平法治思想，全面推进依法行政，法治政府建设取得新成效。",
         "一、主要举措和成效。{r}完善依法行政制度体系，推进严格规范公正文明执法，强化行政权力制约监督{n}。" * 3,
         "二、存在的不足和下一步工作安排。{y}年{r}法治政府建设仍存在短板，将持续用力推进各项工作落实{n}。" * 3]
REGIONS = ["芜湖市镜湖区", "芜湖市弋江区", "芜湖市鸠江区", "芜湖市湾沚区", "芜湖市繁昌区", "合肥市瑶海区",
           "合肥市庐阳区", "合肥市蜀山区", "合肥市包河区", "安庆市迎江区", "安庆市大观区", "安庆市宜秀区"]


def report(region: str, year: int, n: int = 0) -> Item:
    return Item(title=f"{region}{year}年度法治政府建设情况报告", kind="report",
                published=f"{year + 1}-03-{10 + year % 10} 10:00", source=f"{region[3:]}司法局",
                paragraphs=[p.format(y=year, r=region, n=n) for p in PARAS])


class Site(Portal):
    """A plain UTF-8 column: /col/ lists the items, /art/N.html serves each; `delay` slows detail pages."""

    column_path = "/col/"
    per_page = 50

    def handle(self, request):
        if request.path == self.column_path:
            rows = "".join(f'<li><a href="{self.url(i)}">{i.title}</a><span>{i.date}</span></li>'
                           for i in self.items)
            return Response.html(f"<html><head><title>{self.name}</title></head><body><ul class='list'>{rows}"
                                 f"</ul></body></html>", last_modified=self.modified)
        item = self.item_by_path(request.path)
        if item is None:
            return None
        delay = self.options.get("delay", 0)
        if delay:
            time.sleep(delay)
        body = "".join(f"<p>{p}</p>" for p in item.paragraphs)
        return Response.html(f"<html><head><title>{item.title}_{self.name}</title></head><body><h1>{item.title}</h1>"
                             f"<div class='info'>发布时间：{item.published} 来源：{item.source}</div>"
                             f"<div id='zoom'>{body}</div></body></html>", last_modified=item.published_dt)


def write_config(server: PortalServer, path: Path, urls: list[str], *, schedule: str = "6h", extra: str = "",
                 portal_ids=None, backoff: float = 0.5) -> Path:
    server.write_config(path, portal_ids, download_delay=0, autothrottle=False, schedule=schedule, timeout=45)
    text = path.read_text(encoding="utf-8")
    alerts = "[alerts]\nurls = [%s]\nbackoff_base = %s\nmax_attempts = 10\n%s\n" % (
        ", ".join(json.dumps(u) for u in urls), backoff, extra)
    path.write_text(alerts + text, encoding="utf-8")
    return path


def mark_baseline_done(db_path, *portal_ids) -> None:
    db = connect(db_path)
    for pid in portal_ids:
        db.execute("INSERT INTO portals (id, name, status, baseline_done) VALUES (?, ?, 'never', 1) "
                   "ON CONFLICT(id) DO UPDATE SET baseline_done = 1", [pid, pid])
    db.conn.close()


wait_for = helpers.wait_for


def query(db_path, sql, params=()):
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def start_watch(config: Path, db_path: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(helpers.REPO))
    return subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "watch", "--config",
                             str(config), "--db", str(db_path)], stderr=open(log, "wb"), stdout=subprocess.DEVNULL,
                            env=env, cwd=str(config.parent))


def stop_watch(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=50)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_daemon_delivers_once_and_survives_restart(tmp_path):
    db_path = tmp_path / "gw.db"
    with PortalServer([Site("jh", "镜湖区人民政府", [report("芜湖市镜湖区", 2019)])]) as server, WebhookServer() as hook:
        config = write_config(server, tmp_path / "gw.toml", [hook.json_url("hook")], schedule="6s")
        proc = start_watch(config, db_path, tmp_path / "watch1.log")
        try:
            # the first run is the silent baseline
            wait_for(lambda: query(db_path, "SELECT 1 FROM portals WHERE id='jh' AND baseline_done=1"), 40,
                     "the baseline crawl")
            assert hook.posts == []
            published_at = time.monotonic()
            server.publish("jh", report("芜湖市镜湖区", 2023))
            wait_for(lambda: hook.posts_to("/hook"), 30, "the alert")
            assert time.monotonic() - published_at < 6 + 20  # within one interval (+ crawl time)
            runs_before = len(query(db_path, "SELECT id FROM crawl_runs"))
            wait_for(lambda: len(query(db_path, "SELECT id FROM crawl_runs WHERE finished_at IS NOT NULL"))
                     >= runs_before + 1, 30, "another scheduled crawl")
        finally:
            assert stop_watch(proc) == 0
        log1 = (tmp_path / "watch1.log").read_text(encoding="utf-8")
        assert "crawl jh:" in log1
        [post] = hook.posts_to("/hook")
        assert "芜湖市镜湖区" in post["json"]["title"] and "2023" in post["json"]["title"]
        jobs = query(db_path, "SELECT id FROM apscheduler_jobs")

        # restart: same jobs, no duplicate, the schedule resumes, no re-alert
        finished = len(query(db_path, "SELECT id FROM crawl_runs WHERE finished_at IS NOT NULL"))
        proc = start_watch(config, db_path, tmp_path / "watch2.log")
        try:
            wait_for(lambda: len(query(db_path, "SELECT id FROM crawl_runs WHERE finished_at IS NOT NULL"))
                     >= finished + 1, 40, "a crawl after the restart")
            assert sorted(query(db_path, "SELECT id FROM apscheduler_jobs")) == sorted(jobs)
            time.sleep(1)
        finally:
            assert stop_watch(proc) == 0
        assert len(hook.posts_to("/hook")) == 1
        assert query(db_path, "SELECT COUNT(*) FROM alerts WHERE kind != 'missing_digest'") == [(1,)]


def test_webhook_down_then_up_delivers_exactly_once(tmp_path):
    db_path = tmp_path / "gw.db"
    with PortalServer([Site("jh", "镜湖区人民政府", [report("芜湖市镜湖区", 2022)])]) as server, WebhookServer() as hook:
        config = write_config(server, tmp_path / "gw.toml", [hook.json_url("hook")])
        mark_baseline_done(db_path, "jh")
        hook.fail_next(4, status=503)
        summary = crawl(config, db_path, timeout=45)
        assert summary.status == "ok", summary.log[-2000:]
        db = connect(db_path)
        cfg = load_config(config)
        for _ in range(40):
            if flush(db, cfg).pending == 0:
                break
            time.sleep(0.3)
        assert len(hook.posts_to("/hook")) == 1
        assert len(hook.posts) == 5  # four refused, one accepted
        [alert] = list_alerts(db)
        assert alert["status"] == "sent" and [a["ok"] for a in alert["attempts"]] == [0, 0, 0, 0, 1]
        assert flush(db, cfg).sent == 0 and len(hook.posts) == 5


def test_sigkill_mid_crawl_loses_and_duplicates_nothing(tmp_path):
    db_path = tmp_path / "gw.db"
    items = [report(region, 2021 + i % 3, n=i) for i, region in enumerate(REGIONS)]
    with PortalServer([Site("ah", "安徽示例门户", items, delay=0.4)]) as server, WebhookServer() as hook:
        config = write_config(server, tmp_path / "gw.toml", [hook.json_url("hook")])
        mark_baseline_done(db_path, "ah")
        import threading

        result = {}
        thread = threading.Thread(target=lambda: result.update(summary=crawl(config, db_path, timeout=45)))
        thread.start()
        wait_for(lambda: query(db_path, "SELECT COUNT(*) FROM documents")[0][0] >= 2, 40, "some documents")
        [(pid,)] = query(db_path, "SELECT pid FROM crawl_runs WHERE status = 'running'")
        os.kill(pid, signal.SIGKILL)
        thread.join(30)
        stored_before = query(db_path, "SELECT COUNT(*) FROM documents")[0][0]
        assert stored_before < len(items)
        summary = crawl(config, db_path, timeout=45)
        assert summary.status == "ok", summary.log[-2000:]
        assert query(db_path, "PRAGMA integrity_check") == [("ok",)]
        urls = {server.url("ah", i) for i in server.portal("ah").items}
        stored = {u for (u,) in query(db_path, "SELECT url FROM documents")}
        assert stored == urls, f"lost after SIGKILL + re-crawl: {sorted(urls - stored)}"
        keys = query(db_path, "SELECT dedupe_key, COUNT(*) FROM alerts GROUP BY dedupe_key")
        assert len(keys) == len(items) and all(n == 1 for _, n in keys)
        db = connect(db_path)
        flush(db, load_config(config))
        titles = [p["json"]["title"] for p in hook.posts_to("/hook")]
        assert len(titles) == len(items) == len(set(titles))


def test_repost_on_second_portal_is_silent(tmp_path):
    db_path = tmp_path / "gw.db"
    original = report("芜湖市镜湖区", 2022)
    with PortalServer([Site("jh", "镜湖区人民政府", [original]), Site("wh", "芜湖市人民政府", [])]) as server, \
            WebhookServer() as hook:
        config = write_config(server, tmp_path / "gw.toml", [hook.json_url("hook")])
        mark_baseline_done(db_path, "jh", "wh")
        assert crawl(config, db_path, ["jh"], timeout=45).status == "ok"
        db = connect(db_path)
        flush(db, load_config(config))
        assert len(hook.posts_to("/hook")) == 1
        server.publish("wh", Item(title=original.title, kind="report", published="2023-03-25 09:00",
                                  source="芜湖市司法局", paragraphs=list(original.paragraphs)))
        assert crawl(config, db_path, ["wh"], timeout=45).status == "ok"
        assert query(db_path, "SELECT COUNT(*) FROM documents WHERE portal_id = 'wh'") == [(1,)]
        flush(db, load_config(config))
        assert len(hook.posts_to("/hook")) == 1
        assert query(db_path, "SELECT COUNT(*) FROM alerts WHERE kind IN ('new_report', 'late_report')") == [(1,)]


def test_bot_errcode_is_a_failed_delivery_and_secrets_stay_hidden(tmp_path):
    from click.testing import CliRunner

    from crawler.cli import main

    db_path = tmp_path / "gw.db"
    token, secret = "dtokS3cretTok3n0001", "SECs3cretSign0002"
    with PortalServer([Site("jh", "镜湖区人民政府", [report("芜湖市镜湖区", 2022)])]) as server, WebhookServer() as hook:
        urls = [hook.dingtalk_url(token, secret), hook.wecom_url("wkeyS3cretKey0003")]
        # a long backoff: exactly one attempt per channel in the one flush, however slow the machine
        config = write_config(server, tmp_path / "gw.toml", urls, backoff=600)
        mark_baseline_done(db_path, "jh")
        hook.errcode(True)
        assert crawl(config, db_path, timeout=45).status == "ok"
        out = CliRunner().invoke(main, ["alerts", "flush", "--config", str(config), "--db", str(db_path)])
        assert out.exit_code == 0
        listing = CliRunner().invoke(main, ["alerts", "list", "--wide", "--db", str(db_path)]).output
        listing += CliRunner().invoke(main, ["alerts", "list", "--json", "--db", str(db_path)]).output
    [alert] = list_alerts(connect(db_path))
    assert alert["status"] == "pending" and all(d["status"] == "pending" for d in alert["deliveries"])
    assert {a["ok"] for a in alert["attempts"]} == {0} and len(alert["attempts"]) == 2
    assert all("errcode=310000" in a["error"] for a in alert["attempts"])
    stored = json.dumps(query(db_path, "SELECT * FROM alert_attempts") + query(db_path, "SELECT * FROM alert_deliveries"))
    for s in (token, secret, "wkeyS3cretKey0003"):
        assert s not in listing and s not in stored
