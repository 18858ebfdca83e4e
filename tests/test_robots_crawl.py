"""robots.txt obeyed by real crawls when many requests wait for one host's robots.txt (issue 17).

The portal's column list is on 127.0.0.1 and links its articles under the portal's second host name,
`localhost` (the same listener, listed in `allowed_hosts`): the list page queues all its detail requests for
`localhost` at once, while that host's robots.txt is still being answered (slowly, on purpose). robots.txt
disallows /private/; the server's log shows whether any /private/ URL was asked for. Each crawl runs with
govwatch's middleware and, to show the test can see the bug, once with Scrapy's own.
"""

from __future__ import annotations

import json
import time

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from crawler import settings as crawl_settings
from crawler.demo.server import Attachment, Item, Portal, PortalServer, Response
from crawler.crawl.fetchstate import ROBOTS_DISALLOWED
from crawler.crawl.runner import crawl
from storage import connect

ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\nAllow: /\n"
ROBOTS_DELAY = 0.4  # seconds before `localhost` answers its robots.txt: the detail requests queue behind it
SCRAPY = "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"
GOVWATCH = "crawler.middlewares.SharedRobotsTxtMiddleware"
PARAGRAPHS = ["2023年，本县坚持以习近平法治思想为指导，全面推进依法行政，各项工作取得新进展。" * 2,
              "一、完善依法行政制度体系。二、推进严格规范公正文明执法。三、强化行政权力制约监督。" * 3]


class TwoHostPortal(Portal):
    """A county column on 127.0.0.1 whose articles are linked under `article_host` and whose attachments under
    `attachment_host` (either may be `localhost`, the same listener under the portal's second host name).
    `localhost` answers robots.txt after ROBOTS_DELAY, or redirects it to 127.0.0.1's with `redirect_robots`."""

    column_path = "/fzzfjs/"
    per_page = 50
    blocks_everything = True  # the server then leaves /robots.txt to handle(): slow, per host name, redirected

    def __init__(self, id: str, items: list[Item], *, article_host: str = "localhost",
                 attachment_host: str = "127.0.0.1", redirect_robots: bool = False):
        self.article_host, self.attachment_host = article_host, attachment_host
        self.redirect_robots = redirect_robots
        super().__init__(id, "示例县人民政府", items)

    def assign(self, item: Item) -> str:
        return f"/private/{item.id}.html" if item.kind == "private" else f"/art/{item.id}.html"

    def on_host(self, host: str, path: str) -> str:
        return self.base_url.replace("127.0.0.1", host, 1) + path

    def url(self, item: Item) -> str:
        return self.on_host(self.article_host, item.path)

    def handle(self, request):
        if request.path == "/robots.txt":
            return self.robots(request.headers.get("host", ""))
        if request.path == self.column_path:
            rows = "".join(f'<li><a href="{self.url(i)}">{i.title}</a><span>{i.date}</span></li>' for i in self.items)
            return Response.html(f"<html><head><title>{self.name}</title></head><body>"
                                 f'<ul class="list">{rows}</ul></body></html>', last_modified=self.modified)
        item = self.item_by_path(request.path)
        if item is None:
            return None
        body = "".join(f"<p>{p}</p>" for p in item.paragraphs)
        body += "".join(f'<p><a href="{self.on_host(self.attachment_host, a.path)}">{a.label}</a></p>'
                        for a in item.attachments)
        return Response.html(f"<html><head><title>{item.title}_{self.name}</title></head><body>"
                             f"<h1>{item.title}</h1><div>发布时间：{item.published} 来源：{self.name}</div>"
                             f'<div id="zoom">{body}</div></body></html>', last_modified=item.published_dt)

    def robots(self, host: str) -> Response:
        if host.startswith("localhost"):
            time.sleep(ROBOTS_DELAY)
            if self.redirect_robots:
                return Response(status=302, headers={"Location": self.on_host("127.0.0.1", "/robots.txt")},
                                cacheable=False)
        return Response(body=ROBOTS_TXT, content_type="text/plain; charset=utf-8", cacheable=False)


