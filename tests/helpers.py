"""Shared helpers for the tests and the benchmarks (no dependency on the extractor itself)."""

from __future__ import annotations

import difflib
import html as _html
import importlib.util
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(REPO) not in sys.path:  # `from crawler import extract` without an installed package
    sys.path.insert(0, str(REPO))

SEED_PAGES = REPO / "seeds" / "pages"
SEED_EXPECTED = REPO / "seeds" / "expected"
# real saved portal pages; GOVWATCH_REALPAGES points the tests at another folder of them
REALPAGES = Path(os.environ.get("GOVWATCH_REALPAGES") or REPO.parent / "shared" / "realpages")

RECORD_FIELDS = ("title", "text", "published_at", "source", "author", "region", "adcode", "report_year", "doc_type")
LINE_STRIP = " \t\u3000\xa0"


def resolve_extract(obj):
    """`from crawler import extract` yields the function once crawler/__init__.py exports it; while only the
    crawler.extract package exists, use its extract() (or fail each test clearly if there is none yet)."""
    import types

    if isinstance(obj, types.ModuleType):
        fn = getattr(obj, "extract", None)
        if fn is None or isinstance(fn, types.ModuleType):

            def fn(*args, **kwargs):
                raise NotImplementedError("crawler.extract.extract() does not exist yet")

        return fn
    return obj


# ---------------------------------------------------------------------------------------------------------
# scoring


def bigrams(s: str) -> Counter:
    s = s.replace("\n", "")
    return Counter(s[i : i + 2] for i in range(len(s) - 1))


