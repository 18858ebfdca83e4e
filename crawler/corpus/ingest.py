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
# what a store compares with the stored row: any difference is a change (dedupe and alerts run again)
STORED_FIELDS = (*RECORD_FIELDS, "site_name", "attachments", "text_sources")
CAPTURE_COLUMNS = ("document_id", "url", "role", "warc_file", "warc_offset", "warc_length", "record_id",
                   "captured_at", "status", "content_type", "payload_digest", "origin")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class StoreResult:
    document_id: int
    created: bool  # a URL never stored before
    changed: bool  # an already stored URL whose stored fields changed
    duplicate_of: int | None
    new_report: bool  # a canonical annual report for a (region, year) not seen before
    reclassified: bool = False  # the same, found by re-extraction (an alert of kind `reclassified`)
    changed_fields: tuple[str, ...] = ()  # of an already stored URL


def body_hash(text: str | None) -> str:
    """Hash of the body with all whitespace removed: the same text re-wrapped or re-indented is the same."""
    return hashlib.sha1(_SPACE.sub("", text or "").encode("utf-8")).hexdigest()


def store_document(db: sqlite_utils.Database, doc: dict, *, run_id: int | None = None,
                   policy: AlertPolicy | None = None, dedupe_threshold: float | None = None,
                   reextracted: bool = False) -> StoreResult:
    """Insert or update one document (a dict with the Record fields plus `url`, `portal_id` and optionally
    `site_name`, `attachments`, `text_sources`, `fetched_at`, and `archive`: pointers to its WARC records,
    each with its `role`). Idempotent for unchanged content.

    `policy` is the alert policy (`AlertPolicy.from_settings(config.alerts)`), `dedupe_threshold` the
    `[dedupe] threshold`; both default to the config defaults. `reextracted`: the fields come from
    extracting the archived page again, not from a fetch: the fetch time and run stay, and a report found
    this way is a `reclassified` event (see crawler.monitor.alerts)."""
    url = canonicalize(doc["url"])
    now = now_iso()
    row = {field: doc.get(field) for field in RECORD_FIELDS}
    row.update(
        site_name=doc.get("site_name"),
        attachments=json.dumps(doc.get("attachments") or [], ensure_ascii=False),
        text_sources=json.dumps(doc.get("text_sources") or [], ensure_ascii=False),
    )
    fetch = {} if reextracted else {"fetched_at": doc.get("fetched_at") or now, "crawl_run_id": run_id}
    with transaction(db):
        cursor = db.conn.execute(f"SELECT id, duplicate_of, portal_id, {', '.join(STORED_FIELDS)} FROM documents "
                                 "WHERE url = ?", [url])
        found = cursor.fetchone()
        existing = dict(zip((c[0] for c in cursor.description), found)) if found else None
        changed = tuple(f for f in STORED_FIELDS if existing[f] != row[f]) if existing else ()
        if existing and not changed:
            if fetch:
                db.conn.execute("UPDATE documents SET fetched_at = ?, crawl_run_id = ? WHERE id = ?",
                                [fetch["fetched_at"], run_id, existing["id"]])
            record_captures(db, existing["id"], doc.get("archive"))
            return StoreResult(existing["id"], False, False, existing["duplicate_of"], False)
        # plain SQL: sqlite-utils' insert/update re-read the table's schema on every call (once per page).
        # An update sets only the changed columns: the full-text index is rebuilt only when title or text is
        # among them (its trigger fires on an UPDATE OF title, text).
        if existing:
            values = {f: row[f] for f in changed}
            if "text" in changed:
                values["content_hash"] = body_hash(row["text"])
            if doc.get("portal_id") and doc["portal_id"] != existing["portal_id"]:
                values["portal_id"] = doc["portal_id"]
            values.update(fetch, updated_at=now)
            assignments = ", ".join(f"{column} = ?" for column in values)
            db.conn.execute(f"UPDATE documents SET {assignments} WHERE id = ?", [*values.values(), existing["id"]])
            document_id = existing["id"]
        else:
            row.update(url=url, portal_id=doc.get("portal_id"), content_hash=body_hash(row["text"]), **fetch,
                       first_seen_at=now, updated_at=now)
            cursor = db.conn.execute(f"INSERT INTO documents ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                     list(row.values()))
            document_id = cursor.lastrowid
        record_captures(db, document_id, doc.get("archive"))
        # dedupe first: alerts only ever fire for canonical documents
        duplicate = assign_duplicate(db, document_id, threshold=dedupe_threshold)
        event = on_document_stored(db, document_id, created=existing is None, changed=existing is not None,
                                   policy=policy, reextracted=reextracted)
        for released_id in duplicate.released:  # canonical only now: a report never alerted may be among them
            on_document_stored(db, released_id, created=False, changed=True, policy=policy, reextracted=reextracted)
        return StoreResult(document_id, existing is None, existing is not None, duplicate.duplicate_of,
                           bool(event and event.new_report), bool(event and event.kind == "reclassified"), changed)


def record_captures(db: sqlite_utils.Database, document_id: int, pointers: list[dict] | None) -> None:
    """Point the document at its WARC records (crawler.corpus.archive pointers with a `role`), replacing
    the records of an earlier fetch. Nothing happens without pointers (archive off, or re-extraction)."""
    if not pointers:
        return
    db.conn.execute("DELETE FROM captures WHERE document_id = ?", [document_id])
    db.conn.executemany(
        f"INSERT OR REPLACE INTO captures ({', '.join(CAPTURE_COLUMNS)}) VALUES ({', '.join('?' * len(CAPTURE_COLUMNS))})",
        [(document_id, p["url"], p.get("role") or "page", p["file"], p["offset"], p["length"], p.get("record_id"),
          p.get("captured_at"), p.get("status"), p.get("content_type"), p.get("digest"), p.get("origin") or "crawl")
         for p in pointers])


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
