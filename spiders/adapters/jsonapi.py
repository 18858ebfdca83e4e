"""JSON list APIs: gkmlpt (`/gkmlpt/api/all/{column}?page=N` -> `{"articles": [...], "total": N}`) and
海云 IGS-style responses (`{"data": {"list"|"data"|"records": [...], "total"/"totalPage": ...}}`).

A gkmlpt HTML column page (`/gkmlpt/index#5`, or a page mentioning `/gkmlpt/api/all/5`) is turned into the
first API request."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from spiders.adapters.common import ListEntry, ListPage, PageRequest, clean_text, find_date, is_page_param

# Keys are matched case-insensitively (IGS answers DOCTITLE, others docTitle or title); order = preference.
TITLE_KEYS = ("title", "doctitle", "f_title", "name", "subject")
URL_KEYS = ("url", "link", "docpuburl", "href", "docurl", "puburl", "linkurl", "path")
DATE_KEYS = ("date", "first_publish_time", "publish_time", "pubdate", "docreltime", "publishtime", "releasetime",
             "docpubtime", "pubtime", "publishdate", "releasedate", "created_at", "time", "display_publish_time")
TOTAL_PAGE_KEYS = ("totalpage", "totalpages", "total_page", "pagecount", "page_count", "pages")
TOTAL_KEYS = ("total", "totalcount", "total_count", "count", "totalrecord", "totalelements", "totalnum")
_JSONP = re.compile(r"^\s*[\w$.]+\s*\(\s*([\[{].*[\]}])\s*\)\s*;?\s*$", re.S)
_TAG = re.compile(r"<[^>]+>")
_GKMLPT_API = re.compile(r"(/gkmlpt/api/all/\d+)")
_CST = timezone(timedelta(hours=8))


def _load(text: str):
    """The JSON of an API answer, a JSONP answer (`cb({...});`) unwrapped; None when the text is no JSON."""
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        match = _JSONP.match(stripped)
        if not match:
            return None
        stripped = match.group(1)
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def matches(text: str, url: str) -> bool:
    return _load(text) is not None or "/gkmlpt/" in url or bool(_GKMLPT_API.search(text))


def _date(value) -> str | None:
    if isinstance(value, (int, float)) and value > 0:
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, _CST).strftime("%Y-%m-%d")
    if isinstance(value, str):
        if value.isdigit() and len(value) >= 10:
            return _date(int(value))
        return find_date(value)
    return None


def _lowered(record: dict) -> dict:
    """A record with its keys lower-cased, once per record: every key list below is lower-case."""
    return {str(k).lower(): v for k, v in record.items()}


def _first(record: dict, keys) -> object:
    """The first non-empty value of `keys` in a `_lowered` record."""
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def _record_date(record: dict) -> str | None:
    """The date of a record: a known date key, else any *time / *date key that holds a date."""
    found = _date(_first(record, DATE_KEYS))
    if found:
        return found
    for key, value in record.items():
        if key.endswith(("time", "date")):
            found = _date(value)
            if found:
                return found
    return None


def _title(value) -> str:
    """Search APIs highlight the query in titles (`<em>法治</em>政府`): keep the text only."""
    return clean_text(html.unescape(_TAG.sub("", str(value))))


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
    lowered = _lowered(holder)
    for key in keys:
        value = lowered.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _page_param(url: str) -> tuple[str, int] | None:
    for key, value in parse_qsl(urlsplit(url).query):
        if is_page_param(key) and value.isdigit():
            return key, int(value)
    return None


def _with_page(url: str, key: str, number: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != key] + [(key, str(number))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def parse(text: str, url: str, context: dict):

    data = _load(text)
    if data is None:  # a gkmlpt HTML shell: start the API
        match = _GKMLPT_API.search(text)
        if match:
            api = urljoin(url, match.group(1))
        else:
            column = re.search(r"#(\d+)$", url) or re.search(r"\bcolumn(?:Id|_id)?\s*[:=]\s*['\"]?(\d+)", text)
            if not column:
                return ListPage(family="json")
            api = urljoin(url, f"/gkmlpt/api/all/{column.group(1)}")
        return ListPage(next_requests=[PageRequest(f"{api}?page=1", family="json")], family="json")
    best_holder, best = None, []
    for holder, values in _item_lists(data):
        usable = [r for r in map(_lowered, values) if _first(r, TITLE_KEYS) and _first(r, URL_KEYS)]
        if len(usable) > len(best):
            best_holder, best = holder, usable
    items = []
    for record in best:
        link = str(_first(record, URL_KEYS)).strip()
        if link.lower().startswith("javascript"):
            continue
        items.append(ListEntry(url=urljoin(url, link), title=_title(_first(record, TITLE_KEYS)),
                               date=_record_date(record)))
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
