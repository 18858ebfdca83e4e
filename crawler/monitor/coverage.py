"""Coverage of the yearly reports over the whole division tree, and the after-deadline digest.

`coverage()` is a pure query (nothing is written): one row per (region, report year) for every region of
`crawler/data/divisions.csv` in scope -- configured or not -- with one status:

``published``      a canonical annual report of the region's government for the year exists (earliest date and
                   link; ``late`` when published after the 1 April deadline), found on any portal;
``missing``        a portal of the region finished a crawl, no report yet, the deadline has not passed;
``overdue``        the same after the deadline;
``no_portal``      the registry has no portal for the region (absence of a portal proves nothing: never overdue);
``blocked`` / ``unreachable``   its portals never finished a crawl, or are now blocked by an anti-bot wall /
                   failing (HTTP errors, no column found): we cannot tell, so never overdue;
``never_crawled``  its portals are registered but never finished a crawl (never overdue either).

A department's own report (宿州市司法局…, see `crawler.monitor.alerts.department_of`) resolves to its region
but is listed beside the government's (``departments``), never counted as it. Portals are the registry's
(`crawler.registry.load_portals`); a portal's region is its `adcode`, its `region` name, or failing both the
region its own reports resolve to most often; a portal with none of these is listed as ``unplaced``.

`totals(rows)` counts per province and for the country. Both return plain dicts, so a dashboard (Datasette)
can show them per province with drill-down.

`missing_digest()` (daily in the watch daemon) writes one ``missing_digest`` alert naming the regions
``overdue`` for the latest due year; each region is named at most once per year (``deadline_notices``). A
report that arrives after the deadline alerts as ``late_report`` (crawler.monitor.alerts).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import sqlite_utils

from crawler.extract.regions import Division, division, divisions
from crawler.monitor.alerts import AlertPolicy, deadline, department_of, insert_alert
from crawler.registry import load_portals
from crawler.registry.places import find_divisions
from storage import now_iso, transaction

STATUSES = ("published", "missing", "overdue", "no_portal", "blocked", "unreachable", "never_crawled")
LEVELS = ("province", "city", "county")
UNPLACED = "unplaced"
COUNTRY = "全国"


def _today(today: date | None) -> date:
    return today or datetime.now(timezone.utc).date()


def latest_due_year(today: date) -> int:
    """The last report year whose deadline has passed on `today`."""
    return today.year - 1 if today > deadline(today.year - 1) else today.year - 2


def default_year(today: date | None = None) -> int:
    """The report year due this year (published by 1 April, overdue after it)."""
    return _today(today).year - 1


def resolve_province(text: str) -> Division:
    """`安徽省`, `安徽` or `340000` / `34` -> the province; ValueError naming the input otherwise."""
    value = (text or "").strip()
    if value.isdigit():
        found = division(value.ljust(6, "0")) if len(value) in (2, 6) else None
        if found is not None and found.level == "province":
            return found
    else:
        provinces = [d for d in find_divisions(value) if d.level == "province"]
        if len(provinces) == 1:
            return provinces[0]
    raise ValueError(f"unknown province {text!r} (a province name such as 安徽省 or its code 340000)")


# ---------------------------------------------------------------------------------------------------------
# inputs


def _portal_regions(db, portals) -> dict[str, str | None]:
    """{portal id: adcode of its region or None}."""
    known = {d.code for d in divisions()}
    out: dict[str, str | None] = {}
    unresolved = []
    for portal in portals:
        code = portal.adcode if portal.adcode in known else None
        if code is None and portal.region:
            found = find_divisions(portal.region)
            code = found[0].code if len(found) == 1 else None
        out[portal.id] = code
        if code is None:
            unresolved.append(portal.id)
    if unresolved:
        counts: dict[str, Counter] = defaultdict(Counter)
        marks = ",".join("?" * len(unresolved))
        for row in db.query(
                f"SELECT portal_id, adcode, COUNT(*) AS n FROM documents WHERE portal_id IN ({marks}) "
                "AND doc_type = 'annual_report' AND duplicate_of IS NULL AND adcode IS NOT NULL "
                "GROUP BY portal_id, adcode", unresolved):
            if row["adcode"] in known:
                counts[row["portal_id"]][row["adcode"]] = row["n"]
        for pid, counter in counts.items():
            out[pid] = counter.most_common(1)[0][0]
    return out


def _reports(db, years: list[int]):
    """Canonical annual reports of `years`: government ones by (adcode, year) and by (portal, year), the
    departments' by (adcode, year)."""
    government: dict[tuple, list[dict]] = defaultdict(list)
    by_portal: dict[tuple, list[dict]] = defaultdict(list)
    departments: dict[tuple, list[dict]] = defaultdict(list)
    marks = ",".join("?" * len(years))
    for row in db.query(
            "SELECT id, url, title, published_at, portal_id, adcode, report_year FROM documents "
            f"WHERE doc_type = 'annual_report' AND duplicate_of IS NULL AND report_year IN ({marks})", years):
        department = department_of(row)
        if department:
            if row["adcode"]:
                departments[(row["adcode"], row["report_year"])].append(dict(row, department=department))
            continue
        if row["adcode"]:
            government[(row["adcode"], row["report_year"])].append(row)
        else:
            by_portal[(row["portal_id"], row["report_year"])].append(row)
    return government, by_portal, departments


