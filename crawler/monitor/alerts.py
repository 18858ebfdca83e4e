"""Alert events and the transactional outbox that delivers them.

What counts as new
------------------
A *report key* is ``adcode:<adcode>:<year>`` for a report whose region resolved to an adcode, else
``issuer:<issuing body>:<year>`` (the issuer part at the head of the title, or the document's `source`), else
``title:<normalised title>``. `on_document_stored()` runs inside `store_document`'s transaction and:

* ignores anything that is not a canonical (``duplicate_of IS NULL``) ``annual_report`` with a year, and any
  store that neither created nor changed a row (re-crawls);
* for a key never seen: records it in ``report_keys``; if the portal has not finished its first crawl
  (``portals.baseline_done = 0``) the key is recorded with ``baseline = 1`` and no alert unless
  ``alert_on_baseline``; otherwise it writes a ``new_report`` alert (``late_report`` when the report was
  published after its 1 April deadline). The alert's ``dedupe_key`` is ``report:<key>``, unique in the table,
  so a repost, a re-crawl, a restart or the same report on a second portal can never alert twice;
* for a key never seen, found by re-extracting an archived page (`reextracted`, `govwatch reextract`): a
  ``reclassified`` alert (same ``dedupe_key``), always listed and delivered only with
  ``alert_on_reclassified``, so an extractor upgrade that finds old reports never floods the channels;
* for a known key whose body hash differs: compares the new body with the known version (its MinHash
  signature, kept in ``report_keys.sketch``); below `AlertPolicy.update_similarity` it is an ``updated`` alert
  (``dedupe_key = updated:<key>:<body hash>``), delivered only with ``alert_on_update`` (otherwise stored
  with ``deliver = 0`` and no delivery rows). Not after a re-extraction: the portal changed nothing, so the
  key's known version silently becomes the new extraction.

The outbox
----------
The alert row (and one ``alert_deliveries`` row per configured channel) commits in the same transaction as
the document, so a crash loses both or neither. `flush()` delivers: it first adds delivery rows for channels
configured now to every open alert, then *claims* due rows in an IMMEDIATE transaction by writing a lease
(``lease_owner``, ``lease_until``) -- a second sender skips leased rows -- sends each outside any
transaction, and then in one transaction records the attempt (``alert_attempts``, error scrubbed of secrets)
and marks the delivery ``sent``, or schedules a retry with exponential backoff
(``backoff_base * 2**(attempts-1)`` seconds) or marks it ``failed`` after ``max_attempts``. The update is
conditional on still holding the lease and on ``status = 'pending'``, so a delivery row becomes ``sent`` at
most once. An alert is closed once every configured channel has it sent or failed.

At-least-once window: a message is sent *before* its success is committed. If the sender dies (SIGKILL,
power loss) after the channel accepted the message but before the commit, the row is still ``pending``; once
its lease expires (`LEASE_SECONDS`) the next flush sends it again. That window -- one HTTP request plus one
SQLite commit, per message -- is the only way a channel can receive a message twice; nothing is ever lost.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlite_utils

from crawler import minhash as mh
from crawler.config import AlertSettings
from crawler.extract.regions import ends_with_division
from crawler.monitor import notify
from storage import now_iso, transaction

log = logging.getLogger("govwatch.alerts")

LEASE_SECONDS = 300  # longer than any single send (Apprise request timeouts are well below this)
MAX_BACKOFF = 6 * 3600
DELIVERED_KINDS = ("new_report", "late_report", "missing_digest", "test")


# ---------------------------------------------------------------------------------------------------------
# policy and events


@dataclass(frozen=True)
class AlertPolicy:
    urls: tuple[str, ...] = ()
    alert_on_baseline: bool = False
    alert_on_update: bool = False
    alert_on_reclassified: bool = False
    quiet: bool = False  # write events, deliver none (imports without --alert)
    update_similarity: float = 0.9  # a changed body at least this similar to the known version is no event
    today: date | None = None  # injectable for tests (deadline checks)

    @classmethod
    def from_settings(cls, settings: AlertSettings | None = None, **overrides) -> "AlertPolicy":
        settings = settings or AlertSettings()
        values = dict(urls=tuple(settings.urls), alert_on_baseline=settings.alert_on_baseline,
                      alert_on_update=settings.alert_on_update,
                      alert_on_reclassified=settings.alert_on_reclassified)
        values.update(overrides)
        return cls(**values)

    def delivers(self, kind: str, baseline: bool = False) -> bool:
        if self.quiet or (baseline and not self.alert_on_baseline):
            return False
        if kind == "updated":
            return self.alert_on_update
        if kind == "reclassified":
            return self.alert_on_reclassified
        return kind in DELIVERED_KINDS

    def current_date(self) -> date:
        return self.today or datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Event:
    kind: str  # new_report | late_report | updated | reclassified
    key: str
    document_id: int
    alert_id: int | None  # None: nothing stored (silent baseline) or the alert existed already
    baseline: bool = False
    deliver: bool = False
    message: str | None = None

    @property
    def new_report(self) -> bool:
        return self.kind in ("new_report", "late_report")


@dataclass
class FlushSummary:
    sent: int = 0
    failed: int = 0  # attempts that failed (will be retried or gave up)
    gave_up: int = 0  # deliveries marked failed for good in this flush
    pending: int = 0  # deliveries still pending after this flush
    skipped: int = 0  # due deliveries another sender holds
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "gave_up": self.gave_up, "pending": self.pending,
                "skipped": self.skipped, "errors": self.errors}


# ---------------------------------------------------------------------------------------------------------
# keys, sketches, deadlines

_ISSUER_END = re.compile(r"(关于|[（(]?\s*(?:19|20)\d{2}\s*年|二[〇零○O０]\S{2}年)")
_NOISE = re.compile(r"[\s\u3000\xa0·•:：,，、()（）【】\[\]\"'“”‘’《》<>-]+")


def deadline(year: int) -> date:
    """Reports for year Y are due by 1 April of Y+1 (法治政府建设与责任落实督察工作规定)."""
    return date(year + 1, 4, 1)


def issuer_of(title: str | None) -> str | None:
    """The issuing body at the head of a title: `芜湖市镜湖区2020年度…` -> `芜湖市镜湖区`."""
    if not title:
        return None
    match = _ISSUER_END.search(title)
    head = title[: match.start()] if match else ""
    head = _NOISE.sub("", head)
    return head if 2 <= len(head) <= 40 else None


def _norm(text: str | None) -> str:
    return _NOISE.sub("", text or "")


# a body below or beside the region's government: departments, offices, zones, towns and streets. A party
# committee (XX县委) or the government itself (…人民政府, also 中共XX县委 XX县人民政府) is the region
_DEPARTMENT_END = re.compile(
    r"(?:局|厅|署|委员会|办公室|办|中心|法院|检察院|管委会|管理委员会|开发区|高新区|园区|街道办事处|街道|镇|乡)$")
_GOVERNMENT_END = re.compile(r"(?:人民政府|政府|[省市县区旗州]委)$")


def department_of(row: dict) -> str | None:
    """The issuing department when the report's title names one (`宿州市司法局2022年度…` -> 宿州市司法局);
    None for the region's own government. Departments resolve to their region (adcode), so the department
    keeps a report key of its own: its report must not take the region's (year) slot, nor the region's
    report its. Only the title counts: `来源：XX司法局` is usually the office that drafted the government's
    report."""
    issuer = issuer_of(row.get("title"))
    if not issuer or _GOVERNMENT_END.search(issuer) or not _DEPARTMENT_END.search(issuer):
        return None
    if ends_with_division(issuer):  # 景德镇, 浦东新区: a region whose name ends like a body
        return None
    return issuer


def report_key(row: dict) -> str | None:
    year = row.get("report_year")
    if not year:
        return None
    if row.get("adcode"):
        department = department_of(row)
        if department:
            return f"adcode:{row['adcode']}:{department}:{year}"
        return f"adcode:{row['adcode']}:{year}"
    issuer = issuer_of(row.get("title")) or _norm(row.get("source")) or None
    if issuer:
        return f"issuer:{issuer}:{year}"
    title = _norm(row.get("title"))
    return f"title:{title}:{year}" if title else None


def sketch(text: str | None) -> str:
    """The body's MinHash signature (the one dedupe uses), hex-encoded for `report_keys.sketch`."""
    return mh.to_bytes(mh.signature(text)).hex()


