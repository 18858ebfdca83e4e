"""What every adapter shares: the list-page types (`ListEntry`, `PageRequest`, `ListPage`), the page-number
query parameters, decoding, dates, and finding dated item links in an HTML fragment."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html


@dataclass(frozen=True)
class ListEntry:
    url: str
    title: str
    date: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identity of the list entry as shown on the list page: when it changes, the detail is refetched."""
        return hashlib.sha1(f"{self.title}\x1f{self.date or ''}".encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PageRequest:
    url: str
    method: str = "GET"
    formdata: tuple[tuple[str, str], ...] | None = None
    family: str | None = None  # adapter that parses the response (None: detect again)
    context: dict = field(default_factory=dict, compare=False, hash=False)  # handed back to the adapter

    @property
    def key(self) -> str:
        """fetch_state identity of this list request (POST bodies matter)."""
        if self.method == "GET" or not self.formdata:
            return self.url
        return self.url + "#post:" + "&".join(f"{k}={v}" for k, v in self.formdata)


@dataclass
class ListPage:
    items: list[ListEntry] = field(default_factory=list)
    next_requests: list[PageRequest] = field(default_factory=list)
    total_pages: int | None = None
    family: str = "generic"
    page: int | None = None  # 1-based number of this list page when known


# query parameters that number the pages of a list or API (page=2, pageNo=2, pageIndex=2, current=2 ...),
# compared lower-cased
PAGE_PARAMS = frozenset(("page", "pageno", "pagenum", "pagenumber", "pageindex", "page_no", "page_num",
                         "page_index", "curpage", "currpage", "currentpage", "current", "cpage", "pn", "p"))


def is_page_param(name: str) -> bool:
    return name.lower() in PAGE_PARAMS


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312", "gb_2312"}


def _normalise_encoding(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    if name in _GB_FAMILY or name.replace("-", "").replace("_", "") in {"gb2312", "gbk", "gb18030"}:
        return "gb18030"  # superset: pages that declare gb2312 often carry GBK/GB18030 characters
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """bytes -> str: BOM, HTTP charset, <meta> charset (gb2312/gbk read as gb18030), then utf-8/gb18030."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    candidates = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            candidates.append(_normalise_encoding(match.group(1)))
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(_normalise_encoding(match.group(1).decode("ascii", "ignore")))
    for encoding in [c for c in candidates if c] + ["utf-8"]:
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace")


DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def find_date(text: str) -> str | None:
    match = DATE_RE.search(text or "")
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


_SPACE = re.compile(r"\s+")
NAV_TEXTS = {"首页", "上一页", "下一页", "尾页", "末页", "上页", "下页", "前页", "后页", "更多", "more", "返回", "跳转",
             "确定", "go", "打印", "关闭", "收藏", "分享", "登录", "注册", "English", "无障碍", "长者模式"}
_PAGE_NUMBER = re.compile(r"^[\[\(（]?\d{1,4}[\]\)）]?$")
ARTICLE_HREF = re.compile(r"(/art/\d{4}/|/t\d{8}_|content_\d+|/\d{6,}/|/\d{4}-?\d{2}/|_\d{5,}\.s?html?|"
                          r"art_\d+_\d+|\d{6,}\.s?html?|/c\d+/|detail|article|info/\d+)", re.I)
FILE_HREF = re.compile(r"\.(pdf|docx?|wps|xlsx?|zip|rar|ofd)(\?|$)", re.I)
_SIDE_HINT = re.compile(r"(side|right|left|hot|rank|footer|foot|nav|menu|banner|header|top|link|friend|rmtj|tj)",
                        re.I)
_LIST_HINT = re.compile(r"(list|lb|xxgk|content|main|column|news|info|data|zfxxgk|gkml|art)", re.I)


def clean_text(text: str | None) -> str:
    return _SPACE.sub(" ", (text or "").replace("\u3000", " ").replace("\xa0", " ")).strip()


# a date printed inside the link itself (<a><span>title</span><span>2023-03-28</span></a>), at either end;
# only the numeric form: "2023年3月28日召开…" at the start of a link is more likely the title itself
_NUM_DATE = r"[\[(（【]?(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}[\])）】]?"
_EDGE_DATE = re.compile(rf"^{_NUM_DATE}\s*|\s*{_NUM_DATE}$")


def link_title(a) -> str:
    text = clean_text(a.text_content())
    stripped = _EDGE_DATE.sub("", text).strip()
    if len(stripped) >= 4:  # the row's date is found by _row_date; it is no part of the title
        text = stripped
    title = clean_text(a.get("title"))
    if title and (not text or len(title) > len(text) or text.endswith(("...", "…"))):
        return title
    return text


def _usable_href(href: str | None) -> bool:
    if not href:
        return False
    href = href.strip()
    return bool(href) and not href.lower().startswith(("javascript:", "mailto:", "tel:", "#", "about:", "data:"))


def parse_fragment(text: str):
    try:
        root = lxml.html.fromstring(text)
    except (ValueError, lxml.etree.ParserError):  # empty or bytes-declared documents
        try:
            root = lxml.html.fromstring(text.encode("utf-8"))
        except Exception:  # noqa: BLE001 - a list page we cannot parse has no entries
            return None
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree() if bad.getparent() is not None else None
    return root


def _container_key(a):
    """The list container of a link: the nearest ul/ol/table/dl (or div) above its row."""
    node = a.getparent()
    depth = 0
    while node is not None and depth < 6:
        if node.tag in ("ul", "ol", "table", "tbody", "dl"):
            return node
        node = node.getparent()
        depth += 1
    return a.getparent()


def _link_counts(root) -> dict:
    """{element: number of usable links inside it}, in one pass over the links (each climbs its ancestors),
    so that finding a link's row costs a lookup, not a walk over every link of a flat list page."""
    counts: dict = {}
    for a in root.iter("a"):
        if _usable_href(a.get("href")):
            for ancestor in a.iterancestors():
                counts[ancestor] = counts.get(ancestor, 0) + 1
    return counts


def _row_date(a, link_counts: dict) -> str | None:
    """A date printed in the link's own row (an ancestor holding no other item link)."""
    date = None
    node = a
    for _ in range(4):
        parent = node.getparent()
        if parent is None:
            break
        if link_counts.get(parent, 0) > 1:
            break
        node = parent
        date = find_date(clean_text(node.text_content()))
        if date:
            return date
    # a date in the element right after the link (e.g. <a>..</a><span>2021-03-01</span>)
    sib = a.getnext()
    if sib is not None:
        return find_date(clean_text(sib.text_content()))
    return find_date(a.tail or "")


def _hint_score(container) -> int:
    score = 0
    node, depth = container, 0
    while node is not None and depth < 5:
        attrs = " ".join(filter(None, [node.get("class"), node.get("id")]))
        if attrs:
            if _LIST_HINT.search(attrs):
                score += 1
            if _SIDE_HINT.search(attrs):
                score -= 2
        node = node.getparent()
        depth += 1
    return score


def entries_from_html(text_or_root, base_url: str, *, whole: bool = False):
    """(url, title, date) triples of item links in an HTML page or fragment.

    Dated links are grouped by their list container and the best container wins (most items, list-ish
    class names, no sidebar-ish ones). With no dated links, links that look like articles or files are
    used. `whole=True` keeps every dated link (fragments such as Hanweb CDATA records).
    """
    root = parse_fragment(text_or_root) if isinstance(text_or_root, str) else text_or_root
    if root is None:
        return []
    dated: list[tuple[object, ListEntry]] = []
    undated: list[ListEntry] = []
    link_counts = _link_counts(root)
    for a in root.iter("a"):
        href = a.get("href")
        if not _usable_href(href):
            continue
        title = link_title(a)
        if len(title) < 4 or title in NAV_TEXTS or _PAGE_NUMBER.match(title):
            continue
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        date = _row_date(a, link_counts)
        entry = ListEntry(url=url, title=title, date=date)
        if date:
            dated.append((_container_key(a), entry))
        elif len(title) >= 8 and (ARTICLE_HREF.search(url) or FILE_HREF.search(url)):
            undated.append(entry)
    if dated:
        if whole:
            chosen = [e for _, e in dated]
        else:
            groups: dict[int, list] = {}
            containers = {}
            for container, entry in dated:
                groups.setdefault(id(container), []).append(entry)
                containers[id(container)] = container
            best = max(groups, key=lambda k: (len(groups[k]) + 3 * _hint_score(containers[k]), len(groups[k])))
            chosen = groups[best]
    else:
        chosen = undated
    seen: set[str] = set()
    result = []
    for entry in chosen:
        if entry.url in seen:
            continue
        seen.add(entry.url)
        result.append(entry)
    return result
