"""Chinese full-text search over the corpus (SQLite FTS5 + jieba).

The index (`documents_fts`, kept in step with `documents` by triggers) holds jieba search-mode tokens of
title and body. A query is never passed to FTS5 as typed: it is split into terms (whitespace-separated
words, or "quoted phrases"), each term is segmented with jieba, and each becomes a quoted FTS5 phrase of
its tokens (both the normal cut and the search-mode cut, OR-ed, so 营商, 复议, 行政复议, 营商环境 and
"行政复议 决定" are found however jieba cut them in context; spaces between Chinese characters inside a
term are dropped first). FTS5 syntax characters in the input (`* ^ : ( ) + -`, NEAR, unbalanced quotes)
are thus plain text, never syntax; only the upper-case words `OR` and `NOT` between terms act as operators
(`AND` is implicit and ignored). When an AND-only query finds fewer than asked, a term of several words is
also looked for as those words NEAR each other, kept only where the text holds the term (a term can span
part of a long indexed word: 负责人出庭 in 负责人出庭应诉).

Ranking: bm25 with the title weighted 10x the body (crawler.corpus.fts; split over rowid ranges in parallel on a
large corpus). Canonical documents only unless asked otherwise.
The snippet is cut from the original text around the first match (FTS5's snippet() would return
space-separated tokens) and the matched words are wrapped in 【】.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import sqlite_utils

from crawler.corpus import fts
from crawler.extract.record import DOC_TYPES
from storage import sqlite3
from storage.segment import tokens

SNIPPET_CHARS = 80
# every term becomes phrases of its words: a 30,000-character query took over a minute to rank
MAX_QUERY_CHARS = 1000
NEAR_WINDOW = 12  # tokens: the sub-words the index puts between two words of a long word
NEAR_CANDIDATES = 200  # best NEAR matches checked for the term itself when the phrases found too few
HL_OPEN, HL_CLOSE = "【", "】"
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


class SearchError(ValueError):
    """The query cannot be run; the message is one line for the user."""


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str | None
    url: str
    region: str | None
    report_year: int | None
    published_at: str | None
    snippet: str
    score: float
    doc_type: str | None = None

    def to_json(self) -> dict:
        """The `govwatch search --json` record (exactly these keys)."""
        return {"title": self.title, "url": self.url, "region": self.region, "report_year": self.report_year,
                "doc_type": self.doc_type, "snippet": self.snippet}

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ParsedQuery:
    match: str  # the FTS5 MATCH expression
    words: tuple[str, ...]  # the words to highlight (longest first)
    terms: tuple[str, ...] = ()  # the whole query terms (see compact()): the snippet centres on these first
    # for a query of terms joined by AND only, with a term of several words: the expression that also
    # finds those words NEAR each other (the term may span part of a long indexed word), and the texts a
    # document found only that way must contain
    near: str | None = None
    required: tuple[str, ...] = ()

    def contains_terms(self, *texts: str | None) -> bool:
        """Whether the texts together hold every required term (spaces between Chinese ignored, any case)."""
        haystack = re.sub(r"\s+", " ", compact("\n".join(t for t in texts if t))).lower()
        return all(term.lower() in haystack for term in self.required)


def _phrase(words: list[str]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def compact(term: str) -> str:
    """A term as the text it stands for: Chinese is written without spaces, so "行政复议 决定" means
    行政复议决定, which the documents' cut may well keep as one word (spaces between Latin words stay)."""
    return _SPACE_BETWEEN_CJK.sub("", term)


