"""Column discovery for many portals at once (`govwatch portals import`): ONE crawl of the column spider in
its discovery-only mode (`crawler.crawl.discover.discover_portals`), each portal's discovery bounded by a
deadline.

    outcomes = discover_columns([("340000", "http://www.ah.gov.cn/"), ...], settings=config.crawl)
    outcomes["340000"] -> DiscoveryOutcome(status="found", columns=(...), score=100.0)

It implements `crawler.registry.discovery.DiscoverColumns`. The pages are Scrapy requests: robots.txt, the
portal's own sites, politeness per host (the configured delay), retries and block detection of a crawl
apply; `workers` bounds how many hosts are visited at once. A home page that answers too slowly costs its own
deadline, never the others'.
"""

from __future__ import annotations

from crawler.config import Config, CrawlSettings
from crawler.registry.discovery import DiscoveryOutcome, OnOutcome

DEFAULT_WORKERS = 8
DEFAULT_DEADLINE = 120.0  # seconds for one portal's whole discovery (home page + up to 19 pages below it)


def outcome_of(result) -> DiscoveryOutcome:
    """The registry's outcome of a `spiders.discovery.DiscoveryResult`."""
    if result.status == "found":
        return DiscoveryOutcome("found", columns=tuple(result.columns), score=result.score, reason=result.reason)
    return DiscoveryOutcome(result.status, reason=result.reason)


def discover_columns(targets: list[tuple[str, str]], *, on_outcome: OnOutcome | None = None,
                     settings: CrawlSettings | None = None, workers: int = DEFAULT_WORKERS,
                     deadline: float = DEFAULT_DEADLINE, page_timeout: float = 20.0,
                     delay: float | None = None) -> dict[str, DiscoveryOutcome]:
    """Discover the column of every `(portal id, home URL)` in one crawl; returns {portal id: outcome}.
    `on_outcome` is called (in the calling thread) as each portal is decided; `delay` overrides the
    configured delay between two requests to one host (0: none, and no AutoThrottle)."""
    from crawler.crawl.discover import discover_portals
    from crawler.settings import config_settings

    scrapy_settings = config_settings(Config(crawl=settings or CrawlSettings()))
    scrapy_settings.update(CONCURRENT_REQUESTS=max(2, 2 * workers), DOWNLOAD_TIMEOUT=page_timeout,
                           GOVWATCH_DISCOVERY_TIMEOUT=deadline)
    if delay is not None:
        scrapy_settings.update(DOWNLOAD_DELAY=delay, AUTOTHROTTLE_ENABLED=bool(delay) and
                               scrapy_settings["AUTOTHROTTLE_ENABLED"])

    def report(result) -> None:
        if on_outcome is not None:
            on_outcome(result.portal, outcome_of(result))

    results = discover_portals(targets, settings=scrapy_settings, progress=report)
    return {portal_id: outcome_of(result) for portal_id, result in results.items()}
