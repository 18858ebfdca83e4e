"""Bulk import of portals: CSV, TSV or JSON Lines rows into the registry.

Columns (CSV/TSV header, JSON keys): `adcode` or `region`, `home` or `start_urls`, and optionally `name`,
`cms`, `schedule`, `id`, `evidence`. `start_urls` and `evidence` hold one or more URLs (CSV: separated by
spaces; JSON: a list or a string). Lines that start with `#` are comments.

Every row is decided on its own -- a bad row never blocks the others:

* its region is resolved against the division data (`crawler.registry.places`; a name that fits two regions
  is an error naming both), its URLs, cms and schedule are validated as in govwatch.toml;
* its id is the given one or, by default, the region's adcode (stable; never derived from a pinyin guess);
* a row whose id, home page or column is already registered (or appears earlier in the file) is a
  duplicate -- unless it is the very same portal already registered, which is `unchanged`;
* a row with start URLs is `added`; the rows with only a home page are handed together to ONE discovery
  batch (`discover`), and registered with what it found: `column found` (the column becomes the start URL),
  or, with the home page only, `no column found` / `unreachable` / `blocked` (that status is recorded, so
  `status` and `coverage` show it before any crawl; the crawl tries discovery again).
"""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from crawler.config import ConfigError, Config, Portal, portal_from_table
from crawler.registry.discovery import DiscoverColumns, DiscoveryOutcome
from crawler.registry.places import resolve_division
from crawler.registry.store import RegistryError, add_portals, entries
from crawler.urls import canonicalize

COLUMNS = ("id", "adcode", "region", "name", "home", "start_urls", "cms", "schedule", "evidence")
# starter registries shipped as package data (crawler/data/): `govwatch portals import --builtin NAME`
BUILTIN = {"provinces": "portals-provinces.csv"}
# outcome -> the words printed for it
OUTCOMES = {
    "added": "added", "column_found": "column found", "no_column": "no column found",
    "unreachable": "unreachable", "blocked": "blocked", "unchanged": "unchanged", "rejected": "rejected",
}
_DISCOVERY_OUTCOME = {"found": "column_found", "none": "no_column", "unreachable": "unreachable",
                      "blocked": "blocked"}


@dataclass
class RowResult:
    line: int
    outcome: str  # a key of OUTCOMES
    detail: str = ""
    portal: Portal | None = None

    @property
    def failed(self) -> bool:
        return self.outcome not in ("added", "column_found", "unchanged")

    def describe(self, line: bool = True) -> str:
        """`line 7: 340202 芜湖市镜湖区: column found (score 100: http://…)`."""
        portal = self.portal
        parts = ([f"line {self.line}"] if line else []) + ([f"{portal.id} {portal.region or portal.name}"]
                                                          if portal else [])
        text = ": ".join(parts + [OUTCOMES[self.outcome]])
        return text + (f" ({self.detail})" if self.detail else "")


@dataclass
class ImportReport:
    source: str
    results: list[RowResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.results)

    def summary(self) -> str:
        counts = self.counts()
        registered = sum(counts[k] for k in ("added", "column_found", "no_column", "unreachable", "blocked"))
        parts = [f"{counts[k]} {OUTCOMES[k]}" for k in OUTCOMES if counts[k]]
        return (f"{self.source}: {len(self.results)} row{'s' if len(self.results) != 1 else ''}, "
                f"{registered} registered" + (f" ({', '.join(parts)})" if parts else ""))


# ---------------------------------------------------------------------------------------------------------
# reading


def read_rows(text: str, name: str = "<rows>") -> list[tuple[int, dict]]:
    """`(line number, row)` pairs of a CSV, TSV or JSON Lines text (chosen by `name`'s suffix, else by its
    first line). Raises RegistryError naming the file for what makes the whole file unusable (unknown or
    missing columns, a JSON line that is not an object)."""
    suffix = Path(name).suffix.lower()
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if suffix in (".jsonl", ".ndjson", ".json") or (suffix not in (".csv", ".tsv", ".tab")
                                                     and first.lstrip().startswith("{")):
        rows = _json_lines(text, name)
    else:
        delimiter = "\t" if suffix in (".tsv", ".tab") or (suffix != ".csv" and "\t" in first) else ","
        rows = _delimited(text, name, delimiter)
    for number, row in rows:
        unknown = [key for key in row if key not in COLUMNS and key != "_extra"]
        if unknown:
            raise RegistryError(f"{name}:{number}: unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})")
    return rows


