"""The one generic column spider: crawls each portal's 法治政府建设 column list (every page, every item) with the
adapter of its CMS family, fetches detail pages and their attachments, and yields documents for the store
pipeline. A portal configured with only a `home` page has its column discovered first, by the same crawl.

    scrapy crawl column -a config=govwatch.toml -a portals=trs,hanweb -a db=govwatch.db
    scrapy crawl column -a mode=discover -a homes='[{"id": "x", "home": "http://www.x.gov.cn/"}]'

Nothing scheduled is lost: the detail pages a list page lists are written down (fetch_state, status
SCHEDULED) in the transaction that records the list page itself, before they are requested; only a stored
document makes one known. Whatever a run did not store (an HTTP error after the retries, a tiny page, a
writer that died, a crawl killed) is asked for first by the next run, a bounded number of times, with its
reason. Incremental (conditional list requests, paging stopped at the first page of known items) only after a
run that ended `ok`; a run whose paging could not reach the end of a column ends `error`, so the next one
pages again in full.

Discovery-only mode (`mode=discover`) runs column discovery for many portals in one crawl and reports, per
portal, found (URL + score) / none / unreachable / blocked (see `crawler.crawl.discover`).

Self-sufficient under any runner: it applies the config's `[crawl]` settings itself, and the run bookkeeping
(`crawler.crawl.runs.RunBookkeeping`, an extension in the project settings) gives it its run ids.
"""

from __future__ import annotations

import json
import logging
import time

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.config import Portal, load_config
from crawler.crawl.archiving import archived
from crawler.crawl.fetchstate import ROBOTS_DISALLOWED, SCHEDULED, FetchState, content_hash
from crawler.extract.attachments import AttachmentText, attachment_name, extract_attachment, is_attachment_url
from crawler.middlewares import BlockedPage, OffsiteRequest, SuspiciousPage
from crawler.settings import config_settings
from crawler.urls import canonicalize
from spiders.adapters import ListEntry, PageRequest, parse_list
from spiders.adapters.common import FILE_HREF
from spiders.discovering import DiscoveryCallbacks, home_portals
from spiders.discovery import Discovery, DiscoveryResult
from spiders.outcomes import PortalStats, charset, failure_reason, header, with_url
from spiders.scope import ScopeIndex
from storage import retry_write

logger = logging.getLogger(__name__)
# The next list page goes ahead of the detail pages already queued: paging is sequential (a page of known
# items stops it), so each list page waiting behind a page's worth of details delayed the whole crawl
LIST_PRIORITY = 10
MODES = ("crawl", "discover")
# a portal is blocked by suspicious answers (tiny pages ...) once they are this many and the majority
MIN_SUSPICIOUS_TO_BLOCK = 3