def _term_expression(term: str) -> tuple[str | None, str | None, list[str]]:
    """(phrase expression, the same OR-ed with a NEAR group of its words when it has several, highlights)."""
    term = compact(term)
    normal = tokens(term)
    search_mode = tokens(term, search=True)
    if not normal and not search_mode:
        return None, None, []
    alternatives = [_phrase(normal)] if normal else []
    # the index holds each word's sub-words just before the word, so the search-mode phrase can only match
    # where the normal phrase does, unless a word after the first has sub-words (加强 行政复议 is indexed
    # as 加强 行政 复议 行政复议). Then both are needed; otherwise the second phrase only doubles FTS5's work
    if not normal or any(len(tokens(word, search=True)) > 1 for word in normal[1:]):
        alternatives.append(_phrase(search_mode))
    alternatives = list(dict.fromkeys(p for p in alternatives if p != '""'))
    expr = alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
    near = None
    # a span across part of a long indexed word (负责人出庭 in 负责人出庭应诉, indexed 负责 责人 出庭 应诉
    # 负责人 出庭应诉 ...) has its words a few tokens apart, never adjacent: NEAR finds them (and unrelated
    # neighbours too, which the caller weeds out by the text)
    if len(normal) > 1:
        group = " ".join(_phrase([word]) for word in normal)
        near = "(" + " OR ".join(alternatives + [f"NEAR({group}, {NEAR_WINDOW})"]) + ")"
    highlight = [re.sub(r"\s+", " ", term).strip()] + normal
    return expr, near, highlight


def parse_query(query: str) -> ParsedQuery:
    """Turn user input into a safe FTS5 expression. Raises SearchError when nothing searchable remains."""
    if query is None or not query.strip():
        raise SearchError("empty query: give one or more words, e.g. 行政复议 or \"营商环境\"")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:  # bytes the shell could not decode reach Python as lone surrogates
        raise SearchError("the query is not valid UTF-8 text (check the terminal's encoding)") from None
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"the query has {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are searched "
                          "(quote the phrase that matters)")
    text = query.strip()
    if text.count('"') % 2:  # unbalanced quote: treat the lone quote as a space
        index = text.rfind('"')
        text = text[:index] + " " + text[index + 1:]
    parts: list[str] = []  # expressions and the operators OR / NOT
    near_parts: list[str] = []
    words: list[str] = []
    term_words: list[list[str]] = []
    operators = False
    for match in _TERM.finditer(text):
        quoted, bare = match.group(1), match.group(2)
        if bare in ("OR", "NOT", "AND"):
            parts.append(bare)
            operators = operators or bare != "AND"
            continue
        expr, near, highlight = _term_expression(quoted if quoted is not None else bare)
        if expr:
            parts.append(expr)
            near_parts.append(near or expr)
            words += highlight
            term_words.append(highlight)
    # assemble: AND implicit; OR/NOT only between two terms
    out: list[str] = []
    pending_op: str | None = None
    for part in parts:
        if part in ("OR", "NOT", "AND"):
            if part == "NOT" and not out:
                raise SearchError("NOT must follow a search term, e.g. 营商环境 NOT 疫情")
            pending_op = None if part == "AND" else part
            continue
        if out:
            out.append(pending_op or "AND")
        out.append(part)
        pending_op = None
    if not out:
        raise SearchError(f"no searchable words in query {query!r}: it only holds punctuation or operators")
    terms = tuple(dict.fromkeys(h[0] for h in term_words if h and h[0]))
    words = sorted({w for w in words if w}, key=len, reverse=True)
    near = None
    if not operators and near_parts != [p for p in parts if p not in ("OR", "NOT", "AND")]:
        near = " AND ".join(near_parts)
    return ParsedQuery(" ".join(out), tuple(words), terms, near=near, required=terms if near else ())


