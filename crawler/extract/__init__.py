"""Pure extraction: page bytes/str in, `Record` out.

    extract(content, url=None) -> Record        # what the pipeline stores
    analyse(content, url=None) -> Page          # Record plus meta tags, site name, attachment links

Raises `ExtractError` when the input is not a page at all (PDF, Office file, image, random bytes); empty
input gives an empty Record; truncated or mislabelled HTML is handled best effort.

The base of every stage: imports nothing of govwatch but its own modules and its data (`crawler/data/`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import bodytype, chrome, title
from .chrome import AUTHOR_LABELS, DATE_LABELS, SOURCE_LABELS, clean_value
from .classify import classify, report_year
from .dates import Stamp, choose_published, parse_date
from .decode import decode
from .html import parse_html
from .record import DOC_TYPES, ExtractError, Record
from .regions import resolve_region
from .text import PageParts, looks_like_html, parse_text, signing_date

__all__ = ["extract", "analyse", "Page", "Record", "ExtractError", "DOC_TYPES", "clear_caches"]

# <meta> names carrying a publication date, by preference.
_META_DATE_KEYS = ("pubdate", "firstpublishedtime", "publishdate", "publish_date", "article:published_time",
                   "og:release_date", "dc.date.issued", "dc.date", "date")


@dataclass
class Page:
    """Everything `analyse` learnt about a page; `record` is what `extract` returns."""

    record: Record
    meta: dict[str, str] = field(default_factory=dict)
    site_name: str | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (absolute url, link text)
    is_html: bool = False
    container: str | None = None  # "cms", "generic", "density", "trafilatura", "page" or "text"


def _first_value(fields: list[tuple[str, str]], labels: tuple[str, ...]) -> str | None:
    for label, value in fields:
        if label in labels:
            v = clean_value(value)
            if v:
                return v
    return None


def _published(parts: PageParts, url: str | None) -> str | None:
    visible: list[tuple[int, int, Stamp]] = []
    for order, (label, value) in enumerate(parts.fields):
        if label in DATE_LABELS:
            st = parse_date(value)
            if st:
                visible.append((DATE_LABELS[label], order, st))
    for st in parts.bare_dates:
        visible.append((1, 10_000 + len(visible), st))
    visible.sort(key=lambda t: (t[0], t[1]))
    meta = [st for st in (parse_date(parts.meta.get(k)) for k in _META_DATE_KEYS) if st]
    return choose_published([v[2] for v in visible], meta, url, signing_date(parts.lines))


def analyse(content: bytes | str | None, url: str | None = None, *, charset: str | None = None) -> Page:
    """Extract a page.  `charset` is the HTTP Content-Type charset when known (else sniffed/detected).

    Raises ExtractError for binary input (PDF, Office, images, random bytes)."""
    text = decode(content, charset)
    if not text.strip():
        return Page(record=Record())
    is_html = looks_like_html(text)
    parts = parse_html(text, url) if is_html else parse_text(text)

    body = "\n".join(parts.lines)
    source = _first_value(parts.fields, SOURCE_LABELS) or clean_value(parts.meta.get("contentsource", ""))
    author = _first_value(parts.fields, AUTHOR_LABELS)
    published = _published(parts, url)
    signer = bodytype.signature(bodytype.read_body(body))[0] if body else None
    region, adcode = resolve_region(parts.title, body, source=source, site_name=parts.site_name, url=url,
                                    signer=signer)
    doc_type = classify(parts.title, body)
    record = Record(
        title=parts.title,
        text=body,
        published_at=published,
        source=source,
        author=author,
        region=region,
        adcode=adcode,
        # plans and news name years too; only a report has a year reported on
        report_year=report_year(parts.title, body, published) if doc_type == "annual_report" else None,
        doc_type=doc_type,
    )
    return Page(record=record, meta=parts.meta, site_name=parts.site_name, attachments=parts.attachments,
                is_html=is_html, container=parts.container)


def extract(content: bytes | str | None, url: str | None = None) -> Record:
    """Page bytes/str -> Record.  Raises ExtractError for binary input (see `analyse`)."""
    return analyse(content, url).record


def clear_caches() -> None:
    """Forget the per-line caches (a crawl keeps them across pages; a benchmark round starts without them)."""
    for cached in (chrome._shadow, chrome._fields, chrome.is_meta_line, chrome.is_chrome, title.norm,
                   title.is_section_name, bodytype.read_body):
        cached.cache_clear()
