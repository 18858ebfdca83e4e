"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from crawler.config import DEFAULT_CONFIG, ConfigError, load_config
from storage import DEFAULT_DB, DatabaseError, connect, sqlite3
from storage.schema import migrations

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
    """The database at `path` for a command that writes (created when missing, schema migrated); refuses
    another application's SQLite file before writing anything to it."""
    if Path(path).is_file() and Path(path).stat().st_size:
        db = _probe(path)
        try:
            if _tables(db, path):
                _check_govwatch(db, path)
        finally:
            db.close()
    return _connect(path)


def open_db_read_only(path: str):
    """The database at `path` for a command that only reads: opened with SQLite's read-only mode, so
    nothing is created or written. A missing path, a file that is not SQLite and a database that is not
    govwatch's are refused with one line. A govwatch database written by an older version is first brought
    up to date (its own migrations, as any govwatch command would), because the queries need the schema."""
    target = Path(path)
    if target.is_dir():
        raise click.ClickException(f"{path} is a directory, not a database file (pass --db FILE)")
    if not target.exists():
        raise click.ClickException(f"no database at {path} (run `govwatch crawl` first)")
    db = _probe(path)
    try:
        if not _tables(db, path):
            raise click.ClickException(f"{path} is an empty database, not govwatch's (run `govwatch crawl` "
                                       "first)")
        _check_govwatch(db, path)
        if not migrations.pending(db):
            return db
    except BaseException:
        db.close()
        raise
    db.close()
    _connect(path).close()  # the upgrade: govwatch's own migrations
    return _probe(path)


def _connect(path: str):
    try:
        return connect(path)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None


def _probe(path: str):
    try:
        return connect(path, read_only=True)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None


def _tables(db, path: str) -> list[str]:
    try:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        raise click.ClickException(f"{path} is not a SQLite database ({exc})") from None


def _check_govwatch(db, path: str) -> None:
    """A govwatch database records its migrations in sqlite-utils' `_sqlite_migrations` under the set name
    'govwatch'; anything else is another application's file."""
    if not migrations.applied(db):
        tables = _tables(db, path)
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise click.ClickException(f"{path} is not a govwatch database (no govwatch schema in "
                                   f"{migrations.migrations_table}; its tables: {shown}): pass --db with a "
                                   "govwatch database file")


def print_jsonl(rows) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


TABLE_WIDTH = 120  # columns a table fits when stdout is not a terminal (or the terminal says nothing)
MIN_CELL = 8  # a shortened column keeps at least this many columns (or its heading's width)


def _set_wide(ctx: click.Context, param, value: bool) -> None:
    if value:
        ctx.meta["govwatch.wide"] = True


# A flag for the command's context rather than a parameter, so any table command takes it with one line
wide_option = click.option("--wide", is_flag=True, expose_value=False, callback=_set_wide,
                           help=f"Print every cell whole (tables otherwise fit the terminal, {TABLE_WIDTH} "
                                "columns when it is not one, shortening long cells with …).")


def table_width() -> int | None:
    """The width tables must fit, or None with --wide."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("govwatch.wide"):
        return None
    if sys.stdout.isatty():
        return shutil.get_terminal_size((TABLE_WIDTH, 24)).columns
    return TABLE_WIDTH


def print_table(rows: list[dict], columns: list[str], *, shrink: tuple[str, ...] = ()) -> None:
    """A plain aligned table; wide Chinese characters count double so columns line up in a terminal.

    The table fits `table_width()`: the columns named in `shrink` (else the widest ones) are shortened, their
    cells cut with …, until it does; --wide prints every cell whole."""
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(_width(c), *(_width(row[i]) for row in cells)) for i, c in enumerate(columns)]
    limit = table_width()
    if limit is not None:
        widths = fit_widths(widths, [_width(c) for c in columns], limit,
                            [columns.index(c) for c in shrink if c in columns])
    click.echo("  ".join(_pad(c, w) for c, w in zip(columns, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(_pad(_cut(v, w), w) for v, w in zip(row, widths)).rstrip())


def fit_widths(widths: list[int], headings: list[int], limit: int, shrink: list[int]) -> list[int]:
    """Column widths whose table (two spaces between columns) fits `limit`: the `shrink` columns first, then
    any, are lowered to a common level, never below MIN_CELL or their heading."""
    widths = list(widths)
    for candidates in (shrink, list(range(len(widths)))):
        over = sum(widths) + 2 * (len(widths) - 1) - limit
        floors = {i: max(MIN_CELL, headings[i]) for i in candidates}
        while over > 0:
            movable = [i for i in candidates if widths[i] > floors[i]]
            if not movable:
                break
            top = max(widths[i] for i in movable)
            widest = [i for i in movable if widths[i] == top]
            below = max([widths[i] for i in movable if widths[i] < top] + [max(floors[i] for i in widest)])
            step = min(top - below, -(-over // len(widest))) or 1
            for i in widest:
                cut = min(step, widths[i] - floors[i], over)
                widths[i] -= cut
                over -= cut
    return widths


def _cell(value) -> str:
    return "" if value is None else " ".join(str(value).split("\n"))


def _cut(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        if used + _width(ch) > width - 1:
            break
        out.append(ch)
        used += _width(ch)
    return "".join(out) + "…"


def print_steps(steps: list[tuple[str, str]], width: int = 56) -> None:
    """Commands to try next, each with `# why` beside it, aligned (wide characters count double)."""
    for command, why in steps:
        click.echo(f"  {_pad(command, max(width, _width(command)))} # {why}")


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
