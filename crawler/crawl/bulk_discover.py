"""Column discovery for many portals at once (`govwatch portals import`): one process, a bounded pool of
worker threads over `crawler.crawl.discover.discover`, each portal's discovery bounded by a deadline.

    outcomes = discover_columns([("340000", "http://www.ah.gov.cn/"), ...], settings=config.crawl)
    outcomes["340000"] -> DiscoveryOutcome(status="found", columns=(...), score=100.0)

It implements `crawler.registry.discovery.DiscoverColumns`. Every portal is its own host and is visited by one
worker at a time with the configured delay between its requests, so politeness per host is that of
`discover()`; the pool only decides how many hosts are visited at once. A home page that answers too slowly
costs its own deadline, never the others' (its thread is abandoned; threads are daemons, so an abandoned
one cannot keep the process alive).

To be replaced by the column spider's discovery-only mode (Scrapy requests: robots.txt middleware, host
rules, retries and block detection of a crawl) once it lands: the interface stays.
"""

from __future__ import annotations

import queue
import re
import threading
import time

from crawler.config import CrawlSettings
from crawler.registry.discovery import DiscoveryOutcome, OnOutcome

DEFAULT_WORKERS = 8
DEFAULT_DEADLINE = 120.0  # seconds for one portal's whole discovery (home page + up to 19 pages below it)
_BLOCK_STATUS = re.compile(r"\bHTTP (412|521)\b")


def classify(error: str) -> DiscoveryOutcome:
    """The outcome of a home page that could not be fetched: 412/521 are the anti-bot walls (瑞数, 加速乐)."""
    match = _BLOCK_STATUS.search(error)
    if match:
        wall = {"412": "412 anti-bot challenge (瑞数-style)", "521": "521 anti-bot challenge (加速乐-style)"}
        return DiscoveryOutcome("blocked", reason=f"{wall[match.group(1)]}: {error}")
    return DiscoveryOutcome("unreachable", reason=error)


def discover_one(home: str, *, settings: CrawlSettings, page_timeout: float, delay: float | None) -> DiscoveryOutcome:
    from crawler.crawl.discover import DiscoverError, best_columns, discover

    try:
        candidates = discover(home, user_agent=settings.user_agent, obey_robots=settings.obey_robots,
                              delay=settings.download_delay if delay is None else delay, timeout=page_timeout)
    except DiscoverError as exc:
        return classify(str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken site must not end the batch
        return DiscoveryOutcome("unreachable", reason=f"{type(exc).__name__}: {exc}"[:300])
    columns = best_columns(candidates)
    if not columns:
        return DiscoveryOutcome("none", reason=f"no 法治政府建设 column found from {home}")
    return DiscoveryOutcome("found", columns=tuple(columns), score=candidates[0].score)


def discover_columns(targets: list[tuple[str, str]], *, on_outcome: OnOutcome | None = None,
                     settings: CrawlSettings | None = None, workers: int = DEFAULT_WORKERS,
                     deadline: float = DEFAULT_DEADLINE, page_timeout: float = 20.0,
                     delay: float | None = None) -> dict[str, DiscoveryOutcome]:
    """Discover the column of every `(portal id, home URL)`; returns {portal id: outcome}. `on_outcome` is
    called (in the calling thread) as each portal is decided."""
    settings = settings or CrawlSettings()
    todo: queue.Queue = queue.Queue()
    for target in targets:
        todo.put(target)
    done: queue.Queue = queue.Queue()
    started: dict[str, float] = {}
    guard = threading.Lock()

    def work() -> None:
        while True:
            try:
                portal_id, home = todo.get_nowait()
            except queue.Empty:
                return
            with guard:
                started[portal_id] = time.monotonic()
            outcome = discover_one(home, settings=settings, page_timeout=page_timeout, delay=delay)
            done.put((portal_id, outcome))

    def spawn() -> None:
        threading.Thread(target=work, name="discover", daemon=True).start()

    expected = {portal_id for portal_id, _ in targets}
    for _ in range(max(1, min(workers, len(expected)))):
        spawn()
    outcomes: dict[str, DiscoveryOutcome] = {}

    def decide(portal_id: str, outcome: DiscoveryOutcome) -> None:
        if portal_id in outcomes:
            return  # a late answer of a portal already given up on
        outcomes[portal_id] = outcome
        if on_outcome is not None:
            on_outcome(portal_id, outcome)

    while len(outcomes) < len(expected):
        try:
            portal_id, outcome = done.get(timeout=0.5)
            decide(portal_id, outcome)
        except queue.Empty:
            pass
        now = time.monotonic()
        with guard:
            overdue = [pid for pid, at in started.items() if now - at > deadline and pid not in outcomes]
        for portal_id in overdue:
            decide(portal_id, DiscoveryOutcome(
                "unreachable", reason=f"discovery did not finish within {deadline:g} s"))
            spawn()  # the stuck worker is abandoned; the rest of the queue still gets its share of workers
    return outcomes
