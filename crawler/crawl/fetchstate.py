"""Per-URL fetch state (`fetch_state` table): validators for conditional requests, content hashes, the
list-entry fingerprint that tells whether a known detail page needs refetching, and the detail pages a crawl
scheduled but has not stored yet.

A detail page's row goes through: `schedule` (status SCHEDULED, written with the list page that lists it,
before it is requested) -> `fail` (the reason, and the HTTP status when there was one) or `record` with
200 when its document is stored (in the document's own transaction). A row not stored is `unstored`: the
next run asks for it first, until it has been tried `max_tries` times; after that it counts as known (it
neither keeps paging going nor is requested again) until its list entry changes.
"""

from __future__ import annotations

import hashlib
import json

import sqlite_utils

from crawler.urls import canonicalize
from storage import now_iso

KINDS = ("list", "detail", "attachment", "robots")
ROBOTS_DISALLOWED = -1  # status of a URL robots.txt forbids: never fetched, but its list entry is known
SCHEDULED = 0  # status of a detail page asked for and not stored (yet)
_STORED = (200, ROBOTS_DISALLOWED)


def content_hash(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def state_key(url: str) -> str:
    """The fetch_state key: the canonical URL (POST list requests append '#' + their form body)."""
    base, sep, body = url.partition("#post:")
    return canonicalize(base) + (sep + body if sep else "")


_COLUMNS = ("url", "portal_id", "kind", "status", "etag", "last_modified", "content_hash", "list_entry",
            "fetched_at", "checked_at", "tries", "error", "entry")
_UPSERT = (f"INSERT INTO fetch_state ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
           f"ON CONFLICT(url) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}")
_UNSTORED = f"kind = 'detail' AND status NOT IN {_STORED}"  # the partial index fetch_state_unstored


class FetchState:
    """Reads and writes `fetch_state` rows for one database."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def get(self, url: str) -> dict | None:
        cursor = self.db.conn.execute("SELECT * FROM fetch_state WHERE url = ?", [state_key(url)])
        row = cursor.fetchone()
        return dict(zip((c[0] for c in cursor.description), row)) if row else None

    def conditional_headers(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for a URL fetched before with a 200."""
        row = self.get(url)
        headers: dict[str, str] = {}
        if not row or row.get("status") not in (200, 304):
            return headers
        if row.get("etag"):
            headers["If-None-Match"] = row["etag"]
        if row.get("last_modified"):
            headers["If-Modified-Since"] = row["last_modified"]
        return headers

    def known_entries(self, portal_id: str, max_tries: int | None = None) -> dict[str, str]:
        """{detail url: list-entry fingerprint} of the portal's detail pages stored successfully, forbidden by
        robots.txt, or given up after `max_tries` failed tries: none of them is asked for again while its
        list entry is unchanged."""
        return self.known_entries_of([portal_id], max_tries)[portal_id]

    def known_entries_of(self, portal_ids, max_tries: int | None = None) -> dict[str, dict[str, str]]:
        """`known_entries` of many portals (a batch) in one query: {portal id: {detail url: fingerprint}}."""
        given_up = "" if max_tries is None else f" OR tries >= {int(max_tries)}"
        out: dict[str, dict[str, str]] = {pid: {} for pid in portal_ids}
        for portal_id, url, entry in self.db.execute(
                f"SELECT portal_id, url, list_entry FROM fetch_state WHERE kind = 'detail' "
                f"AND (status IN {_STORED}{given_up}) "
                f"AND portal_id IN (SELECT value FROM json_each(?))", [json.dumps(list(out))]):
            out[portal_id][url] = entry
        return out

    def record(self, url: str, *, portal_id: str, kind: str, status: int, etag: str | None = None,
               last_modified: str | None = None, body_hash: str | None = None, list_entry: str | None = None,
               unchanged: bool = False) -> None:
        """Upsert the state of `url` after a fetch (a 304 keeps the stored validators and hash). A success
        (200, 304, robots) clears the failed tries."""
        now = now_iso()
        key = state_key(url)
        row = self.get(url) or {}
        if status == 304 or unchanged:
            values = {"checked_at": now, "status": row.get("status") or 200, "tries": 0, "error": None}
            if list_entry is not None:
                values["list_entry"] = list_entry
            if row:
                assignments = ", ".join(f"{column} = ?" for column in values)
                self.db.conn.execute(f"UPDATE fetch_state SET {assignments} WHERE url = ?", [*values.values(), key])
                return
        succeeded = status in (200, ROBOTS_DISALLOWED)
        values = {
            "url": key, "portal_id": portal_id, "kind": kind, "status": status,
            "etag": etag if etag is not None else (row.get("etag") if status == 304 else None),
            "last_modified": last_modified if last_modified is not None else None,
            "content_hash": body_hash or row.get("content_hash"),
            "list_entry": list_entry if list_entry is not None else row.get("list_entry"),
            "fetched_at": now, "checked_at": now,
            "tries": 0 if succeeded else row.get("tries") or 0,
            "error": None if succeeded else row.get("error"),
            "entry": None if succeeded else row.get("entry"),
        }
        # plain SQL: sqlite-utils' upsert re-reads the table's schema on every call (once per page here)
        self.db.conn.execute(_UPSERT, [values[column] for column in _COLUMNS])

    def schedule(self, url: str, *, portal_id: str, title: str, date: str | None, list_entry: str) -> None:
        """Write down that the detail page `url` (listed as `title`, `date`) is about to be requested: it stays
        unstored until its document is stored. Counts one try of this list entry."""
        now = now_iso()
        key = state_key(url)
        row = self.get(url) or {}
        same_entry = row.get("list_entry") == list_entry and row.get("status") not in _STORED
        values = {
            "url": key, "portal_id": portal_id, "kind": "detail", "status": SCHEDULED,
            "etag": row.get("etag"), "last_modified": row.get("last_modified"),
            "content_hash": row.get("content_hash"), "list_entry": list_entry,
            "fetched_at": row.get("fetched_at"), "checked_at": now,
            "tries": (row.get("tries") or 0) + 1 if same_entry else 1,
            "error": row.get("error") if same_entry else None,
            "entry": json.dumps({"title": title, "date": date}, ensure_ascii=False),
        }
        self.db.conn.execute(_UPSERT, [values[column] for column in _COLUMNS])

    def fail(self, url: str, reason: str, *, status: int | None = None) -> None:
        """Why the last try of a scheduled detail page failed (its HTTP status when it got one)."""
        self.db.conn.execute(
            f"UPDATE fetch_state SET error = ?, status = COALESCE(?, status), checked_at = ? "
            f"WHERE url = ? AND status NOT IN {_STORED}", [reason[:500], status, now_iso(), state_key(url)])

    def unstored(self, portal_id: str, max_tries: int) -> list[dict]:
        """The portal's detail pages scheduled and not stored that have tries left, oldest first:
        [{url, title, date, tries, error}]."""
        rows = self.db.query(
            f"SELECT url, entry, tries, error FROM fetch_state WHERE portal_id = ? AND {_UNSTORED} "
            "AND tries < ? ORDER BY checked_at, url", [portal_id, max_tries])
        out = []
        for row in rows:
            entry = json.loads(row["entry"] or "{}")
            out.append({"url": row["url"], "title": entry.get("title") or "", "date": entry.get("date"),
                        "tries": row["tries"], "error": row["error"]})
        return out

    def unstored_summary(self, portal_id: str, max_tries: int) -> dict:
        """{"retry": n (unstored, asked for again next run), "given_up": n (tried max_tries times),
        "error": the latest failure reason}."""
        row = self.db.execute(
            f"SELECT SUM(tries < ?), SUM(tries >= ?) FROM fetch_state WHERE portal_id = ? AND {_UNSTORED}",
            [max_tries, max_tries, portal_id]).fetchone()
        error = self.db.execute(
            f"SELECT error FROM fetch_state WHERE portal_id = ? AND {_UNSTORED} AND error IS NOT NULL "
            "ORDER BY checked_at DESC LIMIT 1", [portal_id]).fetchone()
        return {"retry": row[0] or 0, "given_up": row[1] or 0, "error": error[0] if error else None}
