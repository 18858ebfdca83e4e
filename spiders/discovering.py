"""The column spider's discovery: for a portal known by its home page, the home page and the pages it links
are requested like any other (robots.txt, the portal's sites, politeness, retries and block detection apply);
`spiders.discovery.Discovery` says what to open next and ranks what was found. Each portal's discovery ends
when its pages are in, or at its deadline (a timer: a slow page never holds up the ranking), or when the
spider falls idle; in a crawl the found columns' list pages follow, in discovery-only mode the result is
reported (progress event `discovered`).

`DiscoveryCallbacks` is mixed into `spiders.column.ColumnSpider` and uses its state: `portals`, `scope_index`,
`stats_by_portal`, `mode`, `progress`, `discovery_timeout`, `discovery_pages`, `page_timeout`,
`LIST_PRIORITY`, `mark_blocked`, `is_blocked` and `column_requests`.
"""

from __future__ import annotations

import json
import time

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import call_later

from crawler.config import Portal
from crawler.middlewares import BlockedPage, SuspiciousPage
from crawler.urls import canonicalize
from spiders.adapters import decode_html
from spiders.discovery import BLOCKED, FOUND, Discovery
from spiders.outcomes import failure_reason, header, with_url


class DiscoveryCallbacks:
    def _on_idle(self) -> None:
        # every discovery ends in a callback or at its deadline; one that lost its requests some other way
        # (dropped by the scheduler) must still end, and a crawl portal then gets its columns
        open_discoveries = [pid for pid, d in self.discoveries.items() if not d.done]
        requests = [r for pid in open_discoveries for r in self._finish_discovery(pid)]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def _start_discovery(self, portal_id: str) -> scrapy.Request:
        portal = self.portals[portal_id]
        discovery = Discovery(portal_id, canonicalize(portal.home), lambda url: self.scope_index.allows(portal_id, url),
                              max_pages=self.discovery_pages, deadline=time.monotonic() + self.discovery_timeout)
        self.discoveries[portal_id] = discovery
        self._timers[portal_id] = call_later(self.discovery_timeout, self._discovery_deadline, portal_id)
        return self._discovery_request(portal_id, discovery.home, kind="home")

    def _discovery_request(self, portal_id: str, url: str, *, kind: str, parent_score: float = 0) -> scrapy.Request:
        discovery = self.discoveries[portal_id]
        discovery.outstanding += 1
        left = max(1.0, discovery.deadline - time.monotonic())
        # one retry: a discovery surveys a portal within its deadline, the crawl proper retries in full
        meta = {"portal_id": portal_id, "kind": kind, "discovery": True, "parent_score": parent_score,
                "asked": url, "download_timeout": min(left, self.page_timeout), "max_retry_times": 1}
        # a discovery under way goes ahead of those not started: its clock is running
        priority = self.LIST_PRIORITY + (kind != "home")
        return scrapy.Request(url, meta=meta, callback=self.parse_discovery, errback=self.on_discovery_error,
                              dont_filter=True, priority=priority)

    def parse_discovery(self, response):
        meta = response.meta
        portal_id = meta["portal_id"]
        discovery = self.discoveries[portal_id]
        discovery.outstanding -= 1
        if discovery.done:
            return []
        self.stats_by_portal[portal_id].answers += 1
        html = decode_html(response.body, header(response, "Content-Type"))
        follow = []
        if meta["kind"] == "home":
            for url, score in discovery.home_page(html, response.url):
                follow.append(self._discovery_request(portal_id, url, kind="discovery", parent_score=score))
        else:
            discovery.sub_page(html, response.url, meta["parent_score"], asked=meta["asked"])
        return follow + self._discovery_step(portal_id)

    def on_discovery_error(self, failure):
        request = failure.request
        portal_id = request.meta["portal_id"]
        discovery = self.discoveries[portal_id]
        discovery.outstanding -= 1
        if discovery.done:
            return []
        exc = failure.value
        reason = failure_reason(failure)
        if isinstance(exc, BlockedPage) or self.is_blocked(portal_id):
            discovery.blocked = self.stats_by_portal[portal_id].reason or reason
            return self._finish_discovery(portal_id)
        if request.meta["kind"] == "home":
            discovery.home_error = reason if request.url == discovery.home else with_url(reason, request.url)
            if isinstance(exc, SuspiciousPage):
                discovery.blocked = discovery.home_error
            return self._finish_discovery(portal_id)
        discovery.refused(request.meta["asked"], reason)
        return self._discovery_step(portal_id)

    def _discovery_step(self, portal_id: str) -> list[scrapy.Request]:
        discovery = self.discoveries[portal_id]
        if discovery.outstanding > 0:
            return []
        verify = discovery.to_verify()
        if verify is not None:
            return [self._discovery_request(portal_id, verify, kind="discovery")]
        return self._finish_discovery(portal_id)

    def _discovery_deadline(self, portal_id: str) -> None:
        if not self.discoveries[portal_id].done and self.crawler.engine.spider is not None:
            for request in self._finish_discovery(portal_id, timed_out=True):
                self.crawler.engine.crawl(request)

    def _finish_discovery(self, portal_id: str, *, timed_out: bool = False) -> list[scrapy.Request]:
        """Rank what the discovery found; in a crawl, the found columns' first list requests."""
        discovery = self.discoveries[portal_id]
        discovery.done = True
        timer = self._timers.pop(portal_id, None)
        if timer is not None:
            timer.cancel()
        result = discovery.result(timed_out=self.discovery_timeout if timed_out else None)
        self.discovered[portal_id] = result
        stats = self.stats_by_portal[portal_id]
        stats.discovery = result.as_dict()
        if self.progress is not None:
            self.progress({"event": "discovered", **result.as_dict()})
        if result.status == BLOCKED:
            self.mark_blocked(portal_id, result.reason or "blocked", discovery.home)
        if self.mode == "discover":
            return []
        if result.status != FOUND:
            if stats.status != "blocked":
                stats.status = "error"
                stats.reason = result.reason if result.status != "none" else \
                    f"no 法治政府建设 column found from {discovery.home}"
            return []
        return self.column_requests(portal_id, result.columns)


def home_portals(homes) -> list[Portal]:
    """Portals for discovery-only mode from [{"id": ..., "home": ...}] (or its JSON, or a JSON Lines file)."""
    if isinstance(homes, str):
        text = homes.strip()
        if not text.startswith("["):
            with open(text, encoding="utf-8") as handle:
                text = "[" + ",".join(line for line in handle.read().splitlines() if line.strip()) + "]"
        homes = json.loads(text)
    portals, seen = [], set()
    for row in homes or []:
        if row["id"] in seen:
            raise ValueError(f"duplicate portal id {row['id']!r} in the homes to discover")
        seen.add(row["id"])
        portals.append(Portal(id=row["id"], home=row["home"], allowed_hosts=tuple(row.get("allowed_hosts") or ())))
    return portals
