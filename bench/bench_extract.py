"""Throughput of crawler.extract vs trafilatura.extract(favor_precision=True) on the same pages.

Pages: the 25 generated fixture pages (tests/fixtures/build_pages.py, written to a temporary directory) plus the
real pages in ../shared/realpages when present.  Both extractors get the raw bytes, several rounds, same
process, after one warm-up pass; crawler.extract's per-line caches are cleared before every round, so no
round reuses what an earlier pass learnt about the same pages.  Usage: python bench/bench_extract.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

try:
    import trafilatura  # noqa: E402
except ImportError as exc:  # e.g. justext needs lxml_html_clean with lxml>=5.2
    trafilatura = None
    TRAFILATURA_ERROR = f"{type(exc).__name__}: {exc}".replace("\n", " ")

from helpers import load_build_pages, realpage_files, resolve_extract  # noqa: E402

from crawler import extract as _extract  # noqa: E402
from crawler.extract import clear_caches  # noqa: E402

extract = resolve_extract(_extract)


def load_pages() -> list[tuple[str, bytes]]:
    bp = load_build_pages()
    with tempfile.TemporaryDirectory() as tmp:
        man = bp.write_pages(tmp)
        pages = [(m["name"], (Path(tmp) / m["file"]).read_bytes()) for m in man]
    pages += [(p.stem, p.read_bytes()) for p in realpage_files()]
    return pages


def run(fn, pages, rounds: int, reset=lambda: None) -> tuple[float, int]:
    errors = 0
    for _, content in pages:  # warm-up (imports, caches, lazy tables)
        try:
            fn(content)
        except Exception:
            errors += 1
    elapsed = 0.0
    for _ in range(rounds):
        reset()
        t0 = time.perf_counter()
        for _, content in pages:
            try:
                fn(content)
            except Exception:
                pass
        elapsed += time.perf_counter() - t0
    return elapsed, errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    pages = load_pages()
    n = len(pages) * args.rounds
    size = sum(len(c) for _, c in pages)
    print(f"{len(pages)} pages ({size / 1024:.0f} KiB), {args.rounds} rounds = {n} extractions each")

    ours_t, ours_err = run(lambda c: extract(c), pages, args.rounds, reset=clear_caches)
    ours_rate = n / ours_t
    print(f"crawler.extract      {ours_rate:8.1f} docs/s  ({ours_t:.2f}s, {ours_err} pages raised)")
    if ours_err:
        print(f"WARNING: crawler.extract raised on {ours_err}/{len(pages)} pages: its rate is not meaningful")
    if trafilatura is None:
        print(f"trafilatura.extract  unavailable: {TRAFILATURA_ERROR}")
        print("ratio crawler/trafilatura = n/a (install lxml_html_clean to compare)")
        return 1
    traf_t, traf_err = run(lambda c: trafilatura.extract(c, favor_precision=True), pages, args.rounds)
    traf_rate = n / traf_t
    print(f"trafilatura.extract  {traf_rate:8.1f} docs/s  ({traf_t:.2f}s, {traf_err} pages raised)")
    print(f"ratio crawler/trafilatura = {ours_rate / traf_rate:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
