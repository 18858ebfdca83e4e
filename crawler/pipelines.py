"""Item pipeline: store each crawled document through `crawler.ingest.store_document`, then remember its
list-entry fingerprint in `fetch_state` (so a recrawl does not refetch it while the list entry is unchanged)."""

from __future__ import annotations

import logging

from crawler.alerts import AlertPolicy
from crawler.ingest import store_document
from storage import transaction
from storage.segment import segmenter

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.policy = None

    def open_spider(self):
        # alerts are written in the document's own transaction, under the config's alert policy
        self.policy = AlertPolicy.from_settings(self.crawler.spider.config.alerts)
        # the index trigger's segmenter loads its dictionary now, not inside the first document's transaction
        segmenter()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        spider = self.crawler.spider
        doc = {k: v for k, v in item.items() if not k.startswith("_")}
        portal_id = doc["portal_id"]
        stats = spider.stats_by_portal[portal_id]
        try:
            # the document and the fetch state that marks it known commit together: a crash between the
            # two can neither lose the document nor leave it unknown (and so refetched and re-alerted)
            with transaction(spider.db):
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
