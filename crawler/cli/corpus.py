"""`govwatch reports`, `govwatch search` and `govwatch export`: the corpus commands (read-only on the database)."""

from __future__ import annotations

import sys

import click

from crawler.extract.record import DOC_TYPES
from crawler.cli.common import db_option, json_option, open_db_read_only, print_jsonl, print_table, wide_option


def register(main: click.Group) -> None:
    main.add_command(reports_command)
    main.add_command(search_command)
    main.add_command(export_command)


@click.command("reports")
@db_option
@json_option
@wide_option
@click.option("--year", type=click.IntRange(1949, 2100), default=None, help="Only reports on this year.")
@click.option("--region", default=None, help="Only regions whose name contains TEXT (or adcode).")
def reports_command(db_path: str, as_json: bool, year: int | None, region: str | None) -> None:
    """One row per annual report, newest first (canonical documents only)."""
    from crawler.corpus.reports import REPORT_KEYS, ReportsError, check_region, reports

    try:
        if region:
            check_region(region)
        rows = reports(open_db_read_only(db_path), year=year, region=region)
    except ReportsError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        print_jsonl(rows)
    else:
        print_table(rows, list(REPORT_KEYS), shrink=("title", "url"))


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@db_option
@json_option
@click.option("--limit", "-n", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="Number of results.")
@click.option("--all", "include_duplicates", is_flag=True, help="Include duplicate copies, not only canonical "
              "documents.")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default=None,
              help="Only documents of this type.")
def search_command(query: tuple[str, ...], db_path: str, as_json: bool, limit: int,
                   include_duplicates: bool, doc_type: str | None) -> None:
    """Full-text search of titles and bodies (Chinese words and "quoted phrases"; OR and NOT between terms).

    Results are ranked (title matches first), each with its region, report year and type (annual_report,
    interpretation, plan, news, other), a highlighted snippet and its URL.
    """
    from crawler.corpus.search import HL_CLOSE, HL_OPEN, SearchError, parse_query, search

    text = " ".join(query)
    try:
        parse_query(text)  # a query that cannot run is refused before the database is opened
        hits = search(open_db_read_only(db_path), text, limit=limit, include_duplicates=include_duplicates,
                      doc_type=doc_type)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        print_jsonl(hit.to_json() for hit in hits)
        return
    if not hits:
        click.echo("(no results)")
        return
    tty = sys.stdout.isatty()
    for number, hit in enumerate(hits, start=1):
        snippet = hit.snippet
        if tty:
            snippet = snippet.replace(HL_OPEN, "\x1b[1m").replace(HL_CLOSE, "\x1b[0m")
        where = " · ".join(str(v) for v in (hit.region, hit.report_year, hit.doc_type) if v)
        click.echo(f"{number}. {hit.title or '(untitled)'}" + (f"  [{where}]" if where else ""))
        click.echo(f"   {snippet}")
        click.echo(f"   {hit.url}")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "txt"]), required=True,
              help="jsonl | csv (UTF-8 with BOM) | parquet (needs govwatch[parquet]) | txt (a folder, one file "
                   "per report).")
@click.option("--out", "out", required=True, type=click.Path(), help="Output file (a folder for txt).")
@db_option
@click.option("--reports-only/--all", "reports_only", default=None,
              help="Only canonical annual reports / every document. Default: --all for jsonl, csv and "
                   "parquet; --reports-only for txt.")
@click.option("--since", default=None, metavar="DATE", help="Only documents published on or after DATE "
              "(YYYY-MM-DD).")
@click.option("--segmented", is_flag=True, help="Add text_segmented: jieba tokens separated by spaces.")
def export_command(fmt: str, out: str, db_path: str, reports_only: bool | None, since: str | None,
                   segmented: bool) -> None:
    """Export the corpus for analysis: every extraction field plus url, portal, duplicate_of, content_hash,
    fetched_at and attachments. A progress bar shows on a terminal."""
    from crawler.corpus.export import ExportError, count_rows, default_reports_only, export, parse_since

    if reports_only is None:
        reports_only = default_reports_only(fmt)
    try:
        since_iso = parse_since(since)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    db = open_db_read_only(db_path)
    what = "report" if reports_only else "document"
    try:
        if sys.stderr.isatty():
            total = count_rows(db, reports_only=reports_only, since=since_iso)
            with click.progressbar(length=total, label=f"exporting {total:,} {what}s", file=sys.stderr,
                                   show_pos=True, show_percent=True) as bar:
                done = [0]

                def progress(n: int) -> None:
                    bar.update(n - done[0])
                    done[0] = n

                n = export(db, fmt, out, reports_only=reports_only, since=since_iso, segmented=segmented,
                           progress=progress)
        else:
            n = export(db, fmt, out, reports_only=reports_only, since=since_iso, segmented=segmented)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"exported {n} {what}{'s' if n != 1 else ''} to {out} ({fmt})", err=True)
