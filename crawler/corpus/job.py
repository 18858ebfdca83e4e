"""What the crawl hands the store and what it hands back: a `Job` (one extracted document and the fetch
state that marks it known) and its `Outcome`. Plain data, so the crawl process can build jobs without
importing the store path (dedupe, index, alerts) that `crawler.corpus.ingest` runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    doc: dict  # store_document's input
    run_id: int | None
    state_url: str  # the fetch_state row that marks the document known
    state: dict  # FetchState.record keyword arguments besides url


@dataclass(frozen=True)
class Outcome:
    portal_id: str
    url: str
    created: bool = False
    changed: bool = False
    new_report: bool = False
    error: str | None = None
