"""The column spider as a scrapyd job dispatched by a govwatch controller (`[crawl] backend = "scrapyd"`).

    schedule.json project=govwatch spider=column_job payload=... [payload_1=...]

The payload (`crawler.crawl.scrapyd.jobs`) carries the portals, the `[crawl]` settings and the portals' fetch
state; the spider crawls exactly as the column spider does, from a scratch config and database written on
the node (`crawler.crawl.scrapyd.node.prepare_job`), and stores nothing: the HandBack extension writes the
documents (with the WARC records of the job's archive, in the same scratch directory), the changed fetch state
and the runs to the job's items file, which the controller ingests.
"""

from __future__ import annotations

from crawler.crawl.scrapyd.jobs import SPIDER, decode_payload
from crawler.crawl.scrapyd.node import code_check, prepare_job
from spiders.column import ColumnSpider


class ColumnJobSpider(ColumnSpider):
    name = SPIDER
    custom_settings = {
        # nothing is stored on a node and no run is recorded there: the controller does both on ingest
        "ITEM_PIPELINES": {},
        "GOVWATCH_RUN_BOOKKEEPING": False,
        # the hand-back replaces Scrapy's feed exporter as the writer of scrapyd's items file
        "EXTENSIONS": {"scrapy.extensions.feedexport.FeedExporter": None,
                       "crawler.crawl.scrapyd.node.HandBack": 500},
    }

    def __init__(self, *args, **kwargs):
        self.job_id = kwargs.pop("_job", None) or kwargs.get("job_id")
        payload_args = {key: kwargs.pop(key) for key in list(kwargs) if key.startswith("payload")}
        for given in ("config", "db", "portals", "run_ids"):  # the job decides these (from_crawler sets defaults)
            kwargs.pop(given, None)
        payload = decode_payload(payload_args)
        self.job_id = self.job_id or payload["job"]
        self.payload_settings = payload.get("settings") or {}
        self.refusal = code_check()
        if self.refusal:  # crawl nothing; the hand-back says why
            payload = dict(payload, portals=[])
        self.setup = prepare_job(payload)
        super().__init__(*args, config=str(self.setup.config_path), db=str(self.setup.db_path),
                         portals=self.setup.portal_ids or None, **kwargs)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        # the column spider applies the scratch config's [crawl] settings; the job's batch settings go over them,
        # at the same priority (`-s` still wins)
        spider = super().from_crawler(crawler, *args, **kwargs)
        # the archive is the job's, deleted with it: named here, so the hand-back reads its records where the
        # archive middleware wrote them (a controller with its archive off sends "off")
        crawler.settings.set("GOVWATCH_ARCHIVE_DIR", str(spider.setup.workdir / "archive"), priority="spider")
        crawler.settings.setdict(spider.payload_settings, priority="spider")
        return spider

    async def start(self):
        if self.refusal:
            return
        async for request in super().start():
            yield request

    def close_db(self) -> None:
        if self.db is not None:
            self.db.conn.close()
            self.db = None

