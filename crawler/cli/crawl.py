"""`govwatch crawl`, `govwatch discover`, `govwatch reports`, `govwatch status`."""

from __future__ import annotations

import sys

import click

from crawler.cli.common import config_option, db_option, json_option, open_config, open_db, print_jsonl, print_table


def register(main: click.Group) -> None:
    main.add_command(crawl_command)
    main.add_command(discover_command)
    main.add_command(reports_command)
    main.add_command(status_command)


@click.command("crawl")
@config_option
@db_option
@click.option("--portal", "portal_ids", multiple=True, help="Crawl only this portal id (repeatable).")
@click.option("--timeout", type=float, default=None, help="Seconds before the crawl is killed (default: config).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines, only the summary.")
def crawl_command(config_path: str, db_path: str, portal_ids: tuple[str, ...], timeout: float | None,
                  quiet: bool) -> None:
    """Crawl the configured portals (in a subprocess) and print a summary per portal.

    Exits 0 when the crawl ran, even if a portal was blocked; non-zero when nothing could run."""
    from crawler.crawl.runner import CrawlError, crawl
    from crawler.monitor.alerts import flush_after_crawl

    from crawler.registry import RegistryError, select_portals

    config = open_config(config_path)
    db = open_db(db_path)  # an unwritable database fails here, before the subprocess
    try:
        select_portals(db, config, list(portal_ids))
    except RegistryError as exc:  # unknown portal id
        raise click.ClickException(str(exc)) from None

    def progress(event: dict) -> None:
        if quiet or event.get("event") not in ("progress", "done"):
            return
        click.echo(f"  {event.get('portal')}: {event.get('status')} pages={event.get('pages', 0)} "
                   f"documents={event.get('documents', 0)} reports={event.get('reports', 0)}"
                   + (f" ({event['reason']})" if event.get("reason") and event.get("status") != "ok" else ""),
                   err=True)

    try:
        summary = crawl(config_path, db_path, list(portal_ids) or None, timeout=timeout, progress=progress)
    except CrawlError as exc:
        raise click.ClickException(str(exc)) from None
    rows = [{"portal": p.portal, "status": p.status, "pages": p.pages, "new documents": p.new_documents,
             "new reports": p.new_reports, "errors": p.errors, "reason": p.reason or ""}
            for p in summary.portals.values()]
    print_table(rows, ["portal", "status", "pages", "new documents", "new reports", "errors", "reason"])
    if summary.status == "timeout":
        click.echo(f"crawl timed out after {summary.duration:.0f} s", err=True)
    elif summary.status == "error":
        click.echo(f"crawl process failed: {summary.error}", err=True)
    click.echo(flush_after_crawl(open_db(db_path), config), err=True)


@click.command("discover")
@click.argument("url")
@click.option("--limit", default=10, show_default=True, help="How many candidates to print.")
@json_option
def discover_command(url: str, limit: int, as_json: bool) -> None:
    """Find a portal's 法治政府建设 / 法治建设 / 依法行政 columns from its home page (ranked)."""
    from crawler.crawl.discover import DiscoverError, discover

    try:
        candidates = discover(url)[:limit]
    except DiscoverError as exc:
        raise click.ClickException(str(exc)) from None
    rows = [{"score": c.score, "text": c.text, "url": c.url} for c in candidates]
    if as_json:
        print_jsonl(rows)
    else:
        print_table(rows, ["score", "text", "url"])
    if not candidates:
        sys.exit(1)


@click.command("reports")
@db_option
@json_option
@click.option("--year", type=int, default=None, help="Only reports on this year.")
@click.option("--region", default=None, help="Only regions whose name contains TEXT (or adcode).")
def reports_command(db_path: str, as_json: bool, year: int | None, region: str | None) -> None:
    """One row per annual report, newest first (canonical documents only)."""
    from crawler.corpus.reports import REPORT_KEYS, reports

    rows = reports(open_db(db_path), year=year, region=region)
    if as_json:
        print_jsonl(rows)
    else:
        print_table(rows, list(REPORT_KEYS))


@click.command("status")
@db_option
@json_option
def status_command(db_path: str, as_json: bool) -> None:
    """One row per portal: status (ok, blocked, error, never), reason, last crawl, documents, reports."""
    from crawler.crawl.status import STATUS_KEYS, status

    rows = status(open_db(db_path))
    if as_json:
        print_jsonl(rows)
    else:
        print_table(rows, list(STATUS_KEYS))