def similarity(a: str | bytes | None, b: str | bytes | None) -> float:
    """Estimated Jaccard similarity of two bodies from their signatures (hex or bytes)."""
    sig_a, sig_b = (mh.from_bytes(bytes.fromhex(x) if isinstance(x, str) else x) for x in (a, b))
    if sig_a is None or sig_b is None:
        return 0.0
    return mh.similarity(sig_a, sig_b)


def _date10(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def is_late(report_year: int, published_at, today: date) -> bool:
    """Published (or, without a date, first seen) after the year's deadline."""
    published = _date10(published_at)
    return (published or today) > deadline(report_year)


# ---------------------------------------------------------------------------------------------------------
# the hook


def on_document_stored(db: sqlite_utils.Database, document_id: int, *, created: bool, changed: bool,
                       policy: AlertPolicy | None = None, reextracted: bool = False) -> Event | None:
    """Decide whether the document just stored is a new report, an update or nothing; write the alert row
    (and its delivery rows) in the caller's transaction. Returns the event, or None. `reextracted`: the
    document was changed by extracting its archived page again (a new report is `reclassified`)."""
    policy = policy or AlertPolicy()
    if not (created or changed):
        return None
    row = next(db.query(
        "SELECT d.id, d.url, d.portal_id, d.title, d.text, d.published_at, d.source, d.region, d.adcode, "
        "d.report_year, d.doc_type, d.duplicate_of, d.content_hash, d.minhash, p.name AS portal_name, "
        "p.baseline_done AS baseline_done FROM documents d LEFT JOIN portals p ON p.id = d.portal_id "
        "WHERE d.id = ?", [document_id]), None)
    if not row or row["doc_type"] != "annual_report" or not row["report_year"] or row["duplicate_of"] is not None:
        return None
    key = report_key(row)
    if key is None:
        return None
    with transaction(db):
        # a changed document that already owns a key keeps it (better extraction must not re-alert)
        owned = next(db.query("SELECT key FROM report_keys WHERE document_id = ? ORDER BY first_seen_at LIMIT 1",
                              [document_id]), None)
        if owned and not created:
            key = owned["key"]
        known = next(db.query("SELECT * FROM report_keys WHERE key = ?", [key]), None)
        body_sketch = row["minhash"].hex() if row["minhash"] else sketch(row["text"])
        baseline = not row["baseline_done"]
        today = policy.current_date()
        info = _info(row)
        if known is None:
            db["report_keys"].insert({
                "key": key, "document_id": document_id, "content_hash": row["content_hash"],
                "first_seen_at": now_iso(), "baseline": int(baseline), "sketch": body_sketch,
                "portal_id": row["portal_id"],
            })
            kind = "late_report" if is_late(row["report_year"], row["published_at"], today) else "new_report"
            if reextracted:
                kind = "reclassified"
            elif baseline and not policy.alert_on_baseline:
                return Event(kind, key, document_id, None, baseline=True, deliver=False)
            info["deadline"] = deadline(row["report_year"]).isoformat()
            return _write_alert(db, policy, kind, f"report:{key}", info, key=key, baseline=baseline)
        if known["content_hash"] == row["content_hash"]:
            return None
        if reextracted:
            db.execute("UPDATE report_keys SET content_hash = ?, sketch = ? WHERE key = ?",
                       [row["content_hash"], body_sketch, key])
            return None
        known_sketch = known["sketch"]
        if not known_sketch:  # a key recorded before sketches existed: compare with its document
            other = next(db.query("SELECT text FROM documents WHERE id = ?", [known["document_id"]]), None)
            known_sketch = sketch(other["text"]) if other and known["document_id"] != document_id else None
        score = similarity(known_sketch, body_sketch)
        if score >= policy.update_similarity:
            return None
        db.execute("UPDATE report_keys SET content_hash = ?, sketch = ? WHERE key = ?",
                   [row["content_hash"], body_sketch, key])
        info["similarity"] = score
        return _write_alert(db, policy, "updated", f"updated:{key}:{row['content_hash']}", info, key=key,
                            baseline=baseline)


def _info(row: dict) -> dict:
    return {
        "region": row.get("region"), "issuer": issuer_of(row.get("title")) or row.get("source"),
        "report_year": row.get("report_year"), "title": row.get("title"), "published_at": row.get("published_at"),
        "source": row.get("source"), "url": row.get("url"), "portal_id": row.get("portal_id"),
        "portal_name": row.get("portal_name") or row.get("portal_id"), "adcode": row.get("adcode"),
        "document_id": row.get("id"),
    }


def _write_alert(db, policy: AlertPolicy, kind: str, dedupe_key: str, info: dict, *, key: str,
                 baseline: bool = False) -> Event:
    document_id = info.get("document_id")
    deliver = policy.delivers(kind, baseline)
    alert_id = insert_alert(db, kind, dedupe_key, info, urls=policy.urls, deliver=deliver,
                            document_id=document_id)
    return Event(kind, key, document_id, alert_id, baseline=baseline, deliver=deliver and alert_id is not None,
                 message=notify.render(kind, info))


def _doc_id(db, info) -> int | None:
    row = next(db.query("SELECT id FROM documents WHERE url = ?", [info.get("url")]), None) if info.get("url") else None
    return row["id"] if row else None


def insert_alert(db, kind: str, dedupe_key: str, info: dict, *, urls=(), deliver: bool = True,
                 document_id: int | None = None) -> int | None:
    """Write one alert (once per dedupe_key: None when it exists already) and its delivery rows.
    Call inside a transaction."""
    now = now_iso()
    message = notify.render(kind, info)
    if document_id is None and info.get("url"):
        document_id = _doc_id(db, info)
    cursor = db.execute(
        "INSERT OR IGNORE INTO alerts (kind, dedupe_key, document_id, portal_id, message, url, payload, "
        "created_at, deliver, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [kind, dedupe_key, document_id, info.get("portal_id"), message, info.get("url"),
         json.dumps(info, ensure_ascii=False, default=str), now, int(deliver), None if deliver else now])
    if not cursor.rowcount:
        return None
    alert_id = cursor.lastrowid
    if deliver:
        for url in urls:
            db.execute(
                "INSERT OR IGNORE INTO alert_deliveries (alert_id, channel, channel_label, status, attempts, "
                "next_attempt_at) VALUES (?, ?, ?, 'pending', 0, ?)",
                [alert_id, notify.channel_id(url), notify.redact_url(url), now])
    return alert_id