def bigram_f1(a: str, b: str) -> float:
    """F1 of the multisets of character bigrams of *a* and *b* (newlines removed first). 1.0 = identical."""
    ca, cb = bigrams(a), bigrams(b)
    if not ca and not cb:
        return 1.0
    if not ca or not cb:
        return 0.0
    overlap = sum((ca & cb).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(ca.values())
    recall = overlap / sum(cb.values())
    return 2 * precision * recall / (precision + recall)


def text_diff(expected: str, got: str, limit: int = 60) -> str:
    """Unified diff of text lines, for assertion messages."""
    diff = list(difflib.unified_diff(expected.split("\n"), got.split("\n"), "expected", "extracted", lineterm="", n=1))
    if len(diff) > limit:
        diff = diff[:limit] + [f"... ({len(diff) - limit} more diff lines)"]
    return "\n".join(line if len(line) < 200 else line[:200] + " …" for line in diff)


# ---------------------------------------------------------------------------------------------------------
# data


def seed_stems() -> list[str]:
    return sorted(p.stem for p in SEED_PAGES.glob("*.txt"))


def load_expected(stem: str) -> dict:
    return json.loads((SEED_EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))


def load_build_pages():
    """Import tests/fixtures/build_pages.py (tests/ is not a package)."""
    path = TESTS / "fixtures" / "build_pages.py"
    spec = importlib.util.spec_from_file_location("govwatch_build_pages", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


REALPAGE_SUFFIXES = (".html", ".htm", ".shtml")


def realpage_files() -> list[Path]:
    """The saved portal pages of ../shared/realpages (any CMS, any kind of page: more may be added)."""
    if not REALPAGES.is_dir():
        return []
    return sorted(p for p in REALPAGES.iterdir() if p.suffix.lower() in REALPAGE_SUFFIXES)


def realpage_title(path: Path) -> str | None:
    """The title a real page gives itself: Kaipuyun's <ucaptitle>, else its `ArticleTitle` meta tag."""
    import lxml.html

    doc = lxml.html.fromstring(path.read_bytes())
    titles = doc.xpath("//ucaptitle")
    if titles:
        return " ".join(titles[0].text_content().split())
    meta = doc.xpath("//meta[translate(@name, 'ARTICLETITLE', 'articletitle') = 'articletitle']/@content")
    return " ".join(meta[0].split()) if meta and meta[0].strip() else None


def realpage_body(path: Path) -> str | None:
    """The body a real page marks up itself (Kaipuyun's <ucapcontent>); None when its markup does not say."""
    import lxml.html

    contents = lxml.html.fromstring(path.read_bytes()).xpath("//ucapcontent")
    return block_text(contents[0]) if contents else None


_NAMED_REPORT = re.compile(r"(?:关于)?(?:19|20)\d\d年度?(?:法治政府建设|依法行政)(?:工作)?(?:情况)?的?(?:工作)?(?:报告|总结)$")
_NOT_REPORT = re.compile(r"统计公报|政府信息公开|政府工作报告|第一责任人|述职|述法|上半年|季度|征求意见|解读|计划|要点|方案|通知")


def titled_doc_type(title: str | None) -> str | None:
    """What a real page's title alone makes certain: "annual_report" for a title that is a yearly
    法治政府建设/依法行政 report and nothing else, "not annual_report" for a look-alike (a statistics bulletin,
    a 政府信息公开 report, a duty report, a plan or notice), None when the title leaves it to the body."""
    if not title:
        return None
    if _NOT_REPORT.search(title):
        return "not annual_report"
    return "annual_report" if _NAMED_REPORT.search(title) else None


# Block-level elements: each starts/ends a line in the expected text of a real page.
BLOCK_TAGS = frozenset(
    "p div br tr td th li ul ol dl dt dd h1 h2 h3 h4 h5 h6 table tbody thead tfoot caption section article "
    "header footer blockquote pre center hr form".split()
)


def block_text(el) -> str:
    """Text of an lxml element: block elements turned into line breaks, a table row into one line (cells
    separated by a space), script/style dropped, each line stripped (all Unicode whitespace at the ends), empty
    lines dropped."""
    parts: list[str] = []

    def walk(e) -> None:
        tag = e.tag if isinstance(e.tag, str) else None  # comments / processing instructions have no str tag
        if tag is not None:
            tag = tag.lower().rsplit("}", 1)[-1]
        if tag in ("script", "style", "noscript"):
            parts.append(e.tail or "")
            return
        if tag == "tr" and not e.xpath(".//table"):
            # a table row is one line, its non-empty cells separated by a space
            cells = (" ".join(c.text_content().split()) for c in e if isinstance(c.tag, str) and c.tag in ("td", "th"))
            parts.append("\n" + " ".join(c for c in cells if c) + "\n")
            parts.append(e.tail or "")
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if tag is not None:
            parts.append(e.text or "")
        for child in e:
            walk(child)
        if block:
            parts.append("\n")
        parts.append(e.tail or "")

    parts.append(el.text or "")
    for child in el:
        walk(child)
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)




# --- building test pages -------------------------------------------------------------------------------------

def esc(s: str) -> str:
    return _html.escape(s, quote=False)


def footer_html(site: str, site_id: str, icp: str, *, police: str = "皖公网安备 34020002000001号") -> str:
    """A portal footer: 主办/承办单位, 版权所有, 网站标识码, ICP and 公网安备 lines (all chrome)."""
    return (f'<div class="footer"><p>主办单位：{site}办公室　承办单位：{site}大数据中心</p>'
            f'<p>版权所有：{site}　网站标识码：{site_id}　<a href="#">{icp}</a></p>'
            f'<p><img src="/images/ga.png">{police}　建议使用1366×768分辨率浏览本站</p></div>')


def report_lines(place: str, year: int, signer: str, signed: str, *, measures: list[str],
                 led_by: str = "") -> list[str]:
    """The body of a yearly 法治政府建设 report as test pages print it: the opening (optionally after who led
    the work), the numbered measures, shortcomings, next year's plans, the closing formula and signature."""
    return [
        f"{year}年，{led_by}{place}坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治思想，全面落实"
        "《法治政府建设实施纲要（2021—2025年）》，法治政府建设取得新的成效。现将有关情况报告如下：",
        f"一、{year}年度推进法治政府建设的主要举措和成效",
        *measures,
        "二、存在的不足和原因",
        "一是基层法治力量仍然薄弱；二是部分执法人员法治意识和执法能力有待提高；三是法治宣传的针对性还不够强。",
        "三、下一年度推进法治政府建设的主要安排",
        "持续深化法治政府建设示范创建，压实党政主要负责人履行推进法治建设第一责任人职责，加快推进行政执法协调监督工作体系建设。",
        "特此报告。",
        signer,
        signed,
    ]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """predicate()'s first truthy value, polled every `interval` s; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def children(pid: int) -> dict[int, str]:
    """{pid: command line} of the live (not zombie) child processes of `pid`, read from /proc."""
    found = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            if int(stat[1]) == pid and stat[0] != b"Z":
                found[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found
