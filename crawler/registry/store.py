"""The `portals` table as the registry: reading the portal set, syncing the TOML entries into it, adding and
removing rows.

Each row has a `source`:

* ``config`` -- a `[[portal]]` entry of govwatch.toml, written by `sync_config` (every crawl, the daemon and
  the `portals` commands call it). The file is the authority for these rows: an entry edited there is
  updated here, an entry removed there is marked removed here (`removed_at`; the row, its crawl history and
  its documents stay). `govwatch portals remove` refuses them: the next sync would bring them back.
* ``registry`` -- written by `govwatch portals add|import`; the TOML sync never touches them, `portals remove`
  marks them removed.

Conflict: a TOML entry whose id is a registry row wins (the file is the hand-written, versioned statement of
intent, e.g. a pinned column for one imported portal). Its registry definition is kept in
`registry_definition` and restored when the entry leaves the file. Read-only callers (`status`, `coverage`)
use `load_portals(db, config)`, which applies the same rules in memory without writing, so every command sees
the same set whether or not a sync ran since the file changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

from crawler.config import Config, Portal
from storage import now_iso, transaction

# the columns that define a portal (the rest is crawl state, bookkeeping or provenance)
DEFINITION = ("name", "home", "start_urls", "cms", "region", "adcode", "schedule", "allowed_hosts")
_KNOWN_SHOWN = 10


class RegistryError(ValueError):
    """A registry operation is not possible; the message names the portal, file or row, in one line."""


@dataclass(frozen=True)
class Entry:
    """One portal of the effective set, with where it comes from."""

    portal: Portal
    source: str  # config | registry
    origin: str | None = None  # config file, "FILE:LINE" of an import, "builtin:NAME", "portals add"
    evidence: str | None = None  # public page(s) that show the portal's address
    overrides_registry: bool = False  # a TOML entry shadowing a registry row of the same id
    row: dict | None = None  # its table row (None: a TOML entry not synced yet)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)  # registry rows a TOML entry now overrides
    restored: list[str] = field(default_factory=list)  # registry rows whose overriding entry left the file
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.added, self.updated, self.overridden, self.restored, self.removed))


# ---------------------------------------------------------------------------------------------------------
# rows <-> portals


def definition(portal: Portal) -> dict:
    """The table columns that define `portal` (lists as JSON)."""
    return {
        "name": portal.name or "", "home": portal.home, "start_urls": json.dumps(list(portal.start_urls)),
        "cms": portal.cms or "auto", "region": portal.region, "adcode": portal.adcode,
        "schedule": portal.schedule, "allowed_hosts": json.dumps(list(portal.allowed_hosts)),
    }


def portal_of(portal_id: str, columns: dict) -> Portal:
    return Portal(
        id=portal_id, name=columns.get("name") or "", start_urls=tuple(_json_list(columns.get("start_urls"))),
        home=columns.get("home") or None, cms=columns.get("cms") or "auto", region=columns.get("region") or None,
        adcode=columns.get("adcode") or None, schedule=columns.get("schedule") or None,
        allowed_hosts=tuple(_json_list(columns.get("allowed_hosts"))),
    )


def _json_list(value) -> list[str]:
    if not value or value == "[]":
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    return [str(v) for v in items] if isinstance(items, list) else []


def _same_definition(row: dict, wanted: dict) -> bool:
    return portal_of("_", row) == portal_of("_", wanted)


def _registry_version(row: dict) -> dict | None:
    """The registry's own definition of a row (plus origin/evidence), or None when it has none."""
    if row["source"] == "registry":
        return None if row["removed_at"] else row
    if row.get("registry_definition"):
        try:
            return json.loads(row["registry_definition"])
        except ValueError:
            return None
    return None


def _config_origin(config: Config) -> str:
    return str(config.path) if config.path else "config"


# ---------------------------------------------------------------------------------------------------------
# reading


