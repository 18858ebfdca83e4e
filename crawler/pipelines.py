"""Item pipeline: store each crawled document through `crawler.ingest.store_document`, then remember its
list-entry fingerprint in `fetch_state` (so a recrawl does not refetch it while the list entry is unchanged).

jieba segmentation for the full-text index is the costliest step of a store and pure Python: it runs in
worker processes (GOVWATCH_SEGMENT_WORKERS) while the reactor goes on downloading and parsing, and the
index triggers take the result (storage.segment.precomputed). The index content is the same either way."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from crawler.alerts import AlertPolicy
from crawler.ingest import store_document
from storage import transaction
from storage.segment import precomputed, segment_many

logger = logging.getLogger(__name__)


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: a crawl killed (SIGKILL, timeout) must not leave its workers behind, and a pool
    worker never notices on its own (it holds its queue's write end, so it never reads EOF)."""

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.policy = None
        self.workers = crawler.settings.getint("GOVWATCH_SEGMENT_WORKERS", 0)
        self.pool: ProcessPoolExecutor | None = None

    def open_spider(self):
        # alerts are written in the document's own transaction, under the config's alert policy
        self.policy = AlertPolicy.from_settings(self.crawler.spider.config.alerts)
        if self.workers > 0:
            # spawn, not fork: the crawl process has threads (Twisted's pool), a forked child could inherit
            # a held lock
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_exit_with_parent, initargs=(os.getpid(),))

    def close_spider(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def _segment_ahead(self, texts: list[str]) -> dict[str, str]:
        if self.pool is None or not texts:
            return {}
        try:
            segmented = await asyncio.wrap_future(self.pool.submit(segment_many, texts))
        except Exception as exc:  # noqa: BLE001 - a broken pool only costs speed: segment in process
            logger.warning("segmentation workers failed (%s); segmenting in the crawl process", exc)
            self.pool = None
            return {}
        return dict(zip(texts, segmented))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        spider = self.crawler.spider
        doc = {k: v for k, v in item.items() if not k.startswith("_")}
        portal_id = doc["portal_id"]
        stats = spider.stats_by_portal[portal_id]
        ready = await self._segment_ahead([t for t in (doc.get("title"), doc.get("text")) if t])
        try:
            # the document and the fetch state that marks it known commit together: a crash between the
            # two can neither lose the document nor leave it unknown (and so refetched and re-alerted)
            with precomputed(ready), transaction(spider.db):
                result = store_document(spider.db, doc, run_id=spider.run_ids.get(portal_id),
                                        policy=self.policy, dedupe_threshold=spider.config.dedupe.threshold)
                spider.fetch_state.record(item.get("_list_url") or doc["url"], portal_id=portal_id,
                                          kind="detail", status=200, etag=item.get("_etag"),
                                          last_modified=item.get("_last_modified"),
                                          body_hash=item.get("_content_hash"), list_entry=item.get("_list_entry"))
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the crawl
            logger.exception("storing %s failed", doc.get("url"))
            spider.note_error(portal_id, f"store failed for {doc.get('url')}: {exc}")
            return item
        if result.created:
            stats.documents += 1
        elif result.changed:
            stats.changed += 1
        if result.new_report:  # counted in a silent baseline too: only the alert is withheld
            stats.reports += 1
        spider.emit(portal_id)
        return item
