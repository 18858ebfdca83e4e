"""JSON list APIs: gkmlpt (`/gkmlpt/api/all/{column}?page=N` -> `{"articles": [...], "total": N}`) and
海云 IGS-style responses (`{"data": {"list"|"data"|"records": [...], "total"/"totalPage": ...}}`).

A gkmlpt HTML column page (`/gkmlpt/index#5`, or a page mentioning `/gkmlpt/api/all/5`) is turned into the
first API request."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from spiders.adapters.common import clean_text, find_date

TITLE_KEYS = ("title", "doctitle", "DOCTITLE", "f_title", "name", "Title", "docTitle", "subject")
URL_KEYS = ("url", "link", "docpuburl", "DOCPUBURL", "href", "docUrl", "DOCURL", "pubUrl", "linkurl", "path")
DATE_KEYS = ("date", "first_publish_time", "publish_time", "pubDate", "pubdate", "docreltime", "DOCRELTIME",
             "publishTime", "releaseTime", "created_at", "time", "display_publish_time", "PUBDATE", "docpubtime")
TOTAL_PAGE_KEYS = ("totalPage", "totalPages", "total_page", "pageCount", "page_count", "pages", "totalpage")
TOTAL_KEYS = ("total", "totalCount", "total_count", "count", "totalRecord", "totalElements", "totalNum")
_GKMLPT_API = re.compile(r"(/gkmlpt/api/all/\d+)")
_CST = timezone(timedelta(hours=8))


def _is_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def matches(text: str, url: str) -> bool:
    if _is_json(text):
        try:
            json.loads(text)
            return True
        except ValueError:
            return False
    return "/gkmlpt/" in url or bool(_GKMLPT_API.search(text))


def _date(value) -> str | None:
    if isinstance(value, (int, float)) and value > 0:
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, _CST).strftime("%Y-%m-%d")
    if isinstance(value, str):
        if value.isdigit() and len(value) >= 10:
            return _date(int(value))
        return find_date(value)
    return None


def _first(record: dict, keys) -> object:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def _item_lists(node, depth=0):
    """Every list of dicts in the JSON (breadth first), with the dict that holds it."""
    if depth > 5:
        return
    if isinstance(node, dict):
        for value in node.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                yield node, value
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _item_lists(value, depth + 1)
    elif isinstance(node, list):
        if node and all(isinstance(v, dict) for v in node):
            yield None, node
        for value in node:
            if isinstance(value, dict):
                yield from _item_lists(value, depth + 1)


def _number(holder, keys) -> int | None:
    if not isinstance(holder, dict):
        return None
    for key in keys:
        value = holder.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _page_param(url: str) -> tuple[str, int] | None:
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in ("page", "pageno", "pagenum", "pageindex", "curpage", "p") and value.isdigit():
            return key, int(value)
    return None


def _with_page(url: str, key: str, number: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key] + [(key, str(number))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def parse(text: str, url: str, context: dict):
    from spiders.adapters import ListEntry, ListPage, PageRequest

    if not _is_json(text):  # a gkmlpt HTML shell: start the API
        match = _GKMLPT_API.search(text)
        if match:
            api = urljoin(url, match.group(1))
        else:
            column = re.search(r"#(\d+)$", url) or re.search(r"\bcolumn(?:Id|_id)?\s*[:=]\s*['\"]?(\d+)", text)
            if not column:
                return ListPage(family="json")
            api = urljoin(url, f"/gkmlpt/api/all/{column.group(1)}")
        return ListPage(next_requests=[PageRequest(f"{api}?page=1", family="json")], family="json")
    try:
        data = json.loads(text)
    except ValueError:
        return ListPage(family="json")
    best_holder, best = None, []
    for holder, values in _item_lists(data):
        usable = [v for v in values if _first(v, TITLE_KEYS) and _first(v, URL_KEYS)]
        if len(usable) > len(best):
            best_holder, best = holder, usable
    items = []
    for record in best:
        link = str(_first(record, URL_KEYS)).strip()
        if link.lower().startswith("javascript"):
            continue
        items.append(ListEntry(url=urljoin(url, link), title=clean_text(str(_first(record, TITLE_KEYS))),
                               date=_date(_first(record, DATE_KEYS))))
    # pagination
    total_pages = None
    for holder in (best_holder, data if isinstance(data, dict) else None,
                   data.get("data") if isinstance(data, dict) else None):
        total_pages = total_pages or _number(holder, TOTAL_PAGE_KEYS)
    total_items = None
    for holder in (best_holder, data if isinstance(data, dict) else None,
                   data.get("data") if isinstance(data, dict) else None):
        total_items = total_items or _number(holder, TOTAL_KEYS)
    param = _page_param(url) or ("page", 1)
    key, current = param
    per_page = context.get("per_page") or len(best) or None
    if total_pages is None and total_items is not None and per_page:
        total_pages = -(-total_items // per_page)
    next_requests = []
    more = (current < total_pages) if total_pages else bool(best)
    if more and best:
        next_requests.append(PageRequest(_with_page(url, key, current + 1), family="json",
                                         context={"family": "json", "per_page": per_page}))
    return ListPage(items=items, next_requests=next_requests, total_pages=total_pages, family="json", page=current)
