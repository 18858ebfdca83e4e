"""Item pipeline: store each crawled document (`crawler.corpus.ingest.store_one`: the document through
`crawler.corpus.ingest.store_document` and its list-entry fingerprint in `fetch_state`, so a recrawl does not
refetch it while the list entry is unchanged).

With two or more CPUs the documents are stored by a writer process (`crawler.crawl.writer`) while the crawl goes
on; `GOVWATCH_WRITER_PROCESS = False` (or one CPU) stores them in the crawl process. If the writer dies, nothing
more can be stored: every portal's run fails as `error` with the writer's fate as the reason and the crawl
stops within a second (the documents not stored keep no fetch state, so the next crawl fetches them again).
"""

from __future__ import annotations

import collections
import logging
import os

from crawler.corpus.job import Job, Outcome
from crawler.crawl.runs import close_spider
from crawler.crawl.writer import WriterDied, WriterProcess

logger = logging.getLogger(__name__)
WRITER_DIED = "writer_died"  # the spider's close reason


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.policy = None
        self.writer: WriterProcess | None = None
        self.store_one = None  # crawler.corpus.ingest.store_one when documents are stored in this process
        self.outstanding: collections.Counter[str] = collections.Counter()  # submitted, no outcome yet
        self.closed = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        spider = self.crawler.spider
        use_process = self.crawler.settings.getbool("GOVWATCH_WRITER_PROCESS", (os.cpu_count() or 1) > 1)
        if use_process:
            self.writer = WriterProcess(str(spider.db_path or "govwatch.db"), alerts=spider.config.alerts,
                                        threshold=spider.config.dedupe.threshold, on_death=self._writer_died_soon)
        else:
            # the store path is imported only here: with a writer process this process never stores
            from crawler.corpus.ingest import store_one
            from crawler.monitor.alerts import AlertPolicy
            from storage.segment import segmenter

            self.store_one = store_one
            # alerts are written in the document's own transaction, under the config's alert policy
            self.policy = AlertPolicy.from_settings(spider.config.alerts)
            # the index trigger's segmenter loads now, not inside the first document's transaction
            segmenter()

    def process_item(self, item):
        spider = self.crawler.spider
        doc = {k: v for k, v in item.items() if not k.startswith("_")}
        job = Job(doc, spider.run_ids.get(doc["portal_id"]), item.get("_list_url") or doc["url"], {
            "portal_id": doc["portal_id"], "kind": "detail", "status": 200, "etag": item.get("_etag"),
            "last_modified": item.get("_last_modified"), "body_hash": item.get("_content_hash"),
            "list_entry": item.get("_list_entry")})
        if self.writer is not None:
            try:
                self.writer.submit(job)
            except WriterDied:  # the crawl is stopping already (see _writer_died)
                self.outstanding[doc["portal_id"]] += 1
                return item
            self.outstanding[doc["portal_id"]] += 1
            self._count(self.writer.poll())
        else:
            self._count([self.store_one(spider.db, spider.fetch_state, job, policy=self.policy,
                                        threshold=spider.config.dedupe.threshold)])
        return item

    def close_spider(self):
        self.closed = True
        if self.writer is None:
            return
        self._count(self.writer.close())
        spider = self.crawler.spider
        for portal_id, count in self.outstanding.items():
            if count:
                message = f"{self.writer.death or 'writer process stopped'} with {count} documents not stored"
                spider.note_error(portal_id, message)
                stats = spider.stats_by_portal[portal_id]
                if stats.status == "running":  # a run that lost documents is not a complete baseline
                    stats.status, stats.reason = "error", message

    def _writer_died_soon(self, message: str) -> None:
        """`WriterProcess.on_death`, called from its receiver thread: act in the reactor's thread."""
        from twisted.internet import reactor

        reactor.callFromThread(self._writer_died, message)

    def _writer_died(self, message: str) -> None:
        if self.closed:  # died while the crawl was closing: close_spider counts what it lost
            return
        spider = self.crawler.spider
        self._count(self.writer.poll())
        logger.error("%s: stopping the crawl, the documents not stored are fetched again next time", message)
        for portal_id, stats in spider.stats_by_portal.items():
            if stats.status == "running":
                lost = self.outstanding[portal_id]
                stats.status = "error"
                stats.reason = f"{message}: crawl stopped" + (f", {lost} documents not stored" if lost else "")
        close_spider(self.crawler, WRITER_DIED)

    def _count(self, outcomes: list[Outcome]) -> None:
        spider = self.crawler.spider
        for outcome in outcomes:
            if self.writer is not None:
                self.outstanding[outcome.portal_id] -= 1
            stats = spider.stats_by_portal[outcome.portal_id]
            if outcome.error:
                spider.note_error(outcome.portal_id, f"store failed for {outcome.url}: {outcome.error}")
                continue
            if outcome.created:
                stats.documents += 1
            elif outcome.changed:
                stats.changed += 1
            if outcome.new_report:  # counted in a silent baseline too: only the alert is withheld
                stats.reports += 1
            spider.emit(outcome.portal_id)
