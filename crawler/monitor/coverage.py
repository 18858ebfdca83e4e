"""Coverage of the yearly reports: configured regions x report years, and the after-deadline digest.

Reports for year Y are due on the portals by 1 April of Y+1. A (region, year) cell is ``published`` (with the
earliest publication date and link), ``missing`` (not found, deadline not passed) or ``overdue`` (not found,
deadline passed). Regions are the configured portals' `adcode`/`region`, or, when the config names none, the
region their own annual reports resolve to most often; portals of the same region share one row.

`missing_digest()` (run daily by the watch daemon) writes one ``missing_digest`` alert listing the regions
still missing the latest due year's report; each region is named at most once per year
(``deadline_notices``). Only regions whose portals finished a first crawl are listed (before that, absence
proves nothing). A report that arrives after the deadline alerts as ``late_report`` (crawler.monitor.alerts).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import sqlite_utils

from crawler.monitor.alerts import AlertPolicy, deadline, department_of, insert_alert
from storage import now_iso, transaction


@dataclass
class Region:
    key: str  # "adcode:340202" | "name:<region>" | "portal:<id>"
    name: str
    adcode: str | None = None
    portals: list[str] = field(default_factory=list)  # portal ids
    portal_names: list[str] = field(default_factory=list)


def _today(today: date | None) -> date:
    return today or datetime.now(timezone.utc).date()


def latest_due_year(today: date) -> int:
    """The last report year whose deadline has passed on `today`."""
    return today.year - 1 if today > deadline(today.year - 1) else today.year - 2


def regions(db: sqlite_utils.Database, config) -> list[Region]:
    from crawler.extract.regions import full_name

    found: dict[str, Region] = {}
    for portal in config.portals:
        adcode, name = portal.adcode, portal.region
        if not adcode and not name:
            counts = Counter(
                (r["adcode"], r["region"]) for r in db.query(
                    "SELECT adcode, region FROM documents WHERE portal_id = ? AND doc_type = 'annual_report' "
                    "AND duplicate_of IS NULL AND (adcode IS NOT NULL OR region IS NOT NULL)", [portal.id]))
            if counts:
                adcode, name = counts.most_common(1)[0][0]
        if adcode:
            key, name = f"adcode:{adcode}", name or full_name(adcode) or adcode
        elif name:
            key = f"name:{name}"
        else:
            key, name = f"portal:{portal.id}", portal.name or portal.id
        region = found.setdefault(key, Region(key, name, adcode))
        region.portals.append(portal.id)
        region.portal_names.append(portal.name or portal.id)
    return list(found.values())


def _published(db, region: Region, year: int) -> dict | None:
    base = ("SELECT id, url, title, published_at, portal_id FROM documents WHERE doc_type = 'annual_report' "
            "AND report_year = ? AND duplicate_of IS NULL AND ")
    if region.adcode:
        rows = list(db.query(base + "adcode = ?", [year, region.adcode]))
    elif region.key.startswith("name:"):
        rows = list(db.query(base + "region = ?", [year, region.name]))
    else:
        marks = ",".join("?" * len(region.portals))
        rows = list(db.query(base + f"portal_id IN ({marks})", [year, *region.portals]))
    rows = [r for r in rows if department_of(r) is None]  # a department's report is not the region's
    if not rows:
        return None
    rows.sort(key=lambda r: (r["published_at"] or "9999", r["id"]))
    return rows[0]


def coverage(db: sqlite_utils.Database, config, *, year: int | None = None, years: list[int] | None = None,
             today: date | None = None) -> list[dict]:
    """One row per (region, year): status published | missing | overdue, with date and link when published."""
    today = _today(today)
    if years is None:
        newest = today.year - 1  # the report due this year (or already overdue)
        years = [year] if year else [newest - 2, newest - 1, newest]
    out = []
    for region in regions(db, config):
        for y in years:
            due = deadline(y)
            doc = _published(db, region, y)
            if doc:
                published = (doc["published_at"] or "")[:10] or None
                status = "published"
                late = bool(published and published > due.isoformat())
            else:
                published, late = None, False
                status = "overdue" if today > due else "missing"
            out.append({
                "region": region.name, "adcode": region.adcode, "region_key": region.key,
                "portals": ",".join(region.portals), "year": y, "deadline": due.isoformat(), "status": status,
                "published_at": published, "late": late, "url": doc["url"] if doc else None,
                "title": doc["title"] if doc else None,
            })
    return out


def matrix(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Pivot coverage rows into a region x year table for display."""
    years = sorted({r["year"] for r in rows})
    table: dict[str, dict] = {}
    for r in rows:
        line = table.setdefault(r["region_key"], {"region": r["region"], "adcode": r["adcode"] or ""})
        # the words of the JSON rows (status, late) beside the Chinese ones
        if r["status"] == "published":
            cell = f"✓ {r['published_at'] or '?'}" + (" late 迟" if r["late"] else "")
        else:
            cell = "overdue 逾期未公开" if r["status"] == "overdue" else "missing 未公开"
        line[str(r["year"])] = cell
    return list(table.values()), ["region", "adcode", *map(str, years)]


def missing_digest(db: sqlite_utils.Database, config, *, today: date | None = None,
                   policy: AlertPolicy | None = None) -> int | None:
    """Write the after-deadline digest alert for the latest due year (once per region per year).
    Returns the alert id, or None when there is nothing new to report."""
    today = _today(today)
    settings = config.alerts
    if not settings.deadline_digest:
        return None
    policy = policy or AlertPolicy.from_settings(settings, today=today)
    year = latest_due_year(today)
    baseline_done = {r["id"] for r in db.query("SELECT id FROM portals WHERE baseline_done = 1")}
    rows = [r for r in coverage(db, config, years=[year], today=today) if r["status"] == "overdue"]
    by_key = {r.key: r for r in regions(db, config)}
    with transaction(db):
        notified = {r["region_key"] for r in db.query("SELECT region_key FROM deadline_notices WHERE year = ?",
                                                      [year])}
        todo = [r for r in rows if r["region_key"] not in notified
                and any(pid in baseline_done for pid in by_key[r["region_key"]].portals)]
        if not todo:
            return None
        keys = sorted(r["region_key"] for r in todo)
        info = {
            "year": year, "deadline": deadline(year).isoformat(),
            "regions": [{"name": r["region"], "adcode": r["adcode"], "key": r["region_key"],
                         "portals": by_key[r["region_key"]].portal_names} for r in todo],
        }
        digest = hashlib.sha1("|".join(keys).encode("utf-8")).hexdigest()[:12]
        alert_id = insert_alert(db, "missing_digest", f"missing:{year}:{digest}", info, urls=policy.urls,
                                deliver=policy.delivers("missing_digest"))
        now = now_iso()
        for key in keys:
            db.execute("INSERT OR IGNORE INTO deadline_notices (year, region_key, alert_id, notified_at) "
                       "VALUES (?, ?, ?, ?)", [year, key, alert_id, now])
        return alert_id
