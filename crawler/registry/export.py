"""Listing and exporting the registry (`govwatch portals list|export`).

An export in csv or jsonl has the import's columns, so `govwatch portals export > p.csv` followed by
`govwatch portals import p.csv` on another database registers the same portals; toml writes `[[portal]]`
entries for a govwatch.toml.
"""

from __future__ import annotations

import csv
import io
import json

from crawler.config import Config
from crawler.registry.store import entries

LIST_KEYS = ("id", "name", "region", "adcode", "source", "status", "reason", "last_crawl_at", "columns", "home",
             "origin")
EXPORT_COLUMNS = ("id", "adcode", "region", "name", "home", "start_urls", "cms", "schedule", "evidence")
FORMATS = ("csv", "jsonl", "toml")


def list_portals(db, config: Config | None = None, *, source: str | None = None,
                 province: str | None = None) -> list[dict]:
    """One row per portal of the registry with its provenance and crawl status (a TOML entry not synced
    yet shows status `never`). `province`: an adcode prefix such as `34` or `340000`."""
    prefix = (province or "").rstrip("0")[:2] if province else ""
    out = []
    for entry in entries(db, config):
        if source and entry.source != source:
            continue
        portal, row = entry.portal, entry.row or {}
        if prefix and not (portal.adcode or "").startswith(prefix):
            continue
        out.append({
            "id": portal.id, "name": portal.name, "region": portal.region, "adcode": portal.adcode,
            "source": entry.source + (" (overrides registry)" if entry.overrides_registry else ""),
            "status": row.get("status") or "never", "reason": row.get("reason"),
            "last_crawl_at": row.get("last_crawl_at"), "columns": list(portal.start_urls), "home": portal.home,
            "origin": entry.origin, "cms": portal.cms, "schedule": portal.schedule, "evidence": entry.evidence,
        })
    return out


def export_rows(db, config: Config | None = None, *, source: str | None = None) -> list[dict]:
    out = []
    for entry in entries(db, config):
        if source and entry.source != source:
            continue
        p = entry.portal
        out.append({"id": p.id, "adcode": p.adcode or "", "region": p.region or "", "name": p.name,
                    "home": p.home or "", "start_urls": list(p.start_urls),
                    "cms": "" if p.cms == "auto" else p.cms, "schedule": p.schedule or "",
                    "evidence": (entry.evidence or "").split()})
    return out


def export_portals(db, config: Config | None = None, fmt: str = "csv", *, source: str | None = None) -> str:
    """The registry as text in `fmt` (csv | jsonl | toml)."""
    rows = export_rows(db, config, source=source)
    if fmt == "jsonl":
        return "".join(json.dumps({k: v for k, v in r.items() if v not in ("", [])}, ensure_ascii=False) + "\n"
                       for r in rows)
    if fmt == "toml":
        return "\n".join(_toml_entry(r) for r in rows)
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "start_urls": " ".join(r["start_urls"]), "evidence": " ".join(r["evidence"])})
    return buffer.getvalue()


def _toml_entry(row: dict) -> str:
    # JSON string and list syntax is valid TOML for these values (basic strings, arrays of strings)
    lines = ["[[portal]]"]
    for key in ("id", "name", "region", "adcode", "home", "start_urls", "cms", "schedule"):
        value = row[key]
        if value in ("", []):
            continue
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    if row["evidence"]:
        lines.append(f"# evidence: {' '.join(row['evidence'])}")
    return "\n".join(lines) + "\n"
