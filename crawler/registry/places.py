"""Which division of `crawler/data/divisions.csv` a registry row means: by adcode, or by a name as people
write it (镜湖区, 芜湖市镜湖区, 安徽省芜湖市镜湖区, 镜湖区人民政府, 安徽, 内蒙古).

A name that fits two divisions (朝阳区: 北京市朝阳区 and 长春市朝阳区; 吉林: 吉林省 and 吉林市) is an error
naming both, never a guess.
"""

from __future__ import annotations

import re

from crawler.extract.regions import Division, division, divisions, to_simplified

_GOVERNMENT = re.compile(r"(?:人民政府|政府)(?:门户网站|网站)?$")
_SPACES = re.compile(r"[\s\u3000·]+")
# 广西壮族自治区 -> 广西, 内蒙古自治区 -> 内蒙古; plain suffixes for the rest (镜湖区 -> 镜湖, 安徽省 -> 安徽)
_AUTONOMOUS_REGION = re.compile(r"^(.{2,}?)(?:壮族|回族|维吾尔)?自治区$")
_SUFFIX = re.compile(r"^(.{2,}?)(?:特别行政区|省|市|地区|盟|区|县|旗)$")

_INDEX: dict[str, tuple[str, ...]] | None = None  # name -> codes (exact and full names)
_SHORT: dict[str, tuple[str, ...]] | None = None  # short name -> codes (weaker: only when no full name fits)


def _names(d: Division) -> list[str]:
    chain = [d.name]
    parent = division(d.parent) if d.parent else None
    while parent is not None:
        chain.insert(0, parent.name)
        parent = division(parent.parent) if parent.parent else None
    return list(dict.fromkeys([d.name, d.full_name, "".join(chain)]))


def _short(name: str) -> str | None:
    if "自治" in name and not name.endswith("自治区"):
        return None  # 恩施土家族苗族自治州: its short forms are the extractor's business, not a registry key
    match = _AUTONOMOUS_REGION.match(name) or _SUFFIX.match(name)
    return match.group(1) if match else None


def _indexes() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    global _INDEX, _SHORT
    if _INDEX is None or _SHORT is None:
        full: dict[str, list[str]] = {}
        short: dict[str, list[str]] = {}
        for d in divisions():
            for name in _names(d):
                full.setdefault(name, []).append(d.code)
            alias = _short(d.name)
            if alias:
                short.setdefault(alias, []).append(d.code)
        _INDEX = {k: tuple(dict.fromkeys(v)) for k, v in full.items()}
        _SHORT = {k: tuple(dict.fromkeys(v)) for k, v in short.items()}
    return _INDEX, _SHORT


def normalise(name: str) -> str:
    """`安徽省 芜湖市 镜湖区人民政府` -> `安徽省芜湖市镜湖区` (simplified script, no spaces, no 人民政府)."""
    text = _SPACES.sub("", to_simplified(name or ""))
    return _GOVERNMENT.sub("", text) or text


def short_name(name: str) -> str:
    """`新疆维吾尔自治区` -> `新疆`, `安徽省` -> `安徽`; other names as they are (for narrow tables)."""
    return (_short(name) or name) if name else name


def find_divisions(name: str) -> list[Division]:
    """Every division `name` can mean: exact or full names first; short names only when no full name fits."""
    full, short = _indexes()
    key = normalise(name)
    codes = full.get(key) or short.get(key) or ()
    return [d for d in (division(c) for c in codes) if d is not None]


def describe(d: Division) -> str:
    return f"{d.full_name} ({d.code})"


def resolve_division(*, adcode: str | None = None, region: str | None = None) -> Division:
    """The one division an (adcode, region name) pair means. Raises ValueError naming the candidates."""
    if adcode:
        found = division(adcode.strip())
        if found is None:
            raise ValueError(f"adcode {adcode!r} is not in the division data (crawler/data/divisions.csv)")
        if region and found.code not in {d.code for d in find_divisions(region)}:
            raise ValueError(f"adcode {found.code} is {found.full_name}, not {region!r}")
        return found
    if not region or not region.strip():
        raise ValueError("needs an adcode or a region name")
    candidates = find_divisions(region)
    if not candidates:
        raise ValueError(f"region {region!r} is not in the division data (crawler/data/divisions.csv)")
    if len(candidates) > 1:
        names = ", ".join(describe(d) for d in candidates)
        raise ValueError(f"region {region!r} matches {len(candidates)} regions: {names}; "
                         "give its adcode or a fuller name")
    return candidates[0]
