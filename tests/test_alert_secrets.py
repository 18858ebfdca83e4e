"""Secrets in channel URLs: Apprise's own private rendering labels every channel, the secrets it identifies are
scrubbed from errors and logs, and a URL Apprise cannot parse is a config error that names it masked."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from click.testing import CliRunner

import helpers  # noqa: F401  (repo on sys.path)
import storage
from crawler.cli import main
from crawler.config import AlertSettings, ConfigError, load_config, parse_config
from crawler.corpus.ingest import store_document
from crawler.monitor.delivery import flush
from crawler.monitor.notify import SendResult
from test_alerts import make_db, report

# (url, its secret parts): the secret sits in the host part for most of them, which the hand-written
# scrubber showed (the full Telegram token in `alerts list` and in alert_deliveries.channel_label)
CHANNELS = [
    ("tgram://123456789:ABCdefGHIjklMNOpqrsTUVwxyz/12345", ["123456789:ABCdefGHIjklMNOpqrsTUVwxyz",
                                                           "ABCdefGHIjklMNOpqrsTUVwxyz"]),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", ["T1JJ3T3L2", "A1BRTD4JD",
                                                                      "TIiajkdnlazkcOXrIdevi7FQ"]),
    ("https://hooks.slack.com/services/T2JJ3T3L2/A2BRTD4JD/TIiajkdnlazkcOXrIdevi7FZ",
     ["T2JJ3T3L2", "A2BRTD4JD", "TIiajkdnlazkcOXrIdevi7FZ"]),
    ("pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi",
     ["uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "azGDORePK8gMaC0QOYAMyEEuzJnyUi"]),
    ("https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
     ["4174216298", "JHMHI8qBe7bk2ZwO5U711o3dV_js"]),
    # Microsoft Teams: Apprise 2 sends through Power Automate workflows (its msteams:// is gone, below)
    ("https://prod-01.westus.logic.azure.com:443/workflows/643e69f83c8944438d68119179a10a64/triggers/manual/"
     "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDGYFr0z0eu6Rj8aUKz71",
     ["643e69f83c8944438d68119179a10a64", "KODuebWbDGYFr0z0eu6Rj8aUKz71"]),
    ("mailtos://alerts:pa55w0rd!@smtp.example.com", ["pa55w0rd!"]),
    ("dingtalk://SEC5ecretsign0123@dtok5ecret0123456789/", ["SEC5ecretsign0123", "dtok5ecret0123456789"]),
]


def echoing_sender(url, title, body):
    """Fails the way a plugin's error can: quoting the vendor URL with the token in it."""
    vendor = url.replace("tgram://", "https://api.telegram.org/bot").replace("pover://", "https://api.pushover.net/")
    return SendResult(False, f"Failed to send to {vendor} (see {url}): HTTP 401")


def test_no_token_in_labels_errors_listings_or_logs(tmp_path, caplog):
    db = make_db(tmp_path)
    store_document(db, report())
    urls = tuple(url for url, _ in CHANNELS)
    config = tmp_path / "gw.toml"
    config.write_text("[alerts]\nurls = [%s]\n" % ", ".join(json.dumps(u) for u in urls), encoding="utf-8")
    load_config(config)  # every one of them parses
    with caplog.at_level(logging.DEBUG):
        summary = flush(db, AlertSettings(urls=urls), send=echoing_sender)
    assert summary.failed == len(CHANNELS)
    runner = CliRunner()
    table = runner.invoke(main, ["alerts", "list", "--db", str(tmp_path / "gw.db")]).output
    listing = runner.invoke(main, ["alerts", "list", "--json", "--db", str(tmp_path / "gw.db")]).output
    stored = json.dumps(list(db.query("SELECT * FROM alert_deliveries")) + list(db.query("SELECT * FROM alert_attempts")))
    everything = table + listing + stored + caplog.text
    for url, secrets in CHANNELS:
        for secret in secrets:
            assert secret not in everything, (url, secret)
    labels = {r["channel_label"] for r in db.query("SELECT channel_label FROM alert_deliveries")}
    assert "tgram://1...z/12345/" in labels and "discord://4...8/J...s/" in labels  # Apprise's rendering
    assert "mailtos://alerts:****@smtp.example.com/" in labels


