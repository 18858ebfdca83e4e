"""Notification text and channel identity: the message of each alert kind, the `SendResult` a send returns,
channel ids and redaction. Sending itself is `crawler.monitor.channels.deliver` (which imports this module,
never the other way); Apprise loads only to send or to show a channel, never to write an alert.

Every channel is one Apprise URL from `[alerts] urls` (mailto/mailtos, json://, dingtalk://, wecombot://,
feishu://, lark:// and everything else Apprise supports). One send = one freshly instantiated Apprise plugin,
so each channel gets its own True/False and its own error text.

Chinese group bots (DingTalk, WeCom, Feishu/Lark) answer HTTP 200 even when they reject a message (wrong
token, keyword check, rate limit) and put the failure into the JSON body: ``{"errcode": 310000, ...}``
(DingTalk/WeCom) or ``{"code": 19001, ...}`` (Feishu/Lark). Apprise's own plugins only look at the HTTP
status, so govwatch sends these schemes through small subclasses of the Apprise plugins (same URL syntax,
same parsing, same `url(privacy=True)`) whose `send()` posts the message itself and treats a non-zero
``errcode``/``code`` -- or a body that is not JSON -- as a failed delivery.

Test-only endpoint override: for dingtalk://, wecombot://, feishu:// and lark:// URLs the query parameter
``endpoint=http://127.0.0.1:PORT`` replaces the vendor's scheme and host (the vendor's path is kept), e.g.
``dingtalk://TOKEN/?endpoint=http://127.0.0.1:8080`` posts to
``http://127.0.0.1:8080/robot/send?access_token=TOKEN``. It exists for tests against local fake endpoints.

Secrets: a channel is identified by `channel_id(url)` (a hash) and shown as `redact_url(url)`, Apprise's own
private rendering of the URL; any error text that could echo a URL is passed through `scrub(text, url)`
before it is logged or stored (see "identity and secrets" below).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from crawler.config import MASK, TOKEN_LIKE, import_apprise, redact_channel_url


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str | None = None


# ---------------------------------------------------------------------------------------------------------
# identity and secrets
#
# Apprise knows which parts of each of its URLs are secret: every plugin's `url(privacy=True)` masks them
# (tgram://1...z/12345/, slack://T...A/B...B/C...C/, pover://u...G@a...i/). A channel's label is that
# rendering without its query (formatting options); the secrets scrubbed from any text are the parts of the
# plugin's full URL that its private rendering does not show. Two hand-written rules remain: token-like path
# segments are masked as well (Apprise shows the path of a generic json:// xml:// form:// webhook, where hook
# tokens often live), and a URL Apprise cannot parse -- rejected at config load, but possible in direct API
# calls -- is masked whole but for its scheme and host (`crawler.config.redact_channel_url`).


def channel_id(url: str) -> str:
    """Stable id of a channel: a hash of its URL (the URL itself holds secrets and is never stored)."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def redact_url(url: str) -> str:
    """The channel's label for display, logs and the database: Apprise's private rendering of the URL."""
    return _view(url.strip())[0]


def provisional_label(url: str) -> str:
    """A label that needs no Apprise (the store path writes delivery rows without loading it): scheme and host
    only. The next flush replaces it by `redact_url(url)`."""
    return redact_channel_url(url)


def secrets_of(url: str) -> list[str]:
    """Substrings of `url` that must never be shown (longest first), as Apprise's plugin for it sees them."""
    return list(_view(url.strip())[1])


def scrub(text: str | None, *urls: str) -> str | None:
    """`text` with every secret of `urls` (and any URL's userinfo or token parameter) replaced by ***."""
    if not text:
        return text
    for url in urls:
        for secret in secrets_of(url):
            text = text.replace(secret, MASK)
    # belt and braces: credentials in any URL-looking string, whatever URL they came from
    text = re.sub(r"(\w+://)[^/\s@]+@", rf"\1{MASK}@", text)
    text = re.sub(r"\b(access_token|key|token|secret|sign|sig)=([^&\s'\"]+)", rf"\1={MASK}", text)
    return text


