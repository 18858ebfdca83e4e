"""The query behind `govwatch status`: each portal's crawl health (written by the crawl process) and its next
scheduled run (from the daemon's job store)."""

from __future__ import annotations

import sqlite_utils

from crawler.crawl.watch import next_runs

STATUS_KEYS = ("id", "status", "reason", "last_crawl_at", "documents", "reports", "next_run", "node", "job")


def status(db: sqlite_utils.Database, portal_ids: list[str] | None = None) -> list[dict]:
    """One row per portal: id, status (ok | blocked | error | never), reason, last_crawl_at, documents and
    reports (canonical ones: a repost counts where it was first published), next_run (from `watch`), and the
    scrapyd node and job of the latest run, running or not (backend = "scrapyd"; empty for local crawls)."""
    sql = """
        SELECT p.id AS id, COALESCE(p.status, 'never') AS status, p.reason AS reason,
               p.last_crawl_at AS last_crawl_at,
               (SELECT COUNT(*) FROM documents d WHERE d.portal_id = p.id AND d.duplicate_of IS NULL)
                 AS documents,
               (SELECT COUNT(*) FROM documents d WHERE d.portal_id = p.id AND d.doc_type = 'annual_report'
                  AND d.duplicate_of IS NULL) AS reports,
               r.node AS node, r.job_id AS job
        FROM portals p
        LEFT JOIN crawl_runs r ON r.id = (SELECT MAX(id) FROM crawl_runs WHERE portal_id = p.id)
        WHERE p.removed_at IS NULL ORDER BY p.id"""
    rows, scheduled = [], next_runs(db)
    for row in db.query(sql):
        if portal_ids and row["id"] not in portal_ids:
            continue
        row = dict(row)
        row["next_run"] = scheduled.get(row["id"])
        rows.append({key: row[key] for key in STATUS_KEYS})
    return rows
