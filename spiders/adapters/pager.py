"""Lists paged by links: Kaipuyun (ucap) and other 下一页 / 尾页 / ?page=N / list_N.html paginations."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from spiders.adapters.common import clean_text, entries_from_html, parse_fragment

NEXT_TEXTS = ("下一页", "下页", "后一页", "后页", "下一頁", "next", "next page", ">", "›", "»", ">>")
LAST_TEXTS = ("尾页", "末页", "最后一页", "last", ">|", "»|")
_TOTAL = re.compile(r"共\s*(\d+)\s*页|页次\s*[:：]?\s*\d+\s*/\s*(\d+)|\d+\s*/\s*(\d+)\s*页")
_PAGE_PARAM = re.compile(r"^(page|pageno|pagenum|pageindex|curpage|currpage|p|pn|pageNo|cpage)$", re.I)
_LIST_N = re.compile(r"^(.*?[_-])(\d+)(\.s?html?)$")


def matches(text: str, url: str) -> bool:
    return bool(re.search(r"下一页|尾页|末页|<ucap|ucapcontent|[?&]page=\d", text))


def _page_of(url: str) -> int | None:
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if _PAGE_PARAM.match(key) and value.isdigit():
            return int(value)
    match = _LIST_N.match(parts.path.rsplit("/", 1)[-1])
    if match:
        return int(match.group(2))
    return None


def _with_page(url: str, template_url: str, number: int) -> str | None:
    """`template_url` (e.g. the 尾页 link) rewritten to page `number`."""
    parts = urlsplit(template_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(_PAGE_PARAM.match(k) for k, _ in query):
        query = [(k, str(number) if _PAGE_PARAM.match(k) else v) for k, v in query]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    head, _, name = parts.path.rpartition("/")
    match = _LIST_N.match(name)
    if match:
        return urlunsplit((parts.scheme, parts.netloc, f"{head}/{match.group(1)}{number}{match.group(3)}",
                           parts.query, ""))
    return None


def parse(text: str, url: str, context: dict):
    from spiders.adapters import ListPage, PageRequest

    root = parse_fragment(text)
    if root is None:
        return ListPage(family="pager")
    items = entries_from_html(root, url)
    next_url = last_url = None
    for a in root.iter("a"):
        label = clean_text(a.text_content()).lower() or clean_text(a.get("title")).lower()
        href = (a.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript", "#")):
            continue
        if label in NEXT_TEXTS and next_url is None:
            next_url = urljoin(url, href)
        elif label in LAST_TEXTS and last_url is None:
            last_url = urljoin(url, href)
    total = None
    match = _TOTAL.search(clean_text(root.text_content()))
    if match:
        total = int(next(g for g in match.groups() if g))
    elif last_url:
        total = _page_of(last_url)
    current = _page_of(url) or 1
    if next_url and next_url.split("#")[0] == url.split("#")[0]:
        next_url = None  # the last page links 下一页 to itself
    if next_url is None and total and current < total and last_url:
        next_url = _with_page(url, last_url, current + 1)
    if next_url is not None and total and (_page_of(next_url) or 0) > total:
        next_url = None
    next_requests = [PageRequest(next_url, family="pager")] if next_url else []
    return ListPage(items=items, next_requests=next_requests, total_pages=total, family="pager", page=current)