def make_snippet(text: str | None, words: tuple[str, ...] | list[str], *, width: int = SNIPPET_CHARS,
                 open_mark: str = HL_OPEN, close_mark: str = HL_CLOSE, prefer: tuple[str, ...] = ()) -> str:
    """A readable snippet of `text` around the first occurrence of any of `prefer` (the whole query terms),
    else of any of `words`; every occurrence of `words` in the window is wrapped in open_mark/close_mark.
    Falls back to the start of the text."""
    if not text:
        return ""
    flat = re.sub(r"\s*\n\s*", " ", text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
    first = None
    if prefer:
        first = re.compile("|".join(re.escape(w) for w in prefer), re.IGNORECASE).search(flat)
    if first is None:
        first = pattern.search(flat) if pattern else None
    if first is None:
        window = flat[:width]
        return window + ("…" if len(flat) > width else "")
    start = max(0, first.start() - width // 3)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    window = flat[start:end]
    marked = pattern.sub(lambda m: f"{open_mark}{m.group(0)}{close_mark}", window)
    return ("…" if start > 0 else "") + marked + ("…" if end < len(flat) else "")


def search(db: sqlite_utils.Database, query: str, limit: int = 20, *,
           include_duplicates: bool = False, shards: int | None = None,
           doc_type: str | None = None) -> list[SearchHit]:
    """Best `limit` documents for `query` (bm25, title weighted), canonical documents only by default, of
    one `doc_type` (annual_report, interpretation, plan, news, other) when given.
    `shards`: rowid ranges ranked in parallel (default: one per CPU on a large corpus, see crawler.corpus.fts)."""
    parsed = parse_query(query)
    if limit is None or limit < 1:
        raise SearchError("limit must be a positive number")
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise SearchError(f"unknown document type {doc_type!r} (choose from {', '.join(DOC_TYPES)})")
    limit = int(limit)
    filters = Filters(include_duplicates, doc_type)
    try:
        rows = _best(db, parsed.match, limit, filters, shards)
        if len(rows) < limit and parsed.near:
            # words of a term a few tokens apart: kept only where the text holds the term itself
            seen = {row[0] for row in rows}
            rows += [row for row in _best(db, parsed.near, NEAR_CANDIDATES, filters, shards)
                     if row[0] not in seen and parsed.contains_terms(row[1], row[6])][:limit - len(rows)]
    except sqlite3.OperationalError as exc:
        raise SearchError(f"cannot run query {query!r}: {exc}") from None
    hits = []
    for doc_id, title, url, region, year, published, text, kind, score in rows:
        snippet = make_snippet(text, parsed.words, prefer=parsed.terms)
        if HL_OPEN not in snippet and title:
            title_snippet = make_snippet(title, parsed.words, prefer=parsed.terms)
            if HL_OPEN in title_snippet:
                snippet = title_snippet
        hits.append(SearchHit(doc_id, title, url, region, year, published, snippet, float(score), kind))
    return hits


@dataclass(frozen=True)
class Filters:
    include_duplicates: bool = False
    doc_type: str | None = None

    def sql(self) -> tuple[str, list]:
        clauses, params = [], []
        if not self.include_duplicates:
            clauses.append("AND duplicate_of IS NULL")
        if self.doc_type:
            clauses.append("AND doc_type = ?")
            params.append(self.doc_type)
        return " ".join(clauses), params


def _best(db: sqlite_utils.Database, match: str, limit: int, filters: Filters,
          shards: int | None) -> list[tuple]:
    """The `limit` best document rows (id, title, url, region, report_year, published_at, text, doc_type,
    score). Ranks inside the FTS table first (no per-match join), then reads the best few and drops those the
    filters exclude; only when too many of those were excluded, ranks again without the cap."""
    cap = limit if filters == Filters(include_duplicates=True) else limit * 4 + 20
    where, params = filters.sql()
    while True:
        scored = fts.ranked(db, match, cap, shards=shards)
        scores = dict(scored)
        placeholders = ", ".join("?" * len(scores))
        rows = db.execute(f"SELECT id, title, url, region, report_year, published_at, text, doc_type "
                          f"FROM documents WHERE id IN ({placeholders}) {where}",
                          list(scores) + params).fetchall() if scores else []
        rows = sorted((row + (scores[row[0]],) for row in rows), key=lambda row: row[-1])[:limit]
        if len(rows) >= limit or cap < 0 or len(scored) < cap:
            return rows
        cap = -1
