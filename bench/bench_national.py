"""National bench: every region of China on the loopback farm, crawled the way the daemon crawls it.

    python bench/bench_national.py [--portals 3214] [--sample 100] [--reports 10] [--delay 1.0] [--scrapyd N]

One run, side by side:
  (1) first crawl of every portal: a bare Scrapy spider that only downloads the same pages (the farm lists
      them) vs govwatch's full pipeline (crawl, extraction, dedupe, storage); both as the daemon runs
      batches: one crawl process per CPU, the portals split between them, the same politeness settings
      (download delay, AutoThrottle, robots.txt, 2 requests at a time per host), global request limit and
      CONCURRENT_ITEMS (Scrapy's default 100 costs a bare spider ~10 ms a page); the bare spider asks for
      every page at once, govwatch pages a column sequentially (a page of known items must stop a recheck);
  (2) a recheck of every portal, nothing changed: batched as the daemon does it, and one crawl process per
      portal (the daemon before batches) on a random sample, extrapolated to all portals;
  (3) `govwatch watch` on the national set: reports published on random portals while it runs; alerts
      delivered to a local webhook, each exactly once, and each one's latency;
  (4) with --scrapyd N: the first crawl and recheck of N farm portals on the local backend vs 1 and 2 local
      scrapyd nodes (bench_scrapyd.py's measurement), side by side.
Wall time, CPU seconds and peak RSS of every process (crawl processes, their writers, bare spiders, the
daemon, the farm) come from /proc, sampled twice a second, and from getrusage. The farm runs in its own
process. Prints figures only; the machine is shared, so give ranges over runs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))  # bench_scrapyd: the scrapyd backend's part
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
CLK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------------------
# the bare spider, in a child process: `python bench_national.py --bare URLS.json --settings JSON`


def run_bare(urls_file: str, settings: str) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = json.loads(Path(urls_file).read_text())

    class BareSpider(scrapy.Spider):
        """Downloads a list of pages, politely, and does nothing with them."""

        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

        def parse(self, response):
            return None

        def failed(self, failure):
            return None

    process = CrawlerProcess(settings=json.loads(settings))
    process.crawl(BareSpider)
    process.start()


# ---------------------------------------------------------------------------------------------------------
# measuring processes


class ProcessMonitor:
    """Samples every descendant of this process from /proc: peak RSS (VmHWM), CPU seconds, what it runs."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.seen: dict[int, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="proc-monitor")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        me = os.getpid()
        while not self._stop.wait(self.interval):
            parents = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        stat = Path(f"/proc/{entry}/stat").read_text()
                    except OSError:
                        continue
                    fields = stat[stat.rindex(")") + 2:].split()
                    parents[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            for pid, (ppid, ticks) in parents.items():
                up = ppid
                while up not in (0, 1, me) and up in parents:
                    up = parents[up][0]
                if up != me:
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
                except OSError:
                    continue
                hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
                entry = self.seen.setdefault(pid, {"cmd": cmd, "kind": _kind(cmd), "hwm_kib": 0, "cpu_s": 0.0})
                entry["hwm_kib"] = max(entry["hwm_kib"], hwm)
                entry["cpu_s"] = max(entry["cpu_s"], ticks / CLK)

    def summary(self, since: set[int] = frozenset()) -> dict[str, dict]:
        """{kind: {"count", "cpu_s", "peak_rss_mib" (of the largest one)}} for the processes not in `since`."""
        out: dict[str, dict] = {}
        for pid, e in self.seen.items():
            if pid in since:
                continue
            k = out.setdefault(e["kind"], {"count": 0, "cpu_s": 0.0, "peak_rss_mib": 0.0})
            k["count"] += 1
            k["cpu_s"] += e["cpu_s"]
            k["peak_rss_mib"] = max(k["peak_rss_mib"], e["hwm_kib"] / 1024)
        return out


def _kind(cmd: str) -> str:
    if "crawler.crawl.process" in cmd:
        return "crawl process"
    if "multiprocessing" in cmd and ("spawn" in cmd or "forkserver" in cmd):
        return "writer / helper"
    if "--bare" in cmd:
        return "bare spider"
    if "crawler.demo.farm" in cmd:
        return "farm"
    if " watch " in cmd + " ":
        return "daemon"
    return "other"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------------------
# the phases


def split(ids: list[str], parts: int) -> list[list[str]]:
    size = -(-len(ids) // parts)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def in_parallel(jobs) -> list:
    results = [None] * len(jobs)

    def run(n, job):
        results[n] = job()

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def bare_crawl(client, ids: list[str], settings: dict, processes: int, tmp: Path) -> dict:
    pages = client.pages()
    jobs = []
    for n, part in enumerate(split(ids, processes)):
        urls_file = tmp / f"bare{n}.json"
        urls_file.write_text(json.dumps([u for pid in part for u in pages[pid]]))
        cmd = [sys.executable, __file__, "--bare", str(urls_file), "--settings", json.dumps(settings)]
        jobs.append(lambda cmd=cmd: subprocess.run(cmd, env=ENV, capture_output=True, text=True))
    client.reset_counts()
    started, cpu = time.perf_counter(), children_cpu()
    results = in_parallel(jobs)
    wall = time.perf_counter() - started
    for r in results:
        if r.returncode:
            print(r.stderr[-2000:], file=sys.stderr)
    return {"wall": wall, "cpu": children_cpu() - cpu, "counts": client.counts()}


def govwatch_batches(client, config: Path, db: Path, ids: list[str], processes: int) -> dict:
    from crawler.config import load_config
    from crawler.crawl.batch import crawl_batch

    crawl = load_config(config).crawl
    client.reset_counts()
    started, cpu = time.perf_counter(), children_cpu()
    results = in_parallel([lambda part=part: crawl_batch(str(config), str(db), part, crawl=crawl, timeout=7200,
                                                         log_level="WARNING")
                           for part in split(ids, processes)])
    wall = time.perf_counter() - started
    outcomes = {pid: o for r in results for pid, o in r.items()}
    return {"wall": wall, "cpu": children_cpu() - cpu, "counts": client.counts(), "outcomes": outcomes}


def per_portal_processes(client, config: Path, db: Path, sample: list[str], processes: int) -> dict:
    """The daemon before batches: one crawl process per portal (`processes` at a time)."""
    from crawler.config import load_config
    from crawler.crawl.batch import crawl_batch

    crawl = load_config(config).crawl
    queue = list(sample)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                pid = queue.pop()
            crawl_batch(str(config), str(db), [pid], crawl=crawl, timeout=600, log_level="WARNING")

    client.reset_counts()
    started, cpu = time.perf_counter(), children_cpu()
    in_parallel([worker] * processes)
    return {"wall": time.perf_counter() - started, "cpu": children_cpu() - cpu, "counts": client.counts()}


def pages_of(counts: dict, ids) -> int:
    return sum(counts[pid]["requests"] - counts[pid]["robots"] for pid in ids)


def watch_phase(client, rows, config: Path, db: Path, args, tmp: Path) -> dict:
    """`govwatch watch` on every portal; `args.reports` reports published at random moments on random portals."""
    from webhook_server import WebhookServer

    eligible = [r["id"] for r in rows if r["role"] in (None, "slow")]
    rng = random.Random(args.seed)
    chosen = rng.sample(eligible, args.reports)
    with WebhookServer() as hook:
        text = config.read_text(encoding="utf-8").replace("urls = []", f"urls = [{json.dumps(hook.json_url('hook'))}]")
        config.write_text(text, encoding="utf-8")
        log_path = tmp / "watch.log"
        proc = subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "watch", "--config",
                                 str(config), "--db", str(db)], env=ENV, stderr=open(log_path, "wb"),
                                stdout=subprocess.DEVNULL)
        published = {}
        try:
            # publish while the daemon runs: spread over one schedule interval, starting after its first batch
            _wait(lambda: "done:" in log_path.read_text(encoding="utf-8", errors="replace"), 3600)
            interval = args.schedule_seconds
            moments = sorted(rng.uniform(0, interval) for _ in chosen)
            begin = time.monotonic()
            for pid, moment in zip(chosen, moments):
                time.sleep(max(0.0, begin + moment - time.monotonic()))
                report = client.publish(pid)
                published[pid] = (report, time.time())
            deadline = time.monotonic() + interval + 900
            while time.monotonic() < deadline and len(_matched(hook, client, published)) < len(published):
                time.sleep(1)
            delivered_at = time.time()
            # one more cycle of batches: nothing is delivered twice
            done_before = _batches_done(log_path)
            _wait(lambda: _batches_done(log_path) >= done_before + 2, interval + 900)
        finally:
            stop_started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=120)
            stop_took = time.monotonic() - stop_started
        matched = _matched(hook, client, published)
        per_report = collections.Counter(pid for pid, _ in matched)
        latencies = sorted(post["at"] - published[pid][1] for pid, post in matched)
        return {"published": len(published), "delivered": len(per_report),
                "exactly_once": sum(1 for n in per_report.values() if n == 1), "latencies": latencies,
                "posts": len(hook.posts_to("/hook")), "stop_seconds": stop_took, "exit_code": code,
                "log_tail": log_path.read_text(encoding="utf-8", errors="replace")[-1500:], "after": delivered_at}


