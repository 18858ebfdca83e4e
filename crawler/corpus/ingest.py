"""Storing an extracted document: the single write path shared by the crawl pipeline and the tests.

One transaction per document: the row, its duplicate link and any alert it causes commit together, so a
crash leaves either all of them or none (the transactional outbox the alerts rely on).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass

import sqlite_utils

from crawler.corpus.dedupe import assign_duplicate
from crawler.corpus.job import Job, Outcome
from crawler.monitor.alerts import AlertPolicy, on_document_stored
from crawler.urls import canonicalize
from storage import now_iso, transaction

logger = logging.getLogger(__name__)

RECORD_FIELDS = ("title", "text", "published_at", "source", "author", "region", "adcode", "report_year", "doc_type")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class StoreResult:
    document_id: int
    created: bool  # a URL never stored before
    changed: bool  # an already stored URL whose body or title changed
    duplicate_of: int | None
    new_report: bool  # a canonical annual report for a (region, year) not seen before


def body_hash(text: str | None) -> str:
    """Hash of the body with all whitespace removed: the same text re-wrapped or re-indented is the same."""
    return hashlib.sha1(_SPACE.sub("", text or "").encode("utf-8")).hexdigest()


def store_document(db: sqlite_utils.Database, doc: dict, *, run_id: int | None = None,
                   policy: AlertPolicy | None = None, dedupe_threshold: float | None = None) -> StoreResult:
    """Insert or update one document (a dict with the Record fields plus `url`, `portal_id` and optionally
    `site_name`, `attachments`, `text_sources`, `fetched_at`). Idempotent for unchanged content.

    `policy` is the alert policy (`AlertPolicy.from_settings(config.alerts)`), `dedupe_threshold` the
    `[dedupe] threshold`; both default to the config defaults."""
    url = canonicalize(doc["url"])
    now = now_iso()
    content_hash = body_hash(doc.get("text"))
    row = {field: doc.get(field) for field in RECORD_FIELDS}
    row.update(
        url=url,
        portal_id=doc.get("portal_id"),
        site_name=doc.get("site_name"),
        attachments=json.dumps(doc.get("attachments") or [], ensure_ascii=False),
        text_sources=json.dumps(doc.get("text_sources") or [], ensure_ascii=False),
        content_hash=content_hash,
        fetched_at=doc.get("fetched_at") or now,
        crawl_run_id=run_id,
        updated_at=now,
    )
    with transaction(db):
        found = db.conn.execute("SELECT id, content_hash, title, duplicate_of FROM documents WHERE url = ?",
                                [url]).fetchone()
        existing = dict(zip(("id", "content_hash", "title", "duplicate_of"), found)) if found else None
        if existing and existing["content_hash"] == content_hash and existing["title"] == row["title"]:
            db.execute("UPDATE documents SET fetched_at = ?, crawl_run_id = ? WHERE id = ?",
                       [row["fetched_at"], run_id, existing["id"]])
            return StoreResult(existing["id"], False, False, existing["duplicate_of"], False)
        # plain SQL: sqlite-utils' insert/update re-read the table's schema on every call (once per page)
        if existing:
            assignments = ", ".join(f"{column} = ?" for column in row)
            db.conn.execute(f"UPDATE documents SET {assignments} WHERE id = ?", [*row.values(), existing["id"]])
            document_id = existing["id"]
        else:
            row["first_seen_at"] = now
            cursor = db.conn.execute(f"INSERT INTO documents ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                     list(row.values()))
            document_id = cursor.lastrowid
        # dedupe first: alerts only ever fire for canonical documents
        duplicate = assign_duplicate(db, document_id, threshold=dedupe_threshold)
        event = on_document_stored(db, document_id, created=existing is None, changed=existing is not None,
                                   policy=policy)
        for released_id in duplicate.released:  # canonical only now: a report never alerted may be among them
            on_document_stored(db, released_id, created=False, changed=True, policy=policy)
        return StoreResult(document_id, existing is None, existing is not None, duplicate.duplicate_of,
                           bool(event and event.new_report))


def store_one(db, fetch_state, job: Job, *, policy, threshold: float | None) -> Outcome:
    """Store one document and the fetch state that marks it known, in one transaction: a crash between the
    two can neither lose the document nor leave it unknown (and so refetched and re-alerted). Never raises:
    one bad document must not stop the crawl, its error comes back in the Outcome."""
    try:
        with transaction(db):
            result = store_document(db, job.doc, run_id=job.run_id, policy=policy, dedupe_threshold=threshold)
            fetch_state.record(job.state_url, **job.state)
    except Exception as exc:  # noqa: BLE001 - reported to the crawl, which goes on
        logger.exception("storing %s failed", job.doc.get("url"))
        return Outcome(job.doc.get("portal_id"), job.doc.get("url"), error=f"{type(exc).__name__}: {exc}")
    return Outcome(job.doc["portal_id"], job.doc["url"], result.created, result.changed, result.new_report)
