"""Monitoring commands: `alerts flush|list|retry|test`, `coverage`, `watch`."""

from __future__ import annotations

import logging
import sys

import click

from crawler.cli.common import config_option, db_option, json_option, open_config, open_db, print_jsonl, print_table
from crawler.cli.common import open_db_read_only, wide_option


def register(main: click.Group) -> None:
    main.add_command(alerts)
    main.add_command(coverage)
    main.add_command(watch)


@click.group()
def alerts() -> None:
    """Alert outbox: deliver, list, retry, test channels."""


@alerts.command("flush")
@config_option
@db_option
@json_option
def flush(config_path: str, db_path: str, as_json: bool) -> None:
    """Send every pending alert now, to every configured channel (waiting backoffs are skipped; each send
    ends within [alerts] send_timeout; a channel that fails is tried again by the next flush)."""
    from crawler.monitor.delivery import flush as do_flush

    config = open_config(config_path)
    summary = do_flush(open_db(db_path), config, due_only=False)
    if as_json:
        print_jsonl([summary.as_dict()])
    else:
        click.echo(summary.line())


@alerts.command("list")
@click.option("--pending", is_flag=True, help="Only alerts not yet delivered to every channel.")
@click.option("--limit", default=50, show_default=True)
@db_option
@json_option
@wide_option
def list_(pending: bool, limit: int, db_path: str, as_json: bool) -> None:
    """Show alerts with their per-channel deliveries, attempts and next attempt (secrets are never shown)."""
    from crawler.monitor.delivery import list_alerts

    rows = list_alerts(open_db_read_only(db_path), pending=pending, limit=limit)
    if as_json:
        print_jsonl(rows)
        return
    table = []
    for row in rows:
        deliveries = "; ".join(f"{d['channel_label']}: {d['status']} ({d['attempts']})" for d in row["deliveries"])
        errors = [d["last_error"] for d in row["deliveries"] if d["last_error"] and d["status"] != "sent"]
        table.append({"id": row["id"], "kind": row["kind"], "created (UTC)": _minute(row["created_at"]),
                      "status": row["status"], "next attempt (UTC)": _minute(row["next_attempt_at"]),
                      "message": (row["message"] or "").split("\n", 1)[0][:60], "deliveries": deliveries,
                      "error": (errors[0] if errors else "")[:80]})
    print_table(table, ["id", "kind", "created (UTC)", "status", "next attempt (UTC)", "message", "deliveries",
                        "error"], shrink=("message", "deliveries", "error"))


def _minute(iso: str | None) -> str:
    """`2026-12-02T02:13:16+00:00` as `2026-12-02 02:13` (the JSON keeps the whole timestamp)."""
    return iso[:16].replace("T", " ") if iso else ""


@alerts.command("retry")
@click.option("--failed", is_flag=True, help="Every delivery that gave up (of the --id alerts, when given).")
@click.option("--id", "alert_ids", type=int, multiple=True, help="This alert's undelivered deliveries (repeatable).")
@db_option
def retry(failed: bool, alert_ids: tuple[int, ...], db_path: str) -> None:
    """Put deliveries back to pending, due now, with a fresh retry window."""
    from crawler.monitor.delivery import retry as do_retry

    if not failed and not alert_ids:
        raise click.UsageError("say what to retry: --failed (every failed delivery) or --id N (one alert)")
    try:
        count = do_retry(open_db(db_path), failed=failed, alert_ids=alert_ids)
    except ValueError as exc:
        raise click.ClickException(f"{db_path}: {exc}") from None
    click.echo(f"{count} deliveries pending again, due now (`govwatch alerts flush` sends them at once; "
               "a crawl or the daemon does on its next flush)")


@alerts.command("test")
@config_option
@json_option
def test(config_path: str, as_json: bool) -> None:
    """Send a test message to every configured channel; exit 1 if any failed."""
    from crawler.monitor.delivery import send_test

    config = open_config(config_path)
    if not config.alerts.urls:
        raise click.ClickException(f"{config_path}: no channels configured ([alerts] urls is empty)")
    results = send_test(config)
    if as_json:
        print_jsonl(results)
    else:
        for r in results:
            click.echo(f"{'ok  ' if r['ok'] else 'FAIL'}  {r['label']}" + (f"  {r['error']}" if r["error"] else ""))
    if not all(r["ok"] for r in results):
        sys.exit(1)


@click.command()
@config_option
@db_option
@click.option("--year", "years", type=click.IntRange(1949, 2100), multiple=True, help="Report year (repeatable; default: the year due "
              "this year, i.e. last year).")
@click.option("--province", default=None, help="Only this province (安徽省, 安徽 or 340000).")
@click.option("--level", type=click.Choice(["province", "city", "county"]), default=None,
              help="Only regions of this level.")
@click.option("--totals", "only_totals", is_flag=True, help="Only the totals per province and for the country.")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8) instead of a table.")
@wide_option
def coverage(config_path: str, db_path: str, years: tuple[int, ...], province: str | None, level: str | None,
             only_totals: bool, as_json: bool, as_csv: bool) -> None:
    """Every region of the division tree, configured or not: published (date, link), missing, overdue,
    no_portal, blocked, unreachable, never_crawled; then totals per province and for the country.

    Reports for year Y are due by 1 April of Y+1. A region without a portal, or whose portals never finished
    a crawl, is never overdue. A department's own report (司法局 …) is shown beside its government's."""
    from crawler.cli.portals import registry_config
    from crawler.monitor.coverage import coverage as do_coverage
    from crawler.monitor.coverage import STATUSES, matrix, totals
    from crawler.registry.places import short_name

    config = registry_config(config_path)  # a bad config is named before the database is opened
    try:
        rows = do_coverage(open_db_read_only(db_path), config, years=list(years) or None,
                           province=province, level=level)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    counts = totals(rows)
    if as_json or as_csv:
        out = counts if only_totals else rows
        if as_json:
            print_jsonl(out)
        else:
            _print_csv(out)
        return
    if not only_totals:
        table, columns = matrix(rows)
        print_table(table, columns)
        click.echo("")
    # within 120 columns: short province names, late reports inside `published`, one year said once
    shown = ["province", "year", "regions", "portals", *STATUSES, "departments"]
    if len({t["year"] for t in counts}) == 1:
        click.echo(f"totals {counts[0]['year']}" if counts else "")
        shown.remove("year")
    display = [dict(t, province=short_name(t["province"]),
                    published=f"{t['published']} ({t['late']} late)" if t["late"] else t["published"])
               for t in counts]
    print_table(display, shown)


def _print_csv(rows: list[dict]) -> None:
    import csv

    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})


def _csv_cell(value):
    if isinstance(value, list):
        return "; ".join(" ".join(str(x) for x in v.values() if x) if isinstance(v, dict) else str(v)
                         for v in value)
    return value


@click.command()
@config_option
@db_option
@click.option("-v", "--verbose", is_flag=True, help="Log scheduler internals too.")
def watch(config_path: str, db_path: str, verbose: bool) -> None:
    """Run scheduled crawls per portal schedule until SIGTERM/SIGINT; deliver alerts after each crawl."""
    from crawler.crawl.watch import watch as do_watch

    open_config(config_path)  # a bad config fails here, before anything is scheduled
    open_db(db_path).conn.close()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    from crawler.crawl.daemonlock import DaemonRunning

    try:
        do_watch(config_path, db_path)
    except DaemonRunning as exc:
        raise click.ClickException(str(exc)) from None

