"""HTML -> page parts: title candidates, <meta> tags, body lines and attachment links.

One lxml parse.  The body comes from a known CMS container when one holds real text (Kaipuyun
<ucapcontent>, TRS .TRS_Editor, Hanweb #zoom, www.gov.cn #UCAP-CONTENT/.pages_content, ...), else from a
text-density walk (trafilatura only when even that finds nothing).  One walk over <body> turns blocks into
lines and remembers where the container starts and ends, so the lines just before it (title, metadata
line) are available for dates and source.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from .chrome import is_chrome, is_label_text
from .text import PageParts, bare_dates_after_title, clean_body, collect_fields, strip_line
from .title import choose_title, is_section_name, is_site_like, squash, title_before_body, title_span

MAX_HTML_CHARS = 8_000_000  # bigger pages are cut: the article is near the top, and the work stays bounded

_DROP_TAGS = ("script", "style", "noscript", "iframe", "svg", "select", "button", "textarea", "input", "object",
              "embed", "template", "canvas", "map", "audio", "video", "frameset", "frame")
_BLOCK = frozenset("""p div br li tr h1 h2 h3 h4 h5 h6 ul ol dl dt dd table tbody thead tfoot section article
    header footer aside main blockquote pre hr center address figure figcaption caption body html form fieldset
    legend nav ucapcontent ucaptitle details summary option""".split())
_CELL = frozenset(("td", "th"))
_WS_RE = re.compile(r"[ \t\r\n\f\v]+")
_ALLWS_RE = re.compile(r"[\s\u3000\xa0]+")

# Known body containers.  Strong ones are CMS-specific and trusted whenever they hold some text; generic
# ones (.content, #content, article, ...) must also pass link-density and whole-page checks.
_STRONG = {
    ("tag", "ucapcontent"): 0, ("id", "ucap-content"): 1, ("class", "trs_editor"): 2, ("class", "trs_ueditor"): 2,
    ("class", "trs_editor_view"): 2, ("id", "zoom"): 3, ("class", "pages_content"): 4, ("id", "pages_content"): 4,
    ("id", "vsb_content"): 5, ("class", "v_news_content"): 5, ("class", "wp_articlecontent"): 5,
    ("id", "js_content"): 5,
}
_STRONG_ID_PREFIX = ("zoom",)  # Hanweb: id="Zoom", "Zoom1", "zoomcon"
_GENERIC = {
    ("class", "article-content"): 10, ("class", "article_content"): 10, ("class", "articlecontent"): 10,
    ("id", "articlecontent"): 10, ("id", "article_content"): 10, ("class", "art_con"): 11, ("class", "art-con"): 11,
    ("class", "news_content"): 11, ("class", "news-content"): 11, ("class", "detail-content"): 11,
    ("class", "detail_content"): 11, ("class", "xxgk_content"): 11, ("class", "con_content"): 11,
    ("class", "article-body"): 11, ("class", "entry-content"): 11, ("id", "maintext"): 11,
    ("class", "main-text"): 11, ("id", "textcontent"): 11,
    ("class", "content"): 20, ("id", "content"): 20, ("class", "view"): 21, ("class", "contents"): 21,
    ("id", "contents"): 21, ("tag", "article"): 22,
}
_TITLE_NAMES = frozenset("""title article-title article_title articletitle tit bt news_title news-title
    detail-title detail_title con-title con_title xxgk_title art_title art-title contitle main-title sp_title
    pages-title doc-title ivs_title""".split())
_ATTACH_RE = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|ofd)(?:$|[?#])", re.I)
MIN_STRONG = 20   # non-space chars for a CMS container to count
MIN_GENERIC = 60
MAX_CELL = 300  # chars: a longer table cell is a layout cell, its blocks stay lines
# a body that only points at its attachment: 详见附件 / 见附件 / 点击下载 …
_ATTACHMENT_NOTICE = re.compile(r"附件|附文|下载|全文见|原文见")


def _drop(el) -> None:
    """Remove an element but keep its tail text (it belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _text(el) -> str:
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False) or ""