# ---------------------------------------------------------------------------------------------------------
# the sender


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _channels(config_or_urls) -> dict[str, str]:
    if config_or_urls is None:
        urls = ()
    elif isinstance(config_or_urls, (list, tuple)):
        urls = config_or_urls
    elif hasattr(config_or_urls, "alerts"):
        urls = config_or_urls.alerts.urls
    else:
        urls = config_or_urls.urls
    return {notify.channel_id(u): u for u in urls}


def flush(db: sqlite_utils.Database, config, *, now: datetime | None = None, send=None,
          lease_seconds: int = LEASE_SECONDS, limit: int | None = None) -> FlushSummary:
    """Deliver every due pending alert to every configured channel (config: a Config or AlertSettings).

    `send(url, title, body) -> notify.SendResult` is injectable for tests. Safe to run concurrently with
    other senders (leases) and after any crash (the outbox is the database)."""
    settings = config.alerts if hasattr(config, "alerts") else (config or AlertSettings())
    channels = _channels(settings)
    if send is None:
        # Apprise (and requests) load only to deliver: crawls write alerts to the outbox without them
        from crawler.monitor.channels import deliver as send
    summary = FlushSummary()
    if not channels:
        summary.pending = _count_pending(db, channels)
        return summary
    owner = uuid.uuid4().hex
    placeholders = ",".join("?" * len(channels))
    with transaction(db):
        now_s = _iso(now or datetime.now(timezone.utc))
        for cid, url in channels.items():
            db.execute(
                "INSERT OR IGNORE INTO alert_deliveries (alert_id, channel, channel_label, status, attempts, "
                "next_attempt_at) SELECT id, ?, ?, 'pending', 0, ? FROM alerts "
                "WHERE closed_at IS NULL AND deliver = 1",
                [cid, notify.redact_url(url), now_s])
    handled = 0
    while limit is None or handled < limit:
        moment = now or datetime.now(timezone.utc)
        now_s = _iso(moment)
        with transaction(db):
            claimed = list(db.query(
                f"SELECT d.alert_id, d.channel, d.attempts, a.message FROM alert_deliveries d "
                f"JOIN alerts a ON a.id = d.alert_id WHERE d.status = 'pending' AND d.channel IN ({placeholders}) "
                f"AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) "
                f"AND (d.lease_until IS NULL OR d.lease_until < ?) ORDER BY d.alert_id LIMIT 20",
                [*channels, now_s, now_s]))
            lease = _iso(moment + timedelta(seconds=lease_seconds))
            for item in claimed:
                db.execute("UPDATE alert_deliveries SET lease_owner = ?, lease_until = ? "
                           "WHERE alert_id = ? AND channel = ?", [owner, lease, item["alert_id"], item["channel"]])
        if not claimed:
            break
        for item in claimed:
            handled += 1
            url = channels[item["channel"]]
            title, body = notify.split_message(item["message"] or "")
            try:
                result = send(url, title, body)
            except Exception as exc:  # an injected or plugin sender that raises is a failed attempt
                result = notify.SendResult(False, f"{type(exc).__name__}: {exc}")
            error = None if result.ok else notify.scrub(result.error or "failed", url)
            _record(db, item, result.ok, error, owner, settings, summary)
            if not result.ok:
                log.warning("alert %s to %s failed: %s", item["alert_id"], notify.redact_url(url), error)
    summary.pending = _count_pending(db, channels)
    return summary


