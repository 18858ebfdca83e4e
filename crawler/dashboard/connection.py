"""What every Datasette connection to the govwatch database gets: read-only, no secrets, Chinese search.

Read-only twice over: Datasette opens the file with `?mode=ro` for reading; `PRAGMA query_only` and an
authorizer make any write (a plugin's `execute_write`, a canned write query) fail when it is prepared, and
the authorizer keeps `query_only` from being switched off.

No secrets: the alert channels' URLs hold tokens and passwords. The database never stores them (a channel is
a hash, its label a redacted URL, errors are scrubbed: crawler.monitor.notify), but the labels and errors are
still about the operator's channels, which the dashboard's readers have no business seeing, and the
redaction is a heuristic. So in the tables written by the alert sender only the listed bookkeeping columns can
be read; any other column reads as NULL in every query (table pages, canned queries, arbitrary SQL, filters:
a NULL compares to nothing, so no query can probe the value either). A column added there later is hidden
until it is listed here.

Search: `govwatch search` never hands FTS5 the text as typed; it segments it with jieba into quoted phrases
(crawler.corpus.search.parse_query). The same functions, registered here, let SQL do the same:

    govwatch_fts(q)              the FTS5 MATCH expression of q (NULL when q has nothing to search)
    govwatch_fts(q, 'near')      the same that also finds a term's words a few tokens apart (or NULL)
    govwatch_holds(q, title, text)  whether the texts hold every term of q (keeps only true NEAR matches)
    govwatch_snippet(q, title, text)  the snippet `govwatch search` shows, matches in 【】
    govwatch_province(text)      安徽省 / 安徽 / 340000 -> '34' (the adcode prefix); '' for ''; NULL if unknown
"""

from __future__ import annotations

from functools import lru_cache

from crawler.corpus.search import HL_OPEN, ParsedQuery, SearchError, make_snippet, parse_query
from crawler.monitor.coverage import resolve_province
from storage import sqlite3

# table -> the columns the dashboard may read (everything else reads as NULL)
READABLE_COLUMNS = {
    "alert_deliveries": frozenset({"alert_id", "channel", "status", "attempts", "next_attempt_at", "delivered_at"}),
    "alert_attempts": frozenset({"id", "alert_id", "channel", "attempted_at", "ok"}),
}
_ALWAYS_READABLE = frozenset({"", "rowid"})  # count(*) and the row id
_WRITES = frozenset(
    getattr(sqlite3, name) for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_"))
    or name in ("SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_ALTER_TABLE", "SQLITE_REINDEX",
                "SQLITE_ANALYZE", "SQLITE_ATTACH", "SQLITE_DETACH")
)
_LOCKED_PRAGMAS = frozenset({"query_only", "writable_schema", "journal_mode"})
_TEMP = ("temp",)


def prepare(conn) -> None:
    """Make `conn` read-only and secret-free, and register the search functions on it."""
    conn.execute("PRAGMA query_only = 1")
    conn.set_authorizer(authorize)
    conn.create_function("govwatch_fts", 1, fts_expression, deterministic=True)
    conn.create_function("govwatch_fts", 2, fts_expression, deterministic=True)
    conn.create_function("govwatch_holds", 3, holds_terms, deterministic=True)
    conn.create_function("govwatch_snippet", 3, snippet, deterministic=True)
    conn.create_function("govwatch_province", 1, province_prefix, deterministic=True)


def authorize(action: int, first: str | None, second: str | None, database: str | None, source: str | None) -> int:
    """SQLite authorizer: refuse writes and pragma changes, blank the columns that are not readable."""
    if action == sqlite3.SQLITE_READ:
        readable = READABLE_COLUMNS.get(first or "")
        if readable is not None and (second or "").lower() not in readable | _ALWAYS_READABLE:
            return sqlite3.SQLITE_IGNORE
        return sqlite3.SQLITE_OK
    if action in _WRITES:
        # SQLite's own bookkeeping inside TEMP (e.g. a sort) is not a write to the file
        return sqlite3.SQLITE_OK if database in _TEMP else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (first or "").lower() in _LOCKED_PRAGMAS and second is not None:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@lru_cache(maxsize=256)
def parsed(query: str | None) -> ParsedQuery | None:
    """The parsed query (cached: the functions run once per row), None when nothing is searchable."""
    if not query or not str(query).strip():
        return None
    try:
        return parse_query(str(query))
    except SearchError:
        return None


def fts_expression(query: str | None, mode: str | None = None) -> str | None:
    found = parsed(query)
    if found is None:
        return None
    return (found.near or found.match) if mode == "near" else found.match


def holds_terms(query: str | None, title: str | None, text: str | None) -> int:
    found = parsed(query)
    return int(found is not None and found.contains_terms(title, text))


def snippet(query: str | None, title: str | None, text: str | None) -> str:
    """Like `govwatch search`: around the first match in the text, else in the title, else the text's start."""
    found = parsed(query)
    words, terms = (found.words, found.terms) if found else ((), ())
    shown = make_snippet(text, words, prefer=terms)
    if HL_OPEN not in shown and title:
        in_title = make_snippet(title, words, prefer=terms)
        if HL_OPEN in in_title:
            return in_title
    return shown


@lru_cache(maxsize=64)
def province_prefix(text: str | None) -> str | None:
    if text is None or not str(text).strip():
        return ""
    try:
        return resolve_province(str(text)).code[:2]
    except ValueError:
        return None
