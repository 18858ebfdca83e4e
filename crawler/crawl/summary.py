"""What a crawl reports back, per portal and as a whole: the shape every backend returns (a local crawl
process, crawler.crawl.runner; scrapyd nodes, crawler.crawl.scrapyd), with no imports of its own so
both can share it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PortalSummary:
    portal: str
    run_id: int | None = None
    status: str = "error"
    reason: str | None = None
    requests: int = 0
    pages: int = 0
    new_documents: int = 0
    changed_documents: int = 0
    new_reports: int = 0
    errors: int = 0
    family: str | None = None
    baseline_reports: int | None = None  # set when this crawl completed the portal's silent baseline


@dataclass
class CrawlSummary:
    status: str  # ok | timeout | killed | interrupted | error
    returncode: int | None
    duration: float
    portals: dict[str, PortalSummary] = field(default_factory=dict)
    log: str = ""  # the crawl's log (its last MiB)
    error: str | None = None
    log_file: str | None = None

    def rows(self) -> list[dict]:
        return [vars(p) for p in self.portals.values()]
