"""Crawl benchmark on loopback: bare Scrapy download vs govwatch's full pipeline, and a recrawl's cost.

    python bench/bench_crawl.py [--pages 300] [--concurrency 8]

One TRS-style portal with N detail pages (20 per list page) is served by crawler.demo.server with politeness
off. Measured in one run:
  (a) a plain Scrapy spider (defined here, run by CrawlerProcess in a subprocess) that only downloads the list
      and detail pages;
  (b) govwatch's full pipeline (`crawler.crawl.runner.crawl`: spider, extraction, dedupe, storage) into a fresh DB;
  (c) an immediate recrawl with the same DB: the requests it sends (from the server's request log).
Pages/s use the server's log (requests answered during the run) over the wall time of the subprocess, and
over the active span (first request to the end of the run, i.e. without interpreter/Scrapy start-up). Prints
figures only.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


# ---------------------------------------------------------------------------------------------------------
# (a) the bare spider, run in a child process: `python bench_crawl.py --bare URL --concurrency N`


def run_bare(start_url: str, concurrency: int) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class BareSpider(scrapy.Spider):
        """Follows the TRS pager (createPageHTML) and the list items; does nothing with the pages."""

        name = "bare"
        start_urls = [start_url]

        def parse(self, response):
            if "createPageHTML" in response.text:
                import re

                count = int(re.search(r"createPageHTML\((\d+)", response.text).group(1))
                if response.url.endswith("/index.html"):
                    for n in range(1, count):
                        yield response.follow(f"index_{n}.html", self.parse)
                for href in response.css("ul.list li a::attr(href)").getall():
                    yield response.follow(href, self.parse_detail)

        def parse_detail(self, response):
            return None

    process = CrawlerProcess(settings={
        "LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": max(16, concurrency), "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "COOKIES_ENABLED": False, "TELNETCONSOLE_ENABLED": False, "HTTPCACHE_ENABLED": False,
    })
    process.crawl(BareSpider)
    process.start()


# ---------------------------------------------------------------------------------------------------------
# Measurement


def build_portal(pages: int):
    from crawler.demo.sites import SITES, TrsPortal, column_items, load_seed_reports, report_item

    seeds = load_seed_reports()
    reports = [report_item(stem, g) for stem, g in seeds.items()]
    site = SITES["jinghu"]
    items = column_items(site, reports[:1], newer=pages // 2, older=pages - pages // 2 - 4 - 1,
                         with_private=False)
    portal = TrsPortal("bench", site=site, items=items)
    portal.per_page = 20
    return portal


def measure(server, run) -> dict:
    server.clear_log()
    started = time.perf_counter()
    extra = run()
    wall = time.perf_counter() - started
    ended = time.time()  # the request log's clock
    log = server.requests
    pages = [r for r in log if r.path != "/robots.txt"]
    # from the first request to the end of the run: storing goes on after the last download
    span = (ended - min(r.at for r in log)) if log else wall
    statuses = collections.Counter(r.status for r in pages)
    return dict(requests=len(log), pages=len(pages), wall=wall, span=span, statuses=dict(statuses),
                pages_per_s_wall=len(pages) / wall if wall else 0.0,
                pages_per_s_active=len(pages) / span if span else 0.0, **(extra or {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300, help="detail pages on the portal (default 300)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests per host (both crawls; default 8)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating bare/full rounds; medians are reported (default 3)")
    parser.add_argument("--bare", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        run_bare(args.bare, args.concurrency)
        return

    from crawler.crawl.runner import crawl
    from crawler.demo.server import PortalServer

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    portal = build_portal(args.pages)
    with PortalServer([portal], offsite=False) as server, tempfile.TemporaryDirectory(prefix="govwatch-bench-") as tmp:
        n_detail = len(portal.served_items())
        n_list = len(portal.pages())
        print(f"portal: {server.column_url('bench')}  {n_list} list pages + {n_detail} detail pages "
              f"(concurrency {args.concurrency}/host, no delay, no autothrottle, robots off)")
        config = server.write_config(Path(tmp) / "govwatch.toml", download_delay=0, autothrottle=False,
                                     obey_robots=False, concurrency_per_domain=args.concurrency)
        db = Path(tmp) / "bench.db"

        def bare():
            proc = subprocess.run([sys.executable, __file__, "--bare", server.column_url("bench"),
                                   "--concurrency", str(args.concurrency)], env=env, capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)

        def full(database=None):
            summary = crawl(config, database or db, timeout=900, log_level="WARNING")
            if summary.status != "ok":
                print(f"govwatch crawl status {summary.status}: {summary.error}\n{summary.log[-2000:]}", file=sys.stderr)
            return dict(summary={pid: dict(pages=p.pages, documents=p.new_documents, reports=p.new_reports,
                                           errors=p.errors) for pid, p in summary.portals.items()})

        rounds_a, rounds_b = [], []
        for n in range(args.rounds):  # alternate, so machine noise hits both sides alike
            rounds_a.append(measure(server, bare))
            fresh = db if n == args.rounds - 1 else Path(tmp) / f"round{n}.db"
            rounds_b.append(measure(server, lambda: full(fresh)))
        c = measure(server, full)  # recrawl of the last round's database
        a, b = (sorted(r, key=lambda m: m["pages_per_s_wall"])[len(r) // 2] for r in (rounds_a, rounds_b))

    def line(label, m):
        return (f"{label:30} {m['pages']:5d} pages  wall {m['wall']:6.2f}s  {m['pages_per_s_wall']:7.1f} pages/s"
                f"  | active {m['span']:6.2f}s  {m['pages_per_s_active']:7.1f} pages/s  statuses {m['statuses']}")

    for n, (ra, rb) in enumerate(zip(rounds_a, rounds_b), start=1):
        print(f"  round {n}: bare {ra['pages_per_s_wall']:6.1f} pages/s, full {rb['pages_per_s_wall']:6.1f} pages/s")
    print(f"median of {len(rounds_a)} rounds:")
    print(line("(a) bare Scrapy download", a))
    print(line("(b) govwatch full pipeline", b))
    print(f"    govwatch summary: {json.dumps(b.get('summary'), ensure_ascii=False)}")
    ratio_wall = b["pages_per_s_wall"] / a["pages_per_s_wall"] if a["pages_per_s_wall"] else 0.0
    ratio_active = b["pages_per_s_active"] / a["pages_per_s_active"] if a["pages_per_s_active"] else 0.0
    print(f"ratio full/bare: {ratio_wall:.2f}x (wall)  {ratio_active:.2f}x (active)   target >= 0.5x")
    print(f"(c) immediate recrawl: {c['requests']} requests ({c['pages']} pages, statuses {c['statuses']}) "
          f"vs {b['requests']} on the first crawl; wall {c['wall']:.2f}s")


if __name__ == "__main__":
    main()
