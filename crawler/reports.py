"""Queries behind `govwatch reports` and `govwatch status`."""

from __future__ import annotations

import sqlite_utils

REPORT_KEYS = ("region", "adcode", "report_year", "title", "url", "published_at")
STATUS_KEYS = ("id", "status", "reason", "last_crawl_at", "documents", "reports", "next_run")


def reports(db: sqlite_utils.Database, *, year: int | None = None, region: str | None = None) -> list[dict]:
    """One row per canonical annual report (`duplicate_of IS NULL`), newest published first."""
    where = ["doc_type = 'annual_report'", "duplicate_of IS NULL"]
    params: list = []
    if year is not None:
        where.append("report_year = ?")
        params.append(int(year))
    if region:
        where.append("(region LIKE ? OR adcode = ?)")
        params += [f"%{region}%", region]
    sql = (f"SELECT {', '.join(REPORT_KEYS)} FROM documents WHERE {' AND '.join(where)} "
           "ORDER BY published_at IS NULL, published_at DESC, report_year DESC, id DESC")
    return [dict(row) for row in db.query(sql, params)]


def status(db: sqlite_utils.Database, portal_ids: list[str] | None = None) -> list[dict]:
    """One row per portal: id, status (ok | blocked | error | never), reason, last_crawl_at, documents and
    reports (canonical ones: a repost counts where it was first published) and next_run (from `watch`)."""
    sql = """
        SELECT p.id AS id, COALESCE(p.status, 'never') AS status, p.reason AS reason,
               p.last_crawl_at AS last_crawl_at,
               (SELECT COUNT(*) FROM documents d WHERE d.portal_id = p.id AND d.duplicate_of IS NULL)
                 AS documents,
               (SELECT COUNT(*) FROM documents d WHERE d.portal_id = p.id AND d.doc_type = 'annual_report'
                  AND d.duplicate_of IS NULL) AS reports
        FROM portals p ORDER BY p.id"""
    from crawler.watch import next_runs

    rows, scheduled = [], next_runs(db)
    for row in db.query(sql):
        if portal_ids and row["id"] not in portal_ids:
            continue
        row = dict(row)
        row["next_run"] = scheduled.get(row["id"])
        rows.append({key: row[key] for key in STATUS_KEYS})
    return rows
