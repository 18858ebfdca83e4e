"""govwatch's own pages: coverage, overdue, portals, search and a document page (with `.json` twins where the
page is not a table Datasette exports already). Each view reads through Datasette's read-only connection and
calls the same Python function as the matching `govwatch` command."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from urllib.parse import urlencode

import sqlite_utils
from datasette import Forbidden, NotFound, Response
from markupsafe import Markup, escape

from crawler.corpus.archive import ArchiveError, read_capture
from crawler.corpus.search import HL_CLOSE, HL_OPEN, SearchError, parse_query
from crawler.dashboard import coverage_view
from crawler.dashboard.resources import DATABASE
from crawler.monitor.coverage import coverage, default_year, latest_due_year, resolve_province, totals

DOC_TYPES = ("annual_report", "interpretation", "plan", "news", "other")
# (page key, path): the order of the navigation; titles are in metadata.yaml (plugins.govwatch.pages)
NAV = (("home", "/"), ("latest", f"/{DATABASE}/latest_reports"), ("coverage", "/-/coverage"),
       ("overdue", "/-/overdue"), ("portals", "/-/portals"), ("search", "/-/search"),
       ("feeds", f"/{DATABASE}/new_reports"))
COVERAGE_YEARS = 3  # a province's tree shows this many years up to the year due
PAGE_ROWS = 200  # rows per HTML page of the portal and overdue lists (3,214 portals rendered take ~2 s)


def nav(datasette) -> list[dict]:
    titles = (datasette.plugin_config("govwatch") or {}).get("pages", {})
    return [{"key": key, "href": datasette.urls.path(path), "label": titles.get(key, {}).get("title", key)}
            for key, path in NAV]


def highlight(snippet: str | None) -> Markup:
    """A snippet with its 【】 marks as <mark> elements, everything else escaped."""
    return escape(snippet or "").replace(HL_OPEN, Markup("<mark>")).replace(HL_CLOSE, Markup("</mark>"))


def document_link(datasette, document_id) -> Markup:
    href = datasette.urls.path(f"/-/document/{int(document_id)}")
    return Markup(f'<a href="{escape(href)}">{int(document_id)}</a>')


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status=status,
                    content_type="application/json; charset=utf-8")


async def _allowed(datasette, request) -> None:
    if not await datasette.permission_allowed(request.actor, "view-instance", default=True) or \
            not await datasette.permission_allowed(request.actor, "view-database", DATABASE, default=True):
        raise Forbidden("view-instance")


async def _render(datasette, request, template: str, page: str, context: dict, status: int = 200) -> Response:
    titles = (datasette.plugin_config("govwatch") or {}).get("pages", {})
    context = {"page_key": page, "page_title": titles.get(page, {}).get("title", page), **context}
    return Response.html(await datasette.render_template(template, context, request=request), status=status)


async def _read(datasette, fn):
    """fn(sqlite_utils.Database) on one of Datasette's read-only connections, in its thread pool."""
    return await datasette.get_database(DATABASE).execute_fn(
        lambda conn: fn(sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)))


def _years(request, fallback: list[int]) -> list[int]:
    years = []
    for value in request.args.getlist("year"):
        if not value.strip().isdigit() or not 1990 <= int(value) <= 2100:
            raise ValueError(f"year must be a year such as 2023, not {value!r}")
        years.append(int(value))
    return sorted(set(years)) or fallback


def paginate(rows: list, request) -> tuple[list, dict]:
    """The rows of `?page=N` (PAGE_ROWS each) and the pager: page, pages, total, prev/next query strings."""
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    value = request.args.get("page") or "1"
    page = min(max(int(value), 1), pages) if value.isdigit() else 1
    args = [(key, v) for key in request.args for v in request.args.getlist(key) if key != "page"]

    def link(n: int) -> str:
        return "?" + urlencode(args + [("page", n)])

    return rows[(page - 1) * PAGE_ROWS: page * PAGE_ROWS], {
        "page": page, "pages": pages, "total": len(rows), "first": (page - 1) * PAGE_ROWS + 1,
        "prev": link(page - 1) if page > 1 else None, "next": link(page + 1) if page < pages else None}


