"""Column discovery: from a portal's home page (depth <= 2, the portal's own sites) find its 法治政府建设 /
法治建设 / 依法行政 column(s), ranked. The column spider fetches the pages (so robots.txt, the site rules,
politeness, retries and block detection apply); this module only says which pages to fetch next and ranks
what they hold: pure functions over fetched pages, and `Discovery`, the state of one portal's discovery.

    d = Discovery("home", "http://www.example.gov.cn/", allows)
    d.home_page(html, url) -> [(url, parent_score), ...]   pages to open next
    d.sub_page(html, url, parent_score); d.refused(url, "HTTP 404")
    d.to_verify() -> url | None                             the best candidate, if it was never fetched
    d.result() -> DiscoveryResult(status="found", columns=[...], score=..., candidates=[...])
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin, urlsplit

from spiders.adapters.common import clean_text, link_title, parse_fragment

# (pattern on the link text, score) -- first match wins
_TEXT_SCORES = (
    (re.compile(r"法治政府建设"), 100),
    (re.compile(r"法治政府"), 90),
    (re.compile(r"法治建设|法治[\u4e00-\u9fff]{0,2}建设"), 75),
    (re.compile(r"依法行政"), 65),
    (re.compile(r"依法治[省市县区州旗]"), 55),
)
_UNDER_COLUMN = re.compile(r"报告公示|年度报告|工作报告|报告")
_URL_HINTS = ((re.compile(r"fzzfjs|fzzf", re.I), 15), (re.compile(r"fzjs|fzgz", re.I), 10),
              (re.compile(r"yfxz", re.I), 8))
# sections worth opening on the way down (depth 1) even without a 法治 word
_SECTION = re.compile(r"政务公开|信息公开|政府信息|公开目录|专题|专栏|法治|依法|重点领域|部门|要闻|工作动态")
_ITEMISH = re.compile(r"(?:19|20)\d{2}|关于|的报告|通知|印发|召开|会议|调研|开展|举办|举行|座谈|部署|推进会|视察|检查|"
                      r"学习|培训|获评|荣获")
_ARTICLE_URL = re.compile(r"/(?:t\d{8}_\d+|art_\d+_\d+|\d{3,})\.s?html?$", re.I)
FOUND, NONE, UNREACHABLE, BLOCKED = "found", "none", "unreachable", "blocked"


@dataclass(frozen=True)
class Candidate:
    url: str
    text: str
    score: float
    depth: int = 1


def score_link(text: str, url: str, parent_score: float = 0) -> float:
    """Score of a link as a 法治政府建设 column (0: not one)."""
    text = clean_text(text)
    if not text or len(text) > 20 or _ITEMISH.search(text):
        return 0  # an article title, not a column name
    score = 0.0
    for pattern, value in _TEXT_SCORES:
        if pattern.search(text):
            score = value
            break
    if not score and parent_score and _UNDER_COLUMN.search(text):
        score = 50 if "报告" in text and ("公示" in text or "年度" in text) else 40
    if score:
        path = urlsplit(url).path + "?" + urlsplit(url).query
        for pattern, bonus in _URL_HINTS:
            if pattern.search(path):
                score += bonus
                break
        score -= max(0, len(text) - 8) * 0.5  # long link texts are less likely to be a column name
        if _ARTICLE_URL.search(urlsplit(url).path):
            score *= 0.5  # an article page, not a column
    return round(score, 1)


def candidates_from_page(html: str, url: str, allows=None, *, parent_score: float = 0,
                         depth: int = 1) -> tuple[list[Candidate], list[str]]:
    """(scored candidate columns, section links worth visiting next) on one page; `allows(url)` says which
    links are the portal's (default: the page's own host)."""
    root = parse_fragment(html)
    if root is None:
        return [], []
    if allows is None:
        host = urlsplit(url).hostname or ""
        allows = lambda target: (urlsplit(target).hostname or "") == host  # noqa: E731
    found: dict[str, Candidate] = {}
    sections: list[str] = []
    here = url.split("#")[0].rstrip("/")
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript", "mailto", "#")):
            continue
        target = urljoin(url, href).split("#")[0]
        if not allows(target) or target.rstrip("/") == here:
            continue
        text = link_title(a)
        score = score_link(text, target, parent_score)
        if score > 0:
            if target not in found or found[target].score < score:
                found[target] = Candidate(target, text, score, depth)
        elif _SECTION.search(text or "") and len(text) <= 12 and target not in sections:
            sections.append(target)
    return list(found.values()), sections


def rank(candidates) -> list[Candidate]:
    """Best first: score, then the shallower, then the shorter URL."""
    return sorted(candidates, key=lambda c: (-c.score, c.depth, len(c.url)))


def best_columns(candidates: list[Candidate], limit: int = 2) -> list[str]:
    """The column URL(s) a crawl should use: the best candidate and any tied with it."""
    if not candidates:
        return []
    top = candidates[0].score
    return [c.url for c in candidates if c.score >= top][:limit]


@dataclass
class DiscoveryResult:
    """One portal's discovery: `found` (columns, score), `none` (home read, no column), `unreachable`
    (the home page could not be fetched: why in `reason`) or `blocked`."""

    portal: str
    home: str
    status: str
    columns: list[str] = field(default_factory=list)
    score: float | None = None
    candidates: list[Candidate] = field(default_factory=list)
    reason: str | None = None
    pages: int = 0  # pages answered

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DiscoveryResult":
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["candidates"] = [Candidate(**c) for c in values.get("candidates") or []]
        return cls(**values)


class Discovery:
    """What one portal's discovery has fetched and found so far, and what to fetch next."""

    OPEN_BEST = 5  # candidates opened at depth 2 (their sub-columns, such as 报告公示)
    VERIFY = 3  # candidates at most fetched only to check they answer

    def __init__(self, portal_id: str, home: str, allows, *, max_pages: int = 20, deadline: float = 0.0):
        self.portal_id = portal_id
        self.home = home
        self.deadline = deadline  # time.monotonic() by which it ends
        self.allows = allows
        self.budget = max(1, max_pages) - 1  # pages after the home page
        self.candidates: dict[str, Candidate] = {}
        self.answered: set[str] = set()
        self.failures: dict[str, str] = {}
        self.requested: set[str] = {home}
        self.verifications = 0
        self.home_error: str | None = None
        self.blocked: str | None = None
        self.suspicious = 0
        self.outstanding = 0
        self.done = False

    def _add(self, candidates) -> None:
        for c in candidates:
            if c.url not in self.candidates or self.candidates[c.url].score < c.score:
                self.candidates[c.url] = c

    def _claim(self, urls) -> list:
        out = []
        for url, score in urls:
            if self.budget <= 0:
                break
            if url in self.requested:
                continue
            self.requested.add(url)
            self.budget -= 1
            out.append((url, score))
        return out

    def home_page(self, html: str, url: str) -> list[tuple[str, float]]:
        """Take in the home page (at `url`, after redirects); the pages to open next, with the score of the
        link that leads there."""
        self.answered.update((url, self.home))
        first, sections = candidates_from_page(html, url, self.allows, depth=1)
        self._add(first)
        best = [(c.url, c.score) for c in rank(first)[:self.OPEN_BEST]]
        return self._claim(best + [(s, 0) for s in sections])

    def sub_page(self, html: str, url: str, parent_score: float = 0, *, asked: str | None = None) -> None:
        self.answered.update(u for u in (url, asked) if u)
        found, _ = candidates_from_page(html, url, self.allows, parent_score=parent_score, depth=2)
        self._add(found)

    def refused(self, url: str, reason: str) -> None:
        """A page that could not be fetched (robots.txt, HTTP error, off-site redirect, tiny page)."""
        self.failures[url] = reason

    def ranked(self) -> list[Candidate]:
        return rank(c for c in self.candidates.values() if c.url not in self.failures)

    def to_verify(self) -> str | None:
        """The best candidate when it was never fetched (so it may be forbidden or gone), if any tries left."""
        ranked = self.ranked()
        if not ranked or ranked[0].url in self.answered or self.verifications >= self.VERIFY:
            return None
        self.verifications += 1
        self.requested.add(ranked[0].url)
        return ranked[0].url

    def result(self, *, timed_out: float | None = None) -> DiscoveryResult:
        pages = len(self.answered - {self.home}) + (self.home in self.answered)
        base = DiscoveryResult(self.portal_id, self.home, NONE, pages=pages)
        if self.blocked:
            base.status, base.reason = BLOCKED, self.blocked
            return base
        if self.home not in self.answered:
            base.status = UNREACHABLE
            why = self.home_error or (f"no answer within {timed_out:g} s" if timed_out else "no answer")
            base.reason = f"cannot fetch {self.home}: {why}"
            return base
        ranked = self.ranked()
        base.candidates = ranked[:10]
        if not ranked:
            base.reason = "no 法治政府建设 / 法治建设 / 依法行政 column linked from the home page"
            return base
        base.status, base.columns, base.score = FOUND, best_columns(ranked), ranked[0].score
        if timed_out:
            base.reason = f"deadline of {timed_out:g} s reached: ranked what was fetched by then"
        return base