class ColumnSpider(DiscoveryCallbacks, scrapy.Spider):
    name = "column"
    LIST_PRIORITY = LIST_PRIORITY

    def __init__(self, config: str | None = None, portals: str | list | None = None, db: str | None = None,
                 run_ids: dict | str | None = None, progress=None, mode: str = "crawl",
                 homes: list | str | None = None, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"the column spider's mode is one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        if mode == "discover":
            self.config = load_config(config, check_channels=False) if config else None
            selected = home_portals(homes)
        else:
            if config is None:
                raise ValueError("the column spider needs -a config=PATH (and optionally -a portals=ID,ID)")
            self.config = load_config(config, check_channels=False)  # checked by the process that started the crawl
            if isinstance(portals, str):
                portals = [p for p in portals.split(",") if p.strip()]
            selected = _registry_portals(db, self.config, portals)
        self.portals: dict[str, Portal] = {p.id: p for p in selected}
        self.scope_index = ScopeIndex(selected)
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
        self.discoveries: dict[str, Discovery] = {}
        self.discovered: dict[str, DiscoveryResult] = {}
        self._timers: dict[str, object] = {}
        self._last_progress = 0.0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        if kwargs.get("mode", "crawl") == "crawl":
            kwargs.setdefault("db", crawler.settings.get("GOVWATCH_DB"))
            kwargs.setdefault("config", crawler.settings.get("GOVWATCH_CONFIG"))
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if spider.mode == "crawl":
            # the config's [crawl] table under every runner (Scrapy reads settings after the spider is made);
            # `scrapy crawl -s NAME=VALUE` sets the "cmdline" priority, above "spider", and still wins. A
            # discovery crawl is given its settings by its runner (crawler.crawl.discover)
            settings.setdict(config_settings(spider.config), priority="spider")
        spider.max_tries = max(1, settings.getint("GOVWATCH_MAX_TRIES", 5))
        spider.max_list_pages = max(1, settings.getint("GOVWATCH_MAX_LIST_PAGES", 50))
        spider.max_list_items = max(1, settings.getint("GOVWATCH_MAX_LIST_ITEMS", 1000))
        spider.discovery_timeout = max(1.0, settings.getfloat("GOVWATCH_DISCOVERY_TIMEOUT", 60.0))
        spider.discovery_pages = max(1, settings.getint("GOVWATCH_DISCOVERY_PAGES", 20))
        spider.page_timeout = max(1.0, settings.getfloat("DOWNLOAD_TIMEOUT", 60.0))
        crawler.signals.connect(spider._on_request, signal=signals.request_reached_downloader)
        crawler.signals.connect(spider._on_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        if spider.mode == "crawl":
            spider._open_db()
        return spider

    # ----- state
    def _open_db(self) -> None:
        from storage import connect

        self.db = connect(self.db_path or "govwatch.db")
        self.fetch_state = FetchState(self.db)
        # one query each for all portals, not three per portal: a batch has thousands
        self.known = self.fetch_state.known_entries_of(self.portals, self.max_tries)
        self.incremental = incremental_portals(self.db, self.portals, exclude_runs=self.run_ids.values())

    def _write(self, what: str, write, *args, **kwargs) -> bool:
        """Run a fetch-state write (retried while another writer holds the database); False when it could
        not be written at all, which the caller must not turn into a loss."""
        try:
            retry_write(self.db, write, *args, **kwargs)
            return True
        except Exception as exc:  # noqa: BLE001 - DatabaseLocked, and sqlite3 errors of a broken file
            logger.error("could not record %s: %s", what, exc)
            return False

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

    def drop_reason(self, portal_id: str, request) -> str | None:
        """Why a request of this portal is no longer wanted (asked by PortalGuardMiddleware), or None."""
        if self.is_blocked(portal_id):
            return f"portal {portal_id} is blocked"
        discovery = self.discoveries.get(portal_id)
        if request.meta.get("discovery") and discovery is not None and discovery.done:
            return f"discovery of portal {portal_id} is over"
        return None

    def mark_blocked(self, portal_id: str, reason: str, url: str) -> None:
        stats = self.stats_by_portal.get(portal_id)
        if stats is None or stats.status == "blocked":
            return
        stats.status = "blocked"
        stats.reason = f"{reason} ({url})"
        logger.warning("portal %s blocked: %s", portal_id, stats.reason)
        self.emit(portal_id, force=True)

    def note_suspicious(self, portal_id: str, reason: str, url: str) -> None:
        """A page that was no page (see crawler.middlewares.detect_suspicious): it fails alone, unless such
        answers become the majority of the portal's answers."""
        stats = self.stats_by_portal.get(portal_id)
        if stats is None:
            return
        stats.suspicious += 1
        if stats.suspicious >= MIN_SUSPICIOUS_TO_BLOCK and stats.suspicious > stats.answers:
            self.mark_blocked(portal_id, f"most answers are no pages: {stats.suspicious} of "
                                         f"{stats.suspicious + stats.answers}, latest {reason}", url)

    def note_offsite(self, portal_id: str | None, url: str) -> None:
        if portal_id in self.stats_by_portal:
            self.stats_by_portal[portal_id].offsite_skipped += 1
        logger.debug("off-site request dropped: %s", url)

    def note_error(self, portal_id: str, message: str) -> None:
        stats = self.stats_by_portal[portal_id]
        stats.errors += 1
        stats.error_messages.append(message[:300])
        logger.info("portal %s: %s", portal_id, message)

    def note_not_stored(self, portal_id: str, url: str, reason: str, status: int | None = None) -> None:
        """A scheduled detail page failed: the reason goes on its fetch_state row (which stays unstored)."""
        self.note_error(portal_id, with_url(reason, url))
        if self.fetch_state is not None:
            self._write(f"the failure of {url}", self.fetch_state.fail, url, reason, status=status)

    def stop_paging(self, portal_id: str, column: str, reason: str) -> None:
        """A column's paging could not go on: the run ends `error`, so the next one pages again in full."""
        stats = self.stats_by_portal[portal_id]
        stats.paging_stopped = stats.paging_stopped or f"paging of {column} stopped: {reason}"
        self.note_error(portal_id, f"paging of {column} stopped: {reason}")

    def _on_request(self, request, **kwargs) -> None:
        portal_id = request.meta.get("portal_id")
        if portal_id in self.stats_by_portal:
            self.stats_by_portal[portal_id].requests += 1

    def _on_dropped(self, request, **kwargs) -> None:
        # the scheduler drops a request it has seen: for a detail page, a redirect or meta refresh (a loop)
        # to a page already asked for
        entry = request.meta.get("entry")
        if entry is not None and request.meta.get("portal_id") in self.stats_by_portal:
            self.note_not_stored(request.meta["portal_id"], entry.url,
                                 f"redirected to a page already requested in this crawl ({request.url})")

    def _on_closed(self, spider, reason) -> None:
        for pid in [pid for pid, d in self.discoveries.items() if not d.done]:
            self._finish_discovery(pid)
        for pid, stats in self.stats_by_portal.items():
            if self.fetch_state is not None:
                self._close_unstored(pid, stats)
            if stats.status == "running" and stats.suspicious and stats.suspicious > stats.answers:
                stats.status = "blocked"
                stats.reason = f"most answers are no pages: {stats.suspicious} of {stats.suspicious + stats.answers}"
            if stats.status == "running":
                if stats.pages == 0 and stats.errors:
                    stats.status = "error"
                    stats.reason = stats.reason or (stats.error_messages[-1] if stats.error_messages
                                                    else "no list page could be fetched")
                elif stats.paging_stopped:
                    stats.status, stats.reason = "error", stats.paging_stopped
                else:
                    stats.status = "ok"
            self.emit(pid, force=True)

    def _close_unstored(self, portal_id: str, stats: PortalStats) -> None:
        """Count what stays unstored after this run (asked for again next run) and say so in the reason."""
        state = self.fetch_state

        def close():
            # scheduled and never answered at all: the run (or its writer) ended first
            self.db.execute("UPDATE fetch_state SET error = 'not stored: the run ended before it was stored' "
                            "WHERE portal_id = ? AND kind = 'detail' AND status = 0 AND error IS NULL",
                            [portal_id])
            return state.unstored_summary(portal_id, self.max_tries)

        try:
            summary = retry_write(self.db, close)
        except Exception as exc:  # noqa: BLE001
            logger.error("could not count the unstored pages of %s: %s", portal_id, exc)
            return
        stats.unstored, stats.given_up = summary["retry"], summary["given_up"]
        parts = []
        if stats.unstored:
            parts.append(f"{stats.unstored} pages not stored yet, asked for again next run")
        if stats.given_up:
            parts.append(f"{stats.given_up} pages given up after {self.max_tries} tries")
        if parts and stats.reason is None:
            stats.reason = "; ".join(parts) + (f" (last error: {summary['error']})" if summary["error"] else "")

    # ----- start
    async def start(self):
        for pid, portal in self.portals.items():
            if self.mode == "discover":
                yield self._start_discovery(pid)
                continue
            for request in self._unstored_requests(pid):
                yield request
            if portal.start_urls:
                for request in self.column_requests(pid, list(portal.start_urls)):
                    yield request
            elif portal.home:
                yield self._start_discovery(pid)

    def _unstored_requests(self, portal_id: str) -> list[scrapy.Request]:
        """The detail pages earlier runs scheduled and did not store: asked for first."""
        entries = [ListEntry(row["url"], row["title"], row["date"])
                   for row in self.fetch_state.unstored(portal_id, self.max_tries)
                   if row["url"] not in self.scheduled_details and self.scope_index.allows(portal_id, row["url"])]
        if not entries:
            return []
        # counted as a try even if this write fails: the rows stay unstored either way
        self._write(f"the retries of portal {portal_id}", self._schedule, portal_id, entries)
        self.scheduled_details.update(entry.url for entry in entries)
        self.stats_by_portal[portal_id].retried += len(entries)
        logger.info("portal %s: asking again for %d pages earlier runs did not store", portal_id, len(entries))
        return [self.detail_request(portal_id, entry) for entry in entries]

    def _schedule(self, portal_id: str, entries) -> None:
        for entry in entries:
            self.fetch_state.schedule(entry.url, portal_id=portal_id, title=entry.title, date=entry.date,
                                      list_entry=entry.fingerprint)

    def column_requests(self, portal_id: str, columns: list[str]) -> list[scrapy.Request]:
        self.stats_by_portal[portal_id].columns = columns
        return [self.list_request(portal_id, self._first_page(url), column=url, number=1) for url in columns]

    def _first_page(self, url: str) -> PageRequest:
        """The column's first list request: a JavaScript shell page (gkmlpt) seen before is skipped and its
        list API asked directly, so an unchanged column still costs one conditional request."""
        row = self.fetch_state.get(url)
        target = (row or {}).get("list_entry") or ""
        if target.startswith("->"):
            family, _, api = target[2:].partition(" ")
            return PageRequest(api, family=family or None)
        return PageRequest(url)

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
        portal_id = meta["portal_id"]
        stats = self.stats_by_portal[portal_id]
        stats.pages += 1
        stats.answers += 1
        try:
            requests = self._list_page(response)
        except Exception as exc:  # noqa: BLE001 - the page's items are already scheduled (or it is refetched)
            logger.exception("list page %s", response.url)
            self.stop_paging(portal_id, meta["column"], f"{type(exc).__name__}: {exc} ({response.url})")
            return []
        self.emit(portal_id)
        return requests

    def _list_page(self, response) -> list[scrapy.Request]:
        meta = response.meta
        portal_id, page_req, column = meta["portal_id"], meta["page_request"], meta["column"]
        portal = self.portals[portal_id]
        stats = self.stats_by_portal[portal_id]
        key = page_req.key
        if response.status == 304:
            self._write(f"list page {key}", self.fetch_state.record, key, portal_id=portal_id, kind="list",
                        status=304)
            return []  # unchanged since the last crawl: nothing new on this page or behind it
        context = dict(page_req.context)
        if page_req.family:
            context["family"] = page_req.family
        page = parse_list(response.body, response.url, cms=portal.cms, context=context,
                          content_type=header(response, "Content-Type"))
        stats.family = stats.family or page.family
        items = page.items
        if len(items) > self.max_list_items:
            logger.warning("portal %s: list page %s holds %d items, only the first %d are taken "
                           "([crawl] max_list_items)", portal_id, response.url, len(items), self.max_list_items)
            items = items[:self.max_list_items]
        shell = None
        if meta["number"] == 1 and not items and len(page.next_requests) == 1 \
                and page.next_requests[0].method == "GET":
            # a shell page whose list comes from an API: remember where it leads (see _first_page)
            target = page.next_requests[0]
            shell = f"->{target.family or ''} {target.url}"
        known = self.known[portal_id]
        new_entries, to_fetch = 0, []
        for entry in items:
            if not self.scope_index.allows(portal_id, entry.url):
                self.note_offsite(portal_id, entry.url)
                continue
            url = canonicalize(entry.url)
            if known.get(url) == entry.fingerprint:
                continue
            new_entries += 1
            if url in self.scheduled_details:
                continue
            self.scheduled_details.add(url)
            to_fetch.append(entry)

        def seen():
            # the list page counts as seen together with its new items written down as scheduled: after a
            # crash either both are there (and the items are asked for again) or neither (and the page is)
            self.fetch_state.record(key, portal_id=portal_id, kind="list", status=response.status,
                                    etag=header(response, "ETag"), last_modified=header(response, "Last-Modified"),
                                    body_hash=content_hash(response.body))
            if shell:
                self.fetch_state.record(key, portal_id=portal_id, kind="list", status=response.status,
                                        list_entry=shell, unchanged=True)
            self._schedule(portal_id, to_fetch)

        if not self._write(f"list page {key}", seen):
            self.stop_paging(portal_id, column, f"its state could not be written ({response.url})")
        requests = [self.detail_request(portal_id, entry) for entry in to_fetch]
        # paging: sequential, bounded, and (after the baseline) stopped by a page of known items
        seen_pages = self.list_pages_seen.get(column, 0) + 1
        self.list_pages_seen[column] = seen_pages
        if items and new_entries == 0 and self.incremental[portal_id]:
            return requests
        if not page.next_requests:
            return requests
        if seen_pages >= self.max_list_pages:
            logger.info("portal %s: column %s paged to max_list_pages (%d)", portal_id, column, self.max_list_pages)
            return requests
        for next_req in page.next_requests:
            requests.append(self.list_request(portal_id, next_req, column=column, number=meta["number"] + 1))
        return requests

    # ----- detail pages
    def detail_request(self, portal_id: str, entry: ListEntry) -> scrapy.Request:
        meta = {"portal_id": portal_id, "kind": "detail", "entry": entry}
        if FILE_HREF.search(entry.url) and is_attachment_url(entry.url):
            meta["download_maxsize"] = self._setting("GOVWATCH_MAX_ATTACHMENT_BYTES")
            meta["kind"] = "attachment"
            meta["is_document"] = True
        return scrapy.Request(entry.url, meta=meta, callback=self.parse_detail, errback=self.on_error)

    def _setting(self, name: str, default=None):
        return self.crawler.settings.get(name, default) if hasattr(self, "crawler") else default

    async def parse_detail(self, response):
        meta = response.meta
        self.stats_by_portal[meta["portal_id"]].answers += 1
        try:
            document = await self._document(response)
        except Exception as exc:  # noqa: BLE001 - the page stays scheduled, with the reason
            logger.exception("detail page %s", response.url)
            self.note_not_stored(meta["portal_id"], meta["entry"].url, f"{type(exc).__name__}: {exc}")
            return
        if document is not None:
            yield document

    async def _document(self, response) -> dict | None:
        """The document of a detail page (with its attachments' text), or None when it has none."""
        from crawler.extract import ExtractError, analyse
        from crawler.extract.document import document_fields

        meta = response.meta
        portal_id, entry = meta["portal_id"], meta["entry"]
        portal = self.portals[portal_id]
        ctype = header(response, "Content-Type") or ""
        is_file = bool(meta.get("is_document") or (is_attachment_url(response.url) and "html" not in ctype.lower()))
        records = archived(response, "file" if is_file else "page")  # its WARC records (archive on)
        if is_file:
            page, passing = None, []
            attachments = [extract_attachment(response.url, attachment_name(response.url, entry.title),
                                              response.body, ctype)]
        else:
            try:
                page = analyse(response.body, response.url, charset=charset(ctype))
            except ExtractError as exc:
                self.note_not_stored(portal_id, entry.url, f"{response.url}: {exc}")
                return None
            attachments, passing = await self._attachments(portal, response, page, records)
        fields = document_fields(page, attachments, url=response.url, listed_title=entry.title,
                                 listed_date=entry.date, max_chars=self._setting("GOVWATCH_MAX_DOCUMENT_CHARS"))
        if any(source["from"] == "truncated" for source in fields["text_sources"]):
            logger.warning("portal %s: %s cut to %d characters", portal_id, response.url, len(fields["text"]))
        document = {
            "url": response.url, "portal_id": portal_id, **fields, "archive": records,
            "_list_url": entry.url, "_list_entry": entry.fingerprint, "_etag": header(response, "ETag"),
            "_last_modified": header(response, "Last-Modified"), "_content_hash": content_hash(response.body),
        }
        if passing:
            # stored as it is, and still unstored in fetch_state: the next run fetches the page again, for
            # the attachment text it lacks (bounded by the same tries)
            document["_status"] = SCHEDULED
            self.note_not_stored(portal_id, entry.url, "; ".join(passing))
        return document

    async def _attachments(self, portal: Portal, response, page, records: list[dict]
                           ) -> tuple[list[AttachmentText], list[str]]:
        """(the attachments' text, why those that failed for a passing reason failed: a 5xx, a timeout);
        each answer's WARC records are added to `records`."""
        from crawler.extract.document import attachment_links

        results: list[AttachmentText] = []
        passing: list[str] = []
        max_bytes = self._setting("GOVWATCH_MAX_ATTACHMENT_BYTES")
        for url, name in attachment_links(page):
            if not self.scope_index.allows(portal.id, url):
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
                results.append(AttachmentText(url, name, status, "", text[:300]))
                if status == "error" and not (isinstance(exc, IgnoreRequest) and not isinstance(exc, BlockedPage)):
                    passing.append(f"attachment {url}: {text[:200]}")
                continue
            records += archived(att_response, "attachment")
            if att_response.status != 200:
                results.append(AttachmentText(url, name, "error", "", f"HTTP {att_response.status}"))
                if att_response.status >= 500 or att_response.status in (408, 429):
                    passing.append(f"attachment {url}: HTTP {att_response.status}")
                continue
            result = extract_attachment(url, name, att_response.body, header(att_response, "Content-Type"))
            self._write(f"attachment {url}", self.fetch_state.record, url, portal_id=portal.id, kind="attachment",
                        status=200, etag=header(att_response, "ETag"),
                        last_modified=header(att_response, "Last-Modified"),
                        body_hash=content_hash(att_response.body))
            results.append(result)
        return results, passing

    # ----- errors
    def on_error(self, failure):
        request = failure.request
        portal_id = request.meta.get("portal_id")
        if portal_id not in self.stats_by_portal:
            return
        exc = failure.value
        kind = request.meta.get("kind")
        entry = request.meta.get("entry")
        reason = failure_reason(failure)
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, (HttpError, SuspiciousPage, BlockedPage,
                                                                     OffsiteRequest)):
            if "robots" in str(exc).lower():
                logger.info("robots.txt forbids %s", request.url)
                if entry is not None:  # remember it, so a page of otherwise known items still stops paging
                    self._write(f"robots.txt state of {entry.url}", self.fetch_state.record, entry.url,
                                portal_id=portal_id, kind="detail", status=ROBOTS_DISALLOWED,
                                list_entry=entry.fingerprint)
                return
            if self.is_blocked(portal_id):
                return  # dropped because the portal is blocked: a detail stays scheduled for the next run
        if kind == "list":
            if isinstance(exc, HttpError):
                self._write(f"list page {request.url}", self.fetch_state.record,
                            request.meta["page_request"].key, portal_id=portal_id, kind="list",
                            status=exc.response.status)
            if not isinstance(exc, BlockedPage):
                self.stop_paging(portal_id, request.meta["column"], with_url(reason, request.url))
            return
        if entry is None:
            if not isinstance(exc, BlockedPage):
                self.note_error(portal_id, with_url(reason, request.url))
            return
        status = exc.response.status if isinstance(exc, HttpError) else None
        if isinstance(exc, BlockedPage):
            reason = f"portal blocked: {reason}"
        self.note_not_stored(portal_id, entry.url, with_url(reason, request.url), status=status)


def _registry_portals(db_path: str | None, config, portal_ids) -> list[Portal]:
    """The portals to crawl, from the registry (the database's portal table with the TOML entries over it)."""
    from crawler.registry import select_portals
    from storage import connect

    db = connect(db_path or "govwatch.db")
    try:
        return select_portals(db, config, portal_ids)
    finally:
        db.conn.close()


def incremental_portals(db, portal_ids, *, exclude_runs=()) -> dict[str, bool]:
    """Which portals may take the incremental shortcuts (conditional list requests, stopping at a page of
    known items): those whose baseline is done and whose previous crawl ran to the end (`ok`); after a killed
    or failed run, page again. One statement for all portals (the latest run by the portal's index)."""
    ids = json.dumps(list(portal_ids))
    done = {pid for pid, flag in db.execute(
        "SELECT id, baseline_done FROM portals WHERE id IN (SELECT value FROM json_each(?))", [ids]) if flag}
    last = dict(db.execute(
        "SELECT j.value, (SELECT status FROM crawl_runs WHERE portal_id = j.value AND id NOT IN "
        "(SELECT value FROM json_each(?)) ORDER BY started_at DESC, id DESC LIMIT 1) FROM json_each(?) AS j",
        [json.dumps(list(exclude_runs)), ids]))
    return {pid: pid in done and last.get(pid) == "ok" for pid in portal_ids}