def _tlen(el) -> int:
    return len(_ALLWS_RE.sub("", _text(el)))


def _link_len(el) -> int:
    return sum(len(_ALLWS_RE.sub("", _text(a))) for a in el.iter("a"))


def _is_ancestor(a, b) -> bool:
    return any(x is a for x in b.iterancestors())


def _largest(cands: list[tuple[int, object, int]]):
    """The element of the (rank, element, text length) candidate with the most text, earliest rank on ties."""
    return max(cands, key=lambda c: (c[2], -c[0]))[1]


def _names(el) -> list[tuple[str, str]]:
    out = [("tag", el.tag)]
    ident = el.get("id")
    if ident:
        out.append(("id", ident.strip().lower()))
    cls = el.get("class")
    if cls:
        out.extend(("class", c) for c in cls.lower().split())
    return out


def _most_specific(cands: list[tuple[int, object, int]]) -> list[tuple[int, object, int]]:
    """Drop candidates that contain another candidate holding at least half of their text."""
    keep = []
    for c in cands:
        if not any(o is not c and o[2] >= 0.5 * c[2] and _is_ancestor(c[1], o[1]) for o in cands):
            keep.append(c)
    return keep


def _density_container(body):
    """Readability-style fallback: credit each non-link text node to its paragraph's parent box."""
    para = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote"}
    box = {"div", "td", "section", "article", "main", "body", "ucapcontent", "center", "form", "table", "font"}
    scores: dict = {}
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        for txt, owner in ((el.text, el), (el.tail, el.getparent())):
            if not txt or owner is None:
                continue
            n = len(_ALLWS_RE.sub("", txt))
            if n < 2 or (n <= 150 and is_chrome(strip_line(txt))):
                continue  # footer and metadata lines (主办单位：… 版权所有 …) are not content
            node, in_link = owner, False
            while node is not None:
                tag = node.tag
                if tag == "a":
                    in_link = True
                    break
                if tag in para:
                    node = node.getparent()
                    break
                if tag in box:
                    break
                node = node.getparent()
            if in_link or node is None:
                continue
            scores[node] = scores.get(node, 0) + n
            parent = node.getparent()
            if parent is not None:
                scores[parent] = scores.get(parent, 0) + n / 2
    if not scores:
        return None, 0
    best = max(scores, key=scores.get)
    return best, scores[best]


def _row_line(tr, container) -> str | None:
    """A table row read as one line, or None to walk it block by block.

    A data table inside the article (行政复议案件统计 …) reads one row per line, cells separated by a space;
    editors pasting from Word wrap every cell's text in <p>/<span>/<br>, so the cells' own blocks only separate
    words.  Rows of the 信息公开 attribute table (索引号 | 11340… | 发布日期 | 2023-03-24) read the same way,
    a bare label cell followed by its value cell getting a colon so the row reads as a metadata line.  A row
    with a nested table or a long cell is layout (a cell holding whole paragraphs): None."""
    cells = [c for c in tr if isinstance(c.tag, str) and c.tag in _CELL]
    if not cells or tr.find(".//table") is not None or (container is not None and _is_ancestor(tr, container)):
        return None
    texts = [squash(_text(c)) for c in cells]
    if any(len(t) > MAX_CELL for t in texts):
        return None
    labels = [is_label_text(t) for t in texts]
    inside = container is not None and _is_ancestor(container, tr)
    if not inside and not any(labels):
        return None
    out = []
    for i, t in enumerate(texts):
        if not t:
            continue
        if labels[i] and i + 1 < len(texts) and texts[i + 1] and not labels[i + 1] and not t.endswith((":", "：")):
            t += "："
        out.append(t)
    return " ".join(out)


