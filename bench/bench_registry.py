"""Registry benchmark at national scale: one portal per region of the division data (3,214 rows).

    python bench/bench_registry.py [--rounds 5]

Prints, for the operations every process pays (medians over rounds, min-max beside them): a bulk import of
all rows (no discovery), `load_portals`, `select_portals` of one id, `sync_config` with 0 and with 100 TOML
entries, `registry_stamp`, and `coverage` + `totals` over the whole tree. Figures, not timed tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.config import parse_config  # noqa: E402
from crawler.extract.regions import divisions  # noqa: E402
from crawler.monitor.coverage import coverage, totals  # noqa: E402
from crawler.registry import (  # noqa: E402
    import_portals, load_portals, registry_stamp, select_portals, sync_config,
)
from storage import connect  # noqa: E402


def rows() -> list[tuple[int, dict]]:
    return [(n, {"adcode": d.code, "home": f"http://127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}:8000/"})
            for n, d in enumerate(divisions(), start=2)]


def toml(count: int) -> str:
    return "\n".join(f'[[portal]]\nid = "hand{n}"\nstart_urls = ["http://10.0.{n // 256}.{n % 256}/c/"]\n'
                     for n in range(count))


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govwatch-bench-registry-") as tmp:
        all_rows = rows()
        imports = []
        for n in range(args.rounds):
            db = connect(Path(tmp) / f"import{n}.db")
            started = time.perf_counter()
            report = import_portals(db, all_rows, source="all.csv")
            imports.append((time.perf_counter() - started) * 1000)
            assert report.ok, report.summary()
            db.conn.close()
        db = connect(Path(tmp) / "import0.db")
        config_0, config_100 = parse_config("", "none.toml"), parse_config(toml(100), "hand.toml")
        sync_config(db, config_100)
        figures = {
            f"import {len(all_rows)} rows (no discovery)": imports,
            "load_portals": timed(lambda: load_portals(db, config_100), args.rounds),
            "select_portals (one id)": timed(lambda: select_portals(db, config_100, ["340202"]), args.rounds),
            "sync_config, 100 TOML entries, unchanged": timed(lambda: sync_config(db, config_100), args.rounds),
            "registry_stamp": timed(lambda: registry_stamp(db), args.rounds),
            "coverage + totals, whole tree, 1 year": timed(lambda: totals(coverage(db, config_100, year=2023)),
                                                          args.rounds),
        }
        sync_config(db, config_0)
        figures["sync_config, 0 entries (100 rows removed, then none)"] = timed(
            lambda: sync_config(db, config_0), args.rounds)
        print(f"registry of {len(load_portals(db))} portals, {args.rounds} rounds")
        width = max(map(len, figures))
        for name, values in figures.items():
            print(f"  {name:<{width}}  median {statistics.median(values):8.1f} ms   "
                  f"({min(values):.1f}-{max(values):.1f})")


if __name__ == "__main__":
    main()