def _earliest(rows: list[dict]) -> dict | None:
    return min(rows, key=lambda r: ((r["published_at"] or "9999"), r["id"])) if rows else None


def _crawl_state(portal_ids: list[str], states: dict[str, dict], due: date, today: date) -> tuple[str, str | None,
                                                                                               str | None]:
    """(status, reason, checked_at) of a region without its report, from its portals' crawl health."""
    if not portal_ids:
        return "no_portal", None, None
    rows = [states.get(pid) or {} for pid in portal_ids]
    finished = [r for r in rows if r.get("baseline_done") and r.get("status") not in ("blocked", "error")]
    if finished:
        checked = max((r.get("last_crawl_at") or "" for r in finished), default="") or None
        return ("overdue" if today > due else "missing"), None, checked
    for status, label in (("blocked", "blocked"), ("error", "unreachable")):
        failing = [r for r in rows if r.get("status") == status]
        if failing:
            return label, failing[0].get("reason"), failing[0].get("last_crawl_at")
    return "never_crawled", None, None


# ---------------------------------------------------------------------------------------------------------
# the query


def coverage(db: sqlite_utils.Database, config=None, *, year: int | None = None, years: list[int] | None = None,
             province: str | None = None, level: str | None = None, today: date | None = None) -> list[dict]:
    """One row per (region, year) over the division tree (see the module docstring), regions in code order.

    `province` (name or code) and `level` (province | city | county) narrow the regions; without them the
    portals whose region is unknown follow as ``unplaced`` rows."""
    today = _today(today)
    years = sorted(set(years or [year or default_year(today)]))
    if level is not None and level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (one of {', '.join(LEVELS)})")
    scope = resolve_province(province) if province else None
    portals = load_portals(db, config)
    names = {p.id: p.name or p.id for p in portals}
    states = {r["id"]: r for r in db.query(
        "SELECT id, status, reason, baseline_done, last_crawl_at FROM portals")}
    region_of = _portal_regions(db, portals)
    portals_of: dict[str, list[str]] = defaultdict(list)
    for pid, code in region_of.items():
        if code:
            portals_of[code].append(pid)
    government, by_portal, departments = _reports(db, years)

    out = []
    for d in divisions():
        if level and d.level != level:
            continue
        province_code = d.code if d.level == "province" else d.code[:2] + "0000"
        if scope and province_code != scope.code:
            continue
        city = division(d.parent) if d.level == "county" and d.parent and d.parent != province_code else None
        base = {"adcode": d.code, "region": d.full_name, "name": d.name, "level": d.level,
                "province": division(province_code).name, "province_adcode": province_code,
                "city": city.full_name if city else None, "region_key": f"adcode:{d.code}"}
        for y in years:
            out.append(_row(base, y, portals_of.get(d.code, []), names, states,
                            government.get((d.code, y), []), departments.get((d.code, y), []), today))
    if scope is None and level is None:
        for pid in (p.id for p in portals if not region_of[p.id]):
            base = {"adcode": None, "region": names[pid], "name": names[pid], "level": UNPLACED,
                    "province": None, "province_adcode": None, "city": None, "region_key": f"portal:{pid}"}
            for y in years:
                out.append(_row(base, y, [pid], names, states, by_portal.get((pid, y), []), [], today))
    return out


