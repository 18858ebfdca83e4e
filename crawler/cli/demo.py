"""`govwatch demo`: crawl local example portals (TRS, Hanweb, Kaipuyun, a county site) and show the reports."""

from __future__ import annotations

import click

from crawler.cli.common import print_table


def register(main: click.Group) -> None:
    main.add_command(demo_command)


@click.command("demo")
@click.option("--db", "db_path", default="govwatch-demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database the demo crawl writes.")
@click.option("--keep-serving", is_flag=True, help="Keep the demo portals up after the crawl, until Ctrl-C.")
def demo_command(db_path: str, keep_serving: bool) -> None:
    """Serve example portals on loopback, crawl them with the real pipeline, print the reports found."""
    from crawler.corpus.reports import REPORT_KEYS
    from crawler.demo import demo

    def progress(event: dict) -> None:
        if event.get("event") == "done":
            click.echo(f"  {event.get('portal')}: {event.get('status')} pages={event.get('pages', 0)} "
                       f"documents={event.get('documents', 0)} reports={event.get('reports', 0)}", err=True)

    def show(result) -> None:
        summary = result.summary
        if getattr(summary, "status", "ok") != "ok":
            click.echo(f"crawl {summary.status}: {summary.error or ''}".rstrip(), err=True)
        click.echo(f"\nReports in {db_path}:")
        print_table(result.reports, list(REPORT_KEYS))
        if keep_serving:
            click.echo("\nDemo portals (Ctrl-C to stop):")
            for pid, url in result.urls.items():
                click.echo(f"  {pid:8} {url}")

    click.echo("Starting demo portals and crawling them...", err=True)
    try:
        result = demo(db_path, keep_serving=keep_serving, progress=progress, on_crawled=show)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    except RuntimeError as exc:  # crawler.crawl.runner.CrawlError
        raise click.ClickException(str(exc)) from None
    if getattr(result.summary, "status", "ok") != "ok":
        raise SystemExit(1)
