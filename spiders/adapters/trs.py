"""TRS WCM static lists: `createPageHTML(countPage, currentPage, "index", "html")` -> index.html, index_1.html ..."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from spiders.adapters.common import ListPage, PageRequest, entries_from_html

# createPageHTML(5, 0, "index", "html")  |  createPageHTML('page_div', 5, 1, 'index', 'shtml', 96)  |
# createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) with the values set in `var`s
_CALL_ARGS = re.compile(r"createPageHTML\(([^()]*)\)")
_VAR = r"(?:var\s+)?\b{name}\s*=\s*['\"]?([\w-]+)['\"]?"


def matches(text: str, url: str) -> bool:
    return "createPageHTML" in text or bool(re.search(r"\bvar\s+countPage\s*=", text))


def _var(text: str, name: str) -> str | None:
    match = re.search(_VAR.format(name=re.escape(name)), text)
    return match.group(1) if match else None


def _call_args(text: str) -> list[str] | None:
    """The createPageHTML arguments, variables resolved; the container id that newer templates pass first is
    dropped, so the list always starts (countPage, currentPage, prefix, suffix)."""
    for match in _CALL_ARGS.finditer(text):  # the first call with arguments (not the function definition)
        args = []
        for arg in (a.strip() for a in match.group(1).split(",")):
            if arg[:1] in ("'", '"'):
                args.append(arg.strip("'\""))
            elif arg.isdigit():
                args.append(arg)
            else:
                args.append(_var(text, arg) if re.fullmatch(r"[A-Za-z_$][\w$]*", arg) else None)
        if args and args[0] is not None and not args[0].isdigit():
            args = args[1:]
        if args and args[0] and args[0].isdigit():
            return args
    return None


def pager_params(text: str, url: str = "") -> tuple[int, str, str] | None:
    """(countPage, prefix, suffix) of the page's TRS pager, or None. A suffix the page does not state is the
    extension of its own URL (index.shtml pages on to index_1.shtml)."""
    own = re.search(r"\.(\w+)$", urlsplit(url).path)
    default_suffix = own.group(1) if own else "html"
    args = _call_args(text)
    if args is None:
        count = _var(text, "countPage")
        if not (count and count.isdigit()):
            return None
        args = [count, None, _var(text, "prefix"), _var(text, "suffix")]
    args += [None] * (4 - len(args))
    return int(args[0]), args[2] or "index", args[3] or default_suffix


def parse(text: str, url: str, context: dict):

    items = entries_from_html(text, url)
    params = pager_params(text, url)
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
