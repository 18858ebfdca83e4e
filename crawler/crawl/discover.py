"""Column discovery: from a portal's home page (depth <= 2, same host) find the 法治政府建设 / 法治建设 /
依法行政 column(s), ranked. Uses a simple blocking fetch (urllib, the govwatch User-Agent, robots.txt
respected), so it runs anywhere, including inside the crawl process before Scrapy starts its requests.

    discover("http://www.example.gov.cn/") -> [Candidate(url, text, score), ...]   best first
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from crawler.config import DEFAULT_USER_AGENT
from spiders.adapters.common import clean_text, decode_html, link_title, parse_fragment

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


def candidates_from_page(html: str, url: str, *, hosts: tuple[str, ...] = (), parent_score: float = 0,
                         depth: int = 1) -> tuple[list[Candidate], list[str]]:
    """(scored candidate columns, section links worth visiting next) on one page."""
    root = parse_fragment(html)
    if root is None:
        return [], []
    hosts = hosts or (urlsplit(url).hostname or "",)
    found: dict[str, Candidate] = {}
    sections: list[str] = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript", "mailto", "#")):
            continue
        target = urljoin(url, href).split("#")[0]
        if (urlsplit(target).hostname or "") not in hosts or target.rstrip("/") == url.split("#")[0].rstrip("/"):
            continue
        text = link_title(a)
        score = score_link(text, target, parent_score)
        if score > 0:
            if target not in found or found[target].score < score:
                found[target] = Candidate(target, text, score, depth)
        elif _SECTION.search(text or "") and len(text) <= 12 and target not in sections:
            sections.append(target)
    return list(found.values()), sections


class DiscoverError(RuntimeError):
    """The home page could not be fetched (network error, HTTP error, robots.txt); the message says why."""


class _Fetcher:
    def __init__(self, user_agent: str, obey_robots: bool, delay: float, timeout: float):
        self.user_agent = user_agent
        self.obey_robots = obey_robots
        self.delay = delay
        self.timeout = timeout
        self.robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self.last = 0.0
        self.last_error: str | None = None  # why the latest `page()` returned None

    def _get(self, url: str) -> tuple[int, bytes, str]:
        wait = self.last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read(5 * 1024 * 1024), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(65536) if exc.fp else b"", exc.headers.get("Content-Type", "")
        finally:
            self.last = time.monotonic()

    def allowed(self, url: str) -> bool:
        if not self.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            parser = urllib.robotparser.RobotFileParser()
            try:
                status, body, _ = self._get(origin + "/robots.txt")
            except (OSError, ValueError):
                status, body = 0, b""
            if status == 200:
                parser.parse(body.decode("utf-8", "replace").splitlines())
                self.robots[origin] = parser
            else:
                self.robots[origin] = None  # no robots.txt: everything allowed
        parser = self.robots[origin]
        return parser is None or parser.can_fetch(self.user_agent, url)

    def page(self, url: str) -> str | None:
        if not self.allowed(url):
            self.last_error = "robots.txt disallows it"
            return None
        try:
            status, body, ctype = self._get(url)
        except (OSError, ValueError) as exc:
            self.last_error = str(getattr(exc, "reason", None) or exc)
            return None
        if status != 200:
            self.last_error = f"HTTP {status}"
            return None
        return decode_html(body, ctype)


def discover(url: str, *, user_agent: str = DEFAULT_USER_AGENT, obey_robots: bool = True, delay: float = 0.5,
             hosts: tuple[str, ...] | None = None, max_pages: int = 20, timeout: float = 20) -> list[Candidate]:
    """Candidate 法治政府建设 columns reachable from the home page `url` (depth <= 2, same host), best first.

    Raises DiscoverError when the home page itself cannot be fetched."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DiscoverError(f"{url}: not an http(s) URL")
    hosts = tuple(hosts or (urlsplit(url).hostname or "",))
    fetcher = _Fetcher(user_agent, obey_robots, delay, timeout)
    home = fetcher.page(url)
    if home is None:
        raise DiscoverError(f"cannot fetch {url}: {fetcher.last_error}")
    ranked: dict[str, Candidate] = {}

    def add(cands):
        for c in cands:
            if c.url not in ranked or ranked[c.url].score < c.score:
                ranked[c.url] = c

    first, sections = candidates_from_page(home, url, hosts=hosts, depth=1)
    add(first)
    budget = max_pages - 1
    # depth 2: open the best candidates (sub-columns such as 报告公示) and a few section pages
    to_visit = [(c.url, c.score) for c in sorted(first, key=lambda c: -c.score)[:5]]
    to_visit += [(s, 0) for s in sections[:max(0, budget - len(to_visit))]]
    for page_url, parent_score in to_visit:
        if budget <= 0:
            break
        budget -= 1
        html = fetcher.page(page_url)
        if html is None:
            continue
        cands, _ = candidates_from_page(html, page_url, hosts=hosts, parent_score=parent_score, depth=2)
        add(cands)
    allowed = [c for c in ranked.values() if fetcher.allowed(c.url)]  # never propose a robots-disallowed column
    return sorted(allowed, key=lambda c: (-c.score, c.depth, len(c.url)))


def best_columns(candidates: list[Candidate], limit: int = 2) -> list[str]:
    """The column URL(s) a crawl should use: the best candidate and any tied with it."""
    if not candidates:
        return []
    top = candidates[0].score
    return [c.url for c in candidates if c.score >= top][:limit]