def article(n: int, kind: str = "news", attachments=()) -> Item:
    title = (f"示例县2023年法治政府建设年度报告（征求意见稿{n}）" if kind == "private"
             else f"示例县召开法治政府建设推进会（第{n}次）")
    return Item(title=title, kind=kind, published=f"2024-03-{10 + n:02d}", paragraphs=PARAGRAPHS,
                attachments=list(attachments))


def mixed_articles() -> list[Item]:
    """Public and /private/ articles interleaved: whichever order they are requested in, several disallowed
    ones wait behind the first requests for robots.txt."""
    return [article(n, "private" if n % 3 else "news") for n in range(1, 10)]


def middlewares(robots_middleware: str) -> dict:
    """The crawl's downloader middlewares with `robots_middleware` as the only robots.txt middleware."""
    chosen = {path: None if path.endswith("RobotsTxtMiddleware") else order
              for path, order in crawl_settings.DOWNLOADER_MIDDLEWARES.items()}
    chosen.update({SCRAPY: None, robots_middleware: 100})
    return {"DOWNLOADER_MIDDLEWARES": chosen}


def crawl_portal(portal: TwoHostPortal, tmp_path, robots_middleware: str, run: int = 0):
    """Crawl the portal once (fresh database); returns the server's log and the crawl summary."""
    with PortalServer([portal], first_host=1) as server:  # 127.0.0.1, so `localhost` reaches it too
        if server.host(portal.id) != "127.0.0.1":
            pytest.skip("the portal server could not listen on 127.0.0.1")
        config = tmp_path / f"govwatch-{run}.toml"
        config.write_text(
            "[crawl]\ndownload_delay = 0\nautothrottle = false\ntimeout = 60\n\n"
            f'[[portal]]\nid = "{portal.id}"\nname = "{portal.name}"\n'
            f'start_urls = ["{server.column_url(portal.id)}"]\nallowed_hosts = ["localhost"]\n', encoding="utf-8")
        summary = crawl(config, tmp_path / f"govwatch-{run}.db", timeout=60, settings=middlewares(robots_middleware))
        return server.requests, summary


def private_requests(log) -> list[str]:
    return [f"{r.headers.get('Host')}{r.path}" for r in log if r.path.startswith("/private/")]


def robots_requests(log) -> list[str]:
    return [r.headers.get("Host", "").split(":")[0] for r in log if r.path == "/robots.txt"]


def test_detail_pages_queued_behind_a_slow_robots_txt_are_all_checked(tmp_path):
    for run in range(5):
        log, summary = crawl_portal(TwoHostPortal("twohost", mixed_articles()), tmp_path, GOVWATCH, run)
        assert summary.status == "ok" and summary.portals["twohost"].status == "ok", summary.log[-2000:]
        assert private_requests(log) == [], f"run {run}: disallowed pages were fetched"
        public = [r for r in log if r.path.startswith("/art/")]
        assert len(public) == 3 and all(r.headers.get("Host", "").startswith("localhost") for r in public)
        assert sorted(robots_requests(log)) == ["127.0.0.1", "localhost"]
        assert summary.portals["twohost"].new_documents == 3


def test_scrapys_own_middleware_fetches_disallowed_pages_in_the_same_crawl(tmp_path):
    # Shows the setup above really queues requests behind the pending robots.txt. When this fails, Scrapy's
    # own middleware is fixed and SharedRobotsTxtMiddleware (crawler/middlewares.py) can go.
    log, summary = crawl_portal(TwoHostPortal("twohost", mixed_articles()), tmp_path, SCRAPY)
    assert summary.status == "ok", summary.log[-2000:]
    assert private_requests(log), "Scrapy's RobotsTxtMiddleware no longer lets waiting requests through"


