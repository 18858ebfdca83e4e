"""The scrapyd backend vs the local backend over the national farm, side by side: a first crawl and an unchanged
recheck of the same slice of portals, as the daemon runs them (`crawler.crawl.batch.crawl_batch`), on this
machine (`backend = "local"`: one batch process and its writer) and as jobs on 1 and 2 local scrapyd nodes.

    python bench/bench_scrapyd.py [--portals 300] [--delay 0] [--rounds 1] [--only local,1,2]

The portals are the first `--portals` regions of the national farm (crawler.demo.farm, up to 3,214: one host
per portal on 127.100.x.y, the TRS, Hanweb, Kaipuyun, JSON-API and county families, a few blocked, down, slow
or moved), served by the farm in its own process. Each configuration crawls into a fresh database; the nodes
are started before the clock starts (their own directories and loopback ports; warm: each has listed the
project's spiders, which it does once per deployed version) and stopped after the recheck. A node runs
`scrapyd_jobs_per_node` (2) jobs at once, so the controller cuts its portals into 2 jobs per node.

Figures: wall time of the crawl call; CPU of the controller (this process and the local crawl processes it
reaped) plus the nodes' (scrapyd and the job processes it reaped, from /proc: utime + stime + cutime +
cstime); the requests the farm answered per portal on the recheck (ordinary portals: mean and max); the
reports stored against the reports the farm serves where a crawl can see them (not behind a wall, not down,
not moved), and duplicates (a URL stored twice, a job ingested twice). Prints figures only; the machine is
shared, so run it more than once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
CLK = os.sysconf("SC_CLK_TCK")
UNSEEN = ("blocked412", "blocked521", "down", "redirect")  # roles whose reports no crawl can see
CONFIGS = {"local": ("local (1 batch process)", 0), "1": ("scrapyd, 1 node", 1), "2": ("scrapyd, 2 nodes", 2)}


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


def stored(db_path: Path) -> dict:
    from storage import connect

    db = connect(db_path)
    try:
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        return {"reports": one("SELECT COUNT(*) FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL"),
                "documents": one("SELECT COUNT(*) FROM documents"),
                "duplicate_urls": one("SELECT COUNT(*) - COUNT(DISTINCT url) FROM documents"),
                "jobs_not_ingested": one("SELECT COUNT(*) FROM scrapyd_jobs WHERE state != 'ingested'")}
    finally:
        db.conn.close()


def measure(client, rows: list[dict], workdir: Path, node_count: int, delay: float) -> dict:
    from crawler.config import load_config
    from crawler.crawl.batch import crawl_batch
    from crawler.crawl.scrapyd.client import NodeClient
    from scrapyd_nodes import ScrapydNode

    ids = [r["id"] for r in rows]
    ordinary = [r["id"] for r in rows if r["role"] is None]
    nodes = []
    try:
        for n in range(node_count):
            nodes.append(ScrapydNode(workdir / f"node{n}").start())
        for node in nodes:  # a node lists the project's spiders once per deployed version: not part of a crawl
            NodeClient(node.url).list_spiders("govwatch")
        options = dict(obey_robots=True, download_delay=delay, autothrottle=False, timeout=1800)
        if nodes:
            options.update(backend="scrapyd", scrapyd_nodes=[node.url for node in nodes])
        config = client.write_config(workdir / "govwatch.toml", ids, **options)
        crawl = load_config(config).crawl
        figures = {}
        for phase in ("first crawl", "recheck"):
            client.reset_counts()
            cpu0, nodes0, wall0 = own_cpu(), node_cpu(nodes), time.monotonic()
            outcomes = crawl_batch(str(config), str(workdir / "govwatch.db"), ids, crawl=crawl, timeout=1800,
                                   log_level="WARNING")
            wall = time.monotonic() - wall0
            controller, on_nodes = own_cpu() - cpu0, node_cpu(nodes) - nodes0
            counts = client.counts()
            requests = [counts[pid]["requests"] for pid in ordinary]
            statuses: dict[str, int] = {}
            for outcome in outcomes.values():
                statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
            figures[phase] = {"wall": wall, "cpu": controller + on_nodes, "controller_cpu": controller,
                              "node_cpu": on_nodes, "requests": sum(c["requests"] for c in counts.values()),
                              "mean_requests": sum(requests) / len(requests), "max_requests": max(requests),
                              "statuses": statuses, **stored(workdir / "govwatch.db")}
        return figures
    finally:
        for node in nodes:
            node.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--portals", type=int, default=300, help="portals of the national farm (up to 3,214)")
    parser.add_argument("--delay", type=float, default=0.0, help="download_delay of the crawls")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="local,1,2", help="configurations: local, 1 (node), 2 (nodes)")
    args = parser.parse_args(argv)
    from crawler.demo.farm import FarmClient, ensure_open_files

    chosen = [CONFIGS[key] for key in args.only.split(",")]
    ensure_open_files(4 * args.portals + 1000)  # the crawls and the nodes' jobs inherit it: a host per portal
    farm = subprocess.Popen([sys.executable, "-m", "crawler.demo.farm", "serve", "--limit", str(args.portals)],
                            env=ENV, stdout=subprocess.PIPE, text=True)
    results = []
    try:
        client = FarmClient(json.loads(farm.stdout.readline())["control"])
        rows = client.portals()
        expected = sum(len(r["report_years"]) for r in rows if r["role"] not in UNSEEN)
        for round_number in range(args.rounds):
            for label, count in chosen:
                with tempfile.TemporaryDirectory(prefix="bench-scrapyd-") as tmp:
                    figures = measure(client, rows, Path(tmp), count, args.delay)
                results.append((round_number + 1, label, figures))
                print(f"round {round_number + 1}: {label} done ({figures['first crawl']['wall']:.0f} s + "
                      f"{figures['recheck']['wall']:.0f} s)", file=sys.stderr)
    finally:
        farm.terminate()
        farm.wait(timeout=30)
    report(results, rows, expected, args)
    return 0


def report(results, rows, expected: int, args) -> None:
    roles = {}
    for r in rows:
        roles[r["role"] or "ordinary"] = roles.get(r["role"] or "ordinary", 0) + 1
    print(f"{len(rows)} farm portals ({', '.join(f'{n} {k}' for k, n in sorted(roles.items()))}), "
          f"download_delay {args.delay:g} s, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"{expected} reports a crawl can see")
    header = (f"{'round':>5}  {'backend':<24} {'first wall s':>12} {'first CPU s':>11} {'first req':>9} "
              f"{'reports':>7} {'recheck wall s':>14} {'recheck CPU s':>13} {'req/portal mean, max':>20}  "
              f"{'stored once':>11}")
    print(header)
    print("-" * len(header))
    for number, label, f in results:
        first, again = f["first crawl"], f["recheck"]
        once = (first["reports"] == again["reports"] == expected and not again["duplicate_urls"]
                and not again["jobs_not_ingested"])
        print(f"{number:>5}  {label:<24} {first['wall']:>12.1f} {first['cpu']:>11.1f} {first['requests']:>9} "
              f"{first['reports']:>7} {again['wall']:>14.1f} {again['cpu']:>13.1f} "
              f"{again['mean_requests']:>14.2f}, {again['max_requests']:>3}  {'yes' if once else 'NO':>11}")
    print()
    for number, label, f in results:
        for phase in ("first crawl", "recheck"):
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(f[phase]["statuses"].items()))
            print(f"round {number} {label}, {phase}: CPU {f[phase]['controller_cpu']:.1f} s here (controller, local "
                  f"crawl) + {f[phase]['node_cpu']:.1f} s on the nodes; {statuses}; {f[phase]['documents']} documents")


if __name__ == "__main__":
    sys.exit(main())