def _delimited(text: str, name: str, delimiter: str) -> list[tuple[int, dict]]:
    # one record per line (portal rows hold no line breaks), so every row keeps its line number
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise RegistryError(f"{name}: no header line (columns: {', '.join(COLUMNS)})")
    (header_line, header_text), body = lines[0], lines[1:]
    header = [h.strip() for h in next(csv.reader([header_text], delimiter=delimiter))]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise RegistryError(f"{name}:{header_line}: unknown column {unknown[0]!r} "
                            f"(columns: {', '.join(COLUMNS)})")
    if not ({"adcode", "region"} & set(header) and {"home", "start_urls"} & set(header)):
        raise RegistryError(f"{name}:{header_line}: needs an adcode or region column and a home or "
                            "start_urls column")
    rows = []
    for number, line in body:
        cells = [c.strip() for c in next(csv.reader([line], delimiter=delimiter))]
        values = dict(zip(header, cells))
        if len(cells) > len(header) and any(cells[len(header):]):
            values["_extra"] = cells[len(header):]
        rows.append((number, values))
    return rows


def _json_lines(text: str, name: str) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise RegistryError(f"{name}:{number}: not a JSON object: {exc}") from None
        if not isinstance(row, dict):
            raise RegistryError(f"{name}:{number}: not a JSON object")
        rows.append((number, row))
    return rows


def builtin_rows(name: str) -> tuple[str, list[tuple[int, dict]]]:
    """(origin, rows) of a starter registry shipped with govwatch (`BUILTIN`)."""
    if name not in BUILTIN:
        raise RegistryError(f"no builtin registry {name!r} (have: {', '.join(BUILTIN)})")
    data = resources.files("crawler").joinpath("data", BUILTIN[name]).read_text(encoding="utf-8")
    return f"builtin:{name}", read_rows(data, BUILTIN[name])


# ---------------------------------------------------------------------------------------------------------
# one row


