"""List-page adapters: pure functions from a column list page (bytes/str + URL) to a `ListPage`.

One small module per CMS family; `parse_list(content, url, cms="auto")` picks the family from the page when
`cms` is "auto". Adapters never fetch anything: they return the entries they see and the request(s) for the
next list page, which the spider sends (sequentially, so paging can stop as soon as a page holds only known
items).
"""

from __future__ import annotations

from spiders.adapters import generic, hanweb, jsonapi, pager, trs
from spiders.adapters.common import ListEntry, ListPage, PageRequest, decode_html

__all__ = ["ListEntry", "ListPage", "PageRequest", "decode_html", "detect_family", "parse_list", "FAMILIES"]


FAMILIES = ("json", "hanweb", "trs", "pager", "generic")
_CMS_TO_FAMILY = {"trs": "trs", "hanweb": "hanweb", "ucap": "pager", "json": "json", "generic": "generic",
                  "pager": "pager"}

_ADAPTERS = {"json": jsonapi, "hanweb": hanweb, "trs": trs, "pager": pager, "generic": generic}


def _module(family: str):
    return _ADAPTERS[family]


def detect_family(text: str, url: str) -> str:
    """The CMS family whose adapter understands this list page."""
    for family in FAMILIES[:-1]:
        if _module(family).matches(text, url):
            return family
    return "generic"


def parse_list(content: bytes | str, url: str, *, cms: str = "auto", context: dict | None = None,
               content_type: str | None = None) -> ListPage:
    """Entries and next-page requests of one list page. `context` is the `PageRequest.context` of the
    request that fetched it (adapters that page through an API keep their state there)."""
    text = decode_html(content, content_type) if isinstance(content, bytes) else content
    context = dict(context or {})
    family = context.get("family") or (_CMS_TO_FAMILY.get(cms) if cms != "auto" else None)
    if family is None:
        family = detect_family(text, url)
    page = _module(family).parse(text, url, context)
    if family != "generic" and not page.items and not page.next_requests and family != "json":
        # a forced/guessed family that finds nothing: fall back to the generic link finder
        fallback = _module("generic").parse(text, url, context)
        if fallback.items:
            return fallback
    page.family = family
    return page
