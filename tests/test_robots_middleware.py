"""robots.txt middleware units: requests that arrive while a host's robots.txt is downloading (issue 17).

Scrapy's own middleware and govwatch's subclass run the same scenarios against a fake engine whose
robots.txt download the test finishes by hand, so the order (one download pending, several requests waiting)
is forced, not timed. The crawl-level proof is in test_robots_crawl.py.
"""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, TextResponse
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from twisted.internet.error import TimeoutError as DownloadTimeout

from crawler.config import Config
from crawler.middlewares import SharedRobotsTxtMiddleware
from crawler.settings import build_settings

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
WAITING = ["http://site.local/private/1.html", "http://site.local/art/2.html", "http://site.local/private/3.html",
           "http://site.local/private/4.html", "http://site.local/art/5.html", "http://site.local/private/6.html"]


class ManualEngine:
    """`engine.download_async` whose robots.txt answers wait until the test calls `answer()` or `fail()`."""

    def __init__(self):
        self.requested: list[str] = []
        self.pending: list[asyncio.Future] = []

    async def download_async(self, request):
        self.requested.append(request.url)
        answer = asyncio.get_running_loop().create_future()
        self.pending.append(answer)
        return await answer

    def answer(self, body: bytes = ROBOTS) -> None:
        future = self.pending.pop(0)
        future.set_result(TextResponse(self.requested[-1], body=body))

    def fail(self, exc: Exception) -> None:
        self.pending.pop(0).set_exception(exc)


def make_middleware(middleware_class):
    crawler = mock.MagicMock()
    crawler.settings = Settings({"ROBOTSTXT_OBEY": True, "USER_AGENT": "govwatch-test"})
    crawler.signals.send_catch_log_async = mock.AsyncMock(return_value=[])
    crawler.engine = ManualEngine()
    return middleware_class(crawler), crawler.engine


async def outcome(middleware, url: str) -> str:
    try:
        await middleware.process_request(Request(url))
    except IgnoreRequest:
        return "forbidden"
    return "allowed"


async def settle() -> None:
    """Let every started task run up to its first wait."""
    for _ in range(5):
        await asyncio.sleep(0)


async def first_and_waiting(middleware, engine, finish) -> dict[str, str]:
    """The outcome of a first request (it starts the robots.txt download) and of WAITING, which arrive while
    that download is pending; `finish(engine)` ends the download."""
    urls = ["http://site.local/index.html", *WAITING]
    tasks = [asyncio.ensure_future(outcome(middleware, url)) for url in urls]
    await settle()
    assert engine.requested == ["http://site.local/robots.txt"], "every request must wait for one download"
    finish(engine)
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    return dict(zip(urls, results))


def expected_when_obeyed() -> dict[str, str]:
    urls = ["http://site.local/index.html", *WAITING]
    return {url: "forbidden" if "/private/" in url else "allowed" for url in urls}


def test_every_request_waiting_for_robots_txt_is_checked():
    middleware, engine = make_middleware(SharedRobotsTxtMiddleware)
    results = asyncio.run(first_and_waiting(middleware, engine, lambda e: e.answer()))
    assert results == expected_when_obeyed()
    assert engine.requested == ["http://site.local/robots.txt"]


def test_scrapys_own_middleware_lets_later_waiting_requests_through():
    # The canary: when this fails, Scrapy's middleware checks its waiting requests again and
    # SharedRobotsTxtMiddleware (crawler/middlewares.py) can go
    middleware, engine = make_middleware(RobotsTxtMiddleware)
    results = asyncio.run(first_and_waiting(middleware, engine, lambda e: e.answer()))
    leaked = [url for url, result in results.items() if "/private/" in url and result == "allowed"]
    # only the first waiter gets the parser; every later one gets None ("no robots.txt")
    assert results[WAITING[0]] == "forbidden"
    assert leaked == [url for url in WAITING[1:] if "/private/" in url]


@pytest.mark.parametrize("failure", [DownloadTimeout("robots.txt took too long"), ConnectionRefusedError("down")],
                         ids=["timeout", "connection-refused"])