def _record(db, item, ok: bool, error: str | None, owner: str, settings: AlertSettings,
            summary: FlushSummary) -> None:
    moment = datetime.now(timezone.utc)
    now_s = _iso(moment)
    attempts = item["attempts"] + 1
    with transaction(db):
        db.execute("INSERT INTO alert_attempts (alert_id, channel, attempted_at, ok, error) VALUES (?, ?, ?, ?, ?)",
                   [item["alert_id"], item["channel"], now_s, int(ok), error])
        if ok:
            cursor = db.execute(
                "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, delivered_at = ?, "
                "last_error = NULL, lease_owner = NULL, lease_until = NULL "
                "WHERE alert_id = ? AND channel = ? AND status = 'pending' AND lease_owner = ?",
                [now_s, item["alert_id"], item["channel"], owner])
            summary.sent += 1 if cursor.rowcount else 0
        else:
            summary.failed += 1
            give_up = attempts >= max(1, settings.max_attempts)
            delay = min(MAX_BACKOFF, settings.backoff_base * (2 ** (attempts - 1)))
            db.execute(
                "UPDATE alert_deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, lease_owner = NULL, lease_until = NULL "
                "WHERE alert_id = ? AND channel = ? AND status = 'pending' AND lease_owner = ?",
                ["failed" if give_up else "pending", error, _iso(moment + timedelta(seconds=delay)),
                 item["alert_id"], item["channel"], owner])
            summary.gave_up += 1 if give_up else 0
        _maybe_close(db, item["alert_id"], now_s)


