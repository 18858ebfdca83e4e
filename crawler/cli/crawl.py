"""`govwatch crawl`, `govwatch discover`, `govwatch status`."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from crawler.cli.common import config_option, db_option, json_option, open_config, open_db, print_jsonl, print_table
from crawler.config import DEFAULT_CONFIG
from crawler.cli.common import open_db_read_only, wide_option


def register(main: click.Group) -> None:
    main.add_command(crawl_command)
    main.add_command(discover_command)
    main.add_command(status_command)


EXIT_FAILED = 4  # some portals failed or were blocked (see --fail-on); 1: nothing could run; 2: usage
FAIL_ON = ("blocked", "error", "never")
# what each --fail-on word counts: `error` is every way a crawl can fail, `never` a portal with no ok crawl yet
FAILED_STATUSES = {"blocked": ("blocked",), "error": ("error", "timeout", "killed")}


def _fail_on(ctx, param, value: str) -> tuple[str, ...]:
    words = tuple(w.strip() for w in value.split(",") if w.strip())
    unknown = [w for w in words if w not in FAIL_ON]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not one of {', '.join(FAIL_ON)}")
    return words


@click.command("crawl")
@config_option
@db_option
@click.option("--portal", "portal_ids", multiple=True, help="Crawl only this portal id (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds before the crawl is stopped (default: the config's [crawl] timeout).")
@click.option("--fail-on", "fail_on", default="blocked,error", show_default=True, callback=_fail_on,
              metavar="STATUSES", help="Portal statuses that make the exit code 4, comma-separated: blocked, "
                                       "error (also timeout, killed), never (no ok crawl yet).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Write the crawl's log here (default: a new file in <db name>-logs/ beside the database).")
@click.option("--verbose", "-v", count=True, help="Show the crawl's log on stderr (-vv: debug level).")
@click.option("--quiet", "-q", is_flag=True, help="No progress, only the summary.")
@wide_option
def crawl_command(config_path: str, db_path: str, portal_ids: tuple[str, ...], timeout: float | None,
                  fail_on: tuple[str, ...], log_file: str | None, verbose: int, quiet: bool) -> None:
    """Crawl the configured portals (in a subprocess) and print a summary per portal.

    Exit codes: 0 every portal ok; 1 nothing could run (config or database error); 2 usage error;
    4 some portals failed or were blocked (which statuses count: --fail-on)."""
    from crawler.cli.progress import CrawlProgress
    from crawler.crawl.runner import CrawlError, Interrupted, crawl
    from crawler.monitor.alerts import flush_after_crawl
    from crawler.registry import RegistryError, select_portals

    config = open_config(config_path)
    db = open_db(db_path)  # an unwritable database fails here, before the subprocess
    try:
        selected = select_portals(db, config, list(portal_ids))
    except RegistryError as exc:  # unknown portal id
        raise click.ClickException(str(exc)) from None
    finally:
        db.conn.close()
    progress = None if quiet else CrawlProgress([p.id for p in selected], bar=False if verbose else None)

    def stop(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        summary = crawl(config_path, db_path, list(portal_ids) or None, timeout=timeout, progress=progress,
                        log_level="DEBUG" if verbose > 1 else "INFO", log_file=log_file,
                        echo_log=(lambda line: click.echo(line, err=True, nl=False)) if verbose else None)
    except CrawlError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.close()
    rows = [{"portal": p.portal, "status": p.status, "pages": p.pages, "new documents": p.new_documents,
             "new reports": p.new_reports, "errors": p.errors, "reason": p.reason or ""}
            for p in summary.portals.values()]
    print_table(rows, ["portal", "status", "pages", "new documents", "new reports", "errors", "reason"])
    for p in summary.portals.values():
        if p.baseline_reports is not None:
            click.echo(f"first crawl of portal {p.portal}: {p.baseline_reports} reports recorded as baseline, "
                       "no alerts (alert_on_baseline = false)", err=True)
    for problem in filter(None, getattr(summary, "nodes", {}).values()):  # backend = "scrapyd"
        click.echo(f"scrapyd node {problem}", err=True)
    if summary.status == "timeout":
        click.echo(f"crawl timed out after {summary.duration:.0f} s", err=True)
    elif summary.status in ("killed", "error"):
        click.echo(f"crawl process failed: {summary.error}", err=True)
    db = open_db(db_path)
    if summary.status != "interrupted":
        click.echo(flush_after_crawl(db, config), err=True)
    failed = failed_portals(db, summary, fail_on)
    if not quiet or failed:
        click.echo(f"crawl log: {summary.log_file}", err=True)
    if failed:
        sys.exit(EXIT_FAILED)


def failed_portals(db, summary, fail_on: tuple[str, ...]) -> list[str]:
    """The crawled portals whose status counts as a failure under `--fail-on`."""
    statuses = {status for word in fail_on for status in FAILED_STATUSES.get(word, ())}
    failed = [p.portal for p in summary.portals.values() if p.status in statuses]
    if "never" in fail_on:
        ids = list(summary.portals)
        marks = ",".join("?" * len(ids))
        failed += [row[0] for row in db.execute(f"SELECT id FROM portals WHERE id IN ({marks}) AND "
                                                "COALESCE(baseline_done, 0) = 0", ids) if row[0] not in failed]
        failed += [pid for pid in ids if pid not in failed and not db["portals"].count_where("id = ?", [pid])]
    return failed


@click.command("discover")
@click.argument("url")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help="Take the [crawl] settings (User-Agent, robots.txt, delays) from this file "
                   "(default: govwatch.toml when it exists).")
@click.option("--limit", default=10, show_default=True, help="How many candidates to print.")
@click.option("--timeout", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Seconds the discovery may take.")
@json_option
def discover_command(url: str, config_path: str | None, limit: int, timeout: float, as_json: bool) -> None:
    """Find a portal's 法治政府建设 / 法治建设 / 依法行政 columns from its home page (ranked).

    The pages are fetched by the crawler itself: robots.txt, the portal's own sites and politeness apply."""
    from pathlib import Path

    from crawler.config import DEFAULT_CONFIG
    from crawler.crawl.discover import DiscoverError, discover

    if config_path is None and Path(DEFAULT_CONFIG).exists():
        config_path = DEFAULT_CONFIG
    if config_path is not None:
        open_config(config_path)  # a bad config is a one-line error here, not in the crawl process
    try:
        candidates = discover(url, config=config_path, timeout=timeout)[:limit]
    except DiscoverError as exc:
        raise click.ClickException(str(exc)) from None
    rows = [{"score": c.score, "text": c.text, "url": c.url} for c in candidates]
    if as_json:
        print_jsonl(rows)
    else:
        print_table(rows, ["score", "text", "url"])
    if not candidates:
        sys.exit(1)


@click.command("status")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help=f"Also list this config's portals that never ran (default: {DEFAULT_CONFIG} if it exists).")
@db_option
@json_option
@wide_option
def status_command(config_path: str | None, db_path: str, as_json: bool) -> None:
    """One row per portal: status (ok, blocked, error, never), reason, last crawl, documents, reports, and
    the next run while a `govwatch watch` daemon runs on the database."""
    from crawler.crawl.status import STATUS_KEYS, status

    if config_path is None and Path(DEFAULT_CONFIG).is_file():
        config_path = DEFAULT_CONFIG
    config = open_config(config_path) if config_path else None
    rows = status(open_db_read_only(db_path), config=config)
    if as_json:
        print_jsonl(rows)
    else:
        print_table(rows, list(STATUS_KEYS))
