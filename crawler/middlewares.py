"""Downloader middlewares: stay on the portal's own hosts, obey robots.txt, detect anti-bot walls honestly,
retry with backoff.

Also makes Scrapy's cookie middleware use tldextract's bundled public-suffix snapshot: a bare crawl would
otherwise try to download the list from the internet (and log a traceback when offline).
"""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


def use_bundled_suffix_list() -> None:
    """Point scrapy's CookiesMiddleware at tldextract's bundled snapshot (no network, no cache writes)."""
    import tldextract
    from scrapy.downloadermiddlewares import cookies

    if not getattr(cookies._split_domain, "_govwatch_offline", False):
        extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
        extractor._govwatch_offline = True
        cookies._split_domain = extractor


use_bundled_suffix_list()


class BlockedPage(IgnoreRequest):
    """A challenge / WAF page: the portal is blocked for this crawl."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_WAF_MARKERS = (  # (marker, label); matched case-insensitively in the page's UTF-8 or GB18030 bytes
    ("您的访问被拦截", "您的访问被拦截"),
    ("您的请求已被拦截", "您的请求已被拦截"),
    ("访问被拦截", "访问被拦截"),
    ("访问被拒绝", "访问被拒绝"),
    ("安全狗", "安全狗 SafeDog"),
    ("safedog", "安全狗 SafeDog"),
    ("云锁", "云锁 Yunsuo"),
    ("yunsuo", "云锁 Yunsuo"),
    ("长亭", "长亭 SafeLine"),
    ("safeline", "长亭 SafeLine"),
    ("创宇盾", "知道创宇 创宇盾"),
    ("网站防火墙", "网站防火墙"),
    ("web应用防火墙", "Web 应用防火墙"),
    ("errors.aliyun.com", "阿里云盾"),
    ("request blocked", "request blocked"),
)
# Searched as bytes, both sides lower-cased alike: every response passes here, and decoding a page twice
# (it may be either encoding) cost more than the rest of the check
_WAF_BYTES = tuple((frozenset(marker.encode(enc).lower() for enc in ("utf-8", "gb18030")), label)
                   for marker, label in _WAF_MARKERS)
_TINY_BYTES = 120
_ANCHOR = re.compile(rb"<a\s", re.IGNORECASE)


def detect_block(status: int, body: bytes, content_type: str = "", kind: str = "list") -> str | None:
    """The reason a response is an anti-bot / WAF wall rather than the page, or None.

    412 with a `$_ts` script is 瑞数 (Rivers Security); 521 with `__jsl_clearance` is 加速乐 (Jiasule);
    small HTML pages naming a WAF, and HTML list/detail pages too tiny to be a page, are blocks too.
    """
    head = body[:65536]
    if status == 412:
        if b"$_ts" in head:
            return "412 challenge from 瑞数 (Rivers Security): $_ts script, JavaScript required"
        return "HTTP 412 challenge page (anti-bot precondition failed)"
    if status == 521:
        if b"__jsl_clearance" in head:
            return "521 challenge from 加速乐 (Jiasule): __jsl_clearance cookie script"
        return "HTTP 521 challenge page (anti-bot)"
    if kind in ("attachment", "robots") and status < 400:
        return None
    is_html = "html" in (content_type or "").lower() or b"<html" in head[:2048].lower() or not content_type
    if not is_html:
        return None
    if len(body) < 30000:
        lower = head.lower()
        found = list(dict.fromkeys(label for patterns, label in _WAF_BYTES if any(p in lower for p in patterns)))
        if found:
            return f"WAF page ({'; '.join(found)}), HTTP {status}"
    if status == 200 and kind in ("list", "detail", "home") and len(body.strip()) < _TINY_BYTES \
            and not _ANCHOR.search(head):
        return f"suspiciously tiny page ({len(body)} bytes, HTTP {status})"
    return None


def _portal_of(spider, request):
    portal_id = request.meta.get("portal_id")
    if portal_id is not None:
        return portal_id
    # robots.txt requests carry no portal id: look the host up in an index built once per crawl (a loop over
    # the portals per request is quadratic in a batch of thousands)
    index = getattr(spider, "_portal_by_host", None)
    if index is None:
        index = {}
        for pid, portal in getattr(spider, "portals", {}).items():
            for host in portal.hosts:
                index.setdefault(host, pid)
        spider._portal_by_host = index
    return index.get(urlsplit(request.url).hostname or "")


class PortalGuardMiddleware:
    """Drops requests that would leave the portal's own hosts (`Portal.hosts`) or go to a portal already
    found blocked in this crawl. Runs before robots.txt, so nothing off-site is ever requested."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        spider = self.crawler.spider
        portals = getattr(spider, "portals", None)
        if portals is None:
            return None
        host = urlsplit(request.url).hostname or ""
        portal_id = _portal_of(spider, request)
        if portal_id is None or portal_id not in portals:
            spider.note_offsite(None, request.url)
            raise IgnoreRequest(f"off-site: {request.url}")
        if host not in portals[portal_id].hosts:
            spider.note_offsite(portal_id, request.url)
            raise IgnoreRequest(f"off-site for portal {portal_id}: {request.url}")
        if spider.is_blocked(portal_id):
            raise IgnoreRequest(f"portal {portal_id} is blocked")
        return None


