"""The crawl's WARC archive: a downloader middleware that writes every detail page and attachment it lets
through to WARC files (`crawler.corpus.archive.WarcWriter`) the moment it is downloaded, and `archived()`,
which hands the record's pointer to the document the spider builds from the response.

Written in the crawl process, not by the database writer: the record is on disk before the item exists,
so a document's pointer never points at a record that is not written; the writer knows nothing of the
database, so a crawl on a scrapyd node writes its files into the job's scratch folder and its hand-back
carries the records its pointers (file name, offset, length) name, which the controller appends to its own
archive (crawler.crawl.scrapyd.ingest). Position 545: after HttpCompression (590,
bodies archived decoded), block detection (585: a challenge page is never archived) and retry (550: only
the final answer to a request is).

Settings: `GOVWATCH_ARCHIVE_DIR` (a folder, or "off"); unset, the spider's config decides (`[archive] dir`,
beside the database, on by default) and `[archive] max_file_bytes` rotates the files.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.corpus.archive import ArchiveError, Exchange, WarcWriter

logger = logging.getLogger(__name__)

META_KEY = "archive_record"
ARCHIVED_KINDS = ("detail", "attachment")


def archived(response, role: str) -> list[dict]:
    """The pointer to the response's WARC record, as the document's list of records ([] when the archive is
    off or the write failed); `role` is page | file | attachment."""
    pointer = response.meta.get(META_KEY)
    return [dict(pointer, role=role)] if pointer else []


def _pairs(headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items()
            for value in values]


def exchange_of(request, response) -> Exchange:
    ip_address = getattr(response, "ip_address", None)
    return Exchange(
        url=response.url, status=response.status, response_headers=_pairs(response.headers), body=response.body,
        method=request.method, request_headers=_pairs(request.headers), request_body=request.body or b"",
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        ip_address=str(ip_address) if ip_address else None, date=datetime.now(timezone.utc))


class WarcArchiveMiddleware:
    """Archives the detail pages and attachments of a crawl (requests whose meta `kind` is one of
    ARCHIVED_KINDS; a 304 has no body to keep)."""

    def __init__(self, crawler, writer: WarcWriter):
        self.crawler = crawler
        self.writer = writer
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        spider = crawler.spider
        config = getattr(spider, "config", None)
        directory = settings.get("GOVWATCH_ARCHIVE_DIR")
        if not directory and config is not None:
            directory = config.archive.directory(getattr(spider, "db_path", None) or "govwatch.db")
        if not directory or str(directory) == "off":
            raise NotConfigured("no archive directory ([archive] dir = \"off\")")
        max_bytes = settings.getint("GOVWATCH_ARCHIVE_MAX_FILE_BYTES", 0) or \
            (config.archive.max_file_bytes if config is not None else None)
        info = {"robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "http-header-user-agent": settings.get("USER_AGENT")}
        try:
            writer = WarcWriter(directory, info=info, **({"max_file_bytes": max_bytes} if max_bytes else {}))
        except ArchiveError as exc:
            raise NotConfigured(str(exc)) from None
        for name, cut in writer.recovered:
            logger.warning("archive: finished %s left open by a killed crawl (%d bytes of a record cut)", name, cut)
        middleware = cls(crawler, writer)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request, response):
        if request.meta.get("kind") not in ARCHIVED_KINDS or response.status == 304:
            return response
        try:
            request.meta[META_KEY] = self.writer.write_exchange(exchange_of(request, response))
        except ArchiveError as exc:  # the page is still stored, without its record
            if not self.failed:
                logger.error("archive: %s (pages are stored without their WARC records)", exc)
            self.failed = True
            self.crawler.stats.inc_value("govwatch/archive/errors")
        else:
            self.crawler.stats.inc_value("govwatch/archive/records")
        return response

    def spider_closed(self, spider, reason):
        self.writer.close()
