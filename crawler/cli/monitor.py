"""Monitoring commands: `alerts flush|list|test`, `coverage`, `watch`."""

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
    """Alert outbox: deliver, list, test channels."""


@alerts.command("flush")
@config_option
@db_option
@json_option
def flush(config_path: str, db_path: str, as_json: bool) -> None:
    """Deliver pending alerts to every configured channel (with retries and backoff)."""
    from crawler.monitor.alerts import flush as do_flush

    config = open_config(config_path)
    summary = do_flush(open_db(db_path), config)
    if as_json:
        print_jsonl([summary.as_dict()])
    else:
        click.echo(f"sent {summary.sent}, failed attempts {summary.failed}, gave up {summary.gave_up}, "
                   f"still pending {summary.pending}")


@alerts.command("list")
@click.option("--pending", is_flag=True, help="Only alerts not yet delivered to every channel.")
@click.option("--limit", default=50, show_default=True)
@db_option
@json_option
@wide_option
def list_(pending: bool, limit: int, db_path: str, as_json: bool) -> None:
    """Show alerts with their per-channel deliveries and attempts (secrets are never shown)."""
    from crawler.monitor.alerts import list_alerts

    rows = list_alerts(open_db_read_only(db_path), pending=pending, limit=limit)
    if as_json:
        print_jsonl(rows)
        return
    table = []
    for row in rows:
        deliveries = "; ".join(f"{d['channel_label']}: {d['status']} ({d['attempts']})" for d in row["deliveries"])
        errors = [d["last_error"] for d in row["deliveries"] if d["last_error"] and d["status"] != "sent"]
        table.append({"id": row["id"], "kind": row["kind"], "created": row["created_at"], "status": row["status"],
                      "message": (row["message"] or "").split("\n", 1)[0][:60], "deliveries": deliveries,
                      "error": (errors[0] if errors else "")[:80]})
    print_table(table, ["id", "kind", "created", "status", "message", "deliveries", "error"])


@alerts.command("test")
@config_option
@json_option
def test(config_path: str, as_json: bool) -> None:
    """Send a test message to every configured channel; exit 1 if any failed."""
    from crawler.monitor.alerts import send_test

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
@click.option("--year", type=click.IntRange(1949, 2100), help="Only this report year.")
@json_option
@wide_option
def coverage(config_path: str, db_path: str, year: int | None, as_json: bool) -> None:
    """Which configured regions published their yearly report (before 1 April of the next year)."""
    from crawler.monitor.coverage import coverage as do_coverage
    from crawler.monitor.coverage import matrix

    config = open_config(config_path)
    rows = do_coverage(open_db_read_only(db_path), config, year=year)
    if as_json:
        print_jsonl(rows)
        return
    table, columns = matrix(rows)
    print_table(table, columns)


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
    do_watch(config_path, db_path)

