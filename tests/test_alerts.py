"""Alert events (what counts as new) and the outbox (delivery, retries, leases, crash safety)."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest

import storage
from crawler.monitor.alerts import (AlertPolicy, department_of, flush, issuer_of, list_alerts, on_document_stored, report_key,
                            similarity, sketch)
from crawler.config import AlertSettings
from crawler.corpus.ingest import store_document
from crawler.monitor.notify import SendResult
from webhook_server import WebhookServer

BODY = "\n".join(f"第{i}条：本区坚持依法行政，推进法治政府建设第{i}项重点工作，完善行政执法体制机制。" for i in range(60))
_POOL = "法治政府建设行政执法复议应急管理营商环境监督考核制度改革公开透明规范权力运行责任落实基层治理人民群众满意"


def body(seed) -> str:
    """A report body unlike any other seed's (dedupe must not merge them)."""
    import random

    rng = random.Random(str(seed))
    return "\n".join("".join(rng.choice(_POOL) for _ in range(40)) for _ in range(30))


def make_db(tmp_path, portals=(("jh", 1), ("wh", 1))):
    db = storage.connect(tmp_path / "gw.db")
    for pid, done in portals:
        db["portals"].insert({"id": pid, "name": f"{pid}人民政府", "baseline_done": done})
    return db


def report(url="http://jh.gov.cn/1.html", portal="jh", **kw):
    doc = dict(url=url, portal_id=portal, title="芜湖市镜湖区2020年度法治政府建设情况报告", text=BODY,
               published_at="2021-03-31 10:00", source="镜湖区司法局", region="芜湖市镜湖区", adcode="340202",
               report_year=2020, doc_type="annual_report")
    doc.update(kw)
    return doc


class Recorder:
    def __init__(self, fail=0):
        self.calls, self.fail, self.lock = [], fail, threading.Lock()

    def __call__(self, url, title, body):
        with self.lock:
            self.calls.append((url, title, body))
            if self.fail > 0:
                self.fail -= 1
                return SendResult(False, f"HTTP 500 for {url}")
        return SendResult(True)


def alerts(db, kind=None):
    rows = list(db.query("SELECT * FROM alerts ORDER BY id"))
    return [r for r in rows if kind is None or r["kind"] == kind]


def test_new_report_alerts_once_with_chinese_message(tmp_path):
    db = make_db(tmp_path)
    result = store_document(db, report())
    assert result.new_report
    [alert] = alerts(db)
    assert alert["kind"] == "new_report" and alert["dedupe_key"] == "report:adcode:340202:2020"
    first, url, found = alert["message"].split("\n")
    assert first == "【新报告】芜湖市镜湖区 2020年度法治政府建设情况报告（2021-03-31 发布，来源：镜湖区司法局）"
    assert url == "http://jh.gov.cn/1.html" and found == "发现于：jh人民政府"
    # re-crawl, repost elsewhere, repost on a second portal, restart (new connection): never again
    assert not store_document(db, report()).new_report
    assert not store_document(db, report(url="http://jh.gov.cn/copy.html")).new_report
    assert not store_document(db, report(url="http://wh.gov.cn/a.html", portal="wh", source="芜湖市司法局")).new_report
    db2 = storage.connect(tmp_path / "gw.db")
    store_document(db2, report(url="http://jh.gov.cn/copy2.html", text=BODY + "\n（来源：镜湖区）"))
    assert len(alerts(db2)) == 1


def test_duplicates_and_non_reports_never_alert(tmp_path):
    db = make_db(tmp_path)
    store_document(db, report(doc_type="news", url="http://jh.gov.cn/n.html"))
    store_document(db, report(report_year=None, url="http://jh.gov.cn/y.html"))
    assert alerts(db) == []
    # a document the dedupe step marked as a duplicate is never an event
    doc_id = db["documents"].insert(dict(report(url="http://x/dup", adcode="340203"), duplicate_of=None)).last_pk
    db.execute("UPDATE documents SET duplicate_of = ? WHERE id = ?", [doc_id, doc_id])
    assert on_document_stored(db, doc_id, created=True, changed=False, policy=AlertPolicy()) is None