def _row(base: dict, year: int, portal_ids: list[str], names: dict, states: dict, reports: list[dict],
         department_reports: list[dict], today: date) -> dict:
    due = deadline(year)
    doc = _earliest(reports)
    if doc is not None:
        published = (doc["published_at"] or "")[:10] or None
        status, reason, checked = "published", None, None
        late = bool(published and published > due.isoformat())
    else:
        published, late = None, False
        status, reason, checked = _crawl_state(portal_ids, states, due, today)
    departments = {}
    for r in sorted(department_reports, key=lambda r: ((r["published_at"] or "9999"), r["id"])):
        departments.setdefault(r["department"], {"department": r["department"],
                                                 "published_at": (r["published_at"] or "")[:10] or None,
                                                 "url": r["url"], "title": r["title"]})
    return {**base, "year": year, "deadline": due.isoformat(), "status": status, "published_at": published,
            "late": late, "url": doc["url"] if doc else None, "title": doc["title"] if doc else None,
            "portals": list(portal_ids), "portal_names": [names.get(pid, pid) for pid in portal_ids],
            "reason": reason, "checked_at": checked, "departments": list(departments.values())}


def totals(rows: list[dict]) -> list[dict]:
    """Counts per (province, year) and, when the rows span provinces, for the country per year (`province` =
    全国), from `coverage()` rows:
    regions, regions with a portal (`portals`), one count per status, late reports, department reports
    (`departments`)."""
    groups: dict[tuple, dict] = {}

    def add(key: tuple, province: str, adcode: str | None, row: dict) -> None:
        total = groups.setdefault(key, {"province": province, "adcode": adcode, "year": row["year"],
                                        "regions": 0, "portals": 0, **dict.fromkeys(STATUSES, 0), "late": 0,
                                        "departments": 0})
        total["regions"] += 1
        total["portals"] += bool(row["portals"])
        total[row["status"]] += 1
        total["late"] += bool(row["late"])
        total["departments"] += len(row["departments"])

    placed = [row for row in rows if row["level"] != UNPLACED]
    for row in placed:
        add((row["province_adcode"], row["year"]), row["province"], row["province_adcode"], row)
    if len({row["province_adcode"] for row in placed}) > 1:  # one province's rows: its total is the total
        for row in placed:
            add(("", row["year"]), COUNTRY, None, row)
    return sorted(groups.values(), key=lambda t: (t["adcode"] is None, t["adcode"] or "", t["year"]))


def cell(row: dict) -> str:
    """A row's status as one table cell, in the words of the JSON (`published 2023-03-20 (late)`)."""
    if row["status"] == "published":
        return f"published {row['published_at'] or '?'}" + (" (late)" if row["late"] else "")
    return row["status"]


def matrix(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Pivot coverage rows into a region x year table for display."""
    years = sorted({r["year"] for r in rows})
    table: dict[str, dict] = {}
    for r in rows:
        line = table.setdefault(r["region_key"], {"adcode": r["adcode"] or "", "region": r["region"],
                                                  "level": r["level"], "portals": ",".join(r["portals"]),
                                                  "departments": ""})
        line[str(r["year"])] = cell(r)
        if r["departments"]:
            shown = "; ".join(f"{d['department']} {d['published_at'] or '?'}" + ("" if len(years) == 1
                                                                                  else f" [{r['year']}]")
                              for d in r["departments"])
            line["departments"] = "; ".join(filter(None, [line["departments"], shown]))
    return list(table.values()), ["adcode", "region", "level", "portals", *map(str, years), "departments"]


# ---------------------------------------------------------------------------------------------------------
# the digest


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
    rows = [r for r in coverage(db, config, years=[year], today=today) if r["status"] == "overdue"]
    with transaction(db):
        notified = {r["region_key"] for r in db.query("SELECT region_key FROM deadline_notices WHERE year = ?",
                                                      [year])}
        todo = [r for r in rows if r["region_key"] not in notified]
        if not todo:
            return None
        keys = sorted(r["region_key"] for r in todo)
        info = {
            "year": year, "deadline": deadline(year).isoformat(),
            "regions": [{"name": r["region"], "adcode": r["adcode"], "key": r["region_key"],
                         "portals": r["portal_names"]} for r in todo],
        }
        digest = hashlib.sha1("|".join(keys).encode("utf-8")).hexdigest()[:12]
        alert_id = insert_alert(db, "missing_digest", f"missing:{year}:{digest}", info, urls=policy.urls,
                                deliver=policy.delivers("missing_digest"))
        now = now_iso()
        for key in keys:
            db.execute("INSERT OR IGNORE INTO deadline_notices (year, region_key, alert_id, notified_at) "
                       "VALUES (?, ?, ?, ?)", [year, key, alert_id, now])
        return alert_id
