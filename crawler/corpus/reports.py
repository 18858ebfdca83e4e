"""The query behind `govwatch reports`: one row per canonical annual report of the corpus."""

from __future__ import annotations

import sqlite_utils

REPORT_KEYS = ("region", "adcode", "report_year", "title", "url", "published_at")


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
