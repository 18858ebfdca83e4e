"""Delivering the outbox: `flush()` sends pending alerts to their channels, `retry()` puts failed deliveries
back, `list_alerts()` shows them, `send_test()` tries every channel.

Claims and leases
-----------------
`flush()` first adds delivery rows for the channels configured now to every open alert (and relabels the
rows of those channels with Apprise's private rendering of their URL). Then, one delivery at a time, it
*claims* the next row in an IMMEDIATE transaction by writing a lease (``lease_owner``, ``lease_until`` =
now + `LEASE_SECONDS`) -- a second sender skips leased rows --, sends outside any transaction, and records the
attempt (``alert_attempts``, error scrubbed of secrets) in one transaction: the delivery becomes ``sent``, or
waits ``backoff_base * 2**(attempts-1)`` seconds (at most ``max_backoff``), or is ``failed`` after
``max_attempts``. The update is conditional on still holding the lease and on ``status = 'pending'``, so a
delivery becomes ``sent`` at most once. An alert is closed once no delivery of it is pending.

Deadlines and budgets
---------------------
* Every send ends within ``[alerts] send_timeout`` (30 s): `crawler.monitor.sender` kills a send that takes
  longer and only then is its attempt recorded, so no send outlives its attempt's record; and since
  send_timeout is at most 120 s and the lease is claimed just before the send, the lease (300 s) never
  expires while its send is in flight: a slow channel cannot make a second sender send the same row.
* A flush may have a time budget: no send starts when less than `MIN_SEND_WINDOW` of it is left, and a send's
  deadline is cut to what is left. The end of `govwatch crawl` (and of each daemon crawl) flushes within
  ``crawl_flush_budget`` (10 s); what is not sent stays pending for the next flush.
* Within one flush every delivery is tried at most once, and a channel whose send failed is not tried again:
  its other deliveries wait for the next flush, with no attempt counted. A channel that is down costs one
  send per flush, however many alerts wait for it.
* Automatic flushes (crawl end, daemon) send only deliveries whose backoff has passed; a person's
  `govwatch alerts flush` (``due_only=False``) sends every pending delivery now.

At-least-once window: a message is sent *before* its success is committed. If the sender dies (SIGKILL,
power loss) after the channel accepted the message but before the commit, the row is still ``pending``; once
its lease expires the next flush sends it again. A send stopped at its deadline is the same window: the
channel may have taken the message without answering in time. Nothing is ever lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlite_utils

from crawler.config import MAX_SEND_TIMEOUT, AlertSettings
from crawler.monitor import notify
from crawler.monitor.sender import SenderUnavailable, SendWorker
from storage import now_iso, transaction

log = logging.getLogger("govwatch.alerts")

LEASE_SECONDS = 300  # a claimed delivery's lease: longer than any send (at most MAX_SEND_TIMEOUT) and its commit
MIN_SEND_WINDOW = 1.0  # seconds of a flush's budget below which no send starts
assert LEASE_SECONDS > 2 * MAX_SEND_TIMEOUT


@dataclass
class FlushSummary:
    sent: int = 0
    failed: int = 0  # attempts that failed (will be retried or gave up)
    gave_up: int = 0  # deliveries marked failed for good in this flush
    pending: int = 0  # deliveries still pending after this flush
    skipped: int = 0  # pending deliveries another sender holds (leased)
    deferred: int = 0  # deliveries this flush could have sent but did not try: channel failed, budget, stop
    out_of_time: bool = False  # the budget ended the flush
    interrupted: bool = False  # `cancel` ended the flush
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "gave_up": self.gave_up, "pending": self.pending,
                "skipped": self.skipped, "deferred": self.deferred, "out_of_time": self.out_of_time,
                "interrupted": self.interrupted, "errors": self.errors}

    def line(self) -> str:
        text = (f"sent {self.sent}, failed attempts {self.failed}, gave up {self.gave_up}, "
                f"still pending {self.pending}")
        reasons = [why for why, on in (("their channel failed in this flush", self.failed),
                                       ("the time budget ran out", self.out_of_time),
                                       ("stopped", self.interrupted)) if on]
        if self.deferred:
            text += f" ({self.deferred} not tried now: {' / '.join(reasons) or 'held back'})"
        if self.skipped:
            text += f", {self.skipped} held by another sender"
        return text


# ---------------------------------------------------------------------------------------------------------
# the sender


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _settings(config) -> AlertSettings:
    if config is None:
        return AlertSettings()
    if isinstance(config, (list, tuple)):
        return AlertSettings(urls=tuple(config))
    return config.alerts if hasattr(config, "alerts") else config


def flush(db: sqlite_utils.Database, config, *, now: datetime | None = None, send=None,
          lease_seconds: int = LEASE_SECONDS, limit: int | None = None, due_only: bool = True,
          budget: float | None = None, cancel=None) -> FlushSummary:
    """Deliver pending alerts to every configured channel (config: a Config or AlertSettings).

    `due_only` sends only deliveries whose backoff has passed (automatic retries); False sends every pending
    delivery now. `budget` (seconds) bounds the whole flush; `cancel` (a threading.Event) stops it at once,
    the send in flight included. `send(url, title, body) -> notify.SendResult` replaces the bounded sender
    (tests). Safe to run concurrently with other senders (leases) and after any crash."""
    stop_at = None if budget is None else time.monotonic() + budget
    settings = _settings(config)
    channels = {notify.channel_id(u): u for u in settings.urls}
    summary = FlushSummary()
    if not channels:
        summary.pending = _count_pending(db)
        return summary
    _add_channels(db, channels, now)
    owner = uuid.uuid4().hex
    position = (-1, "")  # deliveries are claimed in (alert_id, channel) order: each at most once per flush
    failed_channels: set[str] = set()
    tried: set[tuple[int, str]] = set()
    worker = SendWorker() if send is None else None
    try:
        while limit is None or len(tried) < limit:
            if cancel is not None and cancel.is_set():
                summary.interrupted = True
                break
            if stop_at is not None and stop_at - time.monotonic() < MIN_SEND_WINDOW:
                summary.out_of_time = True
                break
            usable = [cid for cid in channels if cid not in failed_channels]
            if not usable or _next(db, usable, position, now, due_only) is None:
                break
            if worker is not None:
                try:  # before the claim: a lease runs from the moment the send can begin
                    worker.start(until=stop_at, cancel=cancel)
                except SenderUnavailable as exc:  # nothing was sent, nothing claimed
                    summary.errors.append(str(exc))
                    summary.interrupted = bool(cancel is not None and cancel.is_set())
                    break
                left = None if stop_at is None else stop_at - time.monotonic()
                if left is not None and left < MIN_SEND_WINDOW:
                    summary.out_of_time = True
                    break
            item = _next(db, usable, position, now, due_only, lease=(owner, lease_seconds))
            if item is None:
                break
            position = (item["alert_id"], item["channel"])
            url = channels[item["channel"]]
            title, body = notify.split_message(item["message"] or "")
            if worker is None:
                result = _call(send, url, title, body)
            else:
                left = None if stop_at is None else stop_at - time.monotonic()
                timeout = settings.send_timeout if left is None else max(0.1, min(settings.send_timeout, left))
                result = worker.send(url, title, body, deadline=timeout, cancel=cancel)
            tried.add(position)
            error = None if result.ok else notify.scrub(result.error or "failed", url)
            _record(db, item, result.ok, error, owner, settings, summary, now)
            if not result.ok:
                failed_channels.add(item["channel"])
                log.warning("alert %s to %s failed: %s", item["alert_id"], notify.redact_url(url), error)
    finally:
        if worker is not None:
            worker.close()
    _count(db, summary, channels, owner, now, due_only, tried)
    return summary


def _call(send, url: str, title: str, body: str) -> notify.SendResult:
    try:
        return send(url, title, body)
    except Exception as exc:  # an injected sender that raises is a failed attempt
        return notify.SendResult(False, f"{type(exc).__name__}: {exc}")


def _add_channels(db, channels: dict[str, str], now: datetime | None) -> None:
    """Delivery rows for the configured channels on every open alert; labels rendered by Apprise."""
    now_s = _iso(now or datetime.now(timezone.utc))
    labels = {cid: notify.redact_url(url) for cid, url in channels.items()}  # Apprise loads outside the transaction
    with transaction(db):
        for cid, label in labels.items():
            db.execute(
                "INSERT OR IGNORE INTO alert_deliveries (alert_id, channel, channel_label, status, attempts, "
                "next_attempt_at) SELECT id, ?, ?, 'pending', 0, ? FROM alerts "
                "WHERE closed_at IS NULL AND deliver = 1", [cid, label, now_s])
            # rows written by the store path carry a provisional label; older ones a hand-made one
            db.execute("UPDATE alert_deliveries SET channel_label = ? WHERE channel = ? AND channel_label IS NOT ?",
                       [label, cid, label])


def _next(db, channel_ids: list[str], position: tuple[int, str], now: datetime | None, due_only: bool,
          lease: tuple[str, float] | None = None) -> dict | None:
    """The next pending delivery after `position` that no other sender holds, or None; with `lease`
    (owner, seconds) it is claimed for that owner in the same IMMEDIATE transaction."""
    moment = now or datetime.now(timezone.utc)
    now_s = _iso(moment)
    due = "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) " if due_only else ""
    marks = ",".join("?" * len(channel_ids))
    sql = (f"SELECT d.alert_id, d.channel, d.attempts, a.message FROM alert_deliveries d "
           f"JOIN alerts a ON a.id = d.alert_id WHERE d.status = 'pending' AND a.deliver = 1 "
           f"AND d.channel IN ({marks}) {due}AND (d.lease_until IS NULL OR d.lease_until < ?) "
           f"AND (d.alert_id > ? OR (d.alert_id = ? AND d.channel > ?)) ORDER BY d.alert_id, d.channel LIMIT 1")
    params = [*channel_ids, *([now_s] if due_only else []), now_s, position[0], position[0], position[1]]
    if lease is None:
        return next(db.query(sql, params), None)
    owner, seconds = lease
    with transaction(db):
        item = next(db.query(sql, params), None)
        if item is not None:
            db.execute("UPDATE alert_deliveries SET lease_owner = ?, lease_until = ? WHERE alert_id = ? AND channel = ?",
                       [owner, _iso(moment + timedelta(seconds=seconds)), item["alert_id"], item["channel"]])
    return item


def backoff(settings: AlertSettings, attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return min(settings.max_backoff, settings.backoff_base * (2 ** (attempts - 1)))


def _record(db, item, ok: bool, error: str | None, owner: str, settings: AlertSettings,
            summary: FlushSummary, now: datetime | None = None) -> None:
    moment = now or datetime.now(timezone.utc)
    now_s = _iso(moment)
    attempts = item["attempts"] + 1
    with transaction(db):
        db.execute("INSERT INTO alert_attempts (alert_id, channel, attempted_at, ok, error) VALUES (?, ?, ?, ?, ?)",
                   [item["alert_id"], item["channel"], now_s, int(ok), error])
        if ok:
            cursor = db.execute(
                "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, delivered_at = ?, "
                "last_error = NULL, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL "
                "WHERE alert_id = ? AND channel = ? AND status = 'pending' AND lease_owner = ?",
                [now_s, item["alert_id"], item["channel"], owner])
            summary.sent += 1 if cursor.rowcount else 0
        else:
            summary.failed += 1
            give_up = attempts >= max(1, settings.max_attempts)
            next_at = None if give_up else _iso(moment + timedelta(seconds=backoff(settings, attempts)))
            db.execute(
                "UPDATE alert_deliveries SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, lease_owner = NULL, lease_until = NULL "
                "WHERE alert_id = ? AND channel = ? AND status = 'pending' AND lease_owner = ?",
                ["failed" if give_up else "pending", error, next_at, item["alert_id"], item["channel"], owner])
            summary.gave_up += 1 if give_up else 0
        _maybe_close(db, item["alert_id"], now_s)


def _maybe_close(db, alert_id: int, now_s: str) -> None:
    db.execute(
        "UPDATE alerts SET closed_at = ? WHERE id = ? AND closed_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM alert_deliveries d WHERE d.alert_id = alerts.id AND d.status = 'pending')",
        [now_s, alert_id])


def _count_pending(db) -> int:
    return next(db.query(
        "SELECT COUNT(*) AS n FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
        "WHERE d.status = 'pending' AND a.deliver = 1"))["n"]


def _count(db, summary: FlushSummary, channels: dict, owner: str, now: datetime | None, due_only: bool,
           tried: set) -> None:
    summary.pending = _count_pending(db)
    now_s = _iso(now or datetime.now(timezone.utc))
    marks = ",".join("?" * len(channels))
    for row in db.query(
            f"SELECT d.alert_id, d.channel, d.next_attempt_at, d.lease_owner, d.lease_until FROM alert_deliveries d "
            f"JOIN alerts a ON a.id = d.alert_id WHERE d.status = 'pending' AND a.deliver = 1 "
            f"AND d.channel IN ({marks})", list(channels)):
        if row["lease_until"] and row["lease_until"] >= now_s and row["lease_owner"] != owner:
            summary.skipped += 1
        elif (row["alert_id"], row["channel"]) not in tried and (
                not due_only or not row["next_attempt_at"] or row["next_attempt_at"] <= now_s):
            summary.deferred += 1


def flush_after_crawl(db: sqlite_utils.Database, config, *, cancel=None) -> str:
    """`flush()` for the end of a crawl, within `[alerts] crawl_flush_budget` seconds: never raises, returns
    a one-line summary for stderr. What it cannot send in time stays pending for the next flush."""
    settings = config.alerts
    pending = next(db.query("SELECT COUNT(*) AS n FROM alerts WHERE deliver = 1 AND closed_at IS NULL"))["n"]
    if not settings.urls:
        return f"alerts: {pending} pending, no channels configured ([alerts] urls)" if pending else "alerts: none"
    if settings.crawl_flush_budget <= 0:
        return (f"alerts: {pending} pending (crawl_flush_budget = 0: `govwatch alerts flush` or the daemon "
                "delivers them)") if pending else "alerts: none"
    try:
        summary = flush(db, config, budget=settings.crawl_flush_budget, cancel=cancel)
    except Exception as exc:  # delivery problems must not fail the crawl command
        return f"alerts: flush failed: {notify.scrub(f'{type(exc).__name__}: {exc}', *settings.urls)}"
    return f"alerts: {summary.line()}"


# ---------------------------------------------------------------------------------------------------------
# retrying, listing and testing


def retry(db: sqlite_utils.Database, *, failed: bool = False, alert_ids=(), now: datetime | None = None) -> int:
    """Put deliveries back to pending, due now, with a fresh retry window (attempt count 0; the attempts made
    so far stay in alert_attempts). `failed`: every failed delivery (of `alert_ids`, when given); `alert_ids`
    alone: every delivery of those alerts not sent yet (failed, or waiting for its backoff). Returns how many
    deliveries were put back; raises ValueError for an alert id that does not exist."""
    alert_ids = sorted({int(i) for i in alert_ids})
    if not failed and not alert_ids:
        raise ValueError("nothing to retry: name failed deliveries or alert ids")
    if alert_ids:
        marks = ",".join("?" * len(alert_ids))
        known = {r["id"] for r in db.query(f"SELECT id FROM alerts WHERE id IN ({marks})", alert_ids)}
        missing = [i for i in alert_ids if i not in known]
        if missing:
            raise ValueError(f"no alert with id {', '.join(map(str, missing))}")
    where, params = ["status = 'failed'" if failed else "status IN ('failed', 'pending')"], []
    if alert_ids:
        where.append(f"alert_id IN ({','.join('?' * len(alert_ids))})")
        params += alert_ids
    now_s = _iso(now or datetime.now(timezone.utc))
    with transaction(db):
        rows = list(db.query(f"SELECT alert_id, channel FROM alert_deliveries WHERE {' AND '.join(where)}", params))
        db.execute(f"UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ? "
                   f"WHERE {' AND '.join(where)}", [now_s, *params])
        for alert_id in sorted({r["alert_id"] for r in rows}):
            db.execute("UPDATE alerts SET closed_at = NULL WHERE id = ? AND deliver = 1", [alert_id])
    return len(rows)


def list_alerts(db: sqlite_utils.Database, *, pending: bool = False, limit: int = 200) -> list[dict]:
    """Alerts, newest first, each with its deliveries (and when the pending ones are tried next) and its
    attempts. Labels and errors hold no secrets."""
    where = "WHERE a.deliver = 1 AND a.closed_at IS NULL" if pending else ""
    rows = list(db.query(f"SELECT a.* FROM alerts a {where} ORDER BY a.id DESC LIMIT ?", [limit]))
    out = []
    for row in rows:
        deliveries = list(db.query(
            "SELECT channel, channel_label, status, attempts, next_attempt_at, last_error, delivered_at "
            "FROM alert_deliveries WHERE alert_id = ? ORDER BY channel", [row["id"]]))
        for d in deliveries:
            if d["status"] != "pending":
                d["next_attempt_at"] = None  # rows written before sent/failed cleared it
        attempts = list(db.query(
            "SELECT channel, attempted_at, ok, error FROM alert_attempts WHERE alert_id = ? ORDER BY id",
            [row["id"]]))
        if not row["deliver"]:
            status = "suppressed"
        elif not deliveries or any(d["status"] == "pending" for d in deliveries):
            status = "pending"
        elif all(d["status"] == "sent" for d in deliveries):
            status = "sent"
        else:
            status = "failed" if not any(d["status"] == "sent" for d in deliveries) else "partial"
        upcoming = sorted(d["next_attempt_at"] for d in deliveries if d["next_attempt_at"])
        out.append({
            "id": row["id"], "kind": row["kind"], "created_at": row["created_at"], "status": status,
            "next_attempt_at": upcoming[0] if upcoming else None,
            "portal_id": row["portal_id"], "document_id": row["document_id"], "url": row["url"],
            "message": row["message"], "dedupe_key": row["dedupe_key"], "deliveries": deliveries,
            "attempts": attempts,
        })
    return out


def send_test(config) -> list[dict]:
    """Send a test message to every configured channel, each within send_timeout; one result per channel."""
    settings = _settings(config)
    message = notify.render("test", {"at": now_iso()})
    title, body = notify.split_message(message)
    results = []
    with SendWorker() as worker:
        for url in settings.urls:
            try:
                worker.start()
                result = worker.send(url, title, body or title, deadline=settings.send_timeout)
            except SenderUnavailable as exc:
                result = notify.SendResult(False, str(exc))
            results.append({"channel": notify.channel_id(url), "label": notify.redact_url(url), "ok": result.ok,
                            "error": notify.scrub(result.error, url)})
    return results
