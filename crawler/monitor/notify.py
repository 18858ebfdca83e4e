"""Notification text and channel identity: the message of each alert kind, the `SendResult` a send returns,
channel ids and redaction. Sending itself is `crawler.monitor.channels.deliver` (which imports this module,
never the other way: Apprise loads only to send).

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

Secrets: a channel is identified by `channel_id(url)` (a hash) and shown as `redact_url(url)`; any error text
that could echo a URL is passed through `scrub(text, url)` before it is logged or stored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote, urlsplit

BOT_SCHEMES = ("dingtalk", "wecombot", "feishu", "lark")
MASK = "***"
# query parameters whose values are safe to show
_SAFE_QUERY = {"method", "format", "overflow", "mode", "endpoint", "to", "from", "name", "smtp", "port", "cto"}
_TOKENISH = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.=+%]{12,}$|^[A-Za-z0-9_\-=+%]{24,}$")


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str | None = None


# ---------------------------------------------------------------------------------------------------------
# identity and redaction


def channel_id(url: str) -> str:
    """Stable id of a channel: a hash of its URL (the URL itself holds secrets and is never stored)."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def redact_url(url: str) -> str:
    """The URL with passwords, tokens, secrets, path tokens and query values masked, for display and logs."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return f"{url.split(':', 1)[0]}://{MASK}"
    scheme = parts.scheme or "?"
    netloc = parts.netloc.rsplit("@", 1)
    userinfo, hostport = (netloc if len(netloc) == 2 else ("", netloc[0]))
    if scheme in BOT_SCHEMES:
        # the host *is* the bot token (and the user part its signing secret)
        shown = f"{scheme}://{(MASK + '@') if userinfo else ''}{MASK}/"
        endpoint = dict(parse_qsl(parts.query)).get("endpoint")
        return shown + (f"?endpoint={endpoint}" if endpoint else "")
    if userinfo:
        user, _, password = userinfo.partition(":")
        userinfo = (f"{user}:{MASK}" if password else user) + "@"
    segments = [MASK if _TOKENISH.match(unquote(seg)) else seg for seg in parts.path.split("/")]
    query = "&".join(
        f"{k}={v if k.lower() in _SAFE_QUERY else MASK}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return f"{scheme}://{userinfo}{hostport}{'/'.join(segments)}" + (f"?{query}" if query else "")


def secrets_of(url: str) -> list[str]:
    """Substrings of `url` that must never be shown: userinfo, bot tokens, token-like path parts, query values."""
    found: set[str] = set()
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url]
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        found.update(p for p in userinfo.split(":") if p)
        found.add(userinfo)
    if parts.scheme in BOT_SCHEMES:
        found.add(parts.hostname or "")
        found.add(parts.netloc.rsplit("@", 1)[-1])
        found.update(s for s in parts.path.split("/") if s)
    found.update(s for s in parts.path.split("/") if s and _TOKENISH.match(unquote(s)))
    for key, value in parse_qsl(parts.query):
        if key.lower() not in _SAFE_QUERY and value:
            found.add(value)
    variants = set()
    for s in found:
        if len(s) >= 3:
            variants.update({s, unquote(s), quote(s, safe="")})
    return sorted(variants, key=len, reverse=True)


def scrub(text: str | None, *urls: str) -> str | None:
    """`text` with every secret of `urls` (and any URL's userinfo) replaced by ***."""
    if not text:
        return text
    for url in urls:
        for secret in secrets_of(url):
            text = text.replace(secret, MASK)
    # belt and braces: credentials in any URL-looking string
    text = re.sub(r"(\w+://)[^/\s@]+@", rf"\1{MASK}@", text)
    text = re.sub(r"(access_token|key|token|secret|sign)=([^&\s'\"]+)", rf"\1={MASK}", text)
    return text


# ---------------------------------------------------------------------------------------------------------
# message text

_HEADS = {"new_report": "【新报告】", "late_report": "【逾期发布】", "updated": "【报告更新】",
          "missing_digest": "【逾期未公开】", "test": "【测试】",
          "reclassified": "【新识别的报告】"}


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
