"""TRS WCM static lists: `createPageHTML(countPage, currentPage, "index", "html")` -> index.html, index_1.html ..."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from spiders.adapters.common import entries_from_html

# createPageHTML(5, 0, "index", "html")  |  createPageHTML('page_div', 5, 1, 'index', 'shtml', 96)
_CALL = re.compile(r"createPageHTML\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*['\"]([\w-]+)['\"]\s*,"
                   r"\s*['\"](\w+)['\"]")
_CALL_VARS = re.compile(r"createPageHTML\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?(\w+)\s*,")
_VAR = r"(?:var\s+)?{name}\s*=\s*['\"]?([\w-]+)['\"]?"


def matches(text: str, url: str) -> bool:
    return "createPageHTML" in text or bool(re.search(r"\bvar\s+countPage\s*=", text))


def _var(text: str, name: str) -> str | None:
    match = re.search(_VAR.format(name=name), text)
    return match.group(1) if match else None


def pager_params(text: str) -> tuple[int, str, str] | None:
    """(countPage, prefix, suffix) of the page's TRS pager, or None."""
    match = _CALL.search(text)
    if match:
        return int(match.group(1)), match.group(3), match.group(4)
    count = _var(text, "countPage")
    if count and count.isdigit():
        return int(count), _var(text, "prefix") or "index", _var(text, "suffix") or "html"
    match = _CALL_VARS.search(text)
    if match:
        value = _var(text, match.group(1))
        if value and value.isdigit():
            return int(value), "index", "html"
    return None


def parse(text: str, url: str, context: dict):
    from spiders.adapters import ListPage, PageRequest

    items = entries_from_html(text, url)
    params = pager_params(text)
    if not params:
        return ListPage(items=items, family="trs")
    count, prefix, suffix = params
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    match = re.fullmatch(rf"{re.escape(prefix)}_(\d+)\.{re.escape(suffix)}", name)
    current = int(match.group(1)) if match else 0  # index.html is page 0, index_1.html page 1 ...
    next_requests = []
    if current + 1 < count:
        next_requests.append(PageRequest(urljoin(url, f"{prefix}_{current + 1}.{suffix}"), family="trs"))
    return ListPage(items=items, next_requests=next_requests, total_pages=count, family="trs", page=current + 1)
