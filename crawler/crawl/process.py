"""One crawl, in its own process: `python -m crawler.crawl.process --config F --db F [--portal ID]...`.

Twisted's reactor cannot be restarted, so every crawl runs here, started by `crawler.crawl.runner.crawl`. This
process syncs the TOML portals into the registry (`crawler.registry`), records a `crawl_runs` row per
portal, runs Scrapy's `CrawlerProcess` with the column spider, updates `portals` (status, reason, last_crawl_at, baseline_done)
and exits. Progress goes to stdout as JSON lines; Scrapy's log goes to stderr.

Exit codes: 0 the crawl ran (even if portals were blocked or failed), 2 bad config, 3 database error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading

EXIT_CONFIG = 2
EXIT_DB = 3
_out_lock = threading.Lock()


def emit(event: dict) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def start_runs(db, portals) -> dict[str, int]:
    from storage import now_iso, transaction

    run_ids = {}
    with transaction(db):
        for p in portals:
            run_ids[p.id] = db["crawl_runs"].insert({
                "portal_id": p.id, "started_at": now_iso(), "status": "running", "pid": os.getpid(),
            }).last_pk
    return run_ids


def finish_runs(db, run_ids: dict[str, int], stats_by_portal: dict, close_reason: str) -> None:
    from storage import now_iso, transaction

    now = now_iso()
    with transaction(db):
        for pid, run_id in run_ids.items():
            stats = stats_by_portal.get(pid)
            status = stats.status if stats else "error"
            reason = stats.reason if stats else "crawl did not start"
            if close_reason not in ("finished",) and status in ("ok", "running"):
                status, reason = "killed", f"crawl stopped: {close_reason}"
            db["crawl_runs"].update(run_id, {
                "finished_at": now, "status": status, "reason": reason,
                "requests": stats.requests if stats else 0, "pages": stats.pages if stats else 0,
                "new_documents": stats.documents if stats else 0, "new_reports": stats.reports if stats else 0,
                "errors": stats.errors if stats else 0,
            })
            portal_status = status if status in ("ok", "blocked", "error") else "error"
            update = {"status": portal_status, "reason": reason, "last_crawl_at": now, "last_run_id": run_id,
                      "updated_at": now}
            if status == "ok":
                update["baseline_done"] = 1
            db["portals"].update(pid, update)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.crawl.process", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--portal", action="append", default=[])
    parser.add_argument("--log-level", default=os.environ.get("GOVWATCH_LOG_LEVEL", "INFO"))
    parser.add_argument("--set", action="append", default=[], help="Scrapy setting override NAME=VALUE")
    args = parser.parse_args(argv)

    from crawler.config import ConfigError, load_config
    from crawler.registry import RegistryError, select_portals, sync_config
    from storage import DatabaseError, connect

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        emit({"event": "error", "kind": "config", "message": str(exc)})
        print(f"govwatch crawl: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        db = connect(args.db)
        sync_config(db, config)  # the TOML entries into the registry (crawler.registry)
        portals = select_portals(db, config, args.portal)
    except RegistryError as exc:  # an unknown --portal id
        emit({"event": "error", "kind": "config", "message": str(exc)})
        print(f"govwatch crawl: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (DatabaseError, Exception) as exc:  # noqa: BLE001 - sqlite3 errors on a read-only file etc.
        emit({"event": "error", "kind": "database", "message": str(exc)})
        print(f"govwatch crawl: database {args.db}: {exc}", file=sys.stderr)
        return EXIT_DB
    if not portals:
        emit({"event": "error", "kind": "config", "message": f"{args.config}: no portals: add [[portal]] "
              "entries, or run `govwatch portals add|import`"})
        return EXIT_CONFIG
    try:
        run_ids = start_runs(db, portals)
    except (DatabaseError, Exception) as exc:  # noqa: BLE001 - sqlite3 errors on a read-only file etc.
        emit({"event": "error", "kind": "database", "message": str(exc)})
        print(f"govwatch crawl: database {args.db}: {exc}", file=sys.stderr)
        return EXIT_DB
    for p in portals:
        emit({"event": "start", "portal": p.id, "run_id": run_ids[p.id], "pid": os.getpid()})

    from crawler.middlewares import use_bundled_suffix_list
    from crawler.settings import build_settings

    use_bundled_suffix_list()
    from scrapy.crawler import CrawlerProcess

    from spiders.column import ColumnSpider

    overrides = {"LOG_LEVEL": args.log_level}
    for pair in args.set:
        name, _, value = pair.partition("=")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    settings = build_settings(config, db_path=args.db, overrides=overrides)
    process = CrawlerProcess(settings=settings)
    crawler = process.create_crawler(ColumnSpider)
    close = {"reason": "finished"}

    def closed(spider, reason):
        close["reason"] = reason

    from scrapy import signals

    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, config=str(args.config), portals=[p.id for p in portals], db=str(args.db),
                  run_ids=run_ids, progress=emit)
    try:
        process.start()
    finally:
        spider = crawler.spider
        stats = getattr(spider, "stats_by_portal", {}) if spider is not None else {}
        finish_runs(db, run_ids, stats, close["reason"])
        for p in portals:
            s = stats.get(p.id)
            event = {"event": "done", "portal": p.id, "run_id": run_ids[p.id]}
            if s is not None:
                event.update(s.as_dict())
            else:
                event.update(status="error", reason="crawl did not start")
            emit(event)
        db.conn.close()
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
