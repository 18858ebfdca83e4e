"""The first steps: `govwatch demo` (crawl local example portals, show the reports) and `govwatch init`
(write a commented govwatch.toml)."""

from __future__ import annotations

import click

from crawler.cli.common import db_option, open_db, print_steps, print_table
from storage import DEFAULT_DB


def register(main: click.Group) -> None:
    main.add_command(demo_command)
    main.add_command(init_command)


@click.command("demo")
@db_option
@click.option("--keep-serving", is_flag=True, help="Keep the demo portals up after the crawl, until Ctrl-C, "
              "to crawl, discover or browse them yourself.")
def demo_command(db_path: str, keep_serving: bool) -> None:
    """Serve example portals on loopback, crawl them with the real pipeline into the database, print the
    reports found and the commands to try next."""
    from crawler.corpus.reports import REPORT_KEYS
    from crawler.demo import DemoError, demo

    open_db(db_path).close()  # another application's database is refused before anything is served
    flag = "" if db_path == DEFAULT_DB else f" --db {db_path}"

    def progress(event: dict) -> None:
        if event.get("event") == "done":
            click.echo(f"  {event.get('portal')}: {event.get('status')} pages={event.get('pages', 0)} "
                       f"documents={event.get('documents', 0)} reports={event.get('reports', 0)}", err=True)

    def show(result) -> None:
        summary = result.summary
        if getattr(summary, "status", "ok") != "ok":
            click.echo(f"crawl {summary.status}: {summary.error or ''}".rstrip(), err=True)
        click.echo(f"\nReports in {db_path}:")
        print_table(result.reports, list(REPORT_KEYS), shrink=("title", "url"))
        click.echo("\nNext, on the same database:")
        steps = [(f"govwatch reports{flag} --year 2022", "the reports on one year"),
                 (f"govwatch search{flag} 行政复议", "full-text search (--type annual_report)"),
                 (f"govwatch export{flag} --format txt --out reports/", "one text file per report"),
                 ("govwatch init", "write govwatch.toml for your own portals")]
        if not keep_serving:
            steps.append((f"govwatch demo --keep-serving{flag}", "keep the portals up to crawl them yourself"))
        print_steps(steps)
        if keep_serving:
            show_serving(result, flag)

    click.echo("Starting demo portals and crawling them...", err=True)
    try:
        result = demo(db_path, keep_serving=keep_serving, progress=progress, on_crawled=show)
    except (DemoError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    except RuntimeError as exc:  # crawler.crawl.runner.CrawlError
        raise click.ClickException(str(exc)) from None
    if getattr(result.summary, "status", "ok") != "ok":
        raise SystemExit(1)


def show_serving(result, flag: str) -> None:
    from crawler.config import minimal_config
    from crawler.demo import DEMO_CRAWL_SETTINGS

    click.echo("\nDemo portals, serving until Ctrl-C:")
    print_table([{"id": p.id, "name": p.name, "home page": p.home, "法治政府建设 column": p.column}
                 for p in result.portals], ["id", "name", "home page", "法治政府建设 column"])
    first = result.portals[0]
    click.echo("\nIn another terminal:")
    if result.fixed_ports:
        steps = [("govwatch init --demo", "write govwatch.toml with these portals"),
                 (f"govwatch crawl{flag}", "crawl them again: only what changed is fetched"),
                 (f"govwatch discover {first.home}", "find the column from a home page")]
    else:
        steps = [("(save the config below as demo.toml)", "the demo's fixed ports were taken"),
                 (f"govwatch crawl --config demo.toml{flag}", "crawl them again: only what changed is fetched"),
                 (f"govwatch discover {first.home}", "find the column from a home page")]
    print_steps(steps)
    click.echo("\nA config that crawls them (`govwatch init --demo` writes the same with every other key):\n")
    click.echo(minimal_config(demo_portal_tables(result.portals), crawl=DEMO_CRAWL_SETTINGS))


def demo_portal_tables(portals) -> list[dict]:
    return [{"id": p.id, "name": p.name, "start_urls": [p.column]} for p in portals]


@click.command("init")
@click.option("--config", "config_path", default="govwatch.toml", show_default=True,
              type=click.Path(dir_okay=False), help="Where to write the configuration (never overwritten).")
@click.option("--demo", "for_demo", is_flag=True, help="Portals: the demo portals that `govwatch demo "
              "--keep-serving` serves, instead of a commented sample portal.")
def init_command(config_path: str, for_demo: bool) -> None:
    """Write a commented govwatch.toml: every key with its default and meaning, alert channel examples and
    a sample portal. An existing file is never overwritten."""
    from crawler.config import ConfigError, init

    portals = crawl = None
    if for_demo:
        from crawler.demo import DEMO_CRAWL_SETTINGS, demo_portals

        portals, crawl = demo_portal_tables(demo_portals()), DEMO_CRAWL_SETTINGS
    try:
        path = init(config_path, portals=portals, crawl=crawl)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if for_demo:
        click.echo(f"wrote {path}: the demo portals (start them with `govwatch demo --keep-serving`), then "
                   f"`govwatch crawl{'' if config_path == 'govwatch.toml' else ' --config ' + config_path}`")
    else:
        click.echo(f"wrote {path}: edit its sample [[portal]] (or add yours), then `govwatch crawl"
                   f"{'' if config_path == 'govwatch.toml' else ' --config ' + config_path}`")