def _report_years(db) -> list[int]:
    return [row[0] for row in db.execute(
        "SELECT DISTINCT report_year FROM documents WHERE doc_type = 'annual_report' AND duplicate_of IS NULL "
        "AND report_year IS NOT NULL ORDER BY report_year")]


def _document_ids(db, urls: list[str]) -> dict[str, int]:
    if not urls:
        return {}
    marks = ",".join("?" * len(urls))
    return {url: doc_id for doc_id, url in db.execute(f"SELECT id, url FROM documents WHERE url IN ({marks})", urls)}


# ---------------------------------------------------------------------------------------------------------
# coverage


async def coverage_page(datasette, request):
    """/-/coverage: per-province totals with their picture; ?province= a province's division tree x years
    (?city= one city); ?year= (repeatable). /-/coverage.json: the rows and totals."""
    await _allowed(datasette, request)
    as_json = request.url_vars.get("format") == "json"
    province, city = request.args.get("province") or None, request.args.get("city") or None
    due = default_year()
    try:
        scope = resolve_province(province) if province else None
        years = _years(request, list(range(due - COVERAGE_YEARS + 1, due + 1)) if scope else [due])
    except ValueError as exc:
        return _json({"error": str(exc)}, 400) if as_json else await _render(
            datasette, request, "govwatch_error.html", "coverage", {"error": str(exc)}, 400)

    def query(db):
        rows = coverage(db, None, years=years, province=scope.code if scope else None)
        published = [r["url"] for r in rows if r["url"]]
        return rows, _document_ids(db, published), _report_years(db)

    rows, ids, known_years = await _read(datasette, query)
    if city:
        rows = coverage_view.within_city(rows, city)
    sums = totals(rows)
    if as_json:
        return _json({"years": years, "province": scope.name if scope else None, "city": city, "totals": sums,
                      "rows": rows})
    context = {"years": years, "scope": scope, "city": city, "totals": sums, "due_year": due,
               "year_choices": sorted(set(known_years) | {due}), "status_look": coverage_view.STATUS_LOOK,
               "document_ids": ids, "json_url": datasette.urls.path("/-/coverage.json") + (
                   f"?{request.query_string}" if request.query_string else "")}
    if scope is None:
        context["bars"] = Markup(coverage_view.bars_svg(sums))
    else:
        context["lines"] = coverage_view.tree(rows, years)
    return await _render(datasette, request, "govwatch_coverage.html", "coverage", context)


async def overdue_page(datasette, request):
    """/-/overdue: the regions overdue for the latest year whose deadline has passed (?province=)."""
    await _allowed(datasette, request)
    as_json = request.url_vars.get("format") == "json"
    today = datetime.now(timezone.utc).date()
    year = latest_due_year(today)
    province = request.args.get("province") or None
    try:
        scope = resolve_province(province) if province else None
    except ValueError as exc:
        return _json({"error": str(exc)}, 400) if as_json else await _render(
            datasette, request, "govwatch_error.html", "overdue", {"error": str(exc)}, 400)
    rows = await _read(datasette, lambda db: [r for r in coverage(db, None, years=[year], today=today,
                                                                  province=scope.code if scope else None)
                                             if r["status"] == "overdue"])
    if as_json:
        return _json({"year": year, "rows": rows})
    shown, pager = paginate(rows, request)
    return await _render(datasette, request, "govwatch_overdue.html", "overdue",
                         {"year": year, "rows": shown, "pager": pager, "scope": scope,
                          "deadline": rows[0]["deadline"] if rows else f"{year + 1}-04-01",
                          "json_url": datasette.urls.path("/-/overdue.json") + (
                              f"?{request.query_string}" if request.query_string else "")})


# ---------------------------------------------------------------------------------------------------------
# portals


