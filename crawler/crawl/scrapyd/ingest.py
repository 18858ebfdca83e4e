"""A scrapyd job's hand-back into the database, exactly once.

Everything a job brought back is written in ONE transaction: the fetch state the crawl changed, every
document through the one store path (`crawler.corpus.ingest.store_document`: row, dedupe, index, alert
outbox) with the fetch state that marks it known, each portal's run and status, and the job's own row set
to `ingested`. A controller that dies mid-ingest leaves none of it, and the next controller ingests the job
again from its hand-back; a job already `ingested` is never stored twice (the claim is the first statement
of the transaction). One document that fails to store is rolled back alone (a savepoint) and counted as an
error of its portal, as in a local crawl.

The WARC records the node handed back move into the controller's archive (`archive`, a WarcWriter; None
when `[archive] dir = "off"`: they are dropped and the documents get no captures): each member is appended
as it is and the document's pointers are rewritten to it before `store_document`, and the file is fsynced
before the transaction commits, so a committed capture never points at bytes that are not on disk. An
ingest that dies midway leaves members in the archive that nothing points at (its transaction is rolled
back, a cut last member is cut off by the next writer's `recover`); the redo appends them again and
points at the new copies. Those unreferenced duplicates are the price of not making file appends part of
the transaction: harmless, since every reader goes by pointer.
"""

from __future__ import annotations

import collections
import json
import logging
from dataclasses import dataclass, field

from crawler.corpus.archive import ArchiveError
from crawler.corpus.ingest import store_document
from crawler.corpus.job import Job
from crawler.crawl.fetchstate import FetchState
from crawler.crawl.runs import finish_run, silent_baseline_reports
from crawler.crawl.scrapyd.jobs import HandBack
from crawler.crawl.summary import PortalSummary
from storage import now_iso, savepoint, transaction

logger = logging.getLogger(__name__)


@dataclass
class PortalResult(PortalSummary):
    """What ingesting one portal's part of a job stored, and the run it closed (with the node's last errors)."""

    error_messages: list[str] = field(default_factory=list)


def job_for(item: dict, run_id: int | None) -> Job:
    """The store job of a spider item (as `crawler.pipelines.StorePipeline.process_item` builds it)."""
    doc = {k: v for k, v in item.items() if not k.startswith("_")}
    return Job(doc, run_id, item.get("_list_url") or doc["url"], {
        "portal_id": doc["portal_id"], "kind": "detail", "status": 200, "etag": item.get("_etag"),
        "last_modified": item.get("_last_modified"), "body_hash": item.get("_content_hash"),
        "list_entry": item.get("_list_entry")})


def ingest_job(db, job_id: str, back: HandBack, *, policy=None, threshold: float | None = None,
               node: str | None = None, alert_on_baseline: bool = False,
               archive=None) -> dict[str, PortalResult] | None:
    """Store the hand-back of `job_id` (a `scrapyd_jobs` row); None when the job was ingested already.
    `archive` (a `crawler.corpus.archive.WarcWriter`) receives the job's WARC records; None drops them."""
    fetch_state = FetchState(db)
    records = RecordMover(back, archive, job_id)
    with transaction(db):
        row = db.execute("SELECT run_ids, state FROM scrapyd_jobs WHERE job_id = ?", [job_id]).fetchone()
        if row is None:
            raise KeyError(f"no scrapyd job {job_id!r} in the database")
        claimed = db.execute("UPDATE scrapyd_jobs SET state = 'ingested', ingested_at = ? "
                             "WHERE job_id = ? AND state != 'ingested'", [now_iso(), job_id])
        if claimed.rowcount == 0:
            return None
        run_ids = {pid: int(rid) for pid, rid in json.loads(row[0] or "{}").items()}
        _apply_fetch_state(db, back.fetch_state)
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        failures: dict[str, list[str]] = collections.defaultdict(list)
        for item in back.documents:
            job = job_for(records.moved(item), run_ids.get(item.get("portal_id")))
            try:
                with savepoint(db):
                    result = store_document(db, job.doc, run_id=job.run_id, policy=policy,
                                            dedupe_threshold=threshold)
                    fetch_state.record(job.state_url, **job.state)
            except Exception as exc:  # noqa: BLE001 - one bad document must not lose the others
                logger.exception("storing %s from job %s failed", job.doc.get("url"), job_id)
                failures[job.doc.get("portal_id")].append(f"store failed for {job.doc.get('url')}: "
                                                          f"{type(exc).__name__}: {exc}"[:300])
                continue
            tally = counts[job.doc["portal_id"]]
            tally["new_documents" if result.created else "changed_documents" if result.changed else "same"] += 1
            tally["new_reports"] += int(result.new_report)
        results = {pid: _finish_run(db, pid, run_id, back, counts[pid], failures[pid], node, job_id,
                                    alert_on_baseline)
                   for pid, run_id in run_ids.items()}
        if archive is not None:
            archive.sync()  # the records on disk before the captures pointing at them are committed
    return results


