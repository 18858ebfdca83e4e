"""Channels: checked bot senders (HTTP 200 + errcode is a failure), redaction, message text."""

from __future__ import annotations

import json

import storage
from click.testing import CliRunner

from crawler.monitor import notify
from crawler.monitor.channels import deliver
from crawler.monitor.alerts import flush, list_alerts
from crawler.config import AlertSettings
from crawler.corpus.ingest import store_document
from webhook_server import WebhookServer

TOKEN = "dtok5ecret0123456789"
SECRET = "SEC5ecretsign0123"


def test_json_webhook_ok_and_http_failure():
    with WebhookServer() as hook:
        assert deliver(hook.json_url(), "标题", "正文").ok
        hook.fail_next(1, status=503)
        result = deliver(hook.json_url(), "标题", "正文")
        assert not result.ok and result.error
        assert hook.posts[0]["json"]["title"] == "标题" and hook.posts[0]["json"]["message"] == "正文"


def test_bots_post_to_endpoint_override_and_check_errcode():
    with WebhookServer() as hook:
        for url, path in ((hook.dingtalk_url(TOKEN, SECRET), "/robot/send"),
                          (hook.wecom_url("wkey5ecret0123456789"), "/cgi-bin/webhook/send"),
                          (hook.feishu_url("ftok5ecret0123456789"), "/open-apis/bot/v2/hook/")):
            assert deliver(url, "【新报告】标题", "http://x/1").ok, url
            post = hook.posts[-1]
            assert post["path"].startswith(path)
            text = json.dumps(post["json"], ensure_ascii=False)
            assert "【新报告】标题" in text and "http://x/1" in text
        ding = hook.posts_to("/robot/send")[0]
        assert ding["query"]["access_token"] == [TOKEN] and "sign" in ding["query"] and "timestamp" in ding["query"]
        hook.errcode(True)
        for url in (hook.dingtalk_url(TOKEN, SECRET), hook.wecom_url("wkey5ecret0123456789"),
                    hook.feishu_url("ftok5ecret0123456789")):
            result = deliver(url, "t", "b")
            assert not result.ok, url
            assert ("errcode=310000" in result.error) or ("code=19001" in result.error)
            assert TOKEN not in result.error and SECRET not in result.error


def test_non_json_200_from_a_bot_is_a_failure():
    with WebhookServer() as hook:
        # the generic JSON hook path answers JSON; point a bot at a path-less server answering 404 instead
        result = deliver(f"dingtalk://{TOKEN}/?endpoint=http://127.0.0.1:1", "t", "b")
        assert not result.ok and "connection error" in result.error and TOKEN not in result.error
        assert hook.posts == []


def test_redaction_is_apprises_own_rendering():
    # Apprise masks the parts each plugin knows are secret; govwatch drops the query and masks token-like
    # path segments of generic webhooks, which Apprise shows
    assert notify.redact_url("dingtalk://SECRETX@TOKENY0123/") == "dingtalk://****@T...3/"
    assert notify.redact_url("wecombot://KEY12345678/") == "wecombot://K...8/"
    assert notify.redact_url("mailtos://user:pa55word@smtp.example.com") == "mailtos://user:****@smtp.example.com/"
    assert notify.redact_url("json://h:9000/hooks/aZ09aZ09aZ09aZ09?token=abc&method=POST") == "json://h:9000/hooks/***"
    assert notify.redact_url("json://127.0.0.1:9000/hook") == "json://127.0.0.1:9000/hook"
    assert notify.channel_id("json://a/b") == notify.channel_id(" json://a/b ") != notify.channel_id("json://a/c")
    scrubbed = notify.scrub("bad token TOKENY0123 at https://x/send?access_token=TOKENY0123 sig SECRETX",
                            "dingtalk://SECRETX@TOKENY0123/")
    assert "TOKENY0123" not in scrubbed and "SECRETX" not in scrubbed
    # a URL Apprise cannot parse: everything but the scheme and a host name is masked
    assert notify.redact_url("msteams://TokenA/TokenB/TokenC/") == "msteams://***/***/***/"
    assert "TokenB" not in notify.scrub("posting to TokenA/TokenB failed", "msteams://TokenA/TokenB/TokenC/")


