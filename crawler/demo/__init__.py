"""`govwatch demo`: local example portals (one per CMS family) crawled into a demo database.

    from crawler.demo import demo
    result = demo("govwatch-demo.db")          # serve, crawl, stop
    result.reports                              # rows like `govwatch reports`

The server machinery (`PortalServer`, `Portal`, `Item`) lives in `crawler.demo.server`, the CMS page styles
and the demo portal set in `crawler.demo.sites`.

Sits on top with the CLI: may import every stage and the base; only `crawler.cli` and tests import it.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from crawler.demo.server import Attachment, Item, LoggedRequest, Portal, PortalServer  # noqa: F401

DEFAULT_DEMO_DB = "govwatch-demo.db"
DEMO_CRAWL_SETTINGS = dict(obey_robots=True, download_delay=0, autothrottle=False)


@dataclass
class DemoResult:
    summary: object  # crawler.crawl.runner.CrawlSummary
    reports: list[dict] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)  # portal id -> column URL
    requests: int = 0  # requests the portals answered


def demo(db_path: str | Path = DEFAULT_DEMO_DB, *, keep_serving: bool = False, progress=None,
         on_crawled=None, timeout: float = 600, seed_dir: str | Path | None = None) -> DemoResult:
    """Start the demo portals on loopback, crawl them into `db_path`, stop the portals.

    `progress(event)` gets the crawl's progress events. With `keep_serving` the portals stay up after the
    crawl until KeyboardInterrupt; `on_crawled(result)` is called first (so a caller can print the reports
    and the URLs while the portals still serve)."""
    from crawler.corpus.reports import reports
    from crawler.crawl.runner import crawl
    from crawler.demo.sites import build_demo_portals
    from storage import connect

    portals = build_demo_portals(seed_dir)
    with PortalServer(portals) as server, tempfile.TemporaryDirectory(prefix="govwatch-demo-") as tmp:
        config = server.write_config(Path(tmp) / "govwatch.toml", **DEMO_CRAWL_SETTINGS)
        summary = crawl(config, db_path, progress=progress, timeout=timeout)
        db = connect(str(db_path))
        try:
            rows = reports(db)
        finally:
            db.close()
        result = DemoResult(summary=summary, reports=rows,
                            urls={pid: server.column_url(pid) for pid in server.portal_ids()},
                            requests=len(server.requests))
        if on_crawled is not None:
            on_crawled(result)
        if keep_serving:
            try:
                while True:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
    return result