def test_a_report_released_from_a_duplicate_group_alerts(tmp_path):
    # M (2020) joins C, a copy whose year is unknown, so it does not alert; when N (2021) takes C's group
    # over, M is a different report from N and stands alone: canonical now, it must get its alert
    db = make_db(tmp_path)
    store_document(db, report(url="http://jh.gov.cn/c.html", report_year=None, published_at="2021-03-01"))
    m = store_document(db, report(url="http://wh.gov.cn/m.html", portal="wh", published_at="2021-03-31",
                                  text=BODY + "\n（本文有删改）"))
    assert m.duplicate_of is not None and alerts(db) == []
    n = store_document(db, report(url="http://wh.gov.cn/n.html", portal="wh", report_year=2021,
                                  published_at="2021-02-01", text=BODY + "\n（转载）"))
    assert n.duplicate_of is None
    row = db.execute("SELECT duplicate_of FROM documents WHERE id = ?", [m.document_id]).fetchone()
    assert row[0] is None
    assert sorted(a["document_id"] for a in alerts(db, "new_report")) == sorted([m.document_id, n.document_id])


def test_a_department_and_its_government_are_two_new_reports(tmp_path):
    db = make_db(tmp_path)
    store_document(db, report(url="http://jh.gov.cn/sfj.html", title="芜湖市镜湖区司法局2020年度法治政府建设工作报告",
                              text=body("sfj")))
    store_document(db, report())  # the district's own report, same adcode and year
    store_document(db, report(url="http://wh.gov.cn/sfj.html", portal="wh", text=body("sfj"),
                              title="芜湖市镜湖区司法局2020年度法治政府建设工作报告"))  # a repost: silent
    assert sorted(a["document_id"] for a in alerts(db, "new_report")) == [1, 2]
    keys = {r["key"] for r in db.query("SELECT key FROM report_keys")}
    assert keys == {"adcode:340202:2020", "adcode:340202:芜湖市镜湖区司法局:2020"}


@pytest.mark.parametrize("title, department", [
    ("宿州市司法局2022年度法治政府建设工作报告", "宿州市司法局"),
    ("某市应急管理局关于2022年度法治政府建设情况的报告", "某市应急管理局"),
    ("芜湖经济技术开发区管委会2022年度法治政府建设工作报告", "芜湖经济技术开发区管委会"),
    ("沙家浜镇2022年法治政府建设工作报告", "沙家浜镇"),
    ("镜湖区人民政府关于2020年法治政府建设情况的报告", None),
    ("中共某县委 某县人民政府关于2022年度法治政府建设情况的报告", None),
    ("关于2022年度法治政府建设情况的报告", None),
    ("景德镇2022年法治政府建设年度报告", None),  # a city whose name ends like a town
    ("浦东新区2022年法治政府建设情况报告", None),
])
def test_department_of(title, department):
    assert department_of({"title": title}) == department


def test_baseline_is_silent_by_default(tmp_path):
    db = make_db(tmp_path, portals=(("jh", 0),))
    result = store_document(db, report())
    assert result.new_report  # a new key, recorded...
    assert alerts(db) == []  # ...silently
    assert db["report_keys"].get("adcode:340202:2020")["baseline"] == 1
    db.execute("UPDATE portals SET baseline_done = 1")
    store_document(db, report(url="http://jh.gov.cn/again.html"))
    assert alerts(db) == []  # the key is known: no alert after the baseline either
    store_document(db, report(url="http://jh.gov.cn/2021.html", report_year=2021, text=body(2021),
                              title="芜湖市镜湖区2021年度法治政府建设情况报告", published_at="2022-03-01"))
    assert [a["kind"] for a in alerts(db)] == ["new_report"]


def test_alert_on_baseline(tmp_path):
    db = make_db(tmp_path, portals=(("jh", 0),))
    store_document(db, report(), policy=AlertPolicy(alert_on_baseline=True))
    assert [a["kind"] for a in alerts(db)] == ["new_report"]


def test_issuer_key_without_adcode(tmp_path):
    assert issuer_of("芜湖市镜湖区2020年度法治政府建设情况报告") == "芜湖市镜湖区"
    assert issuer_of("某某市司法局关于2020年法治政府建设工作情况的报告") == "某某市司法局"
    assert issuer_of("2020年法治政府建设工作情况") is None
    assert report_key({"report_year": 2020, "title": "2020年法治政府建设工作情况", "source": "某县司法局"}) \
        == "issuer:某县司法局:2020"
    db = make_db(tmp_path)
    store_document(db, report(adcode=None, region=None))
    store_document(db, report(adcode=None, region=None, url="http://other/1", text=body("other")))
    assert [a["dedupe_key"] for a in alerts(db, "new_report")] == ["report:issuer:芜湖市镜湖区:2020"]
    assert [a["deliver"] for a in alerts(db, "updated")] == [0]  # same key, different body: a stored update


