"""`govwatch serve`: the dashboard (Datasette over the database, read-only)."""

from __future__ import annotations

import os

import click

from crawler.cli.common import db_option


def register(main: click.Group) -> None:
    main.add_command(serve)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address needs GOVWATCH_SERVE_PASSWORD.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
def serve(db_path: str, host: str, port: int) -> None:
    """Serve the dashboard: latest reports, coverage, overdue regions, portals, search, feeds (read-only).

    With GOVWATCH_SERVE_PASSWORD set, every request needs it (HTTP Basic auth, user govwatch); it must be
    set to listen on anything but a loopback address.
    """
    try:
        from crawler.dashboard import DashboardError, serve as run
    except ImportError as exc:
        raise click.ClickException(f"the dashboard needs Datasette ({exc.name} is missing): "
                                   "pip install 'govwatch[dashboard]'") from None
    try:
        run(db_path, host, port, password=os.environ.get("GOVWATCH_SERVE_PASSWORD") or None, echo=click.echo)
    except DashboardError as exc:
        raise click.ClickException(str(exc)) from None