def portal_rows(db) -> list[dict]:
    """`govwatch status` rows with each portal's name, region, home page and source."""
    from crawler.crawl.status import status

    extra = {row["id"]: row for row in db.query(
        "SELECT id, name, region, adcode, home, start_urls, source FROM portals WHERE removed_at IS NULL")}
    out = []
    for row in status(db):
        more = extra.get(row["id"], {})
        out.append({**row, "name": more.get("name"), "region": more.get("region"), "adcode": more.get("adcode"),
                    "home": more.get("home"), "start_urls": json.loads(more.get("start_urls") or "[]"),
                    "source": more.get("source")})
    return out


async def portals_page(datasette, request):
    """/-/portals: each portal's status (ok / blocked / error / never), last crawl, next run, reason (?status=)."""
    await _allowed(datasette, request)
    rows = await _read(datasette, portal_rows)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    wanted = request.args.get("status")
    if wanted:
        rows = [row for row in rows if row["status"] == wanted]
    if request.url_vars.get("format") == "json":
        return _json({"counts": counts, "rows": rows})
    shown, pager = paginate(rows, request)
    return await _render(datasette, request, "govwatch_portals.html", "portals",
                         {"rows": shown, "pager": pager, "counts": counts, "wanted": wanted,
                          "json_url": datasette.urls.path("/-/portals.json") + (
                              f"?{request.query_string}" if request.query_string else "")})


# ---------------------------------------------------------------------------------------------------------
# search


async def search_page(datasette, request):
    """/-/search?q=营商环境&doc_type=&region=&year=: the canned query `search` with a form and highlights."""
    await _allowed(datasette, request)
    params = {key: (request.args.get(key) or "").strip() for key in ("q", "doc_type", "region", "year")}
    error, hits = None, []
    if params["q"]:
        try:
            parse_query(params["q"])
            if params["year"] and not params["year"].isdigit():
                raise SearchError(f"year must be a year such as 2023, not {params['year']!r}")
            if params["doc_type"] and params["doc_type"] not in DOC_TYPES:
                raise SearchError(f"unknown type {params['doc_type']!r} (one of {', '.join(DOC_TYPES)})")
        except SearchError as exc:
            error = str(exc)
        else:
            sql = datasette.metadata("queries", database=DATABASE)["search"]["sql"]
            result = await datasette.get_database(DATABASE).execute(sql, params)
            hits = [dict(row) for row in result.rows]
    query_string = request.query_string
    return await _render(datasette, request, "govwatch_search.html", "search", {
        "params": params, "error": error, "hits": hits, "doc_types": DOC_TYPES, "highlight": highlight,
        "export": {fmt: datasette.urls.path(f"/{DATABASE}/search.{fmt}") + (f"?{query_string}" if query_string
                                                                              else "") for fmt in ("csv", "json")}})


# ---------------------------------------------------------------------------------------------------------
# a document


def document_details(db, document_id: int) -> dict | None:
    """A document's row (without its MinHash), attachments, text sources, portal, canonical and copies."""
    row = next(db.query("SELECT * FROM documents WHERE id = ?", [document_id]), None)
    if row is None:
        return None
    row.pop("minhash", None)
    portal = next(db.query("SELECT id, name, home FROM portals WHERE id = ?", [row["portal_id"]]), None)
    canonical = next(db.query("SELECT id, title, url, portal_id FROM documents WHERE id = ?",
                              [row["duplicate_of"]]), None) if row["duplicate_of"] else None
    copies = list(db.query(
        "SELECT id, title, url, portal_id, duplicate_kind, similarity, first_seen_at FROM documents "
        "WHERE duplicate_of = ? ORDER BY first_seen_at, id", [document_id]))
    return {"document": row, "attachments": _json_list(row.get("attachments")),
            "text_sources": _json_list(row.get("text_sources")), "portal": portal, "canonical": canonical,
            "copies": copies, "captures": document_captures(db, document_id),
            "paragraphs": (row["text"] or "").split("\n")}