_SPLIT = re.compile(r"[/?&=@:#,;\s]+")


def _tokens(url: str) -> set[str]:
    return {t for t in _SPLIT.split(unquote(url)) if t}


@lru_cache(maxsize=256)
def _view(url: str) -> tuple[str, tuple[str, ...]]:
    """(label, secrets longest first) of one channel URL; Apprise loads on the first call."""
    plugin = import_apprise().Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        label = redact_channel_url(url)
        secrets = _tokens(url) - _tokens(label)
    else:
        private = plugin.url(privacy=True)
        parts = urlsplit(private)
        masked = {unquote(s) for s in parts.path.split("/") if TOKEN_LIKE.match(unquote(s))}
        path = "/".join(MASK if unquote(s) in masked else s for s in parts.path.split("/"))
        label = f"{parts.scheme}://{parts.netloc}{re.sub('/{2,}$', '/', path)}"
        secrets = (_tokens(plugin.url(privacy=False)) - _tokens(private)) | masked
    scheme = urlsplit(url).scheme.lower()
    variants = set()
    for secret in secrets:
        if len(secret) >= 3 and secret.lower() != scheme:
            variants.update({secret, quote(secret, safe=""), quote(secret, safe="/:@")})
    return label, tuple(sorted(variants, key=len, reverse=True))


# ---------------------------------------------------------------------------------------------------------
# message text

_HEADS = {"new_report": "【新报告】", "late_report": "【逾期发布】", "updated": "【报告更新】",
          "missing_digest": "【逾期未公开】", "test": "【测试】"}


def report_line(info: dict) -> str:
    """`芜湖市镜湖区 2020年度法治政府建设情况报告（2021-03-31 发布，来源：镜湖区司法局）`"""
    region = info.get("region") or info.get("issuer") or ""
    title = (info.get("title") or "").strip()
    year = info.get("report_year")
    shown = title
    for prefix in (region, info.get("issuer") or ""):
        if prefix and shown.startswith(prefix) and len(shown) > len(prefix):
            shown = shown[len(prefix):].lstrip(" :：-—")
            break
    if year and str(year) not in shown:
        shown = f"{year}年度 {shown}".strip()
    head = f"{region} {shown}".strip() if region else shown
    extras = []
    if info.get("published_at"):
        extras.append(f"{str(info['published_at'])[:10]} 发布")
    if info.get("source"):
        extras.append(f"来源：{info['source']}")
    return head + (f"（{'，'.join(extras)}）" if extras else "")


def render(kind: str, info: dict) -> str:
    """The Chinese message of an alert: a headline, the link, where it was found."""
    head = _HEADS.get(kind, f"【{kind}】")
    if kind == "test":
        return f"{head}govwatch 通知渠道测试 {info.get('at') or datetime.now(timezone.utc).isoformat()}"
    if kind == "missing_digest":
        lines = [f"{head}{info['year']}年度法治政府建设情况报告截至 {info['deadline']} 仍未公开"
                 f"（{len(info['regions'])} 个地区）："]
        for region in info["regions"]:
            portals = "、".join(region.get("portals") or [])
            lines.append(f"- {region['name']}" + (f"（{portals}）" if portals else ""))
        return "\n".join(lines)
    lines = [head + report_line(info)]
    if info.get("url"):
        lines.append(info["url"])
    if info.get("portal_name"):
        lines.append(f"发现于：{info['portal_name']}")
    if kind == "late_report" and info.get("deadline"):
        lines.append(f"应于 {info['deadline']} 前公开")
    if kind == "updated" and info.get("similarity") is not None:
        lines.append(f"与已知版本相似度：{info['similarity']:.2f}")
    return "\n".join(lines)


def split_message(message: str) -> tuple[str, str]:
    """(title, body) for Apprise: the headline as title (mail subject, JSON title), the rest as body."""
    first, _, rest = message.partition("\n")
    return first, rest
