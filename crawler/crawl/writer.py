"""The crawl's document writer: a child process that stores the documents the spider extracts.

Storing a document (the row, its full-text index entry, dedupe, alerts and its fetch state, in one
transaction: `crawler.corpus.ingest.store_one`) is about a third of a crawl's CPU time per page. In the crawl
process it runs between downloads on the one core that Scrapy's reactor uses; in a writer process it runs
on another core while the crawl goes on. The crawl process imports only this module's light half: the
store path is imported by the writer itself. Documents are written in the order they arrive, each in its
own transaction, as before; the results (new document, new report, or the error) come back to the
pipeline for the crawl's counts. The database stays the one place of truth: a writer killed with its crawl
loses only documents not yet committed, and their fetch state with them, so the next crawl fetches them
again.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from typing import TYPE_CHECKING

from crawler.corpus.job import Job, Outcome

if TYPE_CHECKING:
    from crawler.config import AlertSettings


def _serve(db_path: str, alerts: AlertSettings | None, threshold: float | None, jobs, outcomes) -> None:
    # the store path (dedupe, index, alerts) is imported here: the crawl process that imports this module
    # for WriterProcess never stores, and its start-up is on the crawl's critical path
    from crawler.corpus.ingest import store_one
    from crawler.crawl.fetchstate import FetchState
    from crawler.monitor.alerts import AlertPolicy
    from storage import connect
    from storage.segment import segmenter

    db = connect(db_path)
    fetch_state, policy = FetchState(db), AlertPolicy.from_settings(alerts)
    segmenter()
    while True:
        try:
            job = jobs.get()
        except (EOFError, OSError):  # the crawl process died: what was committed stays, the rest is refetched
            return
        if job is None:
            break
        outcomes.put(store_one(db, fetch_state, job, policy=policy, threshold=threshold))
    db.conn.close()
    outcomes.put(None)


class WriterProcess:
    """Feeds jobs to a writer child process and collects their outcomes (`poll` never blocks)."""

    def __init__(self, db_path: str, *, alerts: AlertSettings | None = None, threshold: float | None = None):
        context = multiprocessing.get_context("spawn")  # never fork a process running Twisted and threads
        self._jobs, self._outcomes = context.Queue(), context.Queue()
        self.process = context.Process(target=_serve, args=(db_path, alerts, threshold, self._jobs, self._outcomes),
                                       name="govwatch-writer", daemon=True)
        self.process.start()
        self.pending = 0

    def submit(self, job: Job) -> None:
        self._jobs.put(job)
        self.pending += 1

    def poll(self) -> list[Outcome]:
        """Outcomes of the jobs finished so far."""
        out = []
        while True:
            try:
                item = self._outcomes.get_nowait()
            except queue.Empty:
                return out
            if isinstance(item, Outcome):
                self.pending -= 1
                out.append(item)

    def close(self, *, timeout: float = 600.0) -> list[Outcome]:
        """Wait for every submitted job, stop the child, return the outcomes not polled yet (`pending` then
        counts the jobs the child could not finish: it died, or `timeout` passed)."""
        self._jobs.put(None)
        out: list[Outcome] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self._outcomes.get(timeout=0.5)
            except queue.Empty:
                if not self.process.is_alive():
                    break
                continue
            if item is None:
                break
            if isinstance(item, Outcome):
                self.pending -= 1
                out.append(item)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
        return out
