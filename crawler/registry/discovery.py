"""The interface between a bulk import and column discovery.

The registry (base layer) cannot run crawls; the caller injects a `DiscoverColumns` function: it takes
``[(portal id, home URL), ...]``, finds each portal's 法治政府建设 column, and returns one `DiscoveryOutcome`
per id -- all of them in ONE batch (one process for thousands of rows, never a process per row), each
portal bounded in time so that one slow home page never stalls the others. It may report outcomes as they
come through `on_outcome(portal_id, outcome)`, from any thread.

Implementations: `crawler.crawl.bulk_discover.discover_columns` (today: the existing discovery functions in
a bounded pool of threads); the column spider's discovery-only mode replaces it once it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

STATUSES = ("found", "none", "unreachable", "blocked")


@dataclass(frozen=True)
class DiscoveryOutcome:
    status: str  # found | none (no column on the site) | unreachable | blocked (anti-bot wall)
    columns: tuple[str, ...] = ()  # the column URL(s) to crawl, best first (found only)
    score: float | None = None  # the best column's score (crawler.crawl.discover.score_link)
    reason: str | None = None  # why not found: "HTTP 503", "412 challenge from 瑞数 ...", ...

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"discovery status {self.status!r} is not one of {', '.join(STATUSES)}")


OnOutcome = Callable[[str, DiscoveryOutcome], None]


class DiscoverColumns(Protocol):
    def __call__(self, targets: list[tuple[str, str]], *,
                 on_outcome: OnOutcome | None = None) -> dict[str, DiscoveryOutcome]: ...
