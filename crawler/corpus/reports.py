"""The query behind `govwatch reports`: one row per canonical annual report of the corpus."""

from __future__ import annotations

import sqlite_utils

REPORT_KEYS = ("region", "adcode", "report_year", "title", "url", "published_at")
MAX_REGION_CHARS = 100  # longer than any region name (the longest GB/T 2260 names have about 20 characters)


class ReportsError(ValueError):
    """A filter the query cannot take; the message is one line for the user."""


def like_pattern(text: str) -> str:
    """`%text%` for `LIKE ? ESCAPE '\\'`, with the wildcards % and _ (and the escape) in `text` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def check_region(region: str) -> str:
    """The region filter as given, or ReportsError when it cannot be a region name or adcode."""
    try:
        region.encode("utf-8")
    except UnicodeEncodeError:
        raise ReportsError("--region is not valid UTF-8 text (check the terminal's encoding)") from None
    if len(region) > MAX_REGION_CHARS:
        raise ReportsError(f"--region has {len(region):,} characters; a region name or adcode has at most "
                           f"{MAX_REGION_CHARS}")
    return region


def reports(db: sqlite_utils.Database, *, year: int | None = None, region: str | None = None) -> list[dict]:
    """One row per canonical annual report (`duplicate_of IS NULL`), newest published first.
    `region` matches a part of the region's name (literally: % and _ are plain characters) or its adcode."""
    where = ["doc_type = 'annual_report'", "duplicate_of IS NULL"]
    params: list = []
    if year is not None:
        where.append("report_year = ?")
        params.append(int(year))
    if region:
        where.append("(region LIKE ? ESCAPE '\\' OR adcode = ?)")
        params += [like_pattern(check_region(region)), region]
    sql = (f"SELECT {', '.join(REPORT_KEYS)} FROM documents WHERE {' AND '.join(where)} "
           "ORDER BY published_at IS NULL, published_at DESC, report_year DESC, id DESC")
    return [dict(row) for row in db.query(sql, params)]