def _batches_done(log_path: Path) -> int:
    return log_path.read_text(encoding="utf-8", errors="replace").count("done:")


def _matched(hook, client, published) -> list[tuple[str, dict]]:
    rows = {r["id"]: r for r in client.portals()}
    out = []
    for post in hook.posts_to("/hook"):
        text = json.dumps(post["json"], ensure_ascii=False)
        for pid, (report, _) in published.items():
            if rows[pid]["region"] in text and f"{report['year']}年度" in text:
                out.append((pid, post))
    return out


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"waited {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=None, help="portals of the farm (default: every region)")
    parser.add_argument("--sample", type=int, default=100, help="portals crawled one process each (default 100)")
    parser.add_argument("--reports", type=int, default=10, help="reports published during watch (default 10)")
    parser.add_argument("--delay", type=float, default=1.0, help="[crawl] download_delay (default 1.0, polite)")
    parser.add_argument("--schedule", default="90s", help="the daemon's schedule during the watch phase")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", action="append", default=[], choices=["bare", "sample", "watch"])
    parser.add_argument("--scrapyd", type=int, default=0, metavar="N",
                        help="also (4): first crawl and recheck of the farm's first N portals on the local backend "
                             "vs 1 and 2 local scrapyd nodes, side by side (needs the scrapyd extra; 0: skip)")
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        run_bare(args.bare, args.settings)
        return

    from crawler.config import load_config
    from crawler.crawl.batch import batch_settings
    from crawler.crawl.watch import interval_seconds
    from crawler.demo.farm import FarmClient, ensure_open_files, write_config
    from crawler.registry import import_portals
    from crawler.settings import build_settings
    from storage import connect

    args.schedule_seconds = interval_seconds(args.schedule) or 90
    processes = os.cpu_count() or 1
    ensure_open_files(8000)  # the crawl processes inherit it: thousands of hosts, keep-alive connections each
    with ProcessMonitor() as monitor, tempfile.TemporaryDirectory(prefix="govwatch-national-") as tmp_name:
        tmp = Path(tmp_name)
        cmd = [sys.executable, "-m", "crawler.demo.farm", "serve"] + (["--limit", str(args.portals)] if args.portals else [])
        farm = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True)
        try:
            ready = json.loads(farm.stdout.readline())
            client = FarmClient(ready["control"])
            rows = client.portals()
            ids = [r["id"] for r in rows]
            roles = collections.Counter(r["role"] or r["family"] for r in rows)
            print(f"farm: {len(rows)} portals in one process (pid {ready['pid']}): {dict(roles)}")
            print(f"crawl processes at once: {processes}; politeness: download_delay {args.delay} s, AutoThrottle, "
                  "robots.txt, 2 requests at a time per host")

            # the portal set: a TOML of thousands of entries (its load time), and the registry (what runs)
            big = write_config(tmp / "all.toml", rows, download_delay=args.delay)
            started = time.perf_counter()
            load_config(big)
            toml_load = time.perf_counter() - started
            config = write_config(tmp / "govwatch.toml", [], download_delay=args.delay, autothrottle=True,
                                  timeout=7200, schedule=args.schedule, processes=processes,
                                  alerts={"urls": [], "backoff_base": 1.0, "max_attempts": 20})
            db_path = tmp / "national.db"
            db = connect(db_path)
            started = time.perf_counter()
            report = import_portals(db, [(n, {"id": r["id"], "adcode": r["code"], "name": r["name"],
                                              "start_urls": r["column_url"]}) for n, r in enumerate(rows, start=2)])
            registry_import = time.perf_counter() - started
            db.conn.close()
            print(f"portal set: TOML of {len(rows)} [[portal]] loads in {toml_load:.2f} s; registry import "
                  f"{registry_import:.2f} s ({report.summary()})")

            crawl = load_config(config).crawl
            scrapy_settings = {k: v for k, v in build_settings(load_config(config)).items()
                               if k in ("USER_AGENT", "ROBOTSTXT_OBEY", "DOWNLOAD_DELAY", "DOWNLOAD_DELAY_JITTER",
                                        "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
                                        "AUTOTHROTTLE_TARGET_CONCURRENCY", "CONCURRENT_REQUESTS_PER_DOMAIN",
                                        "DOWNLOAD_TIMEOUT", "HTTPERROR_ALLOWED_CODES", "TELNETCONSOLE_ENABLED",
                                        # Scrapy's default 100 starts 100 asyncio tasks per callback: ~10 ms a page
                                        "CONCURRENT_ITEMS")}
            scrapy_settings.update(batch_settings(-(-len(ids) // processes), crawl), LOG_LEVEL="ERROR")

            results = {}
            before = set(monitor.seen)
            if "bare" not in args.skip:
                results["bare"] = bare_crawl(client, ids, scrapy_settings, processes, tmp)
                results["bare"]["procs"] = monitor.summary(before)
                before = set(monitor.seen)
            results["first"] = govwatch_batches(client, config, db_path, ids, processes)
            results["first"]["procs"] = monitor.summary(before)
            before = set(monitor.seen)
            results["recheck"] = govwatch_batches(client, config, db_path, ids, processes)
            results["recheck"]["procs"] = monitor.summary(before)
            before = set(monitor.seen)
            sample = random.Random(args.seed).sample(ids, min(args.sample, len(ids)))
            if "sample" not in args.skip:
                results["sample"] = per_portal_processes(client, config, db_path, sample, processes)
                results["sample"]["procs"] = monitor.summary(before)
                before = set(monitor.seen)
            if "watch" not in args.skip:
                results["watch"] = watch_phase(client, rows, config, db_path, args, tmp)
                results["watch"]["procs"] = monitor.summary(before)
            if args.scrapyd:
                results["scrapyd"] = scrapyd_phase(client, args.scrapyd, tmp)
            farm_stats = client.stats()
        finally:
            farm.terminate()
            farm.wait(timeout=30)
    report_results(results, rows, farm_stats, processes, args)


def scrapyd_phase(client, count: int, tmp: Path) -> dict:
    """(4) the scrapyd backend: bench_scrapyd's measurement (local batch vs 1 and 2 nodes) on this farm."""
    import bench_scrapyd

    rows = client.portals()[:count]  # read again: the watch phase published reports
    expected = sum(len(r["report_years"]) for r in rows if r["role"] not in bench_scrapyd.UNSEEN)
    results = []
    for label, nodes in bench_scrapyd.CONFIGS.values():
        workdir = tmp / f"scrapyd-{nodes}"
        workdir.mkdir()
        results.append((1, label, bench_scrapyd.measure(client, rows, workdir, nodes, 0.0)))
        print(f"(4) {label} done", file=sys.stderr)
    return {"results": results, "rows": rows, "expected": expected}


def report_results(results: dict, rows: list[dict], farm_stats: dict, processes: int, args) -> None:
    ids = [r["id"] for r in rows]
    ordinary = [r["id"] for r in rows if r["role"] is None]
    n = len(ids)

    def procs(res) -> str:
        return "; ".join(f"{k} x{v['count']}: {v['cpu_s']:.1f} CPU-s, peak RSS {v['peak_rss_mib']:.0f} MiB"
                         for k, v in sorted(res["procs"].items()))

    print(f"\n(1) first crawl of {n} portals ({processes} processes)")
    first = results["first"]
    first_pages = pages_of(first["counts"], ids)
    statuses = collections.Counter(o.status for o in first["outcomes"].values())
    print(f"  govwatch full pipeline  {first_pages:6d} pages  wall {first['wall']:7.1f} s  "
          f"{first_pages / first['wall']:6.1f} pages/s  CPU {first['cpu']:7.1f} s   statuses {dict(statuses)}, "
          f"new reports {sum(o.new_reports for o in first['outcomes'].values())}")
    if "bare" in results:
        bare = results["bare"]
        bare_pages = pages_of(bare["counts"], ids)
        print(f"  bare Scrapy download    {bare_pages:6d} pages  wall {bare['wall']:7.1f} s  "
              f"{bare_pages / bare['wall']:6.1f} pages/s  CPU {bare['cpu']:7.1f} s")
        print(f"  ratio full/bare: {(first_pages / first['wall']) / (bare_pages / bare['wall']):.2f}x   "
              "(target >= 0.5x)")
        print(f"  processes, bare: {procs(bare)}")
    print(f"  processes, govwatch: {procs(first)}")

    print(f"\n(2) recheck of {n} unchanged portals")
    recheck = results["recheck"]
    per_portal = collections.Counter(recheck["counts"][pid]["requests"] for pid in ordinary)
    roles = collections.defaultdict(list)
    for r in rows:
        if r["role"]:
            roles[r["role"]].append(recheck["counts"][r["id"]]["requests"])
    print(f"  batched ({processes} processes): wall {recheck['wall']:.1f} s, CPU {recheck['cpu']:.1f} s = "
          f"{recheck['cpu'] / n * 1000:.1f} ms per portal   (targets < 60 s, < 20 ms)")
    print(f"    requests per ordinary portal: {dict(sorted(per_portal.items()))} (target <= 2); 304 answers "
          f"{sum(recheck['counts'][p]['not_modified'] for p in ordinary)} of {len(ordinary)}; other roles: "
          + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in sorted(roles.items())))
    print(f"    processes: {procs(recheck)}")
    if "sample" in results:
        sample = results["sample"]
        k = args.sample
        print(f"  one process per portal, {k} random portals ({processes} at a time): wall {sample['wall']:.1f} s, "
              f"CPU {sample['cpu']:.1f} s = {sample['cpu'] / k * 1000:.0f} ms per portal; extrapolated to {n} "
              f"portals: wall {sample['wall'] / k * n / 60:.0f} min, CPU {sample['cpu'] / k * n / 60:.0f} min")

    if "watch" in results:
        w = results["watch"]
        lat = w["latencies"]
        shown = ", ".join(f"{x:.0f}" for x in lat)
        print(f"\n(3) govwatch watch on {n} portals, schedule {args.schedule}: {w['published']} reports published, "
              f"{w['delivered']} alerted, {w['exactly_once']} exactly once ({w['posts']} posts in all)")
        if lat:
            print(f"  latency s: {shown}  (median {statistics.median(lat):.0f}, max {max(lat):.0f})")
        print(f"  SIGTERM: exit code {w['exit_code']} after {w['stop_seconds']:.1f} s")
        print(f"  processes: {procs(w)}")
    if "scrapyd" in results:
        import types

        import bench_scrapyd

        print(f"\n(4) the scrapyd backend on the first {len(results['scrapyd']['rows'])} portals, local vs nodes "
              "(download_delay 0: what the backend costs, not politeness; the nodes share this machine's CPUs)")
        part = results["scrapyd"]
        bench_scrapyd.report(part["results"], part["rows"], part["expected"], types.SimpleNamespace(delay=0.0))
    print(f"\nfarm: {farm_stats['cpu_s']:.1f} CPU-s, peak RSS {farm_stats['max_rss_kib'] / 1024:.0f} MiB, "
          f"{farm_stats['requests']} requests answered")


if __name__ == "__main__":
    main()