def test_a_failed_robots_txt_download_means_what_it_means_in_scrapy_for_every_waiting_request(failure):
    # Scrapy logs the error and allows the host's requests; the subclass changes nothing there, and every
    # waiting request gets that same answer from the one download
    outcomes = {}
    for middleware_class in (RobotsTxtMiddleware, SharedRobotsTxtMiddleware):
        middleware, engine = make_middleware(middleware_class)
        outcomes[middleware_class] = asyncio.run(first_and_waiting(middleware, engine, lambda e: e.fail(failure)))
        assert engine.requested == ["http://site.local/robots.txt"]
    ours = outcomes[SharedRobotsTxtMiddleware]
    assert ours == outcomes[RobotsTxtMiddleware]
    assert set(ours.values()) == {"allowed"}


def test_a_cancelled_waiting_request_does_not_disturb_the_others():
    async def scenario():
        middleware, engine = make_middleware(SharedRobotsTxtMiddleware)
        first = asyncio.ensure_future(outcome(middleware, "http://site.local/index.html"))
        cancelled = asyncio.ensure_future(outcome(middleware, "http://site.local/private/0.html"))
        others = [asyncio.ensure_future(outcome(middleware, url)) for url in WAITING]
        await settle()
        cancelled.cancel()
        await settle()
        engine.answer()
        return await asyncio.wait_for(asyncio.gather(first, *others), timeout=5), cancelled

    results, cancelled = asyncio.run(scenario())
    assert cancelled.cancelled()
    assert dict(zip(["http://site.local/index.html", *WAITING], results)) == expected_when_obeyed()


def test_waiting_requests_ask_again_when_the_request_downloading_robots_txt_is_cancelled():
    async def scenario():
        middleware, engine = make_middleware(SharedRobotsTxtMiddleware)
        first = asyncio.ensure_future(outcome(middleware, "http://site.local/index.html"))
        waiting = [asyncio.ensure_future(outcome(middleware, url)) for url in WAITING]
        await settle()
        first.cancel()  # e.g. the crawl is being stopped: its robots.txt download ends with it
        engine.pending.pop(0)  # cancelled with it
        await settle()
        assert engine.requested == ["http://site.local/robots.txt"] * 2  # the first waiter asks again
        engine.answer()
        return await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)

    results = asyncio.run(scenario())
    assert results == [expected_when_obeyed()[url] for url in WAITING]


def test_a_url_with_credentials_is_checked_against_its_hosts_robots_txt():
    async def scenario():
        middleware, engine = make_middleware(SharedRobotsTxtMiddleware)
        first = asyncio.ensure_future(outcome(middleware, "http://site.local/index.html"))
        await settle()
        engine.answer()
        await first
        # a redirect to user:pass@host: the same host, so no second robots.txt (Scrapy asked for
        # http://user:pass@site.local/robots.txt, which its HTTP handler refuses with a ValueError)
        later = [outcome(middleware, "http://user:pass@site.local/private/7.html"),
                 outcome(middleware, "http://user:pass@site.local/art/8.html")]
        return *(await asyncio.wait_for(asyncio.gather(*later), timeout=5)), engine.requested

    private, public, requested = asyncio.run(scenario())
    assert (private, public) == ("forbidden", "allowed")
    assert requested == ["http://site.local/robots.txt"]


def test_a_url_with_credentials_waiting_for_robots_txt_shares_the_hosts_download():
    async def scenario():
        middleware, engine = make_middleware(SharedRobotsTxtMiddleware)
        urls = ["http://site.local/index.html", "http://user:pass@site.local/private/1.html",
                "http://site.local/art/2.html", "http://u:p@site.local/private/3.html"]
        tasks = [asyncio.ensure_future(outcome(middleware, url)) for url in urls]
        await settle()
        engine.answer()
        return await asyncio.wait_for(asyncio.gather(*tasks), timeout=5), engine.requested

    results, requested = asyncio.run(scenario())
    assert results == ["allowed", "forbidden", "allowed", "forbidden"]
    assert requested == ["http://site.local/robots.txt"]


def test_govwatch_crawls_use_the_shared_middleware_in_place_of_scrapys():
    settings = Settings(build_settings(Config()))
    components = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    assert "crawler.middlewares.SharedRobotsTxtMiddleware" in components
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" not in components
    # after the host guard (nothing off-site is asked for), before everything that downloads
    assert components.index("crawler.middlewares.PortalGuardMiddleware") < \
        components.index("crawler.middlewares.SharedRobotsTxtMiddleware") < \
        components.index("crawler.middlewares.BackoffRetryMiddleware")
