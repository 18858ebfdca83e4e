"""Chinese date parsing and the choice of a page's publication date.

Portals print dates in many shapes (2021年3月31日, 2021/03/31 14:47, 2021-03-31 14:47:00, 2021.03.31,
二〇二四年一月二十五日) and expose several candidates (visible metadata line, <meta PubDate>, the URL path,
the signing date at the end of the body).  `choose_published` ranks them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Stamp:
    """A parsed date; `minute` is None when only the day is known."""

    day: date
    minute: tuple[int, int] | None = None

    def iso(self) -> str:
        if self.minute is None:
            return self.day.isoformat()
        return f"{self.day.isoformat()}T{self.minute[0]:02d}:{self.minute[1]:02d}"


# Year 1990-2099, separators -, /, ., 年/月/日, optional time (14:47, 14:47:00, 14时47分).
_DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(?:[T-]\s*)?(\d{1,2})\s*[:：时]\s*(\d{1,2})(?!\d)(?:\s*[:：分]\s*\d{1,2}(?!\d))?)?"
)
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DATE_RE = re.compile(r"([〇○零Ｏ一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月"
                         r"\s*([一二三四五六七八九十]{1,3})\s*日")
# A line that is nothing but a date (optionally a time, optionally in brackets): "2023-02-15 14:49".
_BARE_RE = re.compile(r"^[\s(（\[【]*(?:" + _DATE_RE.pattern + r"|" + _CN_DATE_RE.pattern + r")[\s)）\]】]*$")

# URL date patterns, most specific first.  TRS: /202103/t20210331_123.html; Hanweb: /art/2021/3/31/;
# gov.cn: /2021-03/31/; generic /20210331/; month-only directories /202103/ or /2021-03/.
_URL_DAY = (
    re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_"),
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})-(\d{2})/"),
)
_URL_MONTH = (
    re.compile(r"/((?:19|20)\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/"),
)

TOLERANCE_DAYS = 3  # a candidate within this many days of the URL date counts as consistent


def _mk(y: int, m: int, d: int, hh: int | None = None, mm: int | None = None) -> Stamp | None:
    try:
        day = date(y, m, d)
    except ValueError:
        return None
    minute = None
    if hh is not None and mm is not None and 0 <= hh < 24 and 0 <= mm < 60:
        minute = (hh, mm)
    return Stamp(day, minute)


def _cn_number(s: str) -> int:
    """一 -> 1, 十 -> 10, 十二 -> 12, 二十五 -> 25, 三十一 -> 31."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(s, 0)


def find_dates(text: str) -> list[Stamp]:
    """All valid dates in `text`, in order of appearance (Arabic and Chinese-numeral forms)."""
    out: list[tuple[int, Stamp]] = []
    for m in _DATE_RE.finditer(text):
        hh = int(m.group(4)) if m.group(4) else None
        mm = int(m.group(5)) if m.group(5) else None
        st = _mk(int(m.group(1)), int(m.group(2)), int(m.group(3)), hh, mm)
        if st:
            out.append((m.start(), st))
    if "年" in text:
        for m in _CN_DATE_RE.finditer(text):
            y = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
            st = _mk(y, _cn_number(m.group(2)), _cn_number(m.group(3)))
            if st:
                out.append((m.start(), st))
        out.sort(key=lambda t: t[0])
    return [st for _, st in out]


def parse_date(text: str | None) -> Stamp | None:
    """The first date in `text`, or None."""
    if not text:
        return None
    found = find_dates(text[:2000])
    return found[0] if found else None


def to_iso(text: str | None) -> str | None:
    st = parse_date(text)
    return st.iso() if st else None


def is_bare_date(line: str) -> bool:
    """True for a line that holds only a date/time (the un-labelled date under a title, or a signing date)."""
    return len(line) <= 40 and _BARE_RE.match(line) is not None


def url_date_range(url: str | None) -> tuple[date, date, bool] | None:
    """(first day, last day, is_day_precision) of the date encoded in a URL path, or None."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for rx in _URL_DAY:
        m = rx.search(path)
        if m:
            st = _mk(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if st:
                return st.day, st.day, True
    for rx in _URL_MONTH:
        m = rx.search(path)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12:
                return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), False
    return None


def _distance(st: Stamp, rng: tuple[date, date, bool]) -> int:
    lo, hi, _ = rng
    if st.day < lo:
        return (lo - st.day).days
    if st.day > hi:
        return (st.day - hi).days
    return 0


def choose_published(visible: list[Stamp], meta: list[Stamp], url: str | None = None,
                     signing: Stamp | None = None) -> str | None:
    """Pick the publication date.

    `visible` are dates shown on the page near the title (best label first), `meta` come from <meta> tags.
    Visible beats meta because PubDate is often the page-regeneration date; when the URL carries a date,
    the first candidate consistent with it (within a few days) wins.  The signing date at the end of the
    body is a last resort.
    """
    cands = [*visible, *meta]
    rng = url_date_range(url)
    if rng is not None:
        for st in cands:
            if _distance(st, rng) <= TOLERANCE_DAYS:
                return st.iso()
        if rng[2] and not visible:
            return rng[0].isoformat()
    if cands:
        return cands[0].iso()
    if rng is not None and rng[2]:
        return rng[0].isoformat()
    if signing is not None:
        return signing.day.isoformat()
    return None
