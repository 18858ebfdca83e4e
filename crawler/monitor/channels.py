"""Sending: `deliver(url, title, body)` through one freshly instantiated Apprise plugin per send, with checked
senders for the Chinese group bots (see `crawler.monitor.notify` for why and for the test-only endpoint override).

Imported only when a message is sent -- in the sender child of `crawler.monitor.sender`, which bounds each
send with a hard deadline -- or by tests: Apprise and requests take ~0.3 s to import, and a crawl only writes
alerts to the outbox.
"""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import unquote, urlsplit

import apprise
import requests
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.lark import NotifyLark
from apprise.plugins.wecombot import NotifyWeComBot

from crawler.config import import_apprise
from crawler.monitor.notify import SendResult, redact_url, scrub

# Apprise's own log lines may quote tokens (e.g. "An invalid DingTalk API Token (...)"): they never reach the
# application's handlers; `deliver()` captures them per call and scrubs them into the attempt's error instead.
import_apprise()


class _CheckedBot:
    """Mixin over an Apprise bot plugin: posts the message itself and checks the JSON answer."""

    code_fields = ("errcode",)

    def __init__(self, *args, endpoint: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.gw_endpoint = endpoint.rstrip("/") if endpoint else None
        self.gw_error: str | None = None

    @staticmethod
    def _with_endpoint(results, url):
        if results:
            endpoint = results.get("qsd", {}).get("endpoint")
            if endpoint:
                results["endpoint"] = endpoint
        return results

    def vendor_url(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def payload(self, body: str, title: str) -> dict:
        text = f"{title}\n{body}" if title and body else (title or body)
        return {"msgtype": "text", "text": {"content": text}}

    def params(self) -> dict | None:
        return None

    def target(self) -> str:
        url = self.vendor_url()
        if self.gw_endpoint:
            parts = urlsplit(url)
            url = self.gw_endpoint + parts.path + (f"?{parts.query}" if parts.query else "")
        return url

    def send(self, body, title="", notify_type=None, **kwargs):
        self.gw_error = None
        self.throttle()
        try:
            r = requests.post(
                self.target(),
                data=json.dumps(self.payload(body, title), ensure_ascii=False).encode("utf-8"),
                params=self.params(),
                headers={"User-Agent": self.app_id, "Content-Type": "application/json; charset=utf-8"},
                verify=self.verify_certificate,
                timeout=self.request_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            self.gw_error = f"{self.service_name}: connection error: {type(exc).__name__}"
            return False
        if not 200 <= r.status_code < 300:
            self.gw_error = f"{self.service_name}: HTTP {r.status_code}"
            return False
        try:
            answer = r.json()
        except ValueError:
            self.gw_error = f"{self.service_name}: HTTP {r.status_code} with a non-JSON answer"
            return False
        if not isinstance(answer, dict):
            self.gw_error = f"{self.service_name}: unexpected answer {str(answer)[:200]}"
            return False
        for field in self.code_fields:
            code = answer.get(field)
            if code not in (None, 0, "0"):
                message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
                self.gw_error = f"{self.service_name}: {field}={code} {message}".strip()[:500]
                return False
        return True


class CheckedDingTalk(_CheckedBot, NotifyDingTalk):
    def vendor_url(self) -> str:
        return self.notify_url.format(token=self.token)

    def payload(self, body, title):
        return {"msgtype": "text", "text": {"content": f"{title}\n{body}" if title and body else (title or body)},
                "at": {"atMobiles": self.targets, "isAtAll": False}}

    def params(self):
        if not self.secret:
            return None
        timestamp, signature = self.get_signature()
        return {"timestamp": timestamp, "sign": unquote(signature)}

    @staticmethod
    def parse_url(url):
        return _CheckedBot._with_endpoint(NotifyDingTalk.parse_url(url), url)


class CheckedWeComBot(_CheckedBot, NotifyWeComBot):
    def vendor_url(self) -> str:
        return self.api_url

    @staticmethod
    def parse_url(url):
        return _CheckedBot._with_endpoint(NotifyWeComBot.parse_url(url), url)


class _FeishuPayload:
    code_fields = ("code", "StatusCode")

    def payload(self, body, title):
        return {"msg_type": "text", "content": {"text": f"{title}\n{body}" if title and body else (title or body)}}


class CheckedFeishu(_FeishuPayload, _CheckedBot, NotifyFeishu):
    def vendor_url(self) -> str:
        return self.notify_url.format(token=self.token)

    @staticmethod
    def parse_url(url):
        return _CheckedBot._with_endpoint(NotifyFeishu.parse_url(url), url)


class CheckedLark(_FeishuPayload, _CheckedBot, NotifyLark):
    def vendor_url(self) -> str:
        return self.webhook_url

    @staticmethod
    def parse_url(url):
        return _CheckedBot._with_endpoint(NotifyLark.parse_url(url), url)


_CHECKED = {"dingtalk": CheckedDingTalk, "wecombot": CheckedWeComBot, "feishu": CheckedFeishu, "lark": CheckedLark}


def instantiate(url: str):
    """An Apprise plugin object for `url` (the checked subclass for the bot schemes), or None if invalid."""
    scheme = url.split("://", 1)[0].lower()
    cls = _CHECKED.get(scheme)
    if cls is None:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    results = cls.parse_url(url)
    if not results:
        return None
    try:
        return cls(**results)
    except Exception:  # AppriseImproperlyConfigured, TypeError ...
        return None


class _ThreadCapture(logging.Handler):
    """Collects this thread's Apprise warnings (other threads may be sending at the same time)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record):
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


def load_plugins() -> None:
    """Load Apprise's plugins now (about 1 s, once per process) instead of inside the first send's deadline."""
    apprise.Apprise.instantiate("json://localhost/", suppress_exceptions=True)


def deliver(url: str, title: str, body: str) -> SendResult:
    """Send one message to one channel. Never raises; the error text is already scrubbed of secrets."""
    capture = _ThreadCapture()
    logger = logging.getLogger("apprise")
    logger.addHandler(capture)
    plugin = None
    try:
        plugin = instantiate(url)
        if plugin is None:
            detail = scrub("; ".join(capture.messages[-2:]), url)
            return SendResult(False, f"invalid or unsupported notification URL {redact_url(url)}"
                                     + (f": {detail}" if detail else ""))
        ok = bool(plugin.notify(body=body or title, title=title if body else ""))
    except Exception as exc:  # a plugin bug must not stop the outbox
        ok = False
        capture.messages.append(f"{type(exc).__name__}: {exc}")
    finally:
        logger.removeHandler(capture)
    if ok:
        return SendResult(True)
    error = getattr(plugin, "gw_error", None) or "; ".join(capture.messages[-3:]) or "notification failed"
    return SendResult(False, scrub(error, url)[:1000])
