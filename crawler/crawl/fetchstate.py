"""Per-URL fetch state (`fetch_state` table): validators for conditional requests, content hashes, and the
list-entry fingerprint that tells whether a known detail page needs refetching."""

from __future__ import annotations

import hashlib
import json

import sqlite_utils

from crawler.urls import canonicalize
from storage import now_iso

KINDS = ("list", "detail", "attachment", "robots")
ROBOTS_DISALLOWED = -1  # status of a URL robots.txt forbids: never fetched, but its list entry is known


def content_hash(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def state_key(url: str) -> str:
    """The fetch_state key: the canonical URL (POST list requests append '#' + their form body)."""
    base, sep, body = url.partition("#post:")
    return canonicalize(base) + (sep + body if sep else "")


_COLUMNS = ("url", "portal_id", "kind", "status", "etag", "last_modified", "content_hash", "list_entry",
            "fetched_at", "checked_at")
_UPSERT = (f"INSERT INTO fetch_state ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
           f"ON CONFLICT(url) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}")


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

    def known_entries(self, portal_id: str) -> dict[str, str]:
        """{detail url: list-entry fingerprint} of the portal's detail pages stored successfully (or
        forbidden by robots.txt: those are not asked for again while their list entry is unchanged)."""
        return self.known_entries_of([portal_id])[portal_id]

    def known_entries_of(self, portal_ids) -> dict[str, dict[str, str]]:
        """`known_entries` of many portals (a batch) in one query: {portal id: {detail url: fingerprint}}."""
        out: dict[str, dict[str, str]] = {pid: {} for pid in portal_ids}
        for portal_id, url, entry in self.db.execute(
                "SELECT portal_id, url, list_entry FROM fetch_state WHERE kind = 'detail' AND status IN (200, ?) "
                "AND portal_id IN (SELECT value FROM json_each(?))", [ROBOTS_DISALLOWED, json.dumps(list(out))]):
            out[portal_id][url] = entry
        return out

    def record(self, url: str, *, portal_id: str, kind: str, status: int, etag: str | None = None,
               last_modified: str | None = None, body_hash: str | None = None, list_entry: str | None = None,
               unchanged: bool = False) -> None:
        """Upsert the state of `url` after a fetch (a 304 keeps the stored validators and hash)."""
        now = now_iso()
        key = state_key(url)
        row = self.get(url) or {}
        if status == 304 or unchanged:
            values = {"checked_at": now, "status": row.get("status") or 200}
            if list_entry is not None:
                values["list_entry"] = list_entry
            if row:
                assignments = ", ".join(f"{column} = ?" for column in values)
                self.db.conn.execute(f"UPDATE fetch_state SET {assignments} WHERE url = ?", [*values.values(), key])
                return
        values = {
            "url": key, "portal_id": portal_id, "kind": kind, "status": status,
            "etag": etag if etag is not None else (row.get("etag") if status == 304 else None),
            "last_modified": last_modified if last_modified is not None else None,
            "content_hash": body_hash or row.get("content_hash"),
            "list_entry": list_entry if list_entry is not None else row.get("list_entry"),
            "fetched_at": now, "checked_at": now,
        }
        # plain SQL: sqlite-utils' upsert re-reads the table's schema on every call (once per page here)
        self.db.conn.execute(_UPSERT, [values[column] for column in _COLUMNS])
