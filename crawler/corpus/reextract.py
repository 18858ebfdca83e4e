"""`govwatch reextract`: extract the archived pages again and update their documents in place.

For every document with an archived page (`captures`, see crawler.corpus.archive), the page and its archived
attachments are read back from the WARC files (one seek per record, never a file whole), the document is
built as the crawl builds it (`crawler.extract.document.document_fields`) and stored through the one store
path (`crawler.corpus.ingest.store_document`), so dedupe, the full-text index and coverage follow. What the
page does not say (no title, no date) is kept from the stored document: for a crawled page that is what its
list entry said. The fetch time and crawl run stay: nothing was fetched.

A document that becomes a canonical `annual_report` for a (region, year) never seen is a `reclassified`
event, listed among the alerts and delivered only with `[alerts] alert_on_reclassified = true`, so an
extractor upgrade never floods the channels.

Changed documents are committed together, at least every COMMIT_SECONDS (one commit per document costs
more than storing it), each in its own savepoint, so one that fails to store is undone alone. A run stopped
half-way loses at most the uncommitted batch, which the next run finds changed again.

`dry_run` changes nothing: each changed document is stored inside a transaction that is rolled back, so the
counts (and the reclassified events) are what a real run would give for that document alone.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import sqlite_utils

from crawler.corpus.archive import ArchiveError, Capture, read_capture
from crawler.corpus.ingest import STORED_FIELDS, store_document
from crawler.extract import ExtractError, analyse
from crawler.extract.attachments import AttachmentText, attachment_name, extract_attachment
from crawler.extract.document import attachment_links, document_fields
from crawler.monitor.alerts import AlertPolicy
from storage import savepoint, transaction

BATCH = 500
MAX_EXAMPLES = 3
MAX_ERRORS = 20
# the write lock is held this long at most between commits: another writer (the daemon's) waits no longer
COMMIT_SECONDS = 0.5


@dataclass(frozen=True)
class FieldChange:
    url: str
    field: str
    old: object
    new: object

    def as_dict(self) -> dict:
        return {"url": self.url, "field": self.field, "old": self.old, "new": self.new}


@dataclass
class ReextractSummary:
    dry_run: bool = False
    documents: int = 0  # documents with an archived page that were read
    changed: int = 0
    unchanged: int = 0
    reclassified: int = 0  # new reports found (alert kind `reclassified`)
    missing: int = 0  # archived record not readable (file gone, cut short)
    failed: int = 0  # extraction or storing failed
    fields: Counter = field(default_factory=Counter)  # changed field -> documents
    examples: dict[str, list[FieldChange]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS, one line each

    def note_error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "documents": self.documents, "changed": self.changed,
                "unchanged": self.unchanged, "reclassified": self.reclassified, "missing": self.missing,
                "failed": self.failed, "fields": dict(self.fields.most_common()),
                "examples": {f: [c.as_dict() for c in changes] for f, changes in self.examples.items()},
                "errors": self.errors}


def http_url(url: str | None) -> str | None:
    """The URL extraction may use (dates, regions): a web URL, not a `file:` URL of an imported file."""
    return url if url and url.startswith(("http://", "https://")) else None


def capture_fields(capture: Capture, role: str, *, url: str, attachment: Callable[[str], Capture | None],
                   known_attachments: list[dict] | None = None, listed_title: str | None = None,
                   listed_date: str | None = None) -> dict:
    """A document's fields from its archived page (`role` page) or file (`role` file) and its attachments,
    looked up by URL with `attachment(url)`. An attachment link without a record keeps its known entry (an
    off-site link, a failed download). Raises ExtractError when the page is no page."""
    web_url = http_url(url)
    if role == "file":
        files = [extract_attachment(url, attachment_name(url, listed_title), capture.body, capture.content_type)]
        return document_fields(None, files, url=web_url, listed_title=listed_title, listed_date=listed_date)
    page = analyse(capture.body, web_url, charset=capture.charset)
    known = {entry.get("url"): entry for entry in known_attachments or []}
    files: list[AttachmentText] = []
    for link, name in attachment_links(page):
        found = attachment(link)
        if found is not None and found.status in (None, 200):
            files.append(extract_attachment(link, name, found.body, found.content_type))
        elif found is not None:
            files.append(AttachmentText(link, name, "error", "", f"HTTP {found.status}"))
        elif link in known:
            entry = known[link]
            files.append(AttachmentText(link, name, entry.get("status") or "error", "",
                                        entry.get("error") or "not archived"))
        else:
            files.append(AttachmentText(link, name, "error", "", "not fetched (a link found by re-extraction)"))
    return document_fields(page, files, url=web_url, listed_title=listed_title, listed_date=listed_date)


def _changes(stored: dict, fields: dict) -> list[str]:
    new = dict(fields)
    for name in ("attachments", "text_sources"):
        new[name] = json.dumps(new.get(name) or [], ensure_ascii=False)
    return [name for name in STORED_FIELDS if stored.get(name) != new.get(name)]


class _RolledBack:
    """A write transaction that is always rolled back (the dry run's)."""

    def __init__(self, db):
        self.conn = db.conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        return False


class _Batch:
    """The transaction re-extracted documents are stored in: begun at the first store, committed by
    `commit_if_due` once it is COMMIT_SECONDS old (and at the end); each store runs in a savepoint, undone
    alone if it fails."""

    def __init__(self, db):
        self.db = db
        self.open: transaction | None = None
        self.began = 0.0

    def store(self, doc: dict, **options):
        if self.open is None:
            self.open = transaction(self.db)
            self.open.__enter__()
            self.began = time.monotonic()
        with savepoint(self.db):
            return store_document(self.db, doc, reextracted=True, **options)

    def commit_if_due(self) -> None:
        """Commit once the batch is COMMIT_SECONDS old, also while unchanged documents follow a change."""
        if self.open is not None and time.monotonic() - self.began >= COMMIT_SECONDS:
            self.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.open is not None:
            opened, self.open = self.open, None
            opened.__exit__(exc_type, exc, tb)
        return False


_SELECT = (f"SELECT d.id, d.url, d.portal_id, {', '.join('d.' + f for f in STORED_FIELDS)}, c.url AS capture_url, "
           "c.role, c.warc_file, c.warc_offset, c.warc_length FROM documents d JOIN captures c "
           "ON c.document_id = d.id AND c.role IN ('page', 'file') WHERE d.id > ?")


def _where(portal: str | None, since: str | None) -> tuple[str, list]:
    sql, params = "", []
    if portal:
        sql += " AND d.portal_id = ?"
        params.append(portal)
    if since:
        sql += " AND c.captured_at >= ?"
        params.append(since)
    return sql, params


def count_archived(db: sqlite_utils.Database, *, portal: str | None = None, since: str | None = None) -> int:
    """Documents `reextract` would read (for a progress bar)."""
    sql, params = _where(portal, since)
    return db.execute("SELECT count(*) FROM documents d JOIN captures c ON c.document_id = d.id "
                      f"AND c.role IN ('page', 'file') WHERE 1{sql}", params).fetchone()[0]


def reextract(db: sqlite_utils.Database, archive_dir, *, portal: str | None = None, since: str | None = None,
              dry_run: bool = False, policy: AlertPolicy | None = None, dedupe_threshold: float | None = None,
              progress: Callable[[int], None] | None = None) -> ReextractSummary:
    """Extract every archived page again (of `portal`, archived on or after `since`, YYYY-MM-DD) and update
    its document in place. `archive_dir` is the archive directory (pointers are relative to it);
    `progress(n)` is called with the number of documents done. Never raises for one document: its error is
    counted and listed."""
    summary = ReextractSummary(dry_run=dry_run)
    where, params = _where(portal, since)
    last = 0
    with _Batch(db) as batch:
        while True:
            cursor = db.execute(f"{_SELECT}{where} ORDER BY d.id LIMIT {BATCH}", [last, *params])
            names = [c[0] for c in cursor.description]
            rows = [dict(zip(names, values)) for values in cursor.fetchall()]
            if not rows:
                return summary
            for row in rows:
                _one(db, archive_dir, row, summary, batch, policy=policy, threshold=dedupe_threshold)
                batch.commit_if_due()
                summary.documents += 1
                if progress is not None:
                    progress(summary.documents)
            last = rows[-1]["id"]


def _one(db, archive_dir, row: dict, summary: ReextractSummary, batch: _Batch, *, policy, threshold) -> None:
    pointer = {"file": row["warc_file"], "offset": row["warc_offset"], "length": row["warc_length"]}
    try:
        capture = read_capture(archive_dir, pointer)
        attachments = {}
        if row["attachments"] not in (None, "[]"):  # only fetched attachments have records
            attachments = {url: {"file": name, "offset": offset, "length": length}
                           for url, name, offset, length in db.conn.execute(
                               "SELECT url, warc_file, warc_offset, warc_length FROM captures "
                               "WHERE document_id = ? AND role = 'attachment'", [row["id"]])}

        def attachment(link: str) -> Capture | None:
            return read_capture(archive_dir, attachments[link]) if link in attachments else None

        fields = capture_fields(capture, row["role"], url=row["url"], attachment=attachment,
                                known_attachments=json.loads(row["attachments"] or "[]"),
                                listed_title=row["title"], listed_date=row["published_at"])
    except ArchiveError as exc:
        summary.missing += 1
        summary.note_error(f"{row['url']}: {exc}")
        return
    except ExtractError as exc:
        summary.failed += 1
        summary.note_error(f"{row['url']}: {exc}")
        return
    changed = _changes(row, fields)
    if not changed:
        summary.unchanged += 1
        return
    doc = {"url": row["url"], "portal_id": row["portal_id"], **fields}
    try:
        if summary.dry_run:
            with _RolledBack(db):
                result = store_document(db, doc, policy=policy, dedupe_threshold=threshold, reextracted=True)
        else:
            result = batch.store(doc, policy=policy, dedupe_threshold=threshold)
    except Exception as exc:  # noqa: BLE001 - one document must not stop the run
        summary.failed += 1
        summary.note_error(f"{row['url']}: storing failed: {type(exc).__name__}: {exc}")
        return
    summary.changed += 1
    summary.reclassified += int(result.reclassified)
    summary.fields.update(changed)
    for name in changed:
        examples = summary.examples.setdefault(name, [])
        if len(examples) < MAX_EXAMPLES:
            new = doc.get(name)
            examples.append(FieldChange(row["url"], name, row.get(name), new if not isinstance(new, list)
                                        else json.dumps(new, ensure_ascii=False)))