def document_captures(db, document_id: int) -> list[dict]:
    """The WARC records a document was made from (its page or file first, then its attachments), numbered
    as /-/document/ID/archived/N serves them."""
    rows = db.query("SELECT url, role, captured_at, status, content_type, warc_file, warc_offset, warc_length "
                    "FROM captures WHERE document_id = ? ORDER BY role = 'attachment', url", [document_id])
    return [{"n": n, **row} for n, row in enumerate(rows)]


def archive_directory(datasette) -> str | None:
    """The archive the dashboard reads records from (None: the archive is off)."""
    return (datasette.plugin_config("govwatch") or {}).get("archive_dir")


# An archived page is the portal's HTML, scripts included: served sandboxed (no script runs with the
# dashboard's origin, its cookies or its password), never sniffed into another type, without a referrer
_ARCHIVED_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff",
                     "Referrer-Policy": "no-referrer"}


def _json_list(value) -> list:
    try:
        items = json.loads(value or "[]")
    except ValueError:
        return []
    return items if isinstance(items, list) else []


async def document_page(datasette, request):
    """/-/document/ID: metadata, clean text, attachments, duplicates of it (or the document it copies)."""
    await _allowed(datasette, request)
    document_id = int(request.url_vars["id"])
    details = await _read(datasette, lambda db: document_details(db, document_id))
    if details is None:
        raise NotFound(f"no document {document_id}")
    return await _render(datasette, request, "govwatch_document.html", "latest", {
        **details, "row_json": datasette.urls.row(DATABASE, "documents", str(document_id), format="json"),
        "archive_on": archive_directory(datasette) is not None})


async def archived_page(datasette, request):
    """/-/document/ID/archived/N: the bytes the portal served for the document's N-th record, as archived."""
    await _allowed(datasette, request)
    document_id, number = int(request.url_vars["id"]), int(request.url_vars["n"])
    directory = archive_directory(datasette)
    if directory is None:
        raise NotFound("the archive is off ([archive] dir = \"off\")")
    rows = await _read(datasette, lambda db: document_captures(db, document_id))
    if number >= len(rows):
        raise NotFound(f"document {document_id} has no archived record {number}")
    row = rows[number]
    pointer = {"file": row["warc_file"], "offset": row["warc_offset"], "length": row["warc_length"]}
    try:
        capture = await asyncio.to_thread(read_capture, directory, pointer)
    except ArchiveError as exc:
        raise NotFound(f"the archived record cannot be read: {exc}") from None
    headers = {**_ARCHIVED_HEADERS, "X-Govwatch-Url": capture.url, "X-Govwatch-Archived-At": capture.date or ""}
    return Response(capture.body, status=200, headers=headers,
                    content_type=capture.content_type or "application/octet-stream")


ROUTES = [
    (r"^/-/coverage(\.(?P<format>json))?$", coverage_page),
    (r"^/-/overdue(\.(?P<format>json))?$", overdue_page),
    (r"^/-/portals(\.(?P<format>json))?$", portals_page),
    (r"^/-/search$", search_page),
    (r"^/-/document/(?P<id>\d+)$", document_page),
    (r"^/-/document/(?P<id>\d+)/archived/(?P<n>\d+)$", archived_page),
]


# ---------------------------------------------------------------------------------------------------------
# the home page


HOME_LATEST = 10


def home_numbers(db) -> dict:
    """Counts for the home page and its newest reports."""
    documents, reports = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(doc_type = 'annual_report'), 0) FROM documents "
        "WHERE duplicate_of IS NULL").fetchone()
    portals = dict(db.execute("SELECT COALESCE(status, 'never'), COUNT(*) FROM portals WHERE removed_at IS NULL "
                              "GROUP BY 1").fetchall())
    latest = list(db.query(
        "SELECT id, region, report_year, title, substr(published_at, 1, 10) AS published, url FROM documents "
        "WHERE doc_type = 'annual_report' AND duplicate_of IS NULL "
        "ORDER BY first_seen_at DESC, published_at DESC, id DESC LIMIT ?", [HOME_LATEST]))
    return {"documents": documents, "reports": reports, "portals": portals, "latest": latest}


async def home_summary(datasette) -> dict:
    return await _read(datasette, home_numbers)
