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
* for a known key whose body hash differs: compares the new body with the known version (its MinHash
  signature, kept in ``report_keys.sketch``); below `AlertPolicy.update_similarity` it is an ``updated`` alert
  (``dedupe_key = updated:<key>:<body hash>``), delivered only with ``alert_on_update`` (otherwise stored
  with ``deliver = 0`` and no delivery rows).

The outbox
----------
The alert row (and one ``alert_deliveries`` row per configured channel, labelled without Apprise: the store
path never loads it) commits in the same transaction as the document, so a crash loses both or neither.
Delivering, retrying and listing the outbox is `crawler.monitor.delivery` (deadlines, budgets, leases and
the at-least-once window are described there).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlite_utils

from crawler import minhash as mh
from crawler.config import AlertSettings
from crawler.extract.regions import ends_with_division
from crawler.monitor import notify
# the sender half used to live here: code that imports it from this module keeps working
from crawler.monitor.delivery import FlushSummary, flush, flush_after_crawl, list_alerts, send_test  # noqa: F401
from storage import now_iso, transaction

DELIVERED_KINDS = ("new_report", "late_report", "missing_digest", "test")


# ---------------------------------------------------------------------------------------------------------
# policy and events


@dataclass(frozen=True)
class AlertPolicy:
    urls: tuple[str, ...] = ()
    alert_on_baseline: bool = False
    alert_on_update: bool = False
    update_similarity: float = 0.9  # a changed body at least this similar to the known version is no event
    today: date | None = None  # injectable for tests (deadline checks)

    @classmethod
    def from_settings(cls, settings: AlertSettings | None = None, **overrides) -> "AlertPolicy":
        settings = settings or AlertSettings()
        values = dict(urls=tuple(settings.urls), alert_on_baseline=settings.alert_on_baseline,
                      alert_on_update=settings.alert_on_update)
        values.update(overrides)
        return cls(**values)

    def delivers(self, kind: str, baseline: bool = False) -> bool:
        if baseline and not self.alert_on_baseline:
            return False
        if kind == "updated":
            return self.alert_on_update
        return kind in DELIVERED_KINDS

    def current_date(self) -> date:
        return self.today or datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Event:
    kind: str  # new_report | late_report | updated
    key: str
    document_id: int
    alert_id: int | None  # None: nothing stored (silent baseline) or the alert existed already
    baseline: bool = False
    deliver: bool = False
    message: str | None = None

    @property
    def new_report(self) -> bool:
        return self.kind in ("new_report", "late_report")


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
                       policy: AlertPolicy | None = None) -> Event | None:
    """Decide whether the document just stored is a new report, an update or nothing; write the alert row
    (and its delivery rows) in the caller's transaction. Returns the event, or None."""
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
            if baseline and not policy.alert_on_baseline:
                return Event(kind, key, document_id, None, baseline=True, deliver=False)
            info["deadline"] = deadline(row["report_year"]).isoformat()
            return _write_alert(db, policy, kind, f"report:{key}", info, key=key, baseline=baseline)
        if known["content_hash"] == row["content_hash"]:
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
                [alert_id, notify.channel_id(url), notify.provisional_label(url), now])
    return alert_id
