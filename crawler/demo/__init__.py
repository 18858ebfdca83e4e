"""`govwatch demo`: local example portals (one per CMS family) crawled into the default database.

    from crawler.demo import demo
    result = demo("govwatch.db")               # serve, crawl, stop
    result.reports                              # rows like `govwatch reports`

The portals listen on fixed loopback addresses when they are free (`demo_portals()` says which), each with
a home page whose navigation links its 法治政府建设 column, so a config written by `govwatch init --demo`
crawls them, and `govwatch discover` finds their columns, while `govwatch demo --keep-serving` runs.
The server machinery (`PortalServer`, `Portal`, `Item`) lives in `crawler.demo.server`, the CMS page styles
and the demo portal set in `crawler.demo.sites`.

Sits on top with the CLI: may import every stage and the base; only `crawler.cli` and tests import it.
"""

from __future__ import annotations

import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from crawler.demo.server import (  # noqa: F401
    Attachment, Item, LoggedRequest, Portal, PortalServer, listen_address, several_loopback_addresses,
)

DEFAULT_DEMO_DB = "govwatch.db"  # the default of every command, so `govwatch reports` works right after
DEMO_PORT = 8400
# the demo portals are on this machine: no delay between requests is needed
DEMO_CRAWL_SETTINGS = dict(obey_robots=True, download_delay=0, autothrottle=False)


class DemoError(RuntimeError):
    """The demo cannot run as asked (e.g. its database holds other portals); one line for the user."""


@dataclass(frozen=True)
class DemoPortal:
    id: str
    name: str
    home: str  # the home page URL
    column: str  # the 法治政府建设 column's first list page


@dataclass
class DemoResult:
    summary: object  # crawler.crawl.runner.CrawlSummary
    reports: list[dict] = field(default_factory=list)
    portals: list[DemoPortal] = field(default_factory=list)
    fixed_ports: bool = True  # False when a fixed port was taken and the portals listen elsewhere
    requests: int = 0  # requests the portals answered

    @property
    def urls(self) -> dict[str, str]:
        """portal id -> column URL"""
        return {p.id: p.column for p in self.portals}


def demo_portals(port: int = DEMO_PORT) -> list[DemoPortal]:
    """Where the demo portals listen when their fixed ports are free (what `govwatch init --demo` writes)."""
    from crawler.demo.sites import build_demo_portals

    multi = several_loopback_addresses()
    out = []
    for n, portal in enumerate(build_demo_portals()):
        host, number = listen_address(n, port, multi=multi)
        base = f"http://{host}:{number}"
        out.append(DemoPortal(portal.id, portal.name, base + "/", base + portal.column_path))
    return out


def check_demo_database(db_path: str | Path, portal_ids: list[str]) -> None:
    """DemoError when the database at `db_path` holds portals other than the demo's: the demo must not mix
    its example reports into a real corpus."""
    from storage import connect, sqlite3

    if not Path(db_path).is_file():
        return
    db = connect(db_path, read_only=True)
    try:
        others = sorted({row[0] for row in db.execute("SELECT id FROM portals")} - set(portal_ids))
    except sqlite3.OperationalError:  # no portals table: an empty file, or the caller's check refuses it
        others = []
    finally:
        db.close()
    if others:
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise DemoError(f"{db_path} holds other portals ({shown}): run the demo on a database of its own, "
                        "e.g. --db govwatch-demo.db")


def demo(db_path: str | Path = DEFAULT_DEMO_DB, *, keep_serving: bool = False, progress=None,
         on_crawled=None, timeout: float = 600, seed_dir: str | Path | None = None,
         port: int = DEMO_PORT) -> DemoResult:
    """Start the demo portals on loopback (on `port` when free), crawl them into `db_path`, stop them.

    `progress(event)` gets the crawl's progress events. With `keep_serving` the portals stay up after the
    crawl until KeyboardInterrupt; `on_crawled(result)` is called first (so a caller can print the reports
    and the URLs while the portals still serve)."""
    from crawler.corpus.reports import reports
    from crawler.crawl.runner import crawl
    from crawler.demo.sites import build_demo_portals
    from storage import connect

    portals = build_demo_portals(seed_dir)
    check_demo_database(db_path, [p.id for p in portals])
    with PortalServer(portals, port=port) as server, tempfile.TemporaryDirectory(prefix="govwatch-demo-") as tmp:
        config = server.write_config(Path(tmp) / "govwatch.toml", **DEMO_CRAWL_SETTINGS)
        summary = crawl(config, db_path, progress=progress, timeout=timeout)
        db = connect(str(db_path), read_only=True)
        try:
            rows = reports(db)
        finally:
            db.close()
        listed = [DemoPortal(pid, server.portal(pid).name, server.base_url(pid) + "/", server.column_url(pid))
                  for pid in server.portal_ids()]
        result = DemoResult(summary=summary, reports=rows, portals=listed, fixed_ports=server.fixed_ports,
                            requests=len(server.requests))
        if on_crawled is not None:
            on_crawled(result)
        if keep_serving:
            serve_until_stopped()
    return result


def serve_until_stopped(ready=None) -> None:
    """Block until Ctrl-C or SIGTERM (a service manager's stop, or `kill`). Both are caught and unblocked
    here: a process started with SIGINT ignored or blocked (as shells start background jobs, and as a parent
    passes on a blocked signal mask) would otherwise never stop on it. `ready()` is called once they are."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = {}
    if threading.current_thread() is threading.main_thread():
        wanted = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.signal(signum, stop) for signum in wanted}
        signal.pthread_sigmask(signal.SIG_UNBLOCK, wanted)
    try:
        if ready is not None:
            ready()
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
