"""The Datasette plugin: one hook per concern. Registered by `crawler.dashboard.dashboard()` (not through an
entry point, so a plain `datasette` elsewhere in the same environment does not get it)."""

from __future__ import annotations

import re

from datasette import hookimpl

from crawler.dashboard import connection, feeds, pages
from crawler.dashboard.resources import DATABASE, STATIC_MOUNT

FEED_CELL_CHARS = 60


@hookimpl
def prepare_connection(conn, database):
    """Read-only, secrets blanked, the search functions (connection.py) on every govwatch connection."""
    if database == DATABASE:
        connection.prepare(conn)


@hookimpl
def register_routes():
    return pages.ROUTES


@hookimpl
def register_output_renderer():
    return [{"extension": "atom", "render": feeds.render_atom, "can_render": feeds.can_render},
            {"extension": "jsonfeed", "render": feeds.render_json_feed, "can_render": feeds.can_render}]


@hookimpl
def extra_template_vars(template, datasette):
    """The navigation on every page; the home page's summary."""
    async def inner():
        extra = {"govwatch_nav": pages.nav(datasette)}
        if template == "index.html":
            extra["govwatch_home"] = await pages.home_summary(datasette)
        return extra

    return inner


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path(f"/{STATIC_MOUNT}/govwatch.css")]


@hookimpl
def render_cell(value, column, table, database, datasette):
    """In the canned queries: snippets highlighted, `document` ids linked to the document page."""
    if database != DATABASE or table is not None or value is None:
        return None
    if column == "snippet":
        return pages.highlight(value)
    if column == "document":
        return pages.document_link(datasette, value)
    if column == "atom_content" and len(str(value)) > FEED_CELL_CHARS:  # the feed's page: a glimpse, not the text
        return str(value)[:FEED_CELL_CHARS] + "…"
    return None


@hookimpl
def menu_links(datasette):
    return [{"href": item["href"], "label": item["label"]} for item in pages.nav(datasette)]


@hookimpl
def startup(datasette):
    """Prepare every canned query once, so a database whose schema does not fit fails at start, not later."""
    async def check():
        database = datasette.get_database(DATABASE)
        for name, query in (datasette.metadata("queries", database=DATABASE) or {}).items():
            params = {key: "" for key in _parameters(query["sql"])}
            try:
                await database.execute("EXPLAIN " + query["sql"], params, log_sql_errors=False)
            except Exception as exc:  # noqa: BLE001 - any failure means the query cannot serve
                raise RuntimeError(f"canned query {name} does not run on {database.path}: {exc}") from None

    return check


def _parameters(sql: str) -> set[str]:
    return set(re.findall(r"(?<!:):([a-z_][a-z0-9_]*)", sql))
