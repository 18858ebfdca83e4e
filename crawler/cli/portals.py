"""`govwatch portals list|add|remove|export|import`: the portal registry (crawler.registry).

The commands work with or without a govwatch.toml: when the default config file is absent, the registry
alone is used (an explicitly given `--config` that is missing is an error). Commands that write first sync
the file's `[[portal]]` entries into the registry, as every crawl does.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click
from click.core import ParameterSource

from crawler.cli.common import config_option, db_option, json_option, open_config, open_db, print_jsonl, print_table
from crawler.config import CMS_FAMILIES, Config

EXIT_SOME_FAILED = 4  # as `govwatch crawl`: some rows were rejected or their home page could not be used


def register(main: click.Group) -> None:
    main.add_command(portals)


def registry_config(config_path: str) -> Config:
    """The config, or an empty one when the default file is absent (a registry-only setup)."""
    ctx = click.get_current_context()
    if not Path(config_path).exists() and ctx.get_parameter_source("config_path") == ParameterSource.DEFAULT:
        return Config()
    return open_config(config_path)


def _synced(db, config: Config) -> None:
    from crawler.registry import sync_config

    sync_config(db, config)


def _discoverer(config: Config, workers: int):
    from crawler.crawl.bulk_discover import discover_columns

    return partial(discover_columns, settings=config.crawl, workers=workers)


@click.group()
def portals() -> None:
    """The portal registry: list, add, remove, export, import (CSV/TSV/JSON Lines, or a builtin set)."""


@portals.command("list")
@config_option
@db_option
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV in the import's columns (as `portals export`).")
@click.option("--source", type=click.Choice(["config", "registry"]), default=None,
              help="Only portals from govwatch.toml (config) or from portals add/import (registry).")
@click.option("--province", default=None, metavar="CODE", help="Only portals of a province (adcode, e.g. 340000).")
def list_command(config_path: str, db_path: str, as_json: bool, as_csv: bool, source: str | None,
                 province: str | None) -> None:
    """One line per portal: id, region, where it comes from, crawl status and what is crawled."""
    from crawler.registry import export_portals, list_portals

    config = registry_config(config_path)
    db = open_db(db_path)
    if as_csv:
        sys.stdout.write(export_portals(db, config, "csv", source=source))
        return
    rows = list_portals(db, config, source=source, province=province)
    if as_json:
        print_jsonl(rows)
        return
    table = [dict(r, crawls=(r["columns"][0] + (f" (+{len(r['columns']) - 1})" if len(r["columns"]) > 1 else "")
                             if r["columns"] else f"{r['home']} (discovers)")) for r in rows]
    print_table(table, ["id", "name", "region", "adcode", "source", "status", "crawls"])
    if rows:
        click.echo(f"{len(rows)} portal{'s' if len(rows) != 1 else ''}", err=True)


@portals.command("add")
@config_option
@db_option
@click.option("--id", "portal_id", default=None, help="Portal id (default: the region's adcode).")
@click.option("--adcode", default=None, help="The region's 6-digit GB/T 2260 code.")
@click.option("--region", default=None, help="The region's name (镜湖区, 芜湖市镜湖区, 安徽省 ...).")
@click.option("--home", default=None, help="The portal's home page (its column is discovered).")
@click.option("--start-url", "start_urls", multiple=True, help="A column list page (repeatable).")
@click.option("--name", default=None, help="Display name (default: <region>人民政府).")
@click.option("--cms", type=click.Choice(CMS_FAMILIES), default=None, help="CMS family (default: detect).")
@click.option("--schedule", default=None, help="Crawl schedule: '6h', '30m' or a 5-field cron expression.")
@click.option("--evidence", default=None, help="A public page that shows the portal's address.")
@click.option("--no-discover", is_flag=True, help="Register a home page as it is; the crawl discovers the column.")
def add_command(config_path: str, db_path: str, portal_id: str | None, adcode: str | None, region: str | None,
                home: str | None, start_urls: tuple[str, ...], name: str | None, cms: str | None,
                schedule: str | None, evidence: str | None, no_discover: bool) -> None:
    """Register one portal (the same checks and column discovery as one row of `portals import`)."""
    if not adcode and not region:
        raise click.UsageError("give --adcode or --region")
    if not home and not start_urls:
        raise click.UsageError("give --home or --start-url")
    row = {"id": portal_id, "adcode": adcode, "region": region, "home": home, "start_urls": list(start_urls),
           "name": name, "cms": cms, "schedule": schedule, "evidence": evidence}
    _run_import(config_path, db_path, [(1, {k: v for k, v in row.items() if v})], "portals add",
                "portals add", no_discover, workers=1, one_row=True)


@portals.command("remove")
@config_option
@db_option
@click.argument("portal_ids", nargs=-1, required=True)
def remove_command(config_path: str, db_path: str, portal_ids: tuple[str, ...]) -> None:
    """Remove registry portals (their crawl history and documents stay). Portals defined in govwatch.toml
    are removed by deleting their [[portal]] entry."""
    from crawler.registry import RegistryError, remove_portals

    config = registry_config(config_path)
    db = open_db(db_path)
    _synced(db, config)
    try:
        removed = remove_portals(db, list(portal_ids), config)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    for pid in removed:
        click.echo(f"removed {pid}")


@portals.command("export")
@config_option
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "toml"]), default="csv", show_default=True,
              help="csv / jsonl in the import's columns (re-importable), or toml [[portal]] entries.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Output file (default: stdout).")
@click.option("--source", type=click.Choice(["config", "registry"]), default=None,
              help="Only portals from govwatch.toml (config) or from portals add/import (registry).")
def export_command(config_path: str, db_path: str, fmt: str, out: str | None, source: str | None) -> None:
    """Write the registry in a form `portals import` (or govwatch.toml) reads back."""
    from crawler.registry import export_portals

    from crawler.registry.export import export_rows

    db, config = open_db(db_path), registry_config(config_path)
    text = export_portals(db, config, fmt, source=source)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    count = len(export_rows(db, config, source=source))
    click.echo(f"exported {count} portal{'s' if count != 1 else ''} to {out} ({fmt})", err=True)


@portals.command("import")
@config_option
@db_option
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--builtin", "builtin", default=None, metavar="NAME",
              help="Import a starter registry shipped with govwatch: provinces (the 31 provincial governments).")
@click.option("--no-discover", is_flag=True, help="Register home pages as they are; the crawl discovers columns.")
@click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Home pages visited at once during discovery (each host is still visited politely).")
def import_command(config_path: str, db_path: str, path: str | None, builtin: str | None, no_discover: bool,
                   workers: int) -> None:
    """Register portals in bulk from a CSV, TSV or JSON Lines FILE (columns: adcode or region, home or
    start_urls, optional name, cms, schedule, id, evidence).

    One line per row (added / column found / no column found / unreachable / blocked / unchanged / rejected)
    and a summary. Rows with only a home page get column discovery, all in one batch. Exit 0 when every row
    is registered with a column, 4 when some rows were rejected or their home page could not be used."""
    from crawler.registry import RegistryError, builtin_rows, read_rows

    if bool(path) == bool(builtin):
        raise click.UsageError("give a FILE or --builtin NAME (not both)")
    try:
        if builtin:
            origin, rows = builtin_rows(builtin)
            source = f"builtin {builtin}"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise click.ClickException(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
            rows, origin, source = read_rows(text, path), path, path
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    _run_import(config_path, db_path, rows, source, origin, no_discover, workers=workers)


def _run_import(config_path: str, db_path: str, rows, source: str, origin: str, no_discover: bool, *,
                workers: int, one_row: bool = False) -> None:
    from crawler.registry import import_portals

    config = registry_config(config_path)
    db = open_db(db_path)
    _synced(db, config)
    def show(result) -> None:
        click.echo(result.describe(line=not one_row))

    def starting(count: int) -> None:
        click.echo(f"discovering the column of {count} home page{'s' if count != 1 else ''} "
                   f"({min(workers, count)} at a time)...", err=True)

    report = import_portals(db, rows, config=config, source=source, origin=origin,
                            discover=None if no_discover else _discoverer(config, workers), on_result=show,
                            on_discovery=starting)
    if not one_row:
        click.echo(report.summary())
    if not report.ok:
        sys.exit(EXIT_SOME_FAILED)
