"""The portal registry: the one source of truth for which portals govwatch watches.

The database's `portals` table holds every portal, whether written by `govwatch portals add|import` (`source =
'registry'`) or synced from the `[[portal]]` entries of govwatch.toml (`source = 'config'`). Every command gets
its portal set from here, as the same `crawler.config.Portal` objects the spider crawls:

    load_portals(db, config)              -> [Portal, ...]   config entries first (file order), then by id
    select_portals(db, config, ["340000"]) -> the named ones (unknown ids raise RegistryError)
    with_registry(db, config)             -> a Config whose `.portals` is that set
    sync_config(db, config)               -> writes the TOML entries into the table (crawl, watch, portals)
    import_portals(db, rows, discover=...) -> bulk import (crawler.registry.bulk)
    list_portals(db, config), export_portals(db, config, "csv"), remove_portals(db, ids, config)

Why the database and not the TOML file: at national scale the registry is ~3,200 rows written by commands
(import, add, remove), read by every process (crawl batches, the daemon, status, coverage, a dashboard), and
changed while the daemon runs; a table gives transactions and one reader API, where rewriting a hand-written
TOML file safely (atomically, keeping its comments) for every import would be fragile. The TOML file stays the
place for small hand-written setups and overrides: what it says wins for its ids (see `store`).

Base layer: may import `crawler.config`, `crawler.extract`, `crawler.urls` and `storage`; never a stage
(`crawler.crawl`, `corpus`, `monitor`) or the CLI. Column discovery for imports is injected as a function
(`crawler.registry.discovery.DiscoverColumns`), implemented in the crawl stage.
"""

from crawler.registry.bulk import BUILTIN, ImportReport, RowResult, builtin_rows, import_portals, read_rows
from crawler.registry.discovery import DiscoverColumns, DiscoveryOutcome
from crawler.registry.export import export_portals, list_portals
from crawler.registry.places import find_divisions, resolve_division
from crawler.registry.store import (
    Entry, RegistryError, SyncReport, add_portals, entries, load_portals, registry_stamp,
    remove_portals, select_portals, sync_config, with_registry,
)

__all__ = [
    "BUILTIN", "DiscoverColumns", "DiscoveryOutcome", "Entry", "ImportReport", "RegistryError", "RowResult",
    "SyncReport", "add_portals", "builtin_rows", "entries", "export_portals", "find_divisions", "import_portals",
    "list_portals", "load_portals", "read_rows", "registry_stamp", "remove_portals", "resolve_division", "select_portals",
    "sync_config", "with_registry",
]
