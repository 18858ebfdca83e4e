"""Dashboard pages at national scale: the registry of 3,214 portals (one per region) and a synthetic corpus.

    python bench/bench_dashboard.py [--docs 5000] [--rounds 5]

Builds the database (import of every region, half of the portals marked crawled; `--docs` synthetic reports
from bench/synth.py), then times each page through Datasette's in-process client (the whole request: SQL,
Python, template), beside the Python function the page calls, so the page's own cost shows. Medians over
rounds with min-max. Figures, not timed tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry import rows  # noqa: E402
from synth import corpus  # noqa: E402

from crawler.corpus.ingest import store_document  # noqa: E402
from crawler.corpus.search import search  # noqa: E402
from crawler.crawl.status import status  # noqa: E402
from crawler.dashboard import dashboard  # noqa: E402
from crawler.monitor.coverage import coverage, default_year, totals  # noqa: E402
from crawler.registry import import_portals  # noqa: E402
from storage import connect  # noqa: E402

QUERY = "营商环境"


def build(path: Path, docs: int) -> None:
    db = connect(path)
    report = import_portals(db, rows(), source="all.csv")
    assert report.ok, report.summary()
    db.execute("UPDATE portals SET status = 'ok', baseline_done = 1, last_crawl_at = '2026-05-01T00:00:00+00:00' "
               "WHERE CAST(id AS INTEGER) % 2 = 0")
    started = time.perf_counter()
    for doc in corpus(docs):
        store_document(db, doc.as_doc())
    print(f"built: {report.summary()}; {docs} documents stored in {time.perf_counter() - started:.0f} s")
    db.conn.close()


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govwatch-bench-dashboard-") as tmp:
        path = Path(tmp) / "govwatch.db"
        build(path, args.docs)
        db = connect(path)
        year = default_year()
        ds = dashboard(path)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(ds.invoke_startup())

        def get(url: str):
            def fetch():
                response = loop.run_until_complete(ds.client.get(url))
                assert response.status_code == 200, (url, response.status_code, response.text[:300])
                fetch.size = len(response.content)
            return fetch

        pages = [
            ("/ (home)", "/", None),
            (f"/-/coverage (country, {year})", f"/-/coverage?year={year}",
             ("coverage + totals", lambda: totals(coverage(db, None, years=[year])))),
            ("/-/coverage?province=安徽省 (3 years)", "/-/coverage?province=" + quote("安徽省"),
             ("coverage, 3 years, 1 province",
              lambda: coverage(db, None, years=[year - 2, year - 1, year], province="安徽省"))),
            ("/-/overdue", "/-/overdue", None),
            ("/-/portals (every portal)", "/-/portals", ("status()", lambda: status(db))),
            (f"/-/search?q={QUERY}", "/-/search?q=" + quote(QUERY),
             ("govwatch search, limit 100", lambda: search(db, QUERY, limit=100))),
            (f"/govwatch/search.json?q={QUERY}", "/govwatch/search.json?q=" + quote(QUERY), None),
            ("/govwatch/latest_reports", "/govwatch/latest_reports", None),
            ("/govwatch/new_reports.atom", "/govwatch/new_reports.atom", None),
            ("/-/document/1", "/-/document/1", None),
        ]
        print(f"{args.docs} documents, {db.execute('SELECT COUNT(*) FROM portals').fetchone()[0]} portals, "
              f"{args.rounds} rounds; ms, median (min-max)")
        for name, url, direct in pages:
            fetch = get(url)
            fetch()  # warm: the segmenter, the page cache
            page = timed(fetch, args.rounds)
            line = f"{name:<44} page {_figure(page)}  {fetch.size / 1024:7.0f} KiB"
            if direct:
                label, fn = direct
                fn()
                line += f"   | {label}: {_figure(timed(fn, args.rounds))}"
            print(line)
        loop.close()


def _figure(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} ({min(values):.0f}-{max(values):.0f})"


if __name__ == "__main__":
    main()
