"""Title choice and cleaning.

`<title>` is usually `标题_站名`, `标题 | 站名`, `站名 栏目 标题` or `标题-站名`; the report's own title is the
part that is not the site or column name.  Also: matching a title against body lines (a title repeated at
the top of the body, possibly split over two lines, is removed by the caller).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .chrome import is_chrome
from .dates import is_bare_date
from .regions import to_simplified

_WS_RE = re.compile(r"[\s\u3000\xa0]+")
# Separators between title, column and site parts.  A bare hyphen only splits between non-digits so
# "（2021-2025年）" survives.
_SPLIT_RE = re.compile(r"\s*(?:_+|\||｜|丨|::|»|—{2,}|-{2,}|\s[-–—]\s|(?<=\D)[-–—](?=\D))\s*")
_SITE_SUFFIX_RE = re.compile(r"(?:人民政府|政府网|门户网站|政府网站|网站|政务网|政务服务网|官网|官方网站"
                             r"|[省市县区州盟旗镇乡]政府|网)$")
DOC_KEYWORDS_RE = re.compile(r"报告|公报|通知|意见|方案|办法|规划|要点|总结|情况|决定|解读|公告|通告|规定|细则|计划")
_NOT_TITLE_END = tuple("。；;，,：:！!？?")
# A site section's (column's) name printed where a title would be -- 网站公告, 政务公告, 通知公告, 陇西动态,
# 专题专栏, 法定主动公开内容, 法治政府建设 or 工作报告 (the column itself): it names no document.
_SECTION_RE = re.compile(
    r"[\u4e00-\u9fff]{0,6}(?:公告|公示|通知|动态|要闻|新闻|资讯|信息|专栏|专题|栏目|文件|公开|首页|频道|中心|导航|列表"
    r"|其他|正文|详情|内容|目录|查询|服务|互动)"
    r"|(?:法治政府建设|建设法治政府|法治建设|依法行政|法治政府|法治[\u4e00-\u9fff]{2,3})(?:专栏|专题|工作)?"
    r"|(?:年度)?(?:工作)?报告(?:公示|公开)?"
)
_SECTION_TRIM = "【】[]〔〕「」<>《》 \t\u3000\xa0"
_FOOTNOTE_RE = re.compile(r"^[\[［(（]?\d{1,2}[\]］)）]?$|^[*＊]$")


@lru_cache(maxsize=8192)  # title_span and the title tests compare every line of a page's head several times
def norm(text: str | None) -> str:
    """Comparison key: NFKC (full-width -> ASCII) without any whitespace."""
    if not text:
        return ""
    return _WS_RE.sub("", unicodedata.normalize("NFKC", text))


def squash(text: str | None) -> str:
    """Collapse inner whitespace runs to one space and strip."""
    return _WS_RE.sub(" ", text or "").strip()


def is_site_like(part: str, site_name: str | None = None, column_name: str | None = None) -> bool:
    n = norm(part)
    if not n:
        return True
    if n in {norm(site_name), norm(column_name)} - {""}:
        return True
    return len(n) <= 20 and _SITE_SUFFIX_RE.search(n) is not None


def clean_title_tag(raw: str | None, site_name: str | None = None,
                    column_name: str | None = None) -> tuple[str | None, str | None]:
    """(title, site part) from a `<title>` text."""
    raw = squash(raw)
    if not raw:
        return None, None
    parts = [p for p in _SPLIT_RE.split(raw) if p and p.strip()]
    site_part = next((p.strip() for p in parts if is_site_like(p, site_name) and norm(p)), None)
    keep = [p.strip() for p in parts if not is_site_like(p, site_name, column_name)]
    if len(parts) > 1:
        # the title is the longest non-site part; if every part looks site-like, the first one
        title = max(keep, key=len) if keep else parts[0].strip()
    else:
        title = keep[0] if keep else raw
        # "站名 栏目 标题": strip site-like / column tokens from the start and end.
        tokens = title.split(" ")
        if len(tokens) > 1:
            lead_site = False
            while len(tokens) > 1 and is_site_like(tokens[0], site_name, column_name):
                site_part = site_part or tokens[0]
                tokens.pop(0)
                lead_site = True
            while len(tokens) > 1 and is_site_like(tokens[-1], site_name, column_name):
                site_part = site_part or tokens[-1]
                tokens.pop()
            if lead_site and len(tokens) > 1:
                longest = max(tokens, key=len)
                # the remaining short leading tokens are column names
                title = longest if len(longest) >= 6 else " ".join(tokens)
            else:
                title = " ".join(tokens)
    return (title or None), site_part


def heading_matches(heading: str, title_tag: str, cleaned: str | None) -> bool:
    """Does an in-page heading name the same document as `<title>`?"""
    h = norm(heading)
    if len(h) < 4:
        return False
    c = norm(cleaned).rstrip(".…")
    if c and (c in h or (h in c and len(h) >= 0.6 * len(c))):
        return True
    return len(h) >= 8 and h in norm(title_tag)


def choose_title(ucaptitle: str | None, article_title: str | None, headings: list[str],
                 title_tag: str | None, site_name: str | None, column_name: str | None,
                 meta_titles: tuple[str | None, ...] = ()) -> tuple[str | None, str | None]:
    """(title, site part of <title>) by preference: ucaptitle, ArticleTitle meta, a heading matching
    `<title>` (or a title meta), cleaned `<title>`, a cleaned title meta (`og:title`, `<meta name="title">`),
    first heading.  Title metas are cleaned like `<title>` (site and column parts stripped); they matter on
    pages whose `<title>` is only the site or column name."""
    tags = [t for t in (title_tag, *meta_titles) if t and squash(t)]
    cleaned_all = [clean_title_tag(t, site_name, column_name) for t in tags]
    site_part = next((sp for _, sp in cleaned_all if sp), None)
    for cand in (ucaptitle, article_title):
        if cand and squash(cand):
            return squash(cand), site_part
    for tag, (cleaned, _) in zip(tags, cleaned_all):
        matching = [squash(h) for h in headings
                    if heading_matches(h, tag, cleaned) and not is_site_like(h, site_name, column_name)]
        if matching:
            return max(matching, key=len), site_part
    for cleaned, _ in cleaned_all:
        if cleaned and not is_site_like(cleaned, site_name, column_name):
            return cleaned, site_part
    for h in headings:
        h = squash(h)
        if 4 <= len(h) <= 120 and not is_site_like(h, site_name, column_name):
            return h, site_part
    return None, site_part


@lru_cache(maxsize=8192)
def is_section_name(line: str | None) -> bool:
    """A site section's name (网站公告, 政务公告, 陇西动态 ...), never a document's title."""
    t = to_simplified(norm(line)).strip(_SECTION_TRIM)
    if not t or len(t) > 10 or re.search(r"\d|关于|的|年", t):
        return False
    return _SECTION_RE.fullmatch(t) is not None


def is_title_like(line: str) -> bool:
    return (6 <= len(line) <= 100 and not line.endswith(_NOT_TITLE_END) and not is_chrome(line)
            and not is_section_name(line)
            and not is_bare_date(line) and not re.match(r"^[一二三四五六七八九十]+、|^[(（][一二三四五六七八九十]+[)）]", line))


def pick_text_title(lines: list[str]) -> str | None:
    """Title of a plain-text dump: among the header lines, the first title-like line naming a document
    (报告/公报/通知...), else the first title-like line."""
    cands = [ln for ln in lines if is_title_like(ln)]
    for ln in cands:
        if DOC_KEYWORDS_RE.search(to_simplified(ln)):
            return clean_title_tag(ln)[0] or ln
    return (clean_title_tag(cands[0])[0] or cands[0]) if cands else None


def title_before_body(pre_lines: list[str], window: int = 12) -> str | None:
    """On pages whose `<title>` is only the site name (plain county sites), the title is the document-naming
    line closest above the body: scan the lines just before the body container upwards."""
    for line in reversed(pre_lines[-window:]):
        if is_title_like(line) and DOC_KEYWORDS_RE.search(to_simplified(line)):
            return squash(line)
    return None


def title_span(lines: list[str], title: str | None, start: int = 0, limit: int | None = None) -> tuple[int, int] | None:
    """(first, last+1) line indexes of the LAST occurrence of `title` in lines[start:limit], where the title
    may be split over up to three consecutive lines or carry a footnote mark ("...公报[1]")."""
    t = norm(title)
    if len(t) < 4:
        return None
    end = len(lines) if limit is None else min(limit, len(lines))
    found = None
    i = start
    while i < end:
        n = norm(lines[i])
        if n == t or (n.startswith(t) and _FOOTNOTE_RE.match(n[len(t):])):
            found = (i, i + 1)
        elif len(n) >= 4 and t.startswith(n):
            acc, j = n, i + 1
            while j < end and j < i + 3 and len(acc) < len(t):
                nxt = norm(lines[j])
                if not nxt or not t.startswith(acc + nxt):
                    break
                acc += nxt
                j += 1
            if acc == t and j > i + 1:
                found = (i, j)
                i = j
                continue
        i += 1
    return found