def _maybe_close(db, alert_id: int, now_s: str) -> None:
    db.execute(
        "UPDATE alerts SET closed_at = ? WHERE id = ? AND closed_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM alert_deliveries d WHERE d.alert_id = alerts.id AND d.status = 'pending')",
        [now_s, alert_id])


def _count_pending(db, channels: dict) -> int:
    return next(db.query(
        "SELECT COUNT(*) AS n FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
        "WHERE d.status = 'pending' AND a.deliver = 1"))["n"]


# ---------------------------------------------------------------------------------------------------------
# listing and testing


def list_alerts(db: sqlite_utils.Database, *, pending: bool = False, limit: int = 200) -> list[dict]:
    """Alerts, newest first, each with its deliveries and attempts (labels and errors hold no secrets)."""
    where = "WHERE a.deliver = 1 AND a.closed_at IS NULL" if pending else ""
    rows = list(db.query(f"SELECT a.* FROM alerts a {where} ORDER BY a.id DESC LIMIT ?", [limit]))
    out = []
    for row in rows:
        deliveries = list(db.query(
            "SELECT channel, channel_label, status, attempts, next_attempt_at, last_error, delivered_at "
            "FROM alert_deliveries WHERE alert_id = ? ORDER BY channel", [row["id"]]))
        attempts = list(db.query(
            "SELECT channel, attempted_at, ok, error FROM alert_attempts WHERE alert_id = ? ORDER BY id",
            [row["id"]]))
        if not row["deliver"]:
            status = "suppressed"
        elif not deliveries:
            status = "pending"
        elif any(d["status"] == "pending" for d in deliveries):
            status = "pending"
        elif all(d["status"] == "sent" for d in deliveries):
            status = "sent"
        else:
            status = "failed" if not any(d["status"] == "sent" for d in deliveries) else "partial"
        out.append({
            "id": row["id"], "kind": row["kind"], "created_at": row["created_at"], "status": status,
            "portal_id": row["portal_id"], "document_id": row["document_id"], "url": row["url"],
            "message": row["message"], "dedupe_key": row["dedupe_key"], "deliveries": deliveries,
            "attempts": attempts,
        })
    return out


