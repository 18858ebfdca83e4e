"""The query behind `govwatch status`: each portal's crawl health (written by the crawl's run bookkeeping) and
its next scheduled run (from the daemon's job store, shown only while a daemon runs on the database)."""

from __future__ import annotations

import sqlite_utils

from crawler.crawl.daemonlock import running_daemon
from crawler.crawl.watch import next_runs

STATUS_KEYS = ("id", "status", "reason", "last_crawl_at", "documents", "reports", "next_run", "node", "job")


def database_file(db: sqlite_utils.Database) -> str | None:
    """The file behind a connection (None for an in-memory database)."""
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or None
    return None


def status(db: sqlite_utils.Database, portal_ids: list[str] | None = None, *, config=None) -> list[dict]:
    """One row per portal: id, status (ok | blocked | error | never), reason, last_crawl_at, documents and
    reports (canonical ones: a repost counts where it was first published), next_run (while `watch` runs), and
    the scrapyd node and job of the latest run, running or not (backend = "scrapyd"; empty for local crawls).

    With `config`, its portals that never ran are listed too (status `never`)."""
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
    path = database_file(db)
    scheduled = next_runs(db) if path and running_daemon(path) else {}
    found = {row["id"]: dict(row) for row in db.query(sql)}
    for portal in (config.portals if config is not None else ()):
        found.setdefault(portal.id, {"id": portal.id, "status": "never", "reason": "never crawled",
                                     "last_crawl_at": None, "documents": 0, "reports": 0, "node": None,
                                     "job": None})
    rows = []
    for portal_id in sorted(found):
        if portal_ids and portal_id not in portal_ids:
            continue
        row = found[portal_id]
        row["next_run"] = scheduled.get(portal_id)
        rows.append({key: row[key] for key in STATUS_KEYS})
    return rows
