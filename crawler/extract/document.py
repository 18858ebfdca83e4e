"""A document's stored fields from its analysed page and the text of its attachments: the one assembly that
the crawl, the re-extraction of archived pages and imports share, so a page gives the same document
whichever of them reads it."""

from __future__ import annotations

from . import Page, bodytype
from .attachments import MAX_DOCUMENT_CHARS, AttachmentText, attachment_name, cap_text, is_attachment_url, merge_text
from .classify import classify, report_year
from .regions import resolve_region


def attachment_links(page: Page) -> list[tuple[str, str]]:
    """The page's links to files that can hold its text (PDF, DOC(X), WPS), each once, as (url, name).
    Spreadsheets and OFD files are listed by extraction but hold no report text."""
    links, seen = [], set()
    for url, label in page.attachments:
        name = attachment_name(url, label)
        if url in seen or not (is_attachment_url(url) or is_attachment_url(name)):
            continue
        seen.add(url)
        links.append((url, name))
    return links


def document_fields(page: Page | None, attachments: list[AttachmentText], *, url: str | None,
                    listed_title: str | None = None, listed_date: str | None = None,
                    max_chars: int | None = MAX_DOCUMENT_CHARS) -> dict:
    """The stored fields (the Record's plus site_name, attachments, text_sources) of a document.

    `page` is the analysed page, or None when the document is itself a file (its text is then that of its
    one attachment); `listed_title` and `listed_date` are what the list entry (or the file's name) said,
    used where the page says nothing. `url` is the page's http(s) URL when it has one (dates, regions).
    A text longer than `max_chars` is cut there, and its text_sources say so (`{"from": "truncated"}`)."""
    if page is None:
        title, page_text, published, site_name = listed_title, "", listed_date, None
        region = adcode = source = author = None
        doc_type = year = None
    else:
        record = page.record
        title = record.title or listed_title
        page_text, published, site_name = record.text, record.published_at or listed_date, page.site_name
        region, adcode, source, author = record.region, record.adcode, record.source, record.author
        doc_type, year = record.doc_type, record.report_year
    text, sources, from_attachments = merge_text(page_text, attachments)
    text, truncated = cap_text(text, max_chars)
    if truncated:
        sources.append({"from": "truncated", "chars": len(text)})
    if from_attachments or not page_text:
        doc_type = classify(title, text)
        year = report_year(title, text, published) if doc_type in ("annual_report", "interpretation") else None
        if not region:  # the attachment's signature names the issuer, as a page's does (crawler.extract.analyse)
            signer = bodytype.signature(bodytype.read_body(text))[0] if text else None
            region, adcode = resolve_region(title, text, source=source, site_name=site_name, url=url, signer=signer)
    return {
        "title": title, "text": text, "published_at": published, "source": source, "author": author,
        "region": region, "adcode": adcode, "report_year": year, "doc_type": doc_type, "site_name": site_name,
        "attachments": [a.as_dict() for a in attachments], "text_sources": sources,
    }