def entries(db, config: Config | None = None) -> list[Entry]:
    """The effective portal set with provenance: TOML entries (in file order) over registry rows (by id).

    With `config=None` the TOML part is the table's last synced state (for callers without a config file,
    such as a dashboard)."""
    rows = {r["id"]: r for r in db.query("SELECT * FROM portals")}
    registry: dict[str, Entry] = {}
    for pid in sorted(rows):
        version = _registry_version(rows[pid])
        if version is not None:
            registry[pid] = Entry(portal_of(pid, version), "registry", version.get("origin"),
                                  version.get("evidence"), row=rows[pid])
    configured: list[Entry] = []
    if config is None:
        for pid in sorted(rows):
            row = rows[pid]
            if row["source"] == "config" and not row["removed_at"]:
                configured.append(Entry(portal_of(pid, row), "config", row["origin"], row["evidence"],
                                        overrides_registry=pid in registry, row=row))
    else:
        origin = _config_origin(config)
        for portal in config.portals:
            configured.append(Entry(portal, "config", origin, None, overrides_registry=portal.id in registry,
                                    row=rows.get(portal.id)))
    ids = {e.portal.id for e in configured}
    return configured + [e for pid, e in registry.items() if pid not in ids]


def load_portals(db, config: Config | None = None) -> list[Portal]:
    """Every portal govwatch watches (see `entries`), as `crawler.config.Portal` objects."""
    return [e.portal for e in entries(db, config)]


def select_portals(db, config: Config | None, portal_ids=None) -> list[Portal]:
    """The portals named by `portal_ids` (all when empty), in the registry's order; unknown ids raise."""
    portals = load_portals(db, config)
    if not portal_ids:
        return portals
    by_id = {p.id: p for p in portals}
    unknown = [pid for pid in portal_ids if pid not in by_id]
    if unknown:
        known = sorted(by_id)
        shown = ", ".join(known[:_KNOWN_SHOWN]) + (f", ... ({len(known)} in all)" if len(known) > _KNOWN_SHOWN
                                                   else "")
        raise RegistryError(f"no portal with id {unknown[0]!r} (known: {shown or 'none'}; "
                            "see `govwatch portals list`)")
    return [by_id[pid] for pid in dict.fromkeys(portal_ids)]


def with_registry(db, config: Config) -> Config:
    """`config` with `.portals` replaced by the registry's set, for code that takes a Config (the spider,
    the daemon's job sync): `config.select(ids)` and `config.portal(id)` then see registry portals too."""
    return replace(config, portals=tuple(load_portals(db, config)))


