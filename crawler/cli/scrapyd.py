"""`govwatch scrapyd`: run a scrapyd node for crawls dispatched by a controller (`[crawl] backend = "scrapyd"`)."""

from __future__ import annotations

import sys

import click


def register(main: click.Group) -> None:
    main.add_command(scrapyd_command)


@click.command("scrapyd")
@click.option("--dir", "directory", default="scrapyd-node", show_default=True, type=click.Path(file_okay=False),
              help="The node's working directory (scrapyd.conf, scrapy.cfg, logs, items, eggs, dbs).")
@click.option("--bind", default=None, help="Address to listen on (default: scrapyd.conf, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: scrapyd.conf, 6800).")
@click.option("--project", default="govwatch", show_default=True,
              help="The scrapyd project name ([crawl] scrapyd_project of the controller).")
def scrapyd_command(directory: str, bind: str | None, port: int | None, project: str) -> None:
    """Run a scrapyd node in DIR until SIGTERM or Ctrl-C.

    Writes DIR/scrapyd.conf (the checkout's scrapyd.cfg) and DIR/scrapy.cfg (the installed govwatch as the
    project) unless they exist. Credentials: SCRAPYD_USERNAME and SCRAPYD_PASSWORD in the environment."""
    from crawler.crawl.scrapyd.service import NodeStartError, serve_node

    def ready(url: str) -> None:
        click.echo(f"scrapyd node {url}/ serving project {project} from {directory} (Ctrl-C stops it)", err=True)

    try:
        code = serve_node(directory, bind=bind, port=port, project=project, ready=ready)
    except NodeStartError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(code if code and code > 0 else 0)