class RecordMover:
    """Moves the WARC records a job handed back into the controller's archive, each once (an attachment can
    belong to several documents), and rewrites the documents' pointers to them."""

    def __init__(self, back: HandBack, archive, job_id: str):
        self.back, self.archive, self.job_id = back, archive, job_id
        self.places: dict[tuple[str, int], dict] = {}  # (node file, offset) -> file/offset/length here
        self.failed = False

    def moved(self, item: dict) -> dict:
        """The item with the pointers whose records are now in this archive ([] when the archive is off)."""
        pointers = item.get("archive")
        if not pointers:
            return item
        kept = []
        for pointer in pointers if self.archive is not None else ():
            place = self._place(pointer)
            if place is not None:
                kept.append({**pointer, **place})
        return {**item, "archive": kept}

    def _place(self, pointer: dict) -> dict | None:
        key = (pointer.get("file"), int(pointer.get("offset") or 0))
        if key in self.places:
            return self.places[key]
        try:
            member = self.back.member(pointer)
            if member is None:  # the node could not read it: the document is stored without this capture
                logger.warning("job %s handed back no WARC record for %s", self.job_id, pointer.get("url"))
                return None
            place = self.archive.append_member(member, {})
        except (ArchiveError, ValueError, KeyError) as exc:  # a broken member, a full disk: the page stays
            if not self.failed:
                logger.error("archive: the records of job %s: %s (documents stored without them)", self.job_id, exc)
            self.failed = True
            return None
        self.places[key] = place
        return place


def _apply_fetch_state(db, rows: list[dict]) -> None:
    """Upsert the node's fetch_state rows (the columns both sides know), before the documents' own rows."""
    if not rows:
        return
    columns = {r[1] for r in db.execute("PRAGMA table_info(fetch_state)").fetchall()}
    for row in rows:
        values = {key: value for key, value in row.items() if key in columns}
        names = list(values)
        db.conn.execute(f"INSERT INTO fetch_state ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                        f"ON CONFLICT(url) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in names if n != 'url')}",
                        list(values.values()))


def _finish_run(db, portal_id: str, run_id: int, back: HandBack, counts, failures: list[str], node: str | None,
                job_id: str, alert_on_baseline: bool) -> PortalResult:
    stats = back.runs.get(portal_id) or {}
    close_reason = back.end.get("close_reason", "finished")
    status = stats.get("status") or "error"
    errors = int(stats.get("errors") or 0) + len(failures)
    messages = list(stats.get("error_messages") or []) + failures
    reason = stats.get("reason")
    if back.error:
        status, reason = "error", back.error
    elif not stats:
        status, reason = "error", f"job {job_id} on {node} handed back no run for this portal"
    elif close_reason != "finished" and status in ("ok", "running"):
        status, reason = "killed", f"crawl stopped on {node}: {close_reason}"
    elif status == "running":
        status = "error"
    if failures and status == "ok":  # a run that lost documents is not a complete baseline
        status = "error"
    if not reason and errors:
        reason = f"{errors} error{'s' if errors > 1 else ''}, last: {messages[-1] if messages else 'see the log'}"
    result = PortalResult(portal_id, run_id, status, reason, requests=int(stats.get("requests") or 0),
                          pages=int(stats.get("pages") or 0), new_documents=counts["new_documents"],
                          changed_documents=counts["changed_documents"], new_reports=counts["new_reports"],
                          errors=errors, family=stats.get("family"), error_messages=messages[-5:])
    first = not (db.execute("SELECT baseline_done FROM portals WHERE id = ?", [portal_id]).fetchone() or [0])[0]
    finish_run(db, run_id, portal_id, status, reason, {
        "requests": result.requests, "pages": result.pages, "new_documents": result.new_documents,
        "new_reports": result.new_reports, "errors": errors})
    if status == "ok" and first and not alert_on_baseline:
        result.baseline_reports = silent_baseline_reports(db, portal_id)
    return result
