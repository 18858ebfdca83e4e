"""Typing figures on the synthetic text dumps of tests/fixtures/typing_pages.py (figures printed, not timed).

    python bench/bench_typing.py [--seed N] [--per-kind N] [--show-misses]

Every case is rendered in each shape (titled, body only, a generic/breadcrumb line instead of the title, a
spam mirror's mangled copy, the body flattened onto one line) and run through crawler.extract.extract.  Per
shape: doc_type accuracy over all pages, report_year accuracy over all pages (an annual report's year right,
None for anything else) and over the annual reports alone, false reports (a look-alike typed annual_report)
and missed reports (an annual report typed otherwise).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures"))

import typing_pages  # noqa: E402

from crawler.extract import extract  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--per-kind", type=int, default=6)
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    cases = typing_pages.cases(args.seed, args.per_kind)
    n_reports = sum(c.doc_type == "annual_report" for c in cases)
    print(f"{len(cases)} cases: {n_reports} annual reports, {len(cases) - n_reports} look-alikes")
    print(f"{'shape':<9} {'doc_type':>9} {'year':>9} {'year(rep)':>9} {'false rep':>9} {'missed':>9}")
    for shape in typing_pages.SHAPES:
        right_type = right_year = report_year = false_rep = missed = 0
        wrong = Counter()
        for case in cases:
            rec = extract(typing_pages.dump(case, shape))
            right_type += rec.doc_type == case.doc_type
            right_year += rec.report_year == case.year
            report_year += case.doc_type == "annual_report" and rec.report_year == case.year
            if rec.doc_type == "annual_report" and case.doc_type != "annual_report":
                false_rep += 1
            if case.doc_type == "annual_report" and rec.doc_type != "annual_report":
                missed += 1
            if rec.doc_type != case.doc_type or rec.report_year != case.year:
                wrong[(case.kind, case.doc_type, rec.doc_type)] += 1
                if args.show_misses:
                    print(f"  {shape} {case.name}: {rec.doc_type}/{rec.report_year} (want {case.doc_type}/{case.year})"
                          f" title={rec.title!r}")
        n = len(cases)
        print(f"{shape:<9} {right_type / n:>8.1%} {right_year / n:>8.1%} {report_year / n_reports:>8.1%}"
              f" {false_rep:>9} {missed:>9}")
        if args.show_misses:
            for (kind, want, got), k in wrong.most_common():
                print(f"    {kind}: want {want}, got {got} x{k}")


if __name__ == "__main__":
    main()