@pytest.mark.parametrize("robots_middleware, leaks", [(GOVWATCH, False), (SCRAPY, True)], ids=["govwatch", "scrapy"])
def test_a_redirected_robots_txt_applies_to_every_waiting_request(tmp_path, robots_middleware, leaks):
    # localhost/robots.txt redirects to 127.0.0.1/robots.txt (another host of the portal): Scrapy follows
    # it and parses what it finds there; every waiting request must be checked against that
    portal = TwoHostPortal("twohost", mixed_articles(), redirect_robots=True)
    log, summary = crawl_portal(portal, tmp_path, robots_middleware)
    assert summary.status == "ok", summary.log[-2000:]
    assert sorted(robots_requests(log)) == ["127.0.0.1", "127.0.0.1", "localhost"]
    assert bool(private_requests(log)) is leaks, private_requests(log)


def attachment_articles() -> list[Item]:
    """Articles on 127.0.0.1, each with a PDF under /private/ on `localhost`: the spider fetches attachments
    itself (`engine.download_async`, past the scheduler), and they wait for localhost's robots.txt together."""
    return [article(n, attachments=[Attachment(f"附件：年度报告{n}.pdf", f"P{n:03d}.pdf", b"%PDF-1.4\n%%EOF\n",
                                               "application/pdf", path=f"/private/files/P{n:03d}.pdf")])
            for n in range(1, 7)]


@pytest.mark.parametrize("robots_middleware, leaks", [(GOVWATCH, False), (SCRAPY, True)], ids=["govwatch", "scrapy"])
def test_attachments_fetched_by_the_spider_are_checked_against_robots_txt(tmp_path, robots_middleware, leaks):
    portal = TwoHostPortal("twohost", attachment_articles(), article_host="127.0.0.1", attachment_host="localhost")
    log, summary = crawl_portal(portal, tmp_path, robots_middleware)
    assert summary.status == "ok" and summary.portals["twohost"].new_documents == 6, summary.log[-2000:]
    assert "localhost" in robots_requests(log)
    assert bool(private_requests(log)) is leaks, private_requests(log)
    if not leaks:
        rows = connect(tmp_path / "govwatch-0.db").execute("SELECT attachments FROM documents").fetchall()
        stored = [a for (attachments,) in rows for a in json.loads(attachments)]
        assert len(stored) == 6 and all(a["status"] == "error" and "robots.txt" in a["error"] for a in stored)


def test_a_redirect_to_a_url_with_credentials_is_checked_against_its_hosts_robots_txt(tmp_path):
    # detail links that redirect to user:pass@localhost: checked against localhost's robots.txt, with no
    # second robots.txt request and no ValueError in the robots.txt middleware. (The allowed one then fails
    # in Scrapy's HTTP handler, which refuses credentials in URLs: a page error of its own.)
    class CredentialRedirects(TwoHostPortal):
        def handle(self, request):
            if request.path.startswith("/go/"):
                target = self.on_host("user:secret@localhost", request.path[len("/go"):])
                return Response(status=302, headers={"Location": target}, cacheable=False)
            return super().handle(request)

        def url(self, item):
            return self.on_host("127.0.0.1", "/go" + item.path)

    log, summary = crawl_portal(CredentialRedirects("twohost", [article(1, "private"), article(2)]), tmp_path,
                                GOVWATCH)
    assert summary.status == "ok", summary.log[-2000:]
    assert private_requests(log) == []
    assert sorted(robots_requests(log)) == ["127.0.0.1", "localhost"]
    forbidden = connect(tmp_path / "govwatch-0.db").execute(
        "SELECT url FROM fetch_state WHERE status = ?", [ROBOTS_DISALLOWED]).fetchall()
    assert len(forbidden) == 1 and "/private/" in forbidden[0][0]  # refused by robots.txt, not by an error
    assert "[scrapy.downloadermiddlewares.robotstxt]" not in summary.log, summary.log[-3000:]
    assert "robotstxt/exception_count" not in summary.log and "Traceback" not in summary.log, summary.log[-3000:]
