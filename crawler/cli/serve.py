"""`govwatch serve`: the dashboard (Datasette over the database, read-only)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crawler.cli.common import db_option, open_config
from crawler.config import DEFAULT_CONFIG


def register(main: click.Group) -> None:
    main.add_command(serve)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs GOVWATCH_SERVE_PASSWORD.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help=f"govwatch TOML configuration file, for its [archive] dir (the archived pages document pages "
                   f"link); default {DEFAULT_CONFIG} when it exists, else the archive beside the database.")
def serve(db_path: str, host: str, port: int, config_path: str | None) -> None:
    """Serve the dashboard: latest reports, coverage, overdue regions, portals, search, feeds (read-only).

    With GOVWATCH_SERVE_PASSWORD set, every request needs it (HTTP Basic auth, user govwatch); it must be
    set to listen on anything but a loopback address.
    """
    try:
        from crawler.dashboard import DashboardError, serve as run
    except ImportError as exc:
        raise click.ClickException(f"the dashboard needs Datasette ({exc.name} is missing): "
                                   "pip install 'govwatch[dashboard]'") from None
    archive = None
    if config_path is not None or Path(DEFAULT_CONFIG).exists():
        archive = open_config(config_path or DEFAULT_CONFIG).archive
    try:
        run(db_path, host, port, password=os.environ.get("GOVWATCH_SERVE_PASSWORD") or None, echo=click.echo,
            archive=archive)
    except DashboardError as exc:
        raise click.ClickException(str(exc)) from None
