"""How fast a crawl notices the death of a process it depends on (loopback, Linux /proc).

    python bench/bench_lifetimes.py [--rounds 3]

One slow portal (40 detail pages, 0.4 s each) and three faults, each timed from the SIGKILL:
  writer   the writer process dies mid-crawl: seconds until the crawl has ended (its run closed as error)
  crawl    the crawl process dies: seconds until its writer and multiprocessing's resource tracker are gone
  runner   the runner (`govwatch crawl`) dies: seconds until the crawl process and its writer are gone
Printed beside the time the crawl would otherwise have taken to finish by itself (the `[crawl] timeout`
bounded it before: 1800 s by default). A death is noticed at once; the crawl then stops the way Scrapy closes
a spider, after the requests already handed to the downloader (at most CONCURRENT_REQUESTS) are answered.
"""

from __future__ import annotations

import argparse
import os
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
from helpers import children  # noqa: E402 - after the path
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))



def wait_for(predicate, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit("timed out: the fault was not survived as expected")


def stored(db_path) -> int:
    from storage import connect

    try:
        return connect(db_path).execute("SELECT count(*) FROM documents").fetchone()[0]
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def writer_of(pid: int):
    return next((c for c, cmd in children(pid).items() if "multiprocessing" in cmd and "resource_tracker" not in cmd),
                None)


def writer_fault(config, tmp) -> float:
    from crawler.crawl.runner import crawl

    db, events, done = tmp / f"w{time.monotonic_ns()}.db", [], threading.Event()
    threading.Thread(target=lambda: (crawl(config, db, timeout=300, progress=events.append), done.set()),
                     daemon=True).start()
    pid = wait_for(lambda: next((e["pid"] for e in events if e.get("event") == "start"), None))
    wait_for(lambda: stored(db) >= 2)
    os.kill(wait_for(lambda: writer_of(pid)), signal.SIGKILL)
    killed = time.monotonic()
    done.wait(300)
    return time.monotonic() - killed


def alive(pid: int) -> bool:
    from crawler.crawl.lifeline import process_alive

    return process_alive(pid)


def crawl_fault(config, tmp) -> float:
    db = tmp / f"c{time.monotonic_ns()}.db"
    proc = subprocess.Popen([sys.executable, "-m", "crawler.crawl.process", "--config", str(config), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    wait_for(lambda: stored(db) >= 1)
    helpers = wait_for(lambda: len(children(proc.pid)) >= 2 and children(proc.pid))
    proc.kill()
    killed = time.monotonic()
    proc.wait()
    wait_for(lambda: not any(alive(pid) for pid in helpers))
    return time.monotonic() - killed


def runner_fault(config, tmp) -> float:
    db = tmp / f"r{time.monotonic_ns()}.db"
    cli = subprocess.Popen([sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--config",
                            str(config), "--db", str(db), "-q"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=ENV)
    pid = wait_for(lambda: next((c for c, cmd in children(cli.pid).items() if "crawler.crawl.process" in cmd), None))
    wait_for(lambda: stored(db) >= 1)
    writer = wait_for(lambda: writer_of(pid))
    cli.kill()
    killed = time.monotonic()
    cli.wait()
    wait_for(lambda: not alive(pid) and not alive(writer))
    return time.monotonic() - killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from crawler.crawl.runner import crawl
    from crawler.demo.server import PortalServer
    from crawler.demo.sites import SITES, CountyPortal, filler_items

    class Slow(CountyPortal):
        def handle(self, request):
            if request.path == "/news/show.asp":
                time.sleep(0.4)
            return super().handle(request)

    portal = Slow("slow", items=filler_items(SITES["wangcheng"], 40, "2023-01-01 09:00"), site=SITES["wangcheng"])
    with PortalServer([portal], offsite=False) as server, tempfile.TemporaryDirectory(prefix="govwatch-bench-") as tmp:
        tmp = Path(tmp)
        config = server.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=300)
        started = time.monotonic()
        crawl(config, tmp / "whole.db", timeout=300)
        whole = time.monotonic() - started
        print(f"an uninterrupted crawl of the portal: {whole:.1f} s ({len(portal.items)} detail pages, 0.4 s each)")
        for name, fault in (("writer", writer_fault), ("crawl", crawl_fault), ("runner", runner_fault)):
            times = [fault(config, tmp) for _ in range(args.rounds)]
            print(f"  {name:7} killed -> handled in median {statistics.median(times):5.2f} s "
                  f"(rounds: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
