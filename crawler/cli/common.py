"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
import sys

import click

from crawler.config import DEFAULT_CONFIG, ConfigError, load_config
from storage import DEFAULT_DB, DatabaseError, connect

config_option = click.option(
    "--config", "config_path", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(dir_okay=False), help="govwatch TOML configuration file.",
)
db_option = click.option(
    "--db", "db_path", default=DEFAULT_DB, show_default=True,
    type=click.Path(dir_okay=False), help="SQLite database file.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON Lines instead of a table.")


def open_config(path: str):
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def open_db(path: str):
    try:
        return connect(path)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None


def print_jsonl(rows) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def print_table(rows: list[dict], columns: list[str]) -> None:
    """A plain aligned table; wide Chinese characters count double so columns line up in a terminal."""
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(_width(c), *(_width(row[i]) for row in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(_pad(c, w) for c, w in zip(columns, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(_pad(v, w) for v, w in zip(row, widths)).rstrip())


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
