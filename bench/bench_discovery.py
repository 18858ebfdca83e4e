"""Column discovery benchmark on loopback: many portals discovered in one crawl vs one crawl process each.

    python bench/bench_discovery.py [--portals 200] [--sample 10] [--concurrency 64]

N home-page portals (three in four link a 法治政府建设 column two levels down, the others none) are served
by crawler.demo.server, politeness off. Measured in one run:
  (a) `crawler.crawl.discover.discover_portals` for all N portals in one crawl process;
  (b) `discover_portals` for one portal at a time (a process each) over the first `--sample` portals, the
      per-portal cost extrapolated to N (said so in the output).
Wall time, CPU seconds of the crawl processes (RUSAGE_CHILDREN), requests answered, outcomes. Figures only.
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_portals(count: int):
    from crawler.demo.server import Portal, Response

    class Home(Portal):
        def handle(self, request):
            if request.path == "/":
                links = '<a href="/zwgk/">政务公开</a><a href="/xw/">新闻中心</a>'
                return Response.html(f"<html><body>{links}<p>{'欢迎访问。' * 30}</p></body></html>")
            if request.path == "/zwgk/" and self.options["column"]:
                return Response.html('<html><body><a href="/fzzfjs/">法治政府建设</a><a href="/tjsj/">统计数据</a>'
                                     "</body></html>")
            if request.path in ("/zwgk/", "/xw/", "/fzzfjs/"):
                return Response.html("<html><body><ul><li><a href='/art/1.html'>某县召开会议</a> 2024-01-02</li>"
                                     "</ul></body></html>")
            return None

    return [Home(f"p{n}", f"县{n}", column=n % 4 != 0) for n in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=200, help="portals (at most ~250: one loopback address each)")
    parser.add_argument("--sample", type=int, default=10, help="portals discovered one process each (default 10)")
    parser.add_argument("--concurrency", type=int, default=64, help="CONCURRENT_REQUESTS of the batched crawl")
    args = parser.parse_args()

    from crawler.crawl.discover import discover_portals
    from crawler.demo.server import PortalServer

    portals = build_portals(args.portals)
    with PortalServer(portals, offsite=False) as server, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "fast.toml"
        config.write_text("[crawl]\ndownload_delay = 0\nautothrottle = false\n", encoding="utf-8")
        homes = [(p.id, server.base_url(p.id) + "/") for p in portals]

        cpu, started = child_cpu(), time.monotonic()
        batched = discover_portals(homes, config=config, settings={"CONCURRENT_REQUESTS": args.concurrency})
        a = {"wall": time.monotonic() - started, "cpu": child_cpu() - cpu, "requests": len(server.requests),
             "outcomes": collections.Counter(r.status for r in batched.values())}

        server.clear_log()
        cpu, started = child_cpu(), time.monotonic()
        single = {}
        for pid, home in homes[:args.sample]:
            single.update(discover_portals([(pid, home)], config=config))
        n = len(single)
        b = {"wall": time.monotonic() - started, "cpu": child_cpu() - cpu, "requests": len(server.requests),
             "outcomes": collections.Counter(r.status for r in single.values())}
        same = all(single[pid].columns == batched[pid].columns for pid in single)

    print(f"{args.portals} portals on loopback, politeness off")
    print(f"(a) one crawl for all      wall {a['wall']:7.1f} s  CPU {a['cpu']:7.1f} s  "
          f"{1000 * a['cpu'] / args.portals:6.1f} ms CPU/portal  {a['requests']} requests  {dict(a['outcomes'])}")
    print(f"(b) one process per portal wall {b['wall'] / n * args.portals:7.1f} s  "
          f"CPU {b['cpu'] / n * args.portals:7.1f} s  {1000 * b['cpu'] / n:6.1f} ms CPU/portal  "
          f"(measured on {n}, extrapolated to {args.portals})  same columns as (a): {same}")
    print(f"ratio (b)/(a): wall {b['wall'] / n * args.portals / a['wall']:.1f}x  "
          f"CPU {b['cpu'] / n * args.portals / max(a['cpu'], 1e-9):.1f}x")


if __name__ == "__main__":
    main()