# A robots.txt download whose coroutine was cancelled before it ended: its waiters ask again
_ABANDONED = object()


def _own_copy(pending: Deferred) -> Deferred:
    """A Deferred that fires with `pending`'s result and hands the same result on to pending's next waiter."""
    copy = Deferred()

    def pass_on(result):
        copy.callback(result)
        return result

    pending.addCallback(pass_on)
    return copy


def _without_credentials(request):
    """The request at its URL without `user:pass@`: the host's robots.txt is that of the bare host."""
    netloc = urlparse_cached(request).netloc
    if "@" not in netloc:
        return request
    return request.replace(url=urlparse_cached(request)._replace(netloc=netloc.rpartition("@")[2]).geturl())


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware in which every request waiting for a host's robots.txt is checked
    against it. For Scrapy 2.14.0 to 2.19.0 (the latest checked; unchanged on Scrapy's main branch); drop it
    when Scrapy's own is fixed (docs/upstream/scrapy-robotstxt-race.md).

    Since 2.14 every waiting request awaits the host's one pending Deferred through
    `maybe_deferred_to_future`, and `Deferred.asFuture` consumes the result: the first waiter gets the
    parser, every later one gets None, which means "no robots.txt: allow". Here each waiter awaits a
    Deferred of its own (as Scrapy 2.13 did), so a waiter's cancellation cannot cancel the others either.
    What a failed, redirected or timed-out robots.txt download means is left to Scrapy.

    A URL with credentials (`user:pass@host`, from a redirect) is checked against the host's robots.txt;
    Scrapy took it for another host and asked for `http://user:pass@host/robots.txt`, which its HTTP
    handler refuses with a ValueError.
    """

    async def robot_parser(self, request):
        request = _without_credentials(request)
        netloc = urlparse_cached(request).netloc
        while isinstance(pending := self._parsers.get(netloc), Deferred):
            parser = await maybe_deferred_to_future(_own_copy(pending))
            if parser is not _ABANDONED:
                return parser
        try:
            return await super().robot_parser(request)
        finally:
            pending = self._parsers.get(netloc)
            if isinstance(pending, Deferred):  # cancelled while downloading: nobody would ever fire it
                del self._parsers[netloc]
                pending.callback(_ABANDONED)


class BlockDetectionMiddleware:
    """Recognises challenge and WAF pages; the portal is recorded as blocked and the page is never parsed."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        kind = request.meta.get("kind") or ("robots" if request.url.endswith("/robots.txt") else "list")
        if response.status == 304:
            return response
        reason = detect_block(response.status, response.body,
                              response.headers.get(b"Content-Type", b"").decode("latin-1"), kind)
        if reason is None:
            return response
        spider = self.crawler.spider
        portal_id = _portal_of(spider, request)
        if portal_id is not None and hasattr(spider, "mark_blocked"):
            spider.mark_blocked(portal_id, reason, request.url)
        if kind == "robots":
            return response  # robots.txt behind the wall: the middleware treats it as "allow"; we stop later
        raise BlockedPage(reason)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry (5xx except anti-bot codes, 408/429, timeouts, connection errors) with exponential
    backoff: waits GOVWATCH_RETRY_BACKOFF * 2**n seconds before the n-th retry of a request."""

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff = settings.getfloat("GOVWATCH_RETRY_BACKOFF", 2.0)

    async def _sleep(self, request):
        attempt = request.meta.get("retry_times", 0)
        delay = self.backoff * (2 ** attempt)
        if delay > 0:
            await asyncio.sleep(min(delay, 120))

    async def process_response(self, request, response):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        await self._sleep(request)
        return self._retry(request, response_status_message(response.status)) or response

    async def process_exception(self, request, exception):
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry", False):
            await self._sleep(request)
            return self._retry(request, exception)
        return None
