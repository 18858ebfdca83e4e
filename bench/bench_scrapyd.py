"""The scrapyd backend vs the local backend, side by side: a first crawl and an unchanged recheck of the same
portals, on this machine (`backend = "local"`) and as jobs on 1 and 2 local scrapyd nodes.

    python bench/bench_scrapyd.py [--copies 4] [--delay 0] [--rounds 1]

The portals are `--copies` copies of the demo set (TRS, Hanweb, Kaipuyun, county site; one 127.0.0.x host each)
served by crawler.demo.server. Each configuration crawls into a fresh database; the nodes are started before
the clock starts (in their own directories, on loopback ports; warm: each has listed the project's spiders,
which it does once per deployed version) and stopped after the recheck. Wall time is the
crawl call's; CPU is the controller's (this process and the local crawl processes it reaps) plus the nodes'
(scrapyd and the job processes it reaped, from /proc: utime + stime + cutime + cstime). Requests are those the
portals answered. Prints figures only; the machine is shared, so run it more than once.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
CLK = os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def node_cpu(nodes) -> float:
    """CPU seconds of the scrapyd processes and of the jobs they have reaped."""
    total = 0.0
    for node in nodes:
        try:
            fields = Path(f"/proc/{node.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK
    return total


def build_portals(copies: int):
    from crawler.demo.sites import build_demo_portals

    portals = []
    for copy in range(copies):
        for portal in build_demo_portals():
            portal.id = f"{portal.id}{copy}"
            portals.append(portal)
    return portals


def measure(server, workdir: Path, node_count: int, delay: float) -> dict:
    from crawler.crawl.runner import crawl
    from scrapyd_nodes import ScrapydNode

    from crawler.crawl.scrapyd.client import NodeClient

    nodes = [ScrapydNode(workdir / f"node{n}").start() for n in range(node_count)]
    for node in nodes:  # a node lists the project's spiders once per deployed version: not part of a crawl
        NodeClient(node.url).list_spiders("govwatch")
    try:
        options = dict(obey_robots=True, download_delay=delay, autothrottle=False)
        if nodes:
            options.update(backend="scrapyd", scrapyd_nodes=[node.url for node in nodes])
        config = server.write_config(workdir / "govwatch.toml", **options)
        figures = {}
        for phase in ("first crawl", "recheck"):
            server.clear_log()
            cpu0, nodes0, wall0 = own_cpu(), node_cpu(nodes), time.monotonic()
            summary = crawl(config, workdir / "govwatch.db", timeout=900)
            wall = time.monotonic() - wall0
            statuses = {p.status for p in summary.portals.values()}
            figures[phase] = {"wall": wall, "cpu": own_cpu() - cpu0 + node_cpu(nodes) - nodes0,
                              "requests": len(server.requests), "ok": statuses == {"ok"},
                              "documents": sum(p.new_documents for p in summary.portals.values())}
        return figures
    finally:
        for node in nodes:
            node.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=4, help="copies of the 4 demo portals")
    parser.add_argument("--delay", type=float, default=0.0, help="download_delay of the crawls")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    from crawler.demo.server import PortalServer

    portals = build_portals(args.copies)
    rows = []
    with PortalServer(portals) as server:
        for round_number in range(args.rounds):
            for label, count in (("local", 0), ("scrapyd, 1 node", 1), ("scrapyd, 2 nodes", 2)):
                with tempfile.TemporaryDirectory(prefix="bench-scrapyd-") as tmp:
                    figures = measure(server, Path(tmp), count, args.delay)
                rows.append((round_number + 1, label, figures))
                print(f"round {round_number + 1}: {label} done", file=sys.stderr)
    print(f"{len(portals)} portals, download_delay {args.delay:g} s, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    header = (f"{'round':>5}  {'backend':<17} {'first wall s':>12} {'first CPU s':>11} {'first req':>9} "
              f"{'docs':>5} {'recheck wall s':>14} {'recheck CPU s':>13} {'recheck req':>11}  ok")
    print(header)
    print("-" * len(header))
    for number, label, f in rows:
        first, again = f["first crawl"], f["recheck"]
        print(f"{number:>5}  {label:<17} {first['wall']:>12.1f} {first['cpu']:>11.1f} {first['requests']:>9} "
              f"{first['documents']:>5} {again['wall']:>14.1f} {again['cpu']:>13.1f} {again['requests']:>11}  "
              f"{'yes' if first['ok'] and again['ok'] else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
