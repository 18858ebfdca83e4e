"""What a crawl did per portal (`PortalStats`, streamed as progress and written to crawl_runs/portals at the
end) and the one-line reasons it gives for pages that failed; small helpers over a response's headers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.middlewares import BlockedPage, SuspiciousPage


@dataclass
class PortalStats:
    """What one portal's crawl did."""

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
    answers: int = 0  # pages answered as pages (list, detail, discovery)
    suspicious: int = 0  # answers that were no page (tiny, 521 without a challenge)
    retried: int = 0  # detail pages left unstored by earlier runs, asked for again in this one
    unstored: int = 0  # detail pages not stored when the run ended, to be asked for again
    given_up: int = 0  # detail pages that failed every try (`GOVWATCH_MAX_TRIES`)
    family: str | None = None
    columns: list[str] = field(default_factory=list)
    discovery: dict | None = None  # the DiscoveryResult of a portal crawled from its home page
    error_messages: list[str] = field(default_factory=list)
    paging_stopped: str | None = None  # why a column's paging could not reach its end

    def as_dict(self) -> dict:
        data = asdict(self)
        data["error_messages"] = data["error_messages"][-5:]
        return data


def failure_reason(failure) -> str:
    """One line: why a request failed (HTTP status, the wall or tiny page, the exception)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    if isinstance(exc, (BlockedPage, SuspiciousPage)):
        return exc.reason
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, IgnoreRequest) else f"{type(exc).__name__}: {text}"


def with_url(reason: str, url: str) -> str:
    return reason if url in reason else f"{reason} ({url})"


def header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def charset(content_type: str | None) -> str | None:
    if content_type and "charset=" in content_type.lower():
        return content_type.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None
    return None
