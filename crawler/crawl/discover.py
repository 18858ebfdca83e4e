"""Column discovery for portals known only by their home page: one crawl of the column spider in its
discovery-only mode, for any number of portals at once (Scrapy crawls the home pages side by side, each under
robots.txt, the portal's own sites, politeness, retries and block detection, each within its own deadline).
The ranking itself is `spiders.discovery` (pure functions over the fetched pages).

    results = discover_portals([("wuhu", "https://www.wuhu.gov.cn/"), ...], config="govwatch.toml")
    results["wuhu"].status      # found | none | unreachable | blocked
    results["wuhu"].columns, results["wuhu"].score, results["wuhu"].candidates, results["wuhu"].reason

    discover("https://www.example.gov.cn/")   # [Candidate, ...] best first; DiscoverError if unreachable/blocked

    python -m crawler.crawl.discover --homes homes.jsonl [--config govwatch.toml] [--set NAME=VALUE]
        (homes.jsonl: {"id": ..., "home": ...} per line; prints one JSON line per portal)

Like every crawl it runs in its own process: Twisted's reactor cannot be restarted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from spiders.discovery import BLOCKED, FOUND, UNREACHABLE, Candidate, DiscoveryResult, best_columns

__all__ = ["Candidate", "DiscoverError", "DiscoveryResult", "best_columns", "discover", "discover_portals"]

REPO_ROOT = Path(__file__).resolve().parents[2]


class DiscoverError(RuntimeError):
    """The home page could not be fetched (network error, HTTP error, robots.txt, blocked); says why."""


def discover_portals(homes, *, config: str | os.PathLike | None = None, per_portal_timeout: float | None = None,
                     timeout: float | None = None, settings: dict | None = None, progress=None,
                     log_level: str = "WARNING") -> dict[str, DiscoveryResult]:
    """Discover the column of every (portal id, home URL) in `homes` in one crawl process.

    `config` (a file) supplies the [crawl] settings (User-Agent, robots.txt, delays; defaults without one;
    `settings` are Scrapy settings over them, e.g. `crawler.settings.config_settings(config)` of a Config);
    `per_portal_timeout` is each portal's discovery deadline (default 60 s, GOVWATCH_DISCOVERY_TIMEOUT);
    `timeout` kills the whole crawl (default: generous for the number of portals), the portals left then
    being `unreachable`. `progress(result)` gets each DiscoveryResult as it is decided, in this thread."""
    rows = [{"id": pid, "home": url} for pid, url in (homes.items() if isinstance(homes, dict) else homes)]
    if not rows:
        return {}
    overrides = dict(settings or {})
    if per_portal_timeout is not None:
        overrides["GOVWATCH_DISCOVERY_TIMEOUT"] = float(per_portal_timeout)
    deadline = float(overrides.get("GOVWATCH_DISCOVERY_TIMEOUT", 60.0))
    if timeout is None:
        # a backstop only: every portal's result is reported by its deadline, measured from its home request,
        # and about CONCURRENT_REQUESTS / 2 portals are under way at once (2 requests per host); what is
        # still downloading past that (a trickling robots.txt) is cut with the process
        waves = math.ceil(2 * len(rows) / int(overrides.get("CONCURRENT_REQUESTS", 16)))
        timeout = 30 + deadline * max(1, waves)
    results: dict[str, DiscoveryResult] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as handle:
        handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    cmd = [sys.executable, "-m", "crawler.crawl.discover", "--homes", handle.name, "--log-level", log_level]
    if config is not None:
        cmd += ["--config", str(config)]
    for name, value in overrides.items():
        cmd += ["--set", f"{name}={json.dumps(value)}"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    log = tempfile.TemporaryFile()
    decided: queue.Queue = queue.Queue()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env)

        def read() -> None:
            for line in proc.stdout:
                try:
                    decided.put(DiscoveryResult.from_dict(json.loads(line)))
                except (ValueError, TypeError, KeyError):
                    continue
            decided.put(None)

        threading.Thread(target=read, name="discovery-results", daemon=True).start()
        ends = time.monotonic() + timeout
        while True:  # results are handed to `progress` in the caller's thread, as they come
            try:
                result = decided.get(timeout=max(0.0, min(0.5, ends - time.monotonic())))
            except queue.Empty:
                if time.monotonic() >= ends:
                    proc.kill()
                    break
                continue
            if result is None:
                break
            results[result.portal] = result
            if progress is not None:
                progress(result)
        proc.wait()
        if proc.returncode not in (0, None) and not results:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace").strip().splitlines()
            raise DiscoverError(f"the discovery crawl failed: {tail[-1] if tail else proc.returncode}")
    finally:
        log.close()
        os.unlink(handle.name)
    for row in rows:
        results.setdefault(row["id"], DiscoveryResult(row["id"], row["home"], UNREACHABLE,
                                                      reason=f"the discovery crawl ended first ({timeout:g} s)"))
    return {row["id"]: results[row["id"]] for row in rows}


def discover(url: str, *, config: str | os.PathLike | None = None, timeout: float | None = None,
             settings: dict | None = None) -> list[Candidate]:
    """Candidate 法治政府建设 columns reachable from the home page `url`, best first (empty: none found).
    Raises DiscoverError when the home page cannot be fetched or the portal is blocked."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DiscoverError(f"{url}: not an http(s) URL")
    result = discover_portals([("home", url)], config=config, per_portal_timeout=timeout,
                              settings=settings)["home"]
    if result.status == UNREACHABLE:
        raise DiscoverError(result.reason)
    if result.status == BLOCKED:
        raise DiscoverError(f"{url} is blocked: {result.reason}")
    return result.candidates if result.status == FOUND else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.crawl.discover", description=__doc__.split("\n")[0])
    parser.add_argument("--homes", required=True, help="JSON Lines file of {id, home}")
    parser.add_argument("--config")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--set", action="append", default=[], help="Scrapy setting override NAME=VALUE")
    args = parser.parse_args(argv)

    from crawler.config import Config, ConfigError, load_config

    try:
        config = load_config(args.config, check_channels=False) if args.config else Config()
    except ConfigError as exc:
        print(f"govwatch discover: {exc}", file=sys.stderr)
        return 2
    from scrapy.crawler import CrawlerProcess

    from crawler.middlewares import use_bundled_suffix_list
    from crawler.settings import build_settings
    from spiders.column import ColumnSpider

    use_bundled_suffix_list()
    overrides = {"LOG_LEVEL": args.log_level, "ITEM_PIPELINES": {}}
    for pair in args.set:
        name, _, value = pair.partition("=")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    settings = build_settings(config, overrides=overrides)
    # robots.txt and every page of a discovery are bounded by its deadline, and a survey retries once (a down
    # host's robots.txt would otherwise be retried with backoff before its home page is even asked for)
    settings["DOWNLOAD_TIMEOUT"] = min(settings["DOWNLOAD_TIMEOUT"], float(settings["GOVWATCH_DISCOVERY_TIMEOUT"]))
    settings["RETRY_TIMES"] = min(settings["RETRY_TIMES"], 1)
    lock = threading.Lock()

    def emit(event: dict) -> None:
        if event.get("event") == "discovered":
            with lock:
                sys.stdout.write(json.dumps({k: v for k, v in event.items() if k != "event"},
                                            ensure_ascii=False) + "\n")
                sys.stdout.flush()

    process = CrawlerProcess(settings=settings)
    process.crawl(ColumnSpider, mode="discover", homes=args.homes, config=args.config, progress=emit)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
