"""`govwatch reextract` and `govwatch import`: the commands over the archive of raw pages.

`reextract` is a thin layer over `crawler.corpus.reextract.reextract`, `import` over
`crawler.corpus.imports.import_paths` (`import` is a Python keyword).
"""

from __future__ import annotations

import logging
import re
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from crawler.cli.common import db_option, json_option, open_config, open_db, print_jsonl
from crawler.config import DEFAULT_CONFIG, ArchiveSettings, Config

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

optional_config_option = click.option(
    "--config", "config_path", default=None, type=click.Path(dir_okay=False),
    help=f"govwatch TOML configuration file ([archive], [alerts], [dedupe]); default {DEFAULT_CONFIG} when it "
         "exists, else the defaults.",
)


def register(main: click.Group) -> None:
    main.add_command(reextract_command)
    main.add_command(import_command)


def _config(path: str | None) -> Config:
    if path is None and not Path(DEFAULT_CONFIG).exists():
        return Config()
    return open_config(path or DEFAULT_CONFIG)


def _progress(length: int, label: str):
    """A click progress bar on stderr when it is a terminal (else nothing), and its update function."""
    if not sys.stderr.isatty() or length <= 0:
        return nullcontext(None)
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=False, show_percent=True)


def _updater(bar):
    if bar is None:
        return None
    done = {"n": 0}

    def update(n: int) -> None:
        if n > done["n"]:
            bar.update(n - done["n"])
            done["n"] = n
    return update


@click.command("reextract")
@optional_config_option
@db_option
@click.option("--portal", default=None, metavar="ID", help="Only documents of this portal (e.g. import:saved).")
@click.option("--since", default=None, metavar="DATE", help="Only pages archived on or after DATE (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Change nothing: print what would change.")
@json_option
def reextract_command(config_path: str | None, db_path: str, portal: str | None, since: str | None,
                      dry_run: bool, as_json: bool) -> None:
    """Extract the archived pages again and update their documents in place (dedupe, the search index and
    coverage follow). A report found this way is listed as a `reclassified` alert, sent only with
    `[alerts] alert_on_reclassified = true`.

    Exit status 1 when some archived page could not be read or extracted.
    """
    from crawler.corpus.reextract import count_archived, reextract
    from crawler.monitor.alerts import AlertPolicy

    if since is not None and not _DATE.match(since):
        raise click.ClickException(f"--since {since!r}: expected a date YYYY-MM-DD")
    config = _config(config_path)
    # pointers are relative to the archive directory; with the archive off now, read where it was by default
    archive_dir = config.archive.directory(db_path) or ArchiveSettings().directory(db_path)
    db = open_db(db_path)
    total = count_archived(db, portal=portal, since=since)
    with _progress(total, "re-extracting") as bar:
        summary = reextract(db, archive_dir, portal=portal, since=since, dry_run=dry_run,
                            policy=AlertPolicy.from_settings(config.alerts), dedupe_threshold=config.dedupe.threshold,
                            progress=_updater(bar))
    if as_json:
        print_jsonl([summary.as_dict()])
    else:
        _print_reextract(summary)
    if summary.missing or summary.failed:
        sys.exit(1)


def _print_reextract(summary) -> None:
    would = "would change" if summary.dry_run else "changed"
    click.echo(f"{summary.documents} archived documents read: {would} {summary.changed}, unchanged "
               f"{summary.unchanged}, {'would be ' if summary.dry_run else ''}reclassified as new reports "
               f"{summary.reclassified}, records missing {summary.missing}, failed {summary.failed}")
    if summary.fields:
        click.echo("changed fields: " + ", ".join(f"{name} {n}" for name, n in summary.fields.most_common()))
    for name, changes in summary.examples.items():
        for change in changes:
            click.echo(f"  {name}: {_short(change.old)} -> {_short(change.new)}  {change.url}")
    for error in summary.errors:
        click.echo(f"govwatch reextract: {error}", err=True)


def _short(value, limit: int = 40) -> str:
    text = "null" if value is None else " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@optional_config_option
@db_option
@click.option("--portal", default=None, metavar="ID", help="Portal id of the imported documents "
              "(default: import:<name of each PATH>).")
@click.option("--alert", is_flag=True, help="Send alerts for new reports found (imports are silent by default).")
@json_option
def import_command(paths: tuple[str, ...], config_path: str | None, db_path: str, portal: str | None,
                   alert: bool, as_json: bool) -> None:
    """Import pages saved elsewhere: HTML pages and text dumps, PDF/DOC/DOCX files, folders of them
    (recursive), WARC files and JSON Lines of {"url", "html" or "text", "fetched_at"}.

    Each page becomes a document through the crawl's own extraction, dedupe and index. An unreadable input
    gets a one-line error on stderr; the others still run, and the exit status is 1 when any failed.
    """
    from crawler.corpus.archive import ArchiveError
    from crawler.corpus.imports import import_paths, input_bytes

    config = _config(config_path)
    db = open_db(db_path)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a broken PDF is one line below, not pypdf's warnings

    def report(where: str, reason: str) -> None:
        click.echo(f"govwatch import: {where}: {reason}", err=True)

    try:
        with _progress(input_bytes(paths), "importing") as bar:
            summary = import_paths(db, paths, portal=portal, archive_dir=config.archive.directory(db_path),
                                   alert=alert, alerts=config.alerts, dedupe_threshold=config.dedupe.threshold,
                                   progress=_updater(bar), on_error=report)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        print_jsonl([summary.as_dict()])
    else:
        _print_import(summary, alert)
    if summary.unreadable:
        sys.exit(1)


def _print_import(summary, alert: bool) -> None:
    plural = "" if summary.documents == 1 else "s"
    click.echo(f"{summary.documents} document{plural} read: imported {summary.imported}, updated {summary.updated}, "
               f"unchanged {summary.unchanged}; duplicates {summary.duplicates}; reports found {summary.reports} "
               f"({summary.new_reports} new{'' if alert else ', not alerted'}); unreadable {len(summary.unreadable)}")
    if summary.skipped:
        click.echo("skipped: " + ", ".join(f"{reason} {n}" for reason, n in summary.skipped.most_common()))