def _urls(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return str(value).split()


def _text(row: dict, key: str) -> str | None:
    value = row.get(key)
    if value is None or isinstance(value, (list, dict)):
        return None if value is None else json.dumps(value, ensure_ascii=False)
    value = str(value).strip()
    return value or None


def portal_from_row(row: dict, where: str) -> Portal:
    """A validated Portal for one imported row; ValueError (or ConfigError) with a one-line reason."""
    if row.get("_extra"):
        raise ValueError(f"more cells than columns ({len(row['_extra'])} extra)")
    place = resolve_division(adcode=_text(row, "adcode"), region=_text(row, "region"))
    home = _text(row, "home")
    start_urls = _urls(row.get("start_urls"))
    if not home and not start_urls:
        raise ValueError("needs a home page (home) or column list pages (start_urls)")
    table = {"id": _text(row, "id") or place.code, "name": _text(row, "name") or f"{place.name}人民政府",
             "region": place.full_name, "adcode": place.code}
    if home:
        table["home"] = home
    if start_urls:
        table["start_urls"] = start_urls
    for key in ("cms", "schedule"):
        if _text(row, key):
            table[key] = _text(row, key)
    return portal_from_table(table, where)


def _url_key(url: str) -> str:
    """Duplicate key of a URL: canonical, scheme ignored (http and https of one home page are one portal)."""
    return canonicalize(url).split("://", 1)[-1]


def _keys(portal: Portal) -> list[str]:
    return [_url_key(u) for u in ([portal.home] if portal.home else []) + list(portal.start_urls)]


# ---------------------------------------------------------------------------------------------------------
# the import


def import_portals(db, rows: list[tuple[int, dict]], *, config: Config | None = None, source: str = "<rows>",
                   origin: str | None = None, discover: DiscoverColumns | None = None,
                   on_result=None, on_discovery=None) -> ImportReport:
    """Import `rows` (from `read_rows` or `builtin_rows`) into the registry; see the module docstring.

    `discover` runs column discovery for the home-page-only rows in one batch (None: register them with
    their home page, the crawl discovers). `on_result(RowResult)` is called for every row as it is decided
    (rejections and direct adds first, discovery outcomes as they come); `on_discovery(n)` once before the
    batch of `n` home pages starts."""
    report = ImportReport(source)
    origin = origin or source
    lock = threading.Lock()

    def decided(result: RowResult) -> None:
        with lock:
            report.results.append(result)
        if on_result is not None:
            on_result(result)

    registered = {e.portal.id: e for e in entries(db, config)}
    url_owner = {key: e.portal.id for e in registered.values() for key in _keys(e.portal)}
    seen_ids: dict[str, int] = {}
    direct: list[tuple[int, Portal, str | None]] = []
    to_discover: dict[str, tuple[int, Portal, str | None]] = {}
    for line, row in rows:
        where = f"{source}:{line}"
        try:
            portal = portal_from_row(row, where)
        except (ValueError, ConfigError) as exc:
            message = str(exc)
            decided(RowResult(line, "rejected", message.removeprefix(f"{where}: ")))
            continue
        evidence = " ".join(_urls(row.get("evidence"))) or None
        known = registered.get(portal.id)
        if known is not None:
            if known.source == "registry" and _same_target(known.portal, portal):
                decided(RowResult(line, "unchanged", "already registered", known.portal))
            else:
                decided(RowResult(line, "rejected", f"duplicate: id {portal.id} is already registered "
                                  f"({known.source}: {known.origin or '?'})", portal))
            continue
        if portal.id in seen_ids:
            decided(RowResult(line, "rejected", f"duplicate of line {seen_ids[portal.id]} (id {portal.id})",
                              portal))
            continue
        owner = next((url_owner[k] for k in _keys(portal) if k in url_owner), None)
        if owner is not None:
            earlier = f"line {seen_ids[owner]}" if owner in seen_ids else f"portal {owner}"
            decided(RowResult(line, "rejected", f"duplicate: its URL is already used by {earlier}", portal))
            continue
        seen_ids[portal.id] = line
        url_owner.update(dict.fromkeys(_keys(portal), portal.id))
        if portal.start_urls or discover is None:
            direct.append((line, portal, evidence))
        else:
            to_discover[portal.id] = (line, portal, evidence)

    if direct:
        add_portals(db, [(p, f"{origin}:{line}", ev) for line, p, ev in direct])
        for line, portal, _ in direct:
            detail = "" if portal.start_urls else "home page only; the crawl discovers the column"
            decided(RowResult(line, "added", detail, portal))

    if to_discover:
        write = threading.Lock()

        def on_outcome(portal_id: str, outcome: DiscoveryOutcome) -> None:
            with write:
                if portal_id not in to_discover:
                    return  # reported twice, or not ours
                line, portal, evidence = to_discover.pop(portal_id)
                decided(_register_discovered(db, line, portal, evidence, outcome,
                                             f"{origin}:{line}"))

        if on_discovery is not None:
            on_discovery(len(to_discover))
        outcomes = discover([(pid, p.home) for pid, (_, p, _) in to_discover.items()], on_outcome=on_outcome)
        for portal_id, outcome in (outcomes or {}).items():
            on_outcome(portal_id, outcome)
        for portal_id in list(to_discover):  # the batch said nothing about these
            on_outcome(portal_id, DiscoveryOutcome("unreachable", reason="discovery returned no outcome"))
    report.results.sort(key=lambda r: r.line)
    return report


def _same_target(known: Portal, new: Portal) -> bool:
    """The row names the portal already registered: same region and the same home page or columns."""
    return known.adcode == new.adcode and bool(set(_keys(known)) & set(_keys(new)))


def _register_discovered(db, line: int, portal: Portal, evidence: str | None, outcome: DiscoveryOutcome,
                         origin: str) -> RowResult:
    kind = _DISCOVERY_OUTCOME[outcome.status]
    if kind == "column_found" and outcome.columns:
        portal = replace(portal, start_urls=tuple(outcome.columns))
        score = f"score {outcome.score:g}: " if outcome.score is not None else ""
        detail = score + " ".join(outcome.columns)
        add_portals(db, [(portal, origin, evidence)])
        return RowResult(line, "column_found", detail, portal)
    if kind == "column_found":
        kind = "no_column"
    reason = outcome.reason or {"no_column": "no 法治政府建设 column on the home page or below"}.get(kind, "")
    status = ("blocked" if kind == "blocked" else "error", f"discovery: {reason}" if reason else "discovery failed")
    add_portals(db, [(portal, origin, evidence)], status={portal.id: status})
    return RowResult(line, kind, reason + "; registered with its home page", portal)
