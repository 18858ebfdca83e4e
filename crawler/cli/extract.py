"""`govwatch extract PATH... [--url URL]`: one JSON object per input file."""

from __future__ import annotations

import json
import sys

import click

from crawler.extract import ExtractError, extract


def register(main: click.Group) -> None:
    main.add_command(extract_command)


@click.command("extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--url", default=None, help="The page's URL (helps dates and regions); applies to every PATH.")
def extract_command(paths: tuple[str, ...], url: str | None) -> None:
    """Extract a clean record from saved pages (HTML or text dumps); prints JSON Lines.

    A file that cannot be read or parsed gets a one-line error on stderr; the others still run, and the
    exit status is 1 when any file failed.
    """
    failed = 0
    for path in paths:
        try:
            with open(path, "rb") as handle:
                content = handle.read()
            record = extract(content, url=url)
        except (OSError, ExtractError) as exc:
            failed += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"govwatch extract: {path}: {reason}", err=True)
            continue
        sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failed:
        sys.exit(1)
