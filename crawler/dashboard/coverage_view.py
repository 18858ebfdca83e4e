"""Coverage rows (crawler.monitor.coverage) as the dashboard shows them: the division tree x years, and the
per-province picture, an inline SVG of stacked bars (no script, no chart library to load). Pure functions."""

from __future__ import annotations

from html import escape

from crawler.extract.regions import division
from crawler.monitor.coverage import STATUSES, UNPLACED

# status -> (Chinese, English, colour)
STATUS_LOOK = {
    "published": ("已发布", "published", "#2e7d32"),
    "missing": ("未发布", "missing", "#f9a825"),
    "overdue": ("逾期", "overdue", "#c62828"),
    "no_portal": ("无门户", "no portal", "#cfd8dc"),
    "blocked": ("被拦截", "blocked", "#6a1b9a"),
    "unreachable": ("无法访问", "unreachable", "#8d6e63"),
    "never_crawled": ("未抓取", "never crawled", "#90a4ae"),
}
assert set(STATUS_LOOK) == set(STATUSES)
# the order of a bar: what is known first, regions without a portal last (at small scale they are most of it)
BAR_ORDER = ("published", "missing", "overdue", "blocked", "unreachable", "never_crawled", "no_portal")
BAR_WIDTH = 360
ROW_HEIGHT = 22
LABEL_WIDTH = 96
COUNT_WIDTH = 150


def status_label(status: str) -> str:
    zh, en, _ = STATUS_LOOK[status]
    return f"{zh} {en}"


def within_city(rows: list[dict], city: str) -> list[dict]:
    """The rows of the city `city` (an adcode) and of its counties."""
    return [row for row in rows if row["adcode"] == city or parent_of(row["adcode"]) == city]


def parent_of(adcode: str | None) -> str | None:
    found = division(adcode) if adcode else None
    return found.parent if found else None


def tree(rows: list[dict], years: list[int]) -> list[dict]:
    """One display row per region in division order, with one cell per year.

    A display row: adcode, region, name, level, depth (0 province, 1 city or a county under the province, 2
    county), portals, cells (a coverage row per year, None where absent)."""
    by_region: dict[str, dict] = {}
    for row in rows:
        if row["level"] == UNPLACED:
            continue
        line = by_region.setdefault(row["region_key"], {
            "adcode": row["adcode"], "region": row["region"], "name": row["name"], "level": row["level"],
            "depth": _depth(row), "portals": row["portal_names"], "cells": {}})
        line["cells"][row["year"]] = row
    out = sorted(by_region.values(), key=lambda line: line["adcode"])
    for line in out:
        line["cells"] = [line["cells"].get(year) for year in years]
    return out


def _depth(row: dict) -> int:
    if row["level"] == "province":
        return 0
    if row["level"] == "city" or not row["city"]:
        return 1
    return 2


def bars_svg(totals: list[dict]) -> str:
    """Stacked horizontal bars, one per total row (a province, or 全国): each status's share of its regions,
    with the counts of published and overdue regions written beside. Returns SVG markup."""
    height = ROW_HEIGHT * (len(totals) + 1) + 8
    width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="gw-bars" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="coverage by province">']
    for n, total in enumerate(totals):
        y = n * ROW_HEIGHT + 4
        name = escape(total["province"] or "")
        parts.append(f'<text x="0" y="{y + 15}" class="gw-bar-label">{name}</text>')
        x = float(LABEL_WIDTH)
        regions = total["regions"] or 1
        for status in BAR_ORDER:
            count = total[status]
            if not count:
                continue
            w = BAR_WIDTH * count / regions
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW_HEIGHT - 6}" '
                         f'fill="{STATUS_LOOK[status][2]}"><title>{name} {status_label(status)}: {count}</title></rect>')
            x += w
        parts.append(f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 15}" class="gw-bar-count">'
                     f'{total["published"]}/{total["regions"]} · 逾期 {total["overdue"]}</text>')
    y = len(totals) * ROW_HEIGHT + 8
    x = 0
    for status in BAR_ORDER:
        zh, _, colour = STATUS_LOOK[status]
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{y + 11}" class="gw-legend">{zh}</text>')
        x += 16 + 14 * len(zh) + 12
    parts.append("</svg>")
    return "".join(parts)
