"""One crawl, in its own process: `python -m crawler.crawl.process --config F --db F [--portal ID]...`.

Twisted's reactor cannot be restarted, so `crawler.crawl.runner.crawl` starts every crawl here. This is a thin
runner of the column spider, as `scrapy crawl column -a config=F -a db=F` is: the spider applies the config's
`[crawl]` settings itself and the run bookkeeping extension (`crawler.crawl.runs`) writes `portals` and
`crawl_runs`. What this runner adds: the portal config checked before Scrapy starts, progress as JSON lines
on stdout (the spider's and the bookkeeping's events), `--set NAME=VALUE` at Scrapy's command-line priority
(above the config's), the signal that stopped a crawl, and `--parent-pid`: the crawl dies with its runner.
Scrapy's log goes to stderr.

Exit codes: 0 the crawl ran (even if portals were blocked or failed), 2 bad config, 3 database error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

EXIT_CONFIG = 2
EXIT_DB = 3
_out_lock = threading.Lock()


def emit(event: dict) -> None:
    with _out_lock:
        try:
            sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        except OSError:  # the runner is gone (this process is stopping): nobody reads progress any more
            pass


def _settings(overrides: list[str], log_level: str, log_file: str | None):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    values = {"LOG_LEVEL": log_level}
    if log_file:
        values["GOVWATCH_LOG_FILE"] = log_file  # recorded in crawl_runs; the runner writes stderr there
    for pair in overrides:
        name, _, value = pair.partition("=")
        try:
            values[name] = json.loads(value)
        except ValueError:
            values[name] = value
    settings.setdict(values, priority="cmdline")
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.crawl.process", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--portal", action="append", default=[])
    parser.add_argument("--log-level", default=os.environ.get("GOVWATCH_LOG_LEVEL", "INFO"))
    parser.add_argument("--log-file", default=None, help="where the runner keeps this crawl's log (recorded)")
    parser.add_argument("--set", action="append", default=[], help="Scrapy setting override NAME=VALUE")
    parser.add_argument("--parent-pid", type=int, default=None, help="die with this process (the runner)")
    args = parser.parse_args(argv)
    if args.parent_pid:
        from crawler.crawl.lifeline import die_with_parent

        # SIGTERM: Scrapy stops gracefully and the runs are closed as killed; SIGKILL if that takes 20 s
        die_with_parent(args.parent_pid, signal.SIGTERM)

    from crawler.config import ConfigError, load_config
    from crawler.registry import RegistryError, select_portals, sync_config
    from storage import DatabaseError, connect

    try:
        config = load_config(args.config, check_channels=False)  # the parent checked them; Apprise costs ~1 s
    except ConfigError as exc:
        emit({"event": "error", "kind": "config", "message": str(exc)})
        print(f"govwatch crawl: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        db = connect(args.db)  # created and migrated before Scrapy starts
        try:
            sync_config(db, config)  # the TOML entries into the registry (crawler.registry)
            portals = select_portals(db, config, args.portal)
        finally:
            db.conn.close()
    except RegistryError as exc:  # an unknown --portal id
        emit({"event": "error", "kind": "config", "message": str(exc)})
        print(f"govwatch crawl: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (DatabaseError, Exception) as exc:  # noqa: BLE001 - sqlite3 errors on a read-only file etc.
        emit({"event": "error", "kind": "database", "message": str(exc)})
        print(f"govwatch crawl: {exc}", file=sys.stderr)
        return EXIT_DB
    if not portals:
        emit({"event": "error", "kind": "config", "message": f"{args.config}: no portals: add [[portal]] "
              "entries, or run `govwatch portals add|import`"})
        return EXIT_CONFIG

    from scrapy.crawler import CrawlerProcess

    from crawler.crawl.runs import BOOKKEEPING_ERROR
    from spiders.column import ColumnSpider

    class Process(CrawlerProcess):
        def _signal_shutdown(self, signum, frame):  # Scrapy's graceful stop; the runs say which signal
            for crawler in self.crawlers:
                crawler.stop_signal = signal.Signals(signum).name
            super()._signal_shutdown(signum, frame)

    done: set[str] = set()

    def progress(event: dict) -> None:
        if event.get("event") == "done":
            done.add(event.get("portal"))
        emit(event)

    process = Process(settings=_settings(args.set, args.log_level, args.log_file))
    crawler = process.create_crawler(ColumnSpider)
    process.crawl(crawler, config=str(args.config), portals=[p.id for p in portals], db=str(args.db),
                  progress=progress)
    process.start()
    spider = crawler.spider
    failure = crawler.stats.get_value(BOOKKEEPING_ERROR) if crawler.stats else None
    if failure:
        emit({"event": "error", "kind": "database", "message": failure})
        return EXIT_DB
    for p in portals:
        if p.id not in done:
            emit({"event": "done", "portal": p.id, "status": "error",
                  "reason": "crawl did not start (see the crawl log)"})
    if spider is not None and spider.db is not None:
        spider.db.conn.close()
    return 0


def exit_now(code: int) -> None:
    """Exit after the atexit handlers (logging, multiprocessing) but without the interpreter's teardown,
    which frees every module and object one by one: ~0.17 s of a crawl process's life, for nothing, since
    the process ends here and its databases are closed."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