def send_test(config) -> list[dict]:
    """Send a test message to every configured channel; one result per channel."""
    settings = config.alerts if hasattr(config, "alerts") else config
    message = notify.render("test", {"at": now_iso()})
    title, body = notify.split_message(message)
    from crawler.monitor.channels import deliver

    results = []
    for url in settings.urls:
        result = deliver(url, title, body or title)
        results.append({"channel": notify.channel_id(url), "label": notify.redact_url(url), "ok": result.ok,
                        "error": result.error})
    return results


def flush_after_crawl(db: sqlite_utils.Database, config) -> str:
    """`flush()` for the end of `govwatch crawl`: never raises, returns a one-line summary for stderr."""
    if not config.alerts.urls:
        pending = next(db.query("SELECT COUNT(*) AS n FROM alerts WHERE deliver = 1 AND closed_at IS NULL"))["n"]
        return f"alerts: {pending} pending, no channels configured ([alerts] urls)" if pending else "alerts: none"
    try:
        s = flush(db, config)
    except Exception as exc:  # delivery problems must not fail the crawl command
        return f"alerts: flush failed: {notify.scrub(f'{type(exc).__name__}: {exc}', *config.alerts.urls)}"
    return f"alerts: sent {s.sent}, failed attempts {s.failed}, still pending {s.pending}"