def test_labels_written_by_the_store_path_need_no_apprise_and_show_nothing(tmp_path):
    url = CHANNELS[0][0]
    code = ("import sys, storage; sys.path.insert(0, 'tests'); from test_alerts import make_db, report; "
            "from crawler.monitor.alerts import AlertPolicy; from crawler.corpus.ingest import store_document; "
            "from pathlib import Path; db = make_db(Path(sys.argv[1])); "
            "store_document(db, report(), policy=AlertPolicy(urls=(sys.argv[2],))); "
            "print([r['channel_label'] for r in db.query('SELECT channel_label FROM alert_deliveries')], "
            "'apprise' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), url], capture_output=True, text=True,
                         cwd=str(helpers.REPO), check=True).stdout
    assert out.strip() == "['tgram://***'] False"
    db = storage.connect(tmp_path / "gw.db")
    flush(db, AlertSettings(urls=(url,)), send=lambda *a: SendResult(True))
    [label] = [r["channel_label"] for r in db.query("SELECT channel_label FROM alert_deliveries")]
    assert label == "tgram://1...z/12345/"  # the flush labels it with Apprise's rendering


def test_leaked_labels_of_old_databases_are_masked(tmp_path):
    db = storage.connect(tmp_path / "gw.db")
    db.execute("INSERT INTO alerts (kind, dedupe_key, message, created_at) VALUES ('test', 'k', 'm', 'now')")
    db.execute("INSERT INTO alert_deliveries (alert_id, channel, channel_label, status, attempts) "
               "VALUES (1, 'c', 'tgram://123456789:ABCdefGHIjklMNOpqrsTUVwxyz/12345', 'sent', 1)")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm012_alert_labels_masked'")
    db.conn.commit()
    db = storage.connect(tmp_path / "gw.db")  # migrations run on open
    assert db.execute("SELECT channel_label FROM alert_deliveries").fetchone()[0] == "tgram://***"


@pytest.mark.parametrize("url, secret, why", [
    ("tgram://SECRETnotabottoken0123/", "SECRETnotabottoken0123", "do not fit the tgram:// syntax"),
    ("dingtalk://bad!tok_en5ecret/", "bad!tok_en5ecret", "do not fit the dingtalk:// syntax"),
    ("nosuchscheme://user:hunter2pw@example.com/hook", "hunter2pw", "has no service nosuchscheme://"),
    ("msteams://abcdefgf8-2f4b@abcdefg2-5a99/IncomingWebhook/291289f63a8abd3593e834af4d79f9fe/a2329f43",
     "291289f63a8abd3593e834af4d79f9fe", "msteams://"),
])
def test_a_channel_url_apprise_cannot_parse_is_a_config_error(tmp_path, url, secret, why):
    import apprise

    if url.startswith("msteams://") and apprise.Apprise.instantiate(url, suppress_exceptions=True):
        pytest.skip(f"Apprise {apprise.__version__} still parses msteams://")
    path = tmp_path / "govwatch.toml"
    path.write_text(f'[alerts]\nurls = [\n  "json://127.0.0.1:9/ok",\n  "{url}",\n]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:4: [alerts] urls[1] '") and why in message, message
    assert secret not in message and "\n" not in message
    # and through the CLI: one line, exit 1, no traceback, no secret from Apprise's own log either
    proc = subprocess.run([sys.executable, "-c", "from crawler.cli import main; main()", "alerts", "test",
                           "--config", str(path)], capture_output=True, text=True, cwd=str(helpers.REPO))
    assert proc.returncode == 1 and secret not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
    assert f"{path}:4:" in proc.stderr


def test_loading_a_config_without_channels_does_not_load_apprise():
    code = ("import sys; from crawler.config import parse_config; parse_config(sys.argv[1]); "
            "print('apprise' in sys.modules)")
    run = lambda text: subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True,  # noqa: E731
                                      cwd=str(helpers.REPO), check=True).stdout.strip()
    assert run("[alerts]\nalert_on_baseline = true\n") == "False"
    assert run('[alerts]\nurls = ["json://127.0.0.1:9/x"]\n') == "True"
    parse_config('[alerts]\nurls = ["tgram://SECRETnotabottoken0123/"]\n', check_channels=False)  # crawl processes


@pytest.mark.parametrize("key, value", [("max_attempts", "0"), ("backoff_base", "-1.0"), ("send_timeout", "0.0"),
                                        ("send_timeout", "600.0"), ("crawl_flush_budget", "-2.0")])
def test_alert_settings_are_checked_at_load(key, value):
    with pytest.raises(ConfigError) as info:
        parse_config(f"[alerts]\n{key} = {value}\n", "gw.toml")
    assert str(info.value).startswith(f"gw.toml:2: [alerts] {key} must be")