def test_invalid_url_is_a_failed_send_without_secrets():
    result = deliver("dingtalk://bad!tok_en5ecret/", "t", "b")
    assert not result.ok and "bad!tok_en5ecret" not in result.error
    assert not deliver("nosuchscheme://x", "t", "b").ok


def test_message_text():
    info = {"region": "芜湖市镜湖区", "report_year": 2020, "title": "芜湖市镜湖区2020年度法治政府建设情况报告",
            "published_at": "2021-03-31 09:00", "source": "镜湖区司法局", "url": "http://a/1",
            "portal_name": "镜湖区人民政府"}
    assert notify.render("new_report", info) == (
        "【新报告】芜湖市镜湖区 2020年度法治政府建设情况报告（2021-03-31 发布，来源：镜湖区司法局）\n"
        "http://a/1\n发现于：镜湖区人民政府")
    bare = notify.render("new_report", {"report_year": 2019, "title": "法治政府建设情况报告", "url": "u"})
    assert bare.startswith("【新报告】2019年度 法治政府建设情况报告")
    digest = notify.render("missing_digest", {"year": 2023, "deadline": "2024-04-01",
                                              "regions": [{"name": "芜湖市镜湖区", "portals": ["镜湖区政府"]}]})
    assert "2023年度" in digest and "- 芜湖市镜湖区（镜湖区政府）" in digest


def test_cli_errcode_failure_is_recorded_and_secrets_absent(tmp_path):
    from crawler.cli import main

    db_path = tmp_path / "gw.db"
    db = storage.connect(db_path)
    db["portals"].insert({"id": "jh", "name": "镜湖区", "baseline_done": 1})
    store_document(db, {"url": "http://jh/1", "portal_id": "jh", "title": "芜湖市镜湖区2020年度法治政府建设情况报告",
                        "text": "正文" * 100, "report_year": 2020, "doc_type": "annual_report", "adcode": "340202"})
    with WebhookServer() as hook:
        hook.errcode(True)
        urls = [hook.dingtalk_url(TOKEN, SECRET), hook.wecom_url("wkey5ecret0123456789")]
        config = tmp_path / "gw.toml"
        config.write_text("[alerts]\nurls = [%s]\nbackoff_base = 0.0\nmax_attempts = 2\n"
                          % ", ".join(json.dumps(u) for u in urls), encoding="utf-8")
        runner = CliRunner()
        out = runner.invoke(main, ["alerts", "flush", "--config", str(config), "--db", str(db_path)])
        assert out.exit_code == 0, out.output
        assert "still pending 2" in out.output  # one attempt per delivery and flush
        out = runner.invoke(main, ["alerts", "flush", "--config", str(config), "--db", str(db_path)])
        assert out.exit_code == 0 and "gave up 2" in out.output, out.output
        listing = runner.invoke(main, ["alerts", "list", "--wide", "--db", str(db_path)])
        listing_json = runner.invoke(main, ["alerts", "list", "--json", "--db", str(db_path)])
        test = runner.invoke(main, ["alerts", "test", "--config", str(config)])
        assert test.exit_code == 1 and "FAIL" in test.output
    rows = list_alerts(db)
    assert rows[0]["status"] == "failed"
    assert all(d["status"] == "failed" for d in rows[0]["deliveries"])
    errors = [r["error"] for r in db.query("SELECT error FROM alert_attempts")]
    assert len(errors) == 4 and all("errcode=310000" in e for e in errors)
    everything = (listing.output + listing_json.output + test.output + out.output
                  + json.dumps(list(db.query("SELECT * FROM alert_attempts")))
                  + json.dumps(list(db.query("SELECT * FROM alert_deliveries"))))
    assert TOKEN not in everything and SECRET not in everything and "wkey5ecret0123456789" not in everything
    assert "dingtalk://****@d...9/" in listing.output
    assert flush(db, AlertSettings(urls=tuple(urls))).sent == 0  # failed for good: not retried