def registry_stamp(db) -> str:
    """Changes whenever the portal set or a definition changes (not on crawls): a daemon compares stamps to
    know when to re-read the registry. A hash of the definition columns (a few ms for 3,000 rows)."""
    digest = hashlib.sha1()
    columns = ", ".join(("id", "source", *DEFINITION, "removed_at", "registry_definition"))
    for row in db.conn.execute(f"SELECT {columns} FROM portals ORDER BY id"):
        digest.update(json.dumps(row, ensure_ascii=False, default=str).encode("utf-8"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------------
# writing


def sync_config(db, config: Config) -> SyncReport:
    """Write the TOML entries of `config` into the table (one transaction; only what differs is written)."""
    report = SyncReport()
    origin = _config_origin(config)
    with transaction(db):
        rows = {r["id"]: r for r in db.query("SELECT * FROM portals")}
        now = now_iso()
        wanted = {p.id for p in config.portals}
        for portal in config.portals:
            columns = definition(portal)
            row = rows.get(portal.id)
            stamp = {"defined_at": now, "updated_at": now}
            if row is None:
                db["portals"].insert({"id": portal.id, **columns, "source": "config", "origin": origin,
                                      "status": "never", "baseline_done": 0, **stamp})
                report.added.append(portal.id)
            elif row["source"] == "registry" and not row["removed_at"]:
                saved = {key: row[key] for key in (*DEFINITION, "origin", "evidence")}
                db["portals"].update(portal.id, {**columns, "source": "config", "origin": origin,
                                                 "registry_definition": json.dumps(saved, ensure_ascii=False),
                                                 **stamp})
                report.overridden.append(portal.id)
            elif row["source"] == "registry" or row["removed_at"]:
                db["portals"].update(portal.id, {**columns, "source": "config", "origin": origin,
                                                 "registry_definition": None, "removed_at": None, **stamp})
                report.added.append(portal.id)
            elif not _same_definition(row, columns) or row["origin"] != origin:
                db["portals"].update(portal.id, {**columns, "origin": origin, **stamp})
                report.updated.append(portal.id)
        for pid, row in rows.items():
            if row["source"] != "config" or row["removed_at"] or pid in wanted:
                continue
            saved = _registry_version(row)
            if saved is not None:
                db["portals"].update(pid, {**{key: saved.get(key) for key in DEFINITION}, "source": "registry",
                                           "origin": saved.get("origin"), "evidence": saved.get("evidence"),
                                           "registry_definition": None, "defined_at": now, "updated_at": now})
                report.restored.append(pid)
            else:
                db["portals"].update(pid, {"removed_at": now, "defined_at": now, "updated_at": now})
                report.removed.append(pid)
    return report


def add_portals(db, items: list[tuple[Portal, str | None, str | None]], *, status: dict | None = None) -> None:
    """Register `(portal, origin, evidence)` items as registry rows, in one transaction. An id may reuse a
    removed row (its crawl history stays); an id that is in use raises RegistryError and nothing is written.
    `status` optionally maps ids to `(status, reason)` observed while adding (discovery found the home page
    blocked or failing), so `status` and `coverage` show it before the first crawl."""
    status = status or {}
    with transaction(db):
        rows = {r["id"]: r for r in db.query("SELECT * FROM portals")}
        now = now_iso()
        inserts: list[dict] = []
        batch: set[str] = set()
        for portal, origin, evidence in items:
            row = rows.get(portal.id)
            if portal.id in batch:
                raise RegistryError(f"portal id {portal.id!r} is given twice")
            batch.add(portal.id)
            if row is not None and not row["removed_at"]:
                raise RegistryError(f"portal id {portal.id!r} is already registered "
                                    f"({row['source']}: {row['origin'] or '?'})")
            values = {**definition(portal), "source": "registry", "origin": origin, "evidence": evidence,
                      "registry_definition": None, "removed_at": None, "defined_at": now, "updated_at": now}
            observed = status.get(portal.id)
            if observed:
                values["status"], values["reason"] = observed
            if row is None:
                inserts.append({"id": portal.id, "status": "never", "baseline_done": 0, "reason": None, **values})
            else:
                db["portals"].update(portal.id, values)
        if inserts:
            db["portals"].insert_all(inserts, batch_size=500)


def remove_portals(db, portal_ids: list[str], config: Config | None = None) -> list[str]:
    """Mark registry portals removed (their rows, crawl history and documents stay). All or nothing: an
    unknown id, or one the TOML file defines, raises RegistryError and nothing is removed."""
    by_id = {e.portal.id: e for e in entries(db, config)}
    for pid in portal_ids:
        entry = by_id.get(pid)
        if entry is None:
            raise RegistryError(f"no portal with id {pid!r} (see `govwatch portals list`)")
        if entry.source == "config":
            raise RegistryError(f"portal {pid!r} is defined in {entry.origin or 'the config file'}: remove its "
                                "[[portal]] entry there (the next sync would bring it back)")
    now = now_iso()
    with transaction(db):
        for pid in dict.fromkeys(portal_ids):
            db["portals"].update(pid, {"removed_at": now, "defined_at": now, "updated_at": now})
    return list(dict.fromkeys(portal_ids))