def _lines(body, container) -> tuple[list[str], list[str], list[str]]:
    """(lines before the container, container lines, lines after) from one walk over <body>."""
    buf: list[str] = []
    start = end = -1
    walker = etree.iterwalk(body, events=("start", "end"))
    for ev, el in walker:
        tag = el.tag
        if not isinstance(tag, str):
            if ev == "end" and el.tail:
                buf.append(_WS_RE.sub(" ", el.tail))
            continue
        if ev == "start":
            if el is container:
                start = len(buf)
            row = _row_line(el, container) if tag == "tr" else None
            if row is not None:
                buf.append(f"\n{row}\n")
                walker.skip_subtree()  # its "end" event still comes: the tail is kept there
                continue
            if tag in _BLOCK:
                buf.append("\n")
            elif tag in _CELL:
                buf.append(" ")
            if el.text:
                buf.append(_WS_RE.sub(" ", el.text))
        else:
            if tag in _BLOCK:
                buf.append("\n")
            if el is container:
                end = len(buf)
            if el.tail:
                buf.append(_WS_RE.sub(" ", el.tail))

    def split(parts: list[str]) -> list[str]:
        return [s for s in (strip_line(x) for x in "".join(parts).split("\n")) if s]

    if start < 0:
        return [], split(buf), []
    return split(buf[:start]), split(buf[start:end]), split(buf[end:])


def _attachments(scope, base: str | None) -> list[tuple[str, str]]:
    out, seen = [], set()
    for a in scope.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        label = squash(_text(a)) or squash(a.get("title"))
        # download handlers (downfile.jsp?id=…) hide the extension: the link text names the file then
        if not (_ATTACH_RE.search(href) or _ATTACH_RE.search(label + "?")):
            continue
        link = urljoin(base, href) if base else href
        if link in seen:
            continue
        seen.add(link)
        out.append((link, label or urlsplit(link).path.rsplit("/", 1)[-1]))
    return out


def _trafilatura_lines(html: str) -> list[str] | None:
    try:
        import trafilatura  # imported lazily: slow to import and only needed for container-less pages
    except Exception:
        return None
    try:
        out = trafilatura.extract(html, favor_precision=True, include_comments=False, include_tables=True)
    except Exception:
        return None
    return [s for s in (strip_line(x) for x in (out or "").split("\n")) if s] or None