def test_updated_is_stored_but_not_delivered_by_default(tmp_path):
    db = make_db(tmp_path)
    store_document(db, report())
    # a trivial edit: no event
    store_document(db, report(text=BODY.replace("第3条", "第3 条").replace("完善", "健全", 1)))
    assert len(alerts(db)) == 1
    rewritten = body("rewritten")
    event = None
    store_document(db, report(text=rewritten))
    [updated] = alerts(db, "updated")
    assert updated["deliver"] == 0 and updated["closed_at"]
    assert list_alerts(db)[0]["status"] == "suppressed"
    rec = Recorder()
    flush(db, AlertSettings(urls=("json://127.0.0.1:1/x",)), send=rec)
    assert [c[1][:6] for c in rec.calls] == ["【新报告】芜"]  # the update is never sent
    # the same new version again: no second updated row
    store_document(db, report(url="http://jh.gov.cn/v2.html", text=rewritten))
    assert len(alerts(db, "updated")) == 1
    assert event is None


def test_updated_delivered_with_alert_on_update(tmp_path):
    db = make_db(tmp_path)
    policy = AlertPolicy(alert_on_update=True, urls=("json://h/x",))
    store_document(db, report(), policy=policy)
    store_document(db, report(text=body("v2")), policy=policy)
    [updated] = alerts(db, "updated")
    assert updated["deliver"] == 1 and updated["message"].startswith("【报告更新】")


def test_late_report_kind(tmp_path):
    db = make_db(tmp_path)
    store_document(db, report(published_at="2021-05-20"))
    [alert] = alerts(db)
    assert alert["kind"] == "late_report" and alert["message"].startswith("【逾期发布】")
    assert "应于 2021-04-01 前公开" in alert["message"]


def test_sketch_similarity():
    a, b = sketch(BODY), sketch(BODY + "\n补充一句话。")
    assert similarity(a, a) == 1.0 and similarity(a, b) > 0.9
    assert similarity(a, sketch("完全不同的正文。" * 80)) < 0.1


def test_rollback_leaves_neither_document_nor_alert(tmp_path):
    db = make_db(tmp_path)
    with pytest.raises(RuntimeError):
        with storage.transaction(db):
            store_document(db, report())
            assert len(alerts(db)) == 1
            raise RuntimeError("crash before commit")
    assert alerts(db) == [] and db["documents"].count == 0 and db["report_keys"].count == 0


# ----------------------------------------------------------------------------------------------------- outbox


def test_flush_delivers_once_per_channel_and_records_attempts(tmp_path):
    db = make_db(tmp_path)
    settings = AlertSettings(urls=("json://a/x", "json://b/y"), backoff_base=0)
    store_document(db, report(), policy=AlertPolicy.from_settings(settings))
    rec = Recorder()
    summary = flush(db, settings, send=rec)
    assert summary.sent == 2 and summary.pending == 0
    assert sorted(c[0] for c in rec.calls) == ["json://a/x", "json://b/y"]
    assert flush(db, settings, send=rec).sent == 0 and len(rec.calls) == 2
    [row] = list_alerts(db)
    assert row["status"] == "sent" and len(row["attempts"]) == 2 and all(a["ok"] for a in row["attempts"])
    assert list(db.query("SELECT closed_at FROM alerts"))[0]["closed_at"]


def test_backfills_channels_for_alerts_written_without_them(tmp_path):
    db = make_db(tmp_path)
    store_document(db, report())  # the crawl process had no channels in its policy
    assert db["alert_deliveries"].count == 0
    rec = Recorder()
    assert flush(db, AlertSettings(urls=("json://a/x",)), send=rec).sent == 1
    # a channel added after the alert was delivered and closed does not get old alerts
    assert flush(db, AlertSettings(urls=("json://a/x", "json://new/z")), send=rec).sent == 0


