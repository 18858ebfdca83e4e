"""Scrapy settings: module-level defaults (so `scrapy crawl column` works from scrapy.cfg) and
`build_settings(config)` which derives the polite, offline settings of one crawl from a govwatch Config."""

from __future__ import annotations

from scrapy.settings.default_settings import EXTENSIONS_BASE as _SCRAPY_EXTENSIONS_BASE

from crawler.config import DEFAULT_USER_AGENT, Config, CrawlSettings

BOT_NAME = "govwatch"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = DEFAULT_USER_AGENT
ROBOTSTXT_OBEY = True
# 412 (瑞数 $_ts) and 521 (加速乐 __jsl_clearance) challenge pages must reach the block detector.
HTTPERROR_ALLOWED_CODES = [304, 412, 521]
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]  # never 412/521: those are anti-bot walls
GOVWATCH_RETRY_BACKOFF = 2.0  # seconds before the first retry; doubles per retry
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many asyncio tasks for every callback's output. A detail page yields one document and
# the item pipeline is synchronous SQLite, so the default 100 only costs ~100 task switches per page
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% (Scrapy >= 2.19; older versions randomise the same way by default)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
GOVWATCH_MAX_ATTACHMENT_BYTES = 30 * 1024 * 1024
GOVWATCH_MAX_LIST_PAGES = 50
GOVWATCH_MAX_LIST_ITEMS = 1000  # items taken from one list page ([crawl] max_list_items); a warning when hit
GOVWATCH_MAX_DOCUMENT_CHARS = 1_000_000  # characters kept of one document (the record says `truncated`)
GOVWATCH_MAX_TRIES = 5  # runs that ask for a detail page that failed before it is given up (its reason kept)
GOVWATCH_DISCOVERY_TIMEOUT = 60.0  # seconds one portal's column discovery may take, from its home request
GOVWATCH_DISCOVERY_PAGES = 20  # pages one discovery fetches at most (home page included)
# a redirect or meta refresh chain longer than this is no page (Scrapy's default follows 20)
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening sockets in a crawl process
HTTPCACHE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    # our offsite/blocked-portal filter runs before robots.txt (100) so nothing off-site is even asked for
    "crawler.middlewares.PortalGuardMiddleware": 50,
    # Scrapy 2.14+ lets requests queued behind a pending robots.txt through unchecked (see the class)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.SharedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # process_response runs from high to low numbers: see challenge pages before retry (550)
    "crawler.middlewares.BlockDetectionMiddleware": 585,
    # after decompression (590), block detection and retry: the final, decoded answer is archived
    "crawler.crawl.archiving.WarcArchiveMiddleware": 545,
}
# WARC archive of detail pages and attachments: a folder or "off"; None takes `[archive] dir` of the config
GOVWATCH_ARCHIVE_DIR = None
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}
# Left out of the lists, not set to None: Scrapy imports every listed extension, None or not, to normalise
# the lists, and these two pull in twisted.conch and aiohttp (~0.1 s of every crawl process) for sockets a
# crawl never opens
_NO_LISTENERS = ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl")
EXTENSIONS_BASE = {path: order for path, order in _SCRAPY_EXTENSIONS_BASE.items() if path not in _NO_LISTENERS}
# The crawl's portals and crawl_runs rows, written on spider open/close whoever runs the spider
EXTENSIONS = {"crawler.crawl.runs.RunBookkeeping": 500}
# Scrapy re-parses a callback's source to warn about `return value` in generators; ours are tested instead
WARN_ON_GENERATOR_RETURN_VALUE = False


def config_settings(config: Config) -> dict:
    """The Scrapy settings that a govwatch config's `[crawl]` table sets. The column spider applies them at
    Scrapy's "spider" priority, so they hold under every runner and `scrapy crawl -s NAME=VALUE` still wins."""
    crawl = config.crawl
    # config.py rejects values out of range; these bounds hold even for a Config built in code, where a 0
    # would mean "no limit" to Scrapy (DOWNLOAD_MAXSIZE) or a negative count would mean nothing at all
    delay = max(0.0, crawl.download_delay)
    page_bytes = max(1, crawl.max_page_bytes)
    return dict(
        USER_AGENT=crawl.user_agent,
        ROBOTSTXT_OBEY=crawl.obey_robots,
        DOWNLOAD_DELAY=delay,
        AUTOTHROTTLE_ENABLED=crawl.autothrottle,
        AUTOTHROTTLE_START_DELAY=max(delay, 1.0),
        CONCURRENT_REQUESTS_PER_DOMAIN=min(16, max(1, crawl.concurrency_per_domain)),
        DOWNLOAD_MAXSIZE=page_bytes,  # attachments raise it per request (meta download_maxsize)
        GOVWATCH_MAX_PAGE_BYTES=page_bytes,
        GOVWATCH_MAX_ATTACHMENT_BYTES=max(1, crawl.max_attachment_bytes),
        GOVWATCH_MAX_LIST_PAGES=max(1, crawl.max_list_pages),
        GOVWATCH_MAX_LIST_ITEMS=max(1, crawl.max_list_items),
        RETRY_TIMES=max(0, crawl.retry_times),
        GOVWATCH_RETRY_BACKOFF=2.0 if delay > 0 else 0.2,
        # one download never outlives the whole crawl's timeout
        DOWNLOAD_TIMEOUT=max(1, min(DOWNLOAD_TIMEOUT, crawl.timeout)),
    )


def build_settings(config: Config, *, db_path: str | None = None, overrides: dict | None = None) -> dict:
    """The Scrapy settings of a crawl of `config` (a dict for `CrawlerProcess(settings=...)`)."""
    import crawler.settings as defaults

    settings = {name: getattr(defaults, name) for name in dir(defaults) if name.isupper() and name[0] != "_"}
    settings.update(config_settings(config))
    if db_path:
        settings["GOVWATCH_DB"] = str(db_path)
    if config.path:
        settings["GOVWATCH_CONFIG"] = str(config.path)
    settings.update(overrides or {})
    return settings


# the process-wide limit on requests in flight of a batch: per host stays concurrency_per_domain
MAX_CONCURRENT_REQUESTS = 256


def batch_settings(portal_count: int, crawl: CrawlSettings) -> dict:
    """Scrapy settings for one crawl process of `portal_count` portals (per-host politeness unchanged)."""
    return {
        "CONCURRENT_REQUESTS": max(16, min(MAX_CONCURRENT_REQUESTS, portal_count * crawl.concurrency_per_domain)),
        "DNSCACHE_SIZE": max(10000, 2 * portal_count),
        "REACTOR_THREADPOOL_MAXSIZE": 20,  # DNS lookups of thousands of hosts go through this pool
    }
