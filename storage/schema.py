"""The one place that defines govwatch's database schema.

Every change to the schema is a new migration appended at the end of this module; applied migrations are
recorded by sqlite-utils in `_sqlite_migrations`, so an old database is brought up to date by `migrate(db)`.
Never edit a migration that has shipped: add another.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("govwatch")


@migrations()
def m001_core(db: sqlite_utils.Database) -> None:
    db["portals"].create(
        {
            "id": str,
            "name": str,
            "home": str,
            "start_urls": str,  # JSON list
            "cms": str,
            "region": str,
            "adcode": str,
            "schedule": str,
            "status": str,  # ok | blocked | error | never
            "reason": str,
            "last_crawl_at": str,
            "last_run_id": int,
            "baseline_done": int,  # 1 once a crawl of this portal finished: later reports alert
            "updated_at": str,
        },
        pk="id",
        defaults={"status": "never", "baseline_done": 0},
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "portal_id": str,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | ok | blocked | error | timeout | killed
            "reason": str,
            "requests": int,
            "pages": int,
            "new_documents": int,
            "new_reports": int,
            "errors": int,
            "pid": int,
        },
        pk="id",
        defaults={"requests": 0, "pages": 0, "new_documents": 0, "new_reports": 0, "errors": 0},
    )
    db["crawl_runs"].create_index(["portal_id", "started_at"])
    db["fetch_state"].create(
        {
            "url": str,
            "portal_id": str,
            "kind": str,  # list | detail | attachment | robots
            "status": int,
            "etag": str,
            "last_modified": str,
            "content_hash": str,
            "list_entry": str,  # fingerprint of the list entry that pointed at this detail page
            "fetched_at": str,
            "checked_at": str,
        },
        pk="url",
    )
    db["fetch_state"].create_index(["portal_id"])
    db["documents"].create(
        {
            "id": int,
            "url": str,
            "portal_id": str,
            "title": str,
            "text": str,
            "published_at": str,
            "source": str,
            "author": str,
            "region": str,
            "adcode": str,
            "report_year": int,
            "doc_type": str,
            "site_name": str,
            "attachments": str,  # JSON list of {url, name, status, chars, error}
            "text_sources": str,  # JSON list of {from: "page" | attachment URL, chars}
            "content_hash": str,  # hash of the normalised body text
            "minhash": bytes,  # MinHash signature of the body (near-duplicate detection)
            "duplicate_of": int,  # canonical document id, NULL when this row is canonical
            "similarity": float,  # estimated Jaccard similarity to duplicate_of
            "crawl_run_id": int,
            "fetched_at": str,
            "first_seen_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"url"},
        foreign_keys=[("duplicate_of", "documents", "id")],
    )
    db["documents"].create_index(["url"], unique=True)
    db["documents"].create_index(["content_hash"])
    db["documents"].create_index(["doc_type", "report_year"])
    db["documents"].create_index(["adcode"])
    db["documents"].create_index(["duplicate_of"])
    db["documents"].create_index(["portal_id"])


@migrations()
def m002_near_duplicates(db: sqlite_utils.Database) -> None:
    # LSH buckets of each document's MinHash bands: inserting a document only compares it with the
    # documents that share a bucket, never with the whole corpus.
    db.execute(
        "CREATE TABLE minhash_bands (band INTEGER NOT NULL, bucket INTEGER NOT NULL, "
        "document_id INTEGER NOT NULL, PRIMARY KEY (band, bucket, document_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX minhash_bands_document ON minhash_bands(document_id)")


@migrations()
def m003_search(db: sqlite_utils.Database) -> None:
    # Chinese has no spaces, so the index holds jieba-segmented tokens; `govwatch_segment` is registered on
    # every connection by storage.db.connect, so the triggers keep the index in step whoever writes.
    db.execute(
        "CREATE VIRTUAL TABLE documents_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0')"
    )
    db.execute(
        """CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN
             INSERT INTO documents_fts(rowid, title, body)
             VALUES (new.id, govwatch_segment(new.title), govwatch_segment(new.text));
           END"""
    )
    db.execute(
        """CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN
             DELETE FROM documents_fts WHERE rowid = old.id;
           END"""
    )
    db.execute(
        """CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, text ON documents BEGIN
             DELETE FROM documents_fts WHERE rowid = old.id;
             INSERT INTO documents_fts(rowid, title, body)
             VALUES (new.id, govwatch_segment(new.title), govwatch_segment(new.text));
           END"""
    )


@migrations()
def m004_alerts(db: sqlite_utils.Database) -> None:
    # (adcode or issuer, report_year) pairs already seen: the memory that stops re-alerts.
    db["report_keys"].create(
        {
            "key": str,  # "adcode:340202:2020" or "issuer:<body>:2020"
            "document_id": int,
            "content_hash": str,
            "first_seen_at": str,
            "baseline": int,  # 1 when first seen during a silent baseline crawl
        },
        pk="key",
    )
    # The outbox: an alert row is written in the same transaction as the document that causes it.
    db["alerts"].create(
        {
            "id": int,
            "kind": str,  # new_report | updated | late_report | missing_digest | test
            "dedupe_key": str,
            "document_id": int,
            "portal_id": str,
            "message": str,
            "url": str,
            "payload": str,  # JSON
            "created_at": str,
        },
        pk="id",
    )
    db["alerts"].create_index(["dedupe_key"], unique=True)
    db["alert_deliveries"].create(
        {
            "alert_id": int,
            "channel": str,  # stable id of the channel (hash of its URL), never the secret itself
            "channel_label": str,  # redacted URL for display
            "status": str,  # pending | sent | failed
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "delivered_at": str,
        },
        pk=("alert_id", "channel"),
        defaults={"status": "pending", "attempts": 0},
    )
    db["alert_attempts"].create(
        {
            "id": int,
            "alert_id": int,
            "channel": str,
            "attempted_at": str,
            "ok": int,
            "error": str,
        },
        pk="id",
    )
    db["alert_attempts"].create_index(["alert_id"])


@migrations()
def m005_alert_outbox(db: sqlite_utils.Database) -> None:
    # Outbox bookkeeping: whether an alert is to be delivered at all (0 = stored only, e.g. `updated` while
    # alert_on_update is off), when every configured channel had it (closed), and the sender's lease on a
    # delivery row so two senders never send the same row at once.
    db.execute("ALTER TABLE alerts ADD COLUMN deliver INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE alerts ADD COLUMN closed_at TEXT")
    db.execute("CREATE INDEX alerts_open ON alerts(closed_at, deliver)")
    db.execute("ALTER TABLE alert_deliveries ADD COLUMN lease_owner TEXT")
    db.execute("ALTER TABLE alert_deliveries ADD COLUMN lease_until TEXT")
    db.execute("CREATE INDEX alert_deliveries_due ON alert_deliveries(status, next_attempt_at)")
    # A compact bottom-k sketch of the known version's body, so a changed version can be compared with the
    # version that was known even after the document row was overwritten in place.
    db.execute("ALTER TABLE report_keys ADD COLUMN sketch TEXT")
    db.execute("ALTER TABLE report_keys ADD COLUMN portal_id TEXT")
    # Regions already named in a deadline digest for a year: each region is reported missing once per year.
    db.execute(
        "CREATE TABLE deadline_notices (year INTEGER NOT NULL, region_key TEXT NOT NULL, alert_id INTEGER, "
        "notified_at TEXT, PRIMARY KEY (year, region_key))"
    )


@migrations()
def m006_corpus_dedupe(db: sqlite_utils.Database) -> None:
    # crawler.corpus.dedupe: hash of the *normalised* body (NFKC, simplified script, no spaces or punctuation: see
    # crawler.minhash.normalize) for exact duplicates, and how a duplicate matched its canonical document.
    db.execute("ALTER TABLE documents ADD COLUMN dedupe_hash TEXT")
    db.execute("ALTER TABLE documents ADD COLUMN duplicate_kind TEXT")  # exact | near | NULL (canonical)
    db.execute("CREATE INDEX documents_dedupe_hash ON documents(dedupe_hash)")
    # Reports, alerts, counts and search read canonical documents only.
    db.execute("CREATE VIEW canonical_documents AS SELECT * FROM documents WHERE duplicate_of IS NULL")


@migrations()
def m007_fts_domain_terms(db: sqlite_utils.Database) -> None:
    # storage/dictionary.txt made domain terms (行政执法, 营商环境, ...) words of their own, and search mode
    # now also indexes the 4+ character words inside longer ones: the index is rebuilt with that cut, in
    # one statement (about 2 ms per document). Edit dictionary.txt only together with a migration like this.
    db.execute("DELETE FROM documents_fts")
    db.execute("INSERT INTO documents_fts(rowid, title, body) "
               "SELECT id, govwatch_segment(title), govwatch_segment(text) FROM documents")


@migrations()
def m011_portal_registry(db: sqlite_utils.Database) -> None:
    # The `portals` table becomes the registry of portals (crawler.registry): rows come from govwatch.toml
    # (`source = 'config'`, synced on every crawl) or from `govwatch portals add|import` (`'registry'`).
    # Rows written before this migration were upserted from the TOML file, hence the default.
    db.execute("ALTER TABLE portals ADD COLUMN source TEXT NOT NULL DEFAULT 'config'")
    db.execute("ALTER TABLE portals ADD COLUMN origin TEXT")  # config file, import file:line, builtin:NAME, add
    db.execute("ALTER TABLE portals ADD COLUMN evidence TEXT")  # public page(s) showing the portal's address
    db.execute("ALTER TABLE portals ADD COLUMN allowed_hosts TEXT")  # JSON list, like start_urls
    # the registry definition a TOML entry of the same id overrides; restored when the entry leaves the file
    db.execute("ALTER TABLE portals ADD COLUMN registry_definition TEXT")
    db.execute("ALTER TABLE portals ADD COLUMN defined_at TEXT")  # last change of the definition columns
    db.execute("ALTER TABLE portals ADD COLUMN removed_at TEXT")  # removed portals keep their row and history
    db.execute("CREATE INDEX portals_adcode ON portals(adcode)")


@migrations()
def m009_crawl_run_process(db: sqlite_utils.Database) -> None:
    # Which process ran a crawl, and what it logged. A run left `running` is closed as `killed` once its process
    # is gone: same host, and the pid with the start time it had (pids are reused), no longer alive. The log's
    # path and its last lines say why a run failed after the crawl process and its stderr are gone.
    db.execute("ALTER TABLE crawl_runs ADD COLUMN host TEXT")
    db.execute("ALTER TABLE crawl_runs ADD COLUMN pid_started TEXT")
    db.execute("ALTER TABLE crawl_runs ADD COLUMN log_file TEXT")
    db.execute("ALTER TABLE crawl_runs ADD COLUMN log_tail TEXT")
    db.execute("CREATE INDEX crawl_runs_status ON crawl_runs(status)")


@migrations()
def m012_alert_labels_masked(db: sqlite_utils.Database) -> None:
    # Channel labels were redacted by hand-written rules that missed secrets in the host part
    # (tgram://BOTTOKEN/..., Slack, Pushover, Discord): every stored label is cut to its scheme; the next flush
    # labels the rows of configured channels again with Apprise's private rendering of their URL.
    db.execute("UPDATE alert_deliveries SET channel_label = substr(channel_label, 1, instr(channel_label, '://') + 2) "
               "|| '***' WHERE instr(channel_label, '://') > 0")
    # The sent / failed rows have no next attempt.
    db.execute("UPDATE alert_deliveries SET next_attempt_at = NULL WHERE status != 'pending'")


@migrations()
def m008_fetch_retries(db: sqlite_utils.Database) -> None:
    # Nothing scheduled is lost: a detail page is written down as scheduled (status 0) in the transaction that
    # records the list page listing it, before it is requested, and only storing its document makes it known
    # (200). What a run scheduled and did not store is asked for first by the next run, `tries` bounding how
    # often, `error` saying why the last try failed, `entry` keeping the list entry (JSON: title, date) so it
    # can be requested without its list page.
    db.execute("ALTER TABLE fetch_state ADD COLUMN tries INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE fetch_state ADD COLUMN error TEXT")
    db.execute("ALTER TABLE fetch_state ADD COLUMN entry TEXT")
    db.execute("CREATE INDEX fetch_state_unstored ON fetch_state(portal_id) "
               "WHERE kind = 'detail' AND status NOT IN (200, -1)")


@migrations()
def m015_watch_schedule(db: sqlite_utils.Database) -> None:
    # The daemon's schedule (crawler.crawl.watch): one row per watched portal instead of one APScheduler job
    # per portal. `dispatch_at` (next_run_at minus a window) is what the dispatcher's one query looks for;
    # `running_since` is set while the portal is in a running batch, so it never runs twice at once.
    db.execute(
        "CREATE TABLE watch_schedule (portal_id TEXT PRIMARY KEY, schedule TEXT NOT NULL, "
        "next_run_at TEXT NOT NULL, dispatch_at TEXT NOT NULL, running_since TEXT, last_finished_at TEXT)"
    )
    db.execute("CREATE INDEX watch_schedule_due ON watch_schedule(dispatch_at) WHERE running_since IS NULL")


@migrations()
def m010_archive_captures(db: sqlite_utils.Database) -> None:
    # Where each document's raw evidence lies in the WARC archive (crawler.corpus.archive): its page (or the
    # file that is the document) and every attachment fetched with it, one row each, replaced when the
    # document is fetched again. `warc_file` is relative to the archive directory (an imported WARC's is
    # absolute); offset and length are those of the gzip member holding the response or resource record.
    db.execute(
        """CREATE TABLE captures (
             document_id INTEGER NOT NULL REFERENCES documents(id),
             url TEXT NOT NULL,          -- WARC-Target-URI
             role TEXT NOT NULL,         -- page | file (the document is the file itself) | attachment
             warc_file TEXT NOT NULL,
             warc_offset INTEGER NOT NULL,
             warc_length INTEGER NOT NULL,
             record_id TEXT,             -- WARC-Record-ID
             captured_at TEXT,           -- WARC-Date: when the portal served it
             status INTEGER,             -- HTTP status (NULL for a resource record)
             content_type TEXT,
             payload_digest TEXT,        -- WARC-Payload-Digest
             origin TEXT,                -- crawl | import:<source file>
             PRIMARY KEY (document_id, url))"""
    )
    db.execute("CREATE INDEX captures_file ON captures(warc_file)")


@migrations()
def m014_scrapyd_jobs(db: sqlite_utils.Database) -> None:
    # Crawls dispatched to scrapyd nodes (crawler.crawl.scrapyd): one row per scrapyd job, so a controller that
    # restarts finds the jobs it dispatched, and a job's hand-back is ingested once: `state` becomes
    # 'ingested' in the transaction that stores the job's documents, fetch state and runs.
    db["scrapyd_jobs"].create(
        {
            "job_id": str,  # scrapyd's job id (chosen by the controller)
            "node": str,  # the node's URL
            "portals": str,  # JSON list of portal ids
            "run_ids": str,  # JSON {portal id: crawl_runs id}
            "state": str,  # scheduled | running | finished | ingested | failed | abandoned | cancelled
            "reason": str,
            "attempt": int,  # 1 for a first dispatch, 2... for a portal set re-dispatched after a failure
            "controller": str,  # host:pid:pid start:token of the controller following it (crawler.crawl.scrapyd)
            "dispatched_at": str,
            "started_at": str,
            "finished_at": str,
            "ingested_at": str,
        },
        pk="job_id",
    )
    db["scrapyd_jobs"].create_index(["state"])
    # Sticky placement: a portal is crawled by the same node while that node is healthy (its politeness and
    # robots.txt state stay in one place); reassigned when the node fails.
    db["scrapyd_assignments"].create({"portal_id": str, "node": str, "assigned_at": str}, pk="portal_id")
    db.execute("ALTER TABLE crawl_runs ADD COLUMN node TEXT")  # the scrapyd node that crawled the run
    db.execute("ALTER TABLE crawl_runs ADD COLUMN job_id TEXT")  # its scrapyd job


def migrate(db: sqlite_utils.Database) -> None:
    """Bring `db` up to the current schema (idempotent, safe when several processes open a new database at once).

    The check and the migrations run in one IMMEDIATE transaction: a second process waits for the write lock
    (the connection's busy timeout) and then finds nothing pending. Without it, both read "m001 pending", and
    the loser of the race to upgrade its read lock died with "database is locked" inside the migrations.
    """
    if not migrations.pending(db):
        return  # the usual case: no write lock taken on open
    conn = db.conn
    if conn.in_transaction:
        migrations.apply(db)
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.apply(db)  # re-reads what is applied, now under the lock; each migration is a savepoint
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

