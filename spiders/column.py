"""The one generic column spider: crawls each portal's 法治政府建设 column list (every page, every item) with the
adapter of its CMS family, fetches detail pages and their attachments, and yields documents for the store
pipeline. Incremental: conditional list requests, known list entries are not refetched, paging stops at the
first list page that holds only known items (after the portal's baseline crawl).

    scrapy crawl column -a config=govwatch.toml -a portals=trs,hanweb -a db=govwatch.db

Self-sufficient under any runner: it applies the config's `[crawl]` settings itself, and the run bookkeeping
(`crawler.crawl.runs.RunBookkeeping`, an extension in the project settings) gives it its run ids.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.config import Portal, load_config
from crawler.crawl.attachments import AttachmentText, attachment_name, extract_attachment, is_attachment_url, merge_text
from crawler.crawl.fetchstate import ROBOTS_DISALLOWED, FetchState, content_hash
from crawler.middlewares import BlockedPage
from crawler.settings import config_settings
from crawler.urls import canonicalize
from spiders.adapters import ListEntry, PageRequest, parse_list
from spiders.adapters.common import FILE_HREF

logger = logging.getLogger(__name__)
# The next list page goes ahead of the detail pages already queued: paging is sequential (a page of known
# items stops it), so each list page waiting behind a page's worth of details delayed the whole crawl
LIST_PRIORITY = 10


@dataclass
class PortalStats:
    """What one portal's crawl did; streamed as progress and written to crawl_runs/portals at the end."""

    portal: str
    status: str = "running"
    reason: str | None = None
    requests: int = 0
    pages: int = 0  # list pages fetched (304s included)
    documents: int = 0  # new documents stored
    changed: int = 0  # stored documents whose content changed
    reports: int = 0  # new annual reports
    errors: int = 0
    offsite_skipped: int = 0
    family: str | None = None
    columns: list[str] = field(default_factory=list)
    error_messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["error_messages"] = data["error_messages"][-5:]
        return data


