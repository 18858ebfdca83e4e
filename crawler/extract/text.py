"""Plain-text page dumps (like `seeds/pages/*.txt`) -> page parts, and the line-level body cleaner that the
HTML path shares.

A dump is the page's visible text, chrome included: header bars, breadcrumb, the title (sometimes twice),
a metadata line, the body, tool links, related links, footer.  The header zone is everything before the
first real body paragraph; the title's last occurrence in it marks where the body starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .chrome import is_chrome, is_label_only, is_meta_line, is_related_heading, parse_fields
from .dates import Stamp, is_bare_date, parse_date
from .regions import strip_glosses
from .title import is_section_name, norm, pick_text_title, title_span

_STRIP = " \t\r\n\f\v\u3000\xa0\u200b\ufeff"
MAX_ZONE = 40  # the header zone never extends beyond this many lines
EDGE = 5000  # on bodies longer than 2*EDGE lines only the first/last EDGE lines are checked for chrome
MAX_TEXT_CHARS = 8_000_000  # bigger dumps are cut: the work stays bounded


@dataclass
class PageParts:
    """What a parser (HTML or text) found on a page, before assembling the Record."""

    title: str | None = None
    lines: list[str] = field(default_factory=list)          # clean body lines
    fields: list[tuple[str, str]] = field(default_factory=list)  # visible `label: value` pairs, nearest first
    bare_dates: list[Stamp] = field(default_factory=list)   # un-labelled dates right under the title
    meta: dict[str, str] = field(default_factory=dict)      # <meta> name/property -> content (lower-case keys)
    site_name: str | None = None
    title_tag: str | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (absolute url, link text)
    container: str | None = None                            # which body container matched ("text" for dumps)


def strip_line(line: str) -> str:
    return line.strip(_STRIP)


def is_body_para(line: str, title: str | None = None) -> bool:
    """A real body paragraph (ends the header zone); a spam mirror's pinyin glosses do not count."""
    n = len(strip_glosses(line))
    if n < 30 or (n < 60 and not line.endswith(("。", "：", ":"))):
        return False
    return not is_chrome(line) and (not title or norm(line) != norm(title))


def zone_end(lines: list[str], title: str | None = None) -> int:
    for i, ln in enumerate(lines[:MAX_ZONE]):
        if is_body_para(ln, title):
            return i
    return min(len(lines), MAX_ZONE)


def clean_body(lines: list[str], title: str | None) -> tuple[list[str], list[str]]:
    """(body lines, header lines removed from the top).

    Drops: everything up to the title's last occurrence in the header zone (slogans, logos, breadcrumbs,
    the repeated title even when split over lines); metadata lines, `label:` + value pairs and a bare date
    at the top; chrome lines anywhere; a trailing related-links block.
    """
    lines = [ln for ln in lines if ln]
    head: list[str] = []
    zend = zone_end(lines, title)
    span = title_span(lines, title, 0, zend + 1)
    if span:
        head, lines = lines[:span[1]], lines[span[1]:]
    out: list[str] = []
    top = True
    value_next = False
    n = len(lines)
    for i, ln in enumerate(lines):
        if top and (i >= MAX_ZONE or is_body_para(ln, title)):
            top = False
        if EDGE < i < n - EDGE:
            out.append(ln)  # huge bodies: chrome sits at the edges, keep the middle without checks
            continue
        if top:
            if value_next and len(ln) <= 40 and not is_meta_line(ln):
                head.append(ln)
                value_next = False
                continue
            value_next = is_label_only(ln)
            if is_chrome(ln) or (not out and (is_bare_date(ln) or is_section_name(ln) or norm(ln) == norm(title))):
                head.append(ln)
                continue
        elif is_chrome(ln):
            continue
        out.append(ln)
    return _cut_related_tail(out), head


def _cut_related_tail(lines: list[str]) -> list[str]:
    """Cut at a related-links heading (相关链接/相关文档/上一篇...) when only short link-like lines follow."""
    start = max(0, len(lines) - 40)
    for i in range(start, len(lines)):
        if is_related_heading(lines[i]) and all(len(x) <= 80 for x in lines[i + 1:]):
            return lines[:i]
    return lines


def collect_fields(lines: list[str]) -> list[tuple[str, str]]:
    """`label: value` pairs from metadata lines; a label alone on its line takes the next line as value."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if is_label_only(ln) and i + 1 < len(lines) and not is_meta_line(lines[i + 1]) and len(lines[i + 1]) <= 40:
            out.append((parse_fields(ln)[0][0], lines[i + 1]))
            i += 2
            continue
        if is_meta_line(ln):
            out.extend(parse_fields(ln))
        i += 1
    return out


def bare_dates_after_title(lines: list[str], title: str | None) -> list[Stamp]:
    """Un-labelled date lines directly under an occurrence of the title (at most two lines below).  A long
    title is often broken over two lines in the heading (<h1>…<br>…</h1>): such a split occurrence counts."""
    out = []
    for i in range(len(lines)):
        span = title_span(lines, title, i, i + 3)
        if span and span[0] == i:
            for nxt in lines[span[1]:span[1] + 2]:
                if is_bare_date(nxt):
                    st = parse_date(nxt)
                    if st:
                        out.append(st)
                    break
    return out


def signing_date(lines: list[str]) -> Stamp | None:
    """The signing date among the last lines of the body (`2024年1月25日`)."""
    for ln in reversed(lines[-5:]):
        if is_bare_date(ln):
            return parse_date(ln)
    return None


def parse_text(text: str) -> PageParts:
    lines = [s for s in (strip_line(x) for x in text[:MAX_TEXT_CHARS].splitlines()) if s]
    title = pick_text_title(lines[:zone_end(lines)])
    body, head = clean_body(lines, title)
    # the title line itself may carry a date ("标题 2023-02-15") in odd dumps; the bare line under it is usual
    bare = bare_dates_after_title(head + body[:1], title)
    if not bare and head and body and is_bare_date(head[-1]):
        st = parse_date(head[-1])
        bare = [st] if st else []
    return PageParts(title=title, lines=body, fields=collect_fields(head), bare_dates=bare, container="text")


_HTML_HINT_RE = re.compile(
    r"<(?:!doctype\s+html|html|head|body|div|p|meta|title|table|span|br|script|style|a\s|ucapcontent|article"
    r"|section|h[1-6]|ul|li|font|center|form|link)[\s>/]",
    re.I,
)


def looks_like_html(text: str) -> bool:
    """HTML when tags such as <html>, <body>, <div>, <p>, <meta> appear in the first 64 KB."""
    return _HTML_HINT_RE.search(text, 0, 65536) is not None