def test_retries_with_backoff_then_gives_up(tmp_path):
    db = make_db(tmp_path)
    settings = AlertSettings(urls=("json://a/x",), backoff_base=30, max_attempts=3)
    store_document(db, report())
    rec = Recorder(fail=10)
    s = flush(db, settings, send=rec)
    assert (s.sent, s.failed, s.pending) == (0, 1, 1)
    assert flush(db, settings, send=rec).failed == 0  # not due yet (backoff)
    [d] = list(db.query("SELECT * FROM alert_deliveries"))
    assert d["attempts"] == 1 and d["next_attempt_at"] > d["last_error"][:0] and "HTTP 500" in d["last_error"]
    first_due = d["next_attempt_at"]
    db.execute("UPDATE alert_deliveries SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
    flush(db, settings, send=rec)
    [d] = list(db.query("SELECT * FROM alert_deliveries"))
    assert d["attempts"] == 2 and d["next_attempt_at"] > first_due  # 60 s after the second failure
    db.execute("UPDATE alert_deliveries SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
    s = flush(db, settings, send=rec)
    assert s.gave_up == 1 and s.pending == 0
    assert list_alerts(db)[0]["status"] == "failed" and db["alert_attempts"].count == 3


def test_secrets_are_scrubbed_from_stored_errors(tmp_path):
    db = make_db(tmp_path)
    url = "json://user:hunter2pass@a/hook/tok3nS3cretValue99"
    store_document(db, report())
    flush(db, AlertSettings(urls=(url,)), send=Recorder(fail=1))
    dump = json.dumps(list_alerts(db), ensure_ascii=False)
    assert "hunter2pass" not in dump and "tok3nS3cretValue99" not in dump
    assert "json://user:****@a/hook/***" in dump  # Apprise masks the password, govwatch the path token


def test_leased_rows_are_skipped_by_a_second_sender(tmp_path):
    db = make_db(tmp_path)
    settings = AlertSettings(urls=("json://a/x",))
    store_document(db, report())
    flush(db, AlertSettings(urls=()), send=Recorder())  # no channels: nothing happens
    db.execute("INSERT INTO alert_deliveries (alert_id, channel, channel_label, status, attempts, lease_owner, "
               "lease_until) SELECT id, ?, 'json://a/x', 'pending', 0, 'other', '2999-01-01T00:00:00+00:00' "
               "FROM alerts", [__import__("crawler.monitor.notify", fromlist=["x"]).channel_id("json://a/x")])
    rec = Recorder()
    assert flush(db, settings, send=rec).sent == 0 and rec.calls == []
    # the other sender died: once its lease expires the row is sent (the documented at-least-once window)
    db.execute("UPDATE alert_deliveries SET lease_until = '2000-01-01T00:00:00+00:00'")
    assert flush(db, settings, send=rec).sent == 1


def test_concurrent_flushes_send_each_alert_once(tmp_path):
    db = make_db(tmp_path)
    settings = AlertSettings(urls=("json://a/x", "json://b/x"))
    for year in range(2010, 2025):
        store_document(db, report(url=f"http://jh.gov.cn/{year}.html", report_year=year,
                                  title=f"芜湖市镜湖区{year}年度法治政府建设情况报告", text=body(year)))
    rec = Recorder()
    threads = [threading.Thread(target=lambda: flush(storage.connect(tmp_path / "gw.db"), settings, send=rec))
               for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(rec.calls) == 30 and len(set((c[0], c[1], c[2]) for c in rec.calls)) == 30


def test_real_webhook_roundtrip(tmp_path):
    db = make_db(tmp_path)
    with WebhookServer() as hook:
        settings = AlertSettings(urls=(hook.json_url("hook"),), backoff_base=0, max_attempts=5)
        store_document(db, report())
        hook.fail_next(2)
        # one attempt per delivery per flush: the retries are the next flushes' (backoff 0: due at once)
        summaries = [flush(db, settings) for _ in range(3)]
        assert [(s.sent, s.failed) for s in summaries] == [(0, 1), (0, 1), (1, 0)]
        [post] = hook.posts_to("/hook")
        assert post["json"]["title"].startswith("【新报告】芜湖市镜湖区")
        assert "发现于：jh人民政府" in post["json"]["message"]
    assert [a["ok"] for a in list_alerts(db)[0]["attempts"]] == [0, 0, 1]


def test_policy_from_settings_and_today():
    policy = AlertPolicy.from_settings(AlertSettings(urls=("json://a/b",), alert_on_update=True), today=date(2024, 1, 2))
    assert policy.urls == ("json://a/b",) and policy.alert_on_update and policy.current_date() == date(2024, 1, 2)