class ColumnSpider(scrapy.Spider):
    name = "column"

    def __init__(self, config: str | None = None, portals: str | list | None = None, db: str | None = None,
                 run_ids: dict | str | None = None, progress=None, **kwargs):
        super().__init__(**kwargs)
        if config is None:
            raise ValueError("the column spider needs -a config=PATH (and optionally -a portals=ID,ID)")
        self.config = load_config(config, check_channels=False)  # checked by the process that started the crawl
        if isinstance(portals, str):
            portals = [p for p in portals.split(",") if p.strip()]
        selected = _registry_portals(db, self.config, portals)
        self.portals: dict[str, Portal] = {p.id: p for p in selected}
        self.allowed_domains = sorted({h for p in selected for h in p.hosts})
        self.db_path = db
        if isinstance(run_ids, str):
            run_ids = dict(pair.split("=", 1) for pair in run_ids.split(",") if "=" in pair)
        self.run_ids = {k: int(v) for k, v in (run_ids or {}).items()}
        self.progress = progress
        self.stats_by_portal = {pid: PortalStats(pid) for pid in self.portals}
        self.db = None
        self.fetch_state: FetchState | None = None
        self.known: dict[str, dict[str, str]] = {}
        self.incremental: dict[str, bool] = {}
        self.list_pages_seen: dict[str, int] = {}
        self.scheduled_details: set[str] = set()
        self._last_progress = 0.0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        kwargs.setdefault("db", crawler.settings.get("GOVWATCH_DB"))
        kwargs.setdefault("config", crawler.settings.get("GOVWATCH_CONFIG"))
        spider = super().from_crawler(crawler, *args, **kwargs)
        # the config's [crawl] table under every runner (Scrapy reads settings after the spider is made);
        # `scrapy crawl -s NAME=VALUE` sets the "cmdline" priority, above "spider", and still wins
        crawler.settings.setdict(config_settings(spider.config), priority="spider")
        crawler.signals.connect(spider._on_request, signal=signals.request_reached_downloader)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        spider._open_db()
        return spider

    # ----- state
    def _open_db(self) -> None:
        from storage import connect

        self.db = connect(self.db_path or "govwatch.db")
        self.fetch_state = FetchState(self.db)
        for pid in self.portals:
            self.known[pid] = self.fetch_state.known_entries(pid)
            # Incremental shortcuts (conditional list requests, stopping at a page of known items) are only
            # safe when the portal's previous crawl ran to the end: after a killed or failed run, page again.
            row = next(self.db.query("SELECT baseline_done FROM portals WHERE id = ?", [pid]), None)
            last = next(self.db.query(
                "SELECT status FROM crawl_runs WHERE portal_id = ? AND id != ? ORDER BY id DESC LIMIT 1",
                [pid, self.run_ids.get(pid, -1)]), None)
            self.incremental[pid] = bool(row and row["baseline_done"] and last and last["status"] == "ok")

    def _setting(self, name: str, default=None):
        return self.crawler.settings.get(name, default) if hasattr(self, "crawler") else default

    def emit(self, portal_id: str, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < 0.2:
            return
        self._last_progress = now
        stats = self.stats_by_portal[portal_id]
        self.progress({"event": "progress", **stats.as_dict()})

    def is_blocked(self, portal_id: str) -> bool:
        return self.stats_by_portal[portal_id].status == "blocked"

    def mark_blocked(self, portal_id: str, reason: str, url: str) -> None:
        stats = self.stats_by_portal.get(portal_id)
        if stats is None or stats.status == "blocked":
            return
        stats.status = "blocked"
        stats.reason = f"{reason} ({url})"
        logger.warning("portal %s blocked: %s", portal_id, stats.reason)
        self.emit(portal_id, force=True)

    def note_offsite(self, portal_id: str | None, url: str) -> None:
        if portal_id in self.stats_by_portal:
            self.stats_by_portal[portal_id].offsite_skipped += 1
        logger.debug("off-site request dropped: %s", url)

    def note_error(self, portal_id: str, message: str) -> None:
        stats = self.stats_by_portal[portal_id]
        stats.errors += 1
        stats.error_messages.append(message[:300])
        logger.info("portal %s: %s", portal_id, message)

    def _on_request(self, request, **kwargs) -> None:
        portal_id = request.meta.get("portal_id")
        if portal_id in self.stats_by_portal:
            self.stats_by_portal[portal_id].requests += 1

    def _on_closed(self, spider, reason) -> None:
        for pid, stats in self.stats_by_portal.items():
            if stats.status == "running":
                if stats.pages == 0 and stats.errors:
                    stats.status = "error"
                    stats.reason = stats.reason or (stats.error_messages[-1] if stats.error_messages
                                                    else "no list page could be fetched")
                else:
                    stats.status = "ok"
            self.emit(pid, force=True)

    # ----- start
    async def start(self):
        for pid, portal in self.portals.items():
            columns = list(portal.start_urls)
            if not columns and portal.home:
                columns = await self._discover(portal)
                if not columns:
                    stats = self.stats_by_portal[pid]
                    if stats.status != "blocked":
                        stats.status = "error"
                        stats.reason = f"no 法治政府建设 column found from {portal.home}"
                    continue
            self.stats_by_portal[pid].columns = columns
            for url in columns:
                yield self.list_request(pid, self._first_page(url), column=url, number=1)

    def _first_page(self, url: str) -> PageRequest:
        """The column's first list request: a JavaScript shell page (gkmlpt) seen before is skipped and its
        list API asked directly, so an unchanged column still costs one conditional request."""
        row = self.fetch_state.get(url)
        target = (row or {}).get("list_entry") or ""
        if target.startswith("->"):
            family, _, api = target[2:].partition(" ")
            return PageRequest(api, family=family or None)
        return PageRequest(url)

    async def _discover(self, portal: Portal) -> list[str]:
        from crawler.crawl.discover import best_columns, discover

        settings = self.crawler.settings
        try:
            candidates = await asyncio.to_thread(
                discover, portal.home, user_agent=settings.get("USER_AGENT"),
                obey_robots=settings.getbool("ROBOTSTXT_OBEY"), delay=settings.getfloat("DOWNLOAD_DELAY"),
                hosts=portal.hosts)
        except Exception as exc:  # noqa: BLE001
            self.note_error(portal.id, f"discovery failed: {exc}")
            return []
        return best_columns(candidates)

    # ----- list pages
    def list_request(self, portal_id: str, page: PageRequest, *, column: str, number: int) -> scrapy.Request:
        meta = {"portal_id": portal_id, "kind": "list", "page_request": page, "column": column,
                "number": number}
        headers = {}
        if page.method == "GET":
            if self.incremental[portal_id]:
                headers.update(self.fetch_state.conditional_headers(page.key))
            return scrapy.Request(page.url, headers=headers, meta=meta, callback=self.parse_list,
                                  errback=self.on_error, dont_filter=number == 1, priority=LIST_PRIORITY)
        return scrapy.FormRequest(page.url, method=page.method, formdata=list(page.formdata or ()),
                                  meta=meta, callback=self.parse_list, errback=self.on_error,
                                  priority=LIST_PRIORITY)

    def parse_list(self, response):
        meta = response.meta
        portal_id, page_req = meta["portal_id"], meta["page_request"]
        portal = self.portals[portal_id]
        stats = self.stats_by_portal[portal_id]
        stats.pages += 1
        key = page_req.key
        if response.status == 304:
            self.fetch_state.record(key, portal_id=portal_id, kind="list", status=304)
            self.emit(portal_id)
            return  # unchanged since the last crawl: nothing new on this page or behind it
        body_hash = content_hash(response.body)
        self.fetch_state.record(
            key, portal_id=portal_id, kind="list", status=response.status,
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"), body_hash=body_hash)
        context = dict(page_req.context)
        if page_req.family:
            context["family"] = page_req.family
        page = parse_list(response.body, response.url, cms=portal.cms, context=context,
                          content_type=_header(response, "Content-Type"))
        stats.family = stats.family or page.family
        if meta["number"] == 1 and not page.items and len(page.next_requests) == 1 \
                and page.next_requests[0].method == "GET":
            # a shell page whose list comes from an API: remember where it leads (see _first_page)
            target = page.next_requests[0]
            self.fetch_state.record(key, portal_id=portal_id, kind="list", status=response.status,
                                    list_entry=f"->{target.family or ''} {target.url}", unchanged=True)
        known = self.known[portal_id]
        new_entries = 0
        for entry in page.items:
            host = urlsplit(entry.url).hostname or ""
            if host not in portal.hosts:
                self.note_offsite(portal_id, entry.url)
                continue
            url = canonicalize(entry.url)
            if known.get(url) == entry.fingerprint:
                continue
            new_entries += 1
            if url in self.scheduled_details:
                continue
            self.scheduled_details.add(url)
            yield self.detail_request(portal_id, entry)
        self.emit(portal_id)
        # paging: sequential, bounded, and (after the baseline) stopped by a page of known items
        column = meta["column"]
        seen = self.list_pages_seen.get(column, 0) + 1
        self.list_pages_seen[column] = seen
        if page.items and new_entries == 0 and self.incremental[portal_id]:
            return
        if not page.items and not page.next_requests:
            return
        if seen >= self._setting("GOVWATCH_MAX_LIST_PAGES", 50):
            return
        for next_req in page.next_requests:
            yield self.list_request(portal_id, next_req, column=column, number=meta["number"] + 1)

    # ----- detail pages
    def detail_request(self, portal_id: str, entry: ListEntry) -> scrapy.Request:
        meta = {"portal_id": portal_id, "kind": "detail", "entry": entry}
        if FILE_HREF.search(entry.url) and is_attachment_url(entry.url):
            meta["download_maxsize"] = self._setting("GOVWATCH_MAX_ATTACHMENT_BYTES")
            meta["kind"] = "attachment"
            meta["is_document"] = True
        return scrapy.Request(entry.url, meta=meta, callback=self.parse_detail, errback=self.on_error)

    async def parse_detail(self, response):
        from crawler.extract import ExtractError, analyse
        from crawler.extract.classify import classify, report_year
        from crawler.extract.regions import resolve_region

        meta = response.meta
        portal_id, entry = meta["portal_id"], meta["entry"]
        portal = self.portals[portal_id]
        ctype = _header(response, "Content-Type") or ""
        if meta.get("is_document") or (is_attachment_url(response.url) and "html" not in ctype.lower()):
            att = extract_attachment(response.url, attachment_name(response.url, entry.title), response.body, ctype)
            record_title, page_text, published, site_name = entry.title, "", entry.date, None
            region = adcode = source = author = None
            attachments = [att]
        else:
            charset = _charset(ctype)
            try:
                analysed = analyse(response.body, response.url, charset=charset)
            except ExtractError as exc:
                self.note_error(portal_id, f"{response.url}: {exc}")
                return
            record = analysed.record
            record_title = record.title or entry.title
            page_text, published, site_name = record.text, record.published_at or entry.date, analysed.site_name
            region, adcode, source, author = record.region, record.adcode, record.source, record.author
            attachments = await self._attachments(portal, response, analysed.attachments)
        text, sources, from_attachments = merge_text(page_text, attachments)
        if from_attachments or not page_text:
            doc_type = classify(record_title, text)
            year = report_year(record_title, text, published) if doc_type in ("annual_report",
                                                                              "interpretation") else None
            if not region:
                region, adcode = resolve_region(record_title, text, source=source, site_name=site_name,
                                                url=response.url)
        else:
            doc_type, year = record.doc_type, record.report_year
        yield {
            "url": response.url, "portal_id": portal_id, "title": record_title, "text": text,
            "published_at": published, "source": source, "author": author, "region": region, "adcode": adcode,
            "report_year": year, "doc_type": doc_type, "site_name": site_name,
            "attachments": [a.as_dict() for a in attachments], "text_sources": sources,
            "_list_url": entry.url, "_list_entry": entry.fingerprint, "_etag": _header(response, "ETag"),
            "_last_modified": _header(response, "Last-Modified"), "_content_hash": content_hash(response.body),
        }

    async def _attachments(self, portal: Portal, response, links) -> list[AttachmentText]:
        results: list[AttachmentText] = []
        seen: set[str] = set()
        max_bytes = self._setting("GOVWATCH_MAX_ATTACHMENT_BYTES")
        for url, label in links:
            name = attachment_name(url, label)
            if not (is_attachment_url(url) or is_attachment_url(name)) or url in seen:
                continue  # spreadsheets and OFD files are listed by extraction but hold no report text
            seen.add(url)
            if (urlsplit(url).hostname or "") not in portal.hosts:
                self.note_offsite(portal.id, url)
                results.append(AttachmentText(url, name, "error", "", "off-site host not fetched"))
                continue
            request = scrapy.Request(url, headers={"Referer": response.url}, meta={
                "portal_id": portal.id, "kind": "attachment", "download_maxsize": max_bytes})
            try:
                att_response = await self.crawler.engine.download_async(request)
            except Exception as exc:  # noqa: BLE001
                text = f"{type(exc).__name__}: {exc}"
                status = "too_large" if "max size" in text or "Cancel" in type(exc).__name__ else "error"
                if isinstance(exc, BlockedPage):
                    status = "error"
                results.append(AttachmentText(url, name, status, "", text[:300]))
                continue
            if att_response.status != 200:
                results.append(AttachmentText(url, name, "error", "", f"HTTP {att_response.status}"))
                continue
            result = extract_attachment(url, name, att_response.body, _header(att_response, "Content-Type"))
            self.fetch_state.record(url, portal_id=portal.id, kind="attachment", status=200,
                                    etag=_header(att_response, "ETag"),
                                    last_modified=_header(att_response, "Last-Modified"),
                                    body_hash=content_hash(att_response.body))
            results.append(result)
        return results

    # ----- errors
    def on_error(self, failure):
        request = failure.request
        portal_id = request.meta.get("portal_id")
        if portal_id not in self.stats_by_portal:
            return
        exc = failure.value
        if isinstance(exc, BlockedPage):
            return  # already recorded as the portal's block
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, HttpError):
            text = str(exc)
            if "robots" in text.lower() or "Forbidden by robots.txt" in text:
                logger.info("robots.txt forbids %s", request.url)
                entry = request.meta.get("entry")
                if entry is not None:  # remember it, so a page of otherwise known items still stops paging
                    self.fetch_state.record(entry.url, portal_id=portal_id, kind="detail",
                                            status=ROBOTS_DISALLOWED, list_entry=entry.fingerprint)
                return
            if self.is_blocked(portal_id) or "off-site" in text:
                return
        if isinstance(exc, HttpError):
            status = exc.response.status
            message = f"HTTP {status} for {request.url}"
            if request.meta.get("kind") == "list":
                self.fetch_state.record(request.meta["page_request"].key, portal_id=portal_id, kind="list",
                                        status=status)
        else:
            message = f"{type(exc).__name__}: {exc} ({request.url})"
        self.note_error(portal_id, message)


def _registry_portals(db_path: str | None, config, portal_ids) -> list[Portal]:
    """The portals to crawl, from the registry (the database's portal table with the TOML entries over it)."""
    from crawler.registry import select_portals
    from storage import connect

    db = connect(db_path or "govwatch.db")
    try:
        return select_portals(db, config, portal_ids)
    finally:
        db.conn.close()


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _charset(content_type: str | None) -> str | None:
    if content_type and "charset=" in content_type.lower():
        return content_type.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None
    return None
