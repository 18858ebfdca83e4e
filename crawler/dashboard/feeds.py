"""Feeds of new reports for people who subscribe instead of configuring a webhook.

Both come from the canned query `new_reports` (queries/new_reports.sql), so `?province=安徽省` and
`?region=` filter both: `/govwatch/new_reports.atom` and `/govwatch/new_reports.jsonfeed`.

Atom: `atom_feed()` here rather than datasette-atom, whose 0.9 fails with a server error on a query that
returns no rows (`max()` of no dates), and an empty feed is the normal answer for a province with no new
report. The columns keep datasette-atom's names (atom_id, atom_title, atom_updated, atom_link,
atom_content), so the query works with either.

JSON Feed 1.1 (https://jsonfeed.org/version/1.1): each item's `url` is the report's page on this dashboard
and `external_url` the portal's page; `_govwatch` holds region, adcode, year and the portal's date.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from datasette import Response

from crawler.dashboard.resources import DATABASE

FEED_QUERY = "new_reports"
ATOM_COLUMNS = {"atom_id", "atom_title", "atom_updated"}
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
EPOCH = "1970-01-01T00:00:00+00:00"


def can_render(columns) -> bool:
    return ATOM_COLUMNS <= set(columns)


def atom_feed(rows: list[dict], *, title: str, feed_url: str, document_url) -> bytes:
    """Atom XML of `rows` (atom_* columns), newest first as the query orders them."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = feed_url
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = max((row["atom_updated"] for row in rows), default=EPOCH)
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", href=feed_url, rel="self")
    ET.SubElement(feed, f"{{{ATOM_NS}}}generator").text = "govwatch"
    for row in rows:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = str(row["atom_id"])
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = str(row["atom_title"] or "")
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = row["atom_updated"]
        if row.get("atom_link"):
            ET.SubElement(entry, f"{{{ATOM_NS}}}link", href=row["atom_link"], rel="alternate")
        if row.get("document") is not None:
            ET.SubElement(entry, f"{{{ATOM_NS}}}link", href=document_url(row["document"]), rel="related")
        if row.get("atom_content"):
            ET.SubElement(entry, f"{{{ATOM_NS}}}content", type="text").text = row["atom_content"]
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def json_feed(rows: list[dict], *, title: str, feed_url: str, home_page_url: str, document_url) -> dict:
    """A JSON Feed 1.1 object of `rows` (the `new_reports` columns)."""
    items = []
    for row in rows:
        item = {"id": str(row["atom_id"]), "title": row["atom_title"], "date_published": row["atom_updated"],
                "content_text": row.get("atom_content") or "", "language": "zh"}
        if row.get("document") is not None:
            item["url"] = document_url(row["document"])
        if row.get("atom_link"):
            item["external_url"] = row["atom_link"]
        extension = {key: row[key] for key in ("region", "adcode", "year", "published") if key in row}
        if extension:
            item["_govwatch"] = extension
        items.append(item)
    return {"version": JSON_FEED_VERSION, "title": title, "home_page_url": home_page_url, "feed_url": feed_url,
            "language": "zh", "items": items}


def _context(datasette, request, query_name):
    title = query_name or "govwatch"
    if query_name:
        title = (datasette.metadata("queries", database=DATABASE) or {}).get(query_name, {}).get("title", title)

    def document_url(document_id) -> str:
        return datasette.absolute_url(request, datasette.urls.path(f"/-/document/{int(document_id)}"))

    return f"govwatch {title}", document_url


def render_atom(datasette, request, rows, columns, query_name):
    if not can_render(columns):
        return Response.text(f"the query must return the columns {', '.join(sorted(ATOM_COLUMNS))}", status=400)
    title, document_url = _context(datasette, request, query_name)
    body = atom_feed([dict(row) for row in rows], title=title, feed_url=request.url, document_url=document_url)
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def render_json_feed(datasette, request, rows, columns, query_name):
    if not can_render(columns):
        return Response.text(f"the query must return the columns {', '.join(sorted(ATOM_COLUMNS))}", status=400)
    title, document_url = _context(datasette, request, query_name)
    feed = json_feed([dict(row) for row in rows], title=title, feed_url=request.url,
                     home_page_url=datasette.absolute_url(request, datasette.urls.instance()),
                     document_url=document_url)
    return Response(json.dumps(feed, ensure_ascii=False, indent=1), content_type="application/feed+json; charset=utf-8")