def parse_html(html: str, url: str | None = None) -> PageParts:
    html = html[:MAX_HTML_CHARS]
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True, huge_tree=True,
                              no_network=True, encoding="utf-8")
    try:
        root = etree.fromstring(html.encode("utf-8", "replace"), parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return PageParts()

    meta: dict[str, str] = {}
    for m in root.iter("meta"):
        key = m.get("name") or m.get("property") or m.get("http-equiv") or m.get("itemprop")
        if key:
            meta.setdefault(key.strip().lower(), squash(m.get("content")))
    t = root.find(".//title")
    title_tag = squash(_text(t)) if t is not None else None
    ucap = root.find(".//ucaptitle")
    ucaptitle = squash(_text(ucap)) if ucap is not None else None
    base_el = root.find(".//base[@href]")
    base = urljoin(url or "", base_el.get("href")) if base_el is not None else url

    for el in list(root.iter(*_DROP_TAGS)):
        _drop(el)
    body = root.find("body")
    if body is None:
        body = root

    headings: list[str] = []
    strong, generic = [], []
    for el in body.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag in ("h1", "h2", "h3"):
            headings.append(_text(el))
        if el.get("class") is None and el.get("id") is None:  # most elements: only the tag itself can rank
            rank = _STRONG.get(("tag", tag))
            if rank is not None:
                strong.append((rank, el))
            elif (rank := _GENERIC.get(("tag", tag))) is not None:
                generic.append((rank, el))
            continue
        names = _names(el)
        if any(kind != "tag" and n in _TITLE_NAMES for kind, n in names):
            headings.append(_text(el))
        rank = min((_STRONG[x] for x in names if x in _STRONG), default=None)
        if rank is None and any(k == "id" and n.startswith(_STRONG_ID_PREFIX) for k, n in names):
            rank = 3
        if rank is not None:
            strong.append((rank, el))
            continue
        rank = min((_GENERIC[x] for x in names if x in _GENERIC), default=None)
        if rank is not None:
            generic.append((rank, el))

    # Page chrome blocks; a header/form is kept when it may hold the article (ASP.NET wraps pages in <form>).
    for el in list(body.iter("nav", "footer", "aside", "header", "form")):
        if el.tag == "header" and any(a.tag in ("article", "main") for a in el.iterancestors()):
            continue
        if el.tag == "form" and (el.find(".//p") is not None or el.find(".//table") is not None
                                 or el.find(".//ucapcontent") is not None):
            continue
        _drop(el)
    alive = set(body.iter())

    container, kind = None, None
    strong_cands = [(r, el, _tlen(el)) for r, el in strong if el in alive]
    cands = _most_specific([c for c in strong_cands if c[2] >= MIN_STRONG])
    # a CMS body holding only a notice pointing at the attachment (详见附件。) is still the body
    notices = [c for c in strong_cands if 0 < c[2] < MIN_STRONG and _ATTACHMENT_NOTICE.search(_text(c[1]))]
    if cands or notices:
        container, kind = _largest(cands or notices), "cms"
    else:
        body_len = _tlen(body) or 1
        cands, notices = [], []
        for r, el in generic:
            if el not in alive:
                continue
            n = _tlen(el)
            if n < MIN_GENERIC:
                # a short generic box saying 详见附件 / 点击下载 next to its own attachment link is the body
                if n and _ATTACHMENT_NOTICE.search(_text(el)) and _attachments(el, None):
                    notices.append((r, el, n))
                continue
            links = _link_len(el)
            if links > 0.35 * n:
                continue  # a link list / navigation block
            if n >= 0.9 * body_len and links > 0.1 * n:
                continue  # the whole page, navigation included
            cands.append((r, el, n))
        picked = _most_specific(cands) or _most_specific(notices)
        if picked:
            container, kind = _largest(picked), "generic"
        else:
            best, score = _density_container(body)
            if best is not None and score >= 50:
                container, kind = best, "density"

    pre, lines, post = _lines(body, container)
    if container is None:
        fallback = _trafilatura_lines(html) if len(html) < 2_000_000 else None
        if fallback:
            lines, kind = fallback, "trafilatura"
        else:
            kind = "page"

    site_name = meta.get("sitename") or meta.get("og:site_name") or None
    title, site_part = choose_title(ucaptitle, meta.get("articletitle"), headings, title_tag,
                                    site_name, meta.get("columnname"),
                                    meta_titles=(meta.get("og:title"), meta.get("title")))
    if title is None or is_site_like(title, site_name, meta.get("columnname")) or is_section_name(title):
        title = title_before_body(pre) or title
    body_lines, head = clean_body(lines, title)

    # Visible metadata: lines around the title before the container, the container's own header lines, and
    # (last) the lines right after the container.
    # (the heading may break a long title over two lines, so the title is matched as a span)
    span = title_span(pre, title)
    window = pre[max(0, span[0] - 30):] if span else pre[-30:]
    fields = collect_fields(window) + collect_fields(head) + collect_fields(post[:10])
    # a date line the body keeps (a bulletin's own "（2023年4月12日）") is content, not the publication date
    bare = bare_dates_after_title(window + head, title)

    # attachment lists usually sit right after the body container, inside its parent
    scope = body
    if container is not None:
        parent = container.getparent()
        scope = parent if parent is not None and parent.tag not in ("html", "body") else container
    attachments = _attachments(scope, base)
    if not attachments and scope is not body:
        attachments = _attachments(body, base)  # an attachment list outside the article block
    return PageParts(
        title=title, lines=body_lines, fields=fields, bare_dates=bare, meta=meta,
        site_name=site_name or site_part, title_tag=title_tag,
        attachments=attachments, container=kind,
    )
