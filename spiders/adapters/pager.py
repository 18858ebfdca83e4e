"""Lists paged by links: Kaipuyun (ucap) and other 下一页 / 尾页 / ?page=N / list_N.html paginations."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from spiders.adapters.common import ListPage, PageRequest, clean_text, entries_from_html, is_page_param, parse_fragment

NEXT_TEXTS = ("下一页", "下页", "后一页", "后页", "下一頁", "next", "next page", ">", "›", "»", ">>")
LAST_TEXTS = ("尾页", "末页", "最后一页", "last", ">|", "»|")
_TOTAL = re.compile(r"共\s*(\d+)\s*页|页次\s*[:：]?\s*\d+\s*/\s*(\d+)|\d+\s*/\s*(\d+)\s*页")
_LIST_N = re.compile(r"^(.*?[_-])(\d+)(\.s?html?)$")
# decoration around a pager label: "[下一页]", "下一页 >", "下 一 页", "【尾页】", "尾页>>"
_LABEL_DECOR = re.compile(r"[\s\[\]【】<>《》«»‹›()（）]+")
# a URL in an onclick handler: location.href='list_2.html', window.open("?page=2"), goUrl('index_2.shtml')
_ONCLICK_URL = re.compile(r"""['"]((?:[\w./-]*\?[^'"\s]*|[\w./-]+\.(?:s?html?|jsp|aspx?|php)(?:\?[^'"\s]*)?))['"]""")
_ONCLICK_NUMBER = re.compile(r"\(\s*['\"]?(\d{1,4})['\"]?\s*\)")


def matches(text: str, url: str) -> bool:
    return bool(re.search(r"下一页|尾页|末页|<ucap|ucapcontent|[?&]page=\d", text))


def _page_of(url: str) -> int | None:
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if is_page_param(key) and value.isdigit():
            return int(value)
    match = _LIST_N.match(parts.path.rsplit("/", 1)[-1])
    if match:
        return int(match.group(2))
    return None


def _with_page(url: str, template_url: str, number: int) -> str | None:
    """`template_url` (e.g. the 尾页 link) rewritten to page `number`."""
    parts = urlsplit(template_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(is_page_param(k) for k, _ in query):
        query = [(k, str(number) if is_page_param(k) else v) for k, v in query]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    head, _, name = parts.path.rpartition("/")
    match = _LIST_N.match(name)
    if match:
        return urlunsplit((parts.scheme, parts.netloc, f"{head}/{match.group(1)}{number}{match.group(3)}",
                           parts.query, ""))
    return None


def _label(a) -> str:
    """The pager label of a link, decoration stripped ("下一页 >" -> "下一页"); a bare arrow stays an arrow."""
    raw = clean_text(a.text_content()).lower() or clean_text(a.get("title")).lower()
    if raw in NEXT_TEXTS or raw in LAST_TEXTS:
        return raw
    return _LABEL_DECOR.sub("", raw) or raw


def _target(a, url: str) -> str | None:
    """Where a pager link leads: its href, or for `javascript:` links the URL or page number in its onclick
    (a number only helps when the current URL already shows how pages are numbered)."""
    href = (a.get("href") or "").strip()
    if href and not href.lower().startswith(("javascript", "#")):
        return urljoin(url, href)
    script = " ".join(filter(None, [a.get("onclick"), href[11:] if href.lower().startswith("javascript:") else ""]))
    match = _ONCLICK_URL.search(script)
    if match:
        return urljoin(url, match.group(1))
    match = _ONCLICK_NUMBER.search(script)
    if match and _page_of(url) is not None:
        return _with_page(url, url, int(match.group(1)))
    return None


def parse(text: str, url: str, context: dict):

    root = parse_fragment(text)
    if root is None:
        return ListPage(family="pager")
    items = entries_from_html(root, url)
    next_url = last_url = None
    for a in root.iter("a"):
        label = _label(a)
        if label in NEXT_TEXTS and next_url is None:
            next_url = _target(a, url)
        elif label in LAST_TEXTS and last_url is None:
            last_url = _target(a, url)
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
