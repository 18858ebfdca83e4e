"""Hanweb (大汉) JCMS lists: records in `<script type="text/xml">` CDATA, further groups paged by POSTing
`startrecord/endrecord/perpage` to `/module/web/jpage/dataproxy.jsp` with the column's `columnid`/`unitid`."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from spiders.adapters.common import ListPage, PageRequest, entries_from_html

_XML_SCRIPT = re.compile(r"<script[^>]+type\s*=\s*['\"]text/xml['\"][^>]*>(.*?)</script>", re.S | re.I)
_RECORD = re.compile(r"<record[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_PROXY = re.compile(r"""['"]?(?:proxyUrl|url)['"]?\s*[:=]\s*['"]([^'"]*dataproxy\.jsp[^'"]*)['"]""", re.I)
_PROXY_ANY = re.compile(r"""([\w/.\-]*dataproxy\.jsp(?:\?[^'"<>\s]*)?)""", re.I)


def matches(text: str, url: str) -> bool:
    return "dataproxy.jsp" in text or bool(_XML_SCRIPT.search(text) and "<record" in text.lower()) \
        or text.lstrip().startswith("<datastore") or "<recordset" in text[:2000].lower()


def _num(text: str, *names: str) -> int | None:
    """A number set in script (`totalRecord: 40`, `var perpage = 15`) or, as dataproxy answers and some
    datastores carry it, an XML element (`<totalrecord>40</totalrecord>`)."""
    for name in names:
        match = re.search(rf"""['"]?\b{name}\b['"]?\s*[:=]\s*['"]?(\d+)|<{name}>\s*(\d+)\s*</{name}>""", text, re.I)
        if match:
            return int(match.group(1) or match.group(2))
    return None


def _str(text: str, name: str) -> str | None:
    match = re.search(rf"""['"]?\b{name}\b['"]?\s*[:=]\s*['"]([^'"]*)['"]""", text, re.I)
    return match.group(1) if match else None


def records(text: str) -> list[str]:
    """The HTML fragments of the page's (or the dataproxy response's) records."""
    return _RECORD.findall(text)


def _params(text: str, url: str) -> dict | None:
    """dataproxy path and form parameters read from the list page's script."""
    match = _PROXY.search(text) or _PROXY_ANY.search(text)
    if not match:
        return None
    proxy = urljoin(url, match.group(1).replace("&amp;", "&"))
    query = dict(parse_qsl(urlsplit(proxy).query))
    proxy_path = proxy.split("?", 1)[0]
    form: dict[str, str] = {}
    for key in ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                "permissiontype"):
        value = query.get(key)
        if value is None:
            number = _num(text, key)
            value = str(number) if number is not None else _str(text, key)
        if value is not None:
            form[key] = value
    if "columnid" not in form or "unitid" not in form:
        return None
    form.setdefault("col", "1")
    form.setdefault("appid", "1")
    form.setdefault("path", "/")
    form.setdefault("permissiontype", "0")
    return {"proxy": proxy_path, "form": form}


def _request(ctx: dict, start: int):

    end = start + ctx["step"] - 1
    if ctx.get("total"):
        end = min(end, ctx["total"])
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": ctx["perpage"]})
    new_ctx = dict(ctx, start=start, end=end)
    return PageRequest(f"{ctx['proxy']}?{query}", method="POST", formdata=tuple(ctx["form"].items()),
                       family="hanweb", context=new_ctx)


def parse(text: str, url: str, context: dict):

    items = []
    for fragment in records(text):
        items.extend(entries_from_html(f"<div>{fragment}</div>", url, whole=True))
    if not items and "<record" not in text.lower():
        items = entries_from_html(text, url)
    if context.get("proxy"):  # a dataproxy.jsp response: continue after this group
        ctx = dict(context)
        total = _num(text, "totalrecord", "totalRecord") or ctx.get("total")
        ctx["total"] = total
        got = len(records(text))
        start, end = ctx["start"], ctx["end"]
        page = (start - 1) // ctx["perpage"] + 1
        more = (end < total) if total else (got >= end - start + 1 and got > 0)
        next_requests = [_request(ctx, end + 1)] if more else []
        pages = -(-total // ctx["perpage"]) if total else None
        return ListPage(items=items, next_requests=next_requests, total_pages=pages, family="hanweb", page=page)
    params = _params(text, url)
    if params is None:
        return ListPage(items=items, family="hanweb", page=1)
    inline = len(records(text))
    perpage = _num(text, "perpage", "perPage", "pagesize", "pageSize") or (inline or 15)
    group = _num(text, "groupSize", "groupsize") or 1
    total = _num(text, "totalRecord", "totalrecord", "totalRecords")
    ctx = {"family": "hanweb", "proxy": params["proxy"], "form": params["form"], "perpage": perpage,
           "step": perpage * group, "total": total}
    pages = -(-total // perpage) if total else None
    next_requests = []
    start = (inline or perpage) + 1
    if total is None or start <= total:
        next_requests.append(_request(ctx, start))
    return ListPage(items=items, next_requests=next_requests, total_pages=pages, family="hanweb", page=1)
