"""Archive benchmark: what the WARC archive costs a crawl, its size, and re-extraction / import throughput.

    python bench/bench_archive.py [--part crawl|corpus|all] [--pages 300] [--rounds 3] [--n 100000]
                                  [--import-n 10000] [--db PATH]

crawl:  the bench_crawl portal (one TRS column, N detail pages) crawled by the full pipeline with the archive
        on and off, alternating rounds; medians of wall time, pages/s and CPU seconds of the crawl and writer
        processes (RUSAGE_CHILDREN), which the machine's other load moves less than wall time.
corpus: N synthetic reports (bench/synth.py) rendered as TRS detail pages and written to WARC as a crawl
        writes them (write throughput, archive size per 1,000 pages); their documents stored from the
        generator's fields with their pointers (plain INSERTs + dedupe, as bench_corpus's batch path); then
        `reextract` twice: the first run extracts every page and updates what differs from the stored fields
        (an extractor upgrade: the full store path for changed documents), the second finds nothing to
        change (read + extract + compare). Then `import_paths` of the first IMPORT_N pages into fresh
        databases, as one WARC file and as JSON Lines. Figures printed, nothing asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------------------
# crawl: archive on vs off


def bench_crawl(pages: int, rounds: int) -> None:
    from bench_crawl import build_portal

    from crawler.crawl.runner import crawl
    from crawler.demo.server import PortalServer

    portal = build_portal(pages)
    results = {"on": [], "off": []}
    with PortalServer([portal], offsite=False) as server, tempfile.TemporaryDirectory(prefix="govwatch-bench-") as tmp:
        tmp = Path(tmp)
        configs = {}
        for mode in results:
            config = server.write_config(tmp / f"{mode}.toml", download_delay=0, autothrottle=False,
                                         obey_robots=False, concurrency_per_domain=8)
            if mode == "off":
                with open(config, "a", encoding="utf-8") as handle:
                    handle.write('\n[archive]\ndir = "off"\n')
            configs[mode] = config
        print(f"crawl: {len(portal.pages())} list pages + {len(portal.served_items())} detail pages, "
              f"{rounds} rounds alternating archive on/off")
        for n in range(rounds):
            for mode in (("on", "off") if n % 2 == 0 else ("off", "on")):
                db = tmp / f"{mode}-{n}.db"
                server.clear_log()
                cpu0, started = children_cpu(), time.perf_counter()
                summary = crawl(configs[mode], db, timeout=900, log_level="WARNING")
                wall, cpu = time.perf_counter() - started, children_cpu() - cpu0
                fetched = len([r for r in server.requests if r.path != "/robots.txt"])
                if summary.status != "ok":
                    print(f"  crawl {mode} status {summary.status}: {summary.error}", file=sys.stderr)
                archive = tmp / "archive"
                size = sum(f.stat().st_size for f in archive.glob("*.warc.gz")) if mode == "on" else 0
                results[mode].append(dict(wall=wall, cpu=cpu, pages=fetched, rate=fetched / wall))
                print(f"  round {n + 1} archive {mode:3}: {fetched} pages, wall {wall:6.2f} s = {fetched / wall:6.1f} "
                      f"pages/s, CPU {cpu:6.2f} s ({cpu / fetched * 1000:5.2f} ms/page)"
                      + (f", archive now {size / 2**20:.1f} MiB" if mode == "on" else ""))
    med = {mode: {k: statistics.median(r[k] for r in rows) for k in ("wall", "cpu", "rate")}
           for mode, rows in results.items()}
    print(f"median archive on : {med['on']['rate']:6.1f} pages/s, CPU {med['on']['cpu']:.2f} s")
    print(f"median archive off: {med['off']['rate']:6.1f} pages/s, CPU {med['off']['cpu']:.2f} s")
    print(f"archive on / off: {med['on']['rate'] / med['off']['rate']:.2f}x pages/s, "
          f"CPU +{(med['on']['cpu'] - med['off']['cpu']) / pages * 1000:.2f} ms per detail page")


# ---------------------------------------------------------------------------------------------------------
# corpus: WARC size, re-extraction, imports


def pages(n: int):
    """(synthetic doc, its TRS detail page bytes), n of them."""
    import synth

    from crawler.demo.server import Item
    from crawler.demo.sites import SITES, TrsPortal

    portal = TrsPortal("bench", site=SITES["jinghu"], items=[])
    for doc in synth.corpus(n):
        item = Item(title=doc.title, paragraphs=doc.text.split("\n"), published=doc.published_at, source="司法局")
        yield doc, portal.detail_page(item).encode("utf-8")


class Archiving:
    """Writes the n pages to WARC as a crawl does, yielding (document fields, pointer); keeps the figures."""

    def __init__(self, n: int, directory: Path):
        self.n, self.directory = n, directory
        self.write = self.generate = 0.0
        self.raw_bytes = 0
        self.files = 0

    def __iter__(self):
        from crawler.corpus.archive import Exchange, WarcWriter

        writer = WarcWriter(self.directory)
        source = pages(self.n)
        while True:
            t0 = time.perf_counter()
            nxt = next(source, None)
            self.generate += time.perf_counter() - t0
            if nxt is None:
                break
            doc, body = nxt
            self.raw_bytes += len(body)
            t0 = time.perf_counter()
            pointer = writer.write_exchange(Exchange(
                doc.url, 200, [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx"),
                               ("Last-Modified", "Mon, 01 Mar 2021 08:00:00 GMT"), ("ETag", '"5f3a2b"')], body,
                request_headers=[("User-Agent", "govwatch/0.1.0 (+https://github.com/govwatch/govwatch)"),
                                 ("Accept", "text/html,application/xhtml+xml"), ("Accept-Encoding", "gzip, deflate")]))
            self.write += time.perf_counter() - t0
            yield doc.as_doc(), dict(pointer, role="page")
        writer.close()
        self.files = len(writer.files)

    def report(self) -> None:
        size = sum(f.stat().st_size for f in self.directory.glob("*.warc.gz"))
        n = self.n
        print(f"  WARC: {n} pages written in {self.write:.1f} s = {n / self.write:,.0f} pages/s "
              f"({self.write / n * 1000:.2f} ms/page; +{self.generate:.1f} s generating them); {self.files} file(s), "
              f"{size / 2**20:.1f} MiB")
        print(f"  archive size per 1,000 pages: {size / n * 1000 / 2**20:.2f} MiB (pages {self.raw_bytes / n / 1024:.1f} "
              f"KiB each as served; the files are {size / self.raw_bytes:.0%} of that, request records included)")


def store_corpus(db, archived) -> float:
    """Store the documents from the generator's fields with their pointers, 500 per transaction (the time
    spent writing the WARC and generating is not counted)."""
    from crawler.corpus import dedupe
    from crawler.corpus.ingest import record_captures
    from storage import now_iso, transaction

    columns = ("url", "portal_id", "title", "text", "region", "adcode", "report_year", "published_at", "doc_type",
               "source", "attachments", "text_sources", "fetched_at", "first_seen_at", "updated_at")
    sql = f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    elapsed, batch = 0.0, []

    def flush():
        nonlocal elapsed
        t0, now = time.perf_counter(), now_iso()
        with transaction(db):
            for doc, pointer in batch:
                cursor = db.conn.execute(sql, [doc["url"], doc["portal_id"], doc["title"], doc["text"], doc["region"],
                                               doc["adcode"], doc["report_year"], doc["published_at"], doc["doc_type"],
                                               doc["source"], "[]", json.dumps(doc["text_sources"]), now, now, now])
                record_captures(db, cursor.lastrowid, [pointer])
                dedupe.assign_duplicate(db, cursor.lastrowid)
        elapsed += time.perf_counter() - t0
        batch.clear()

    for item in archived:
        batch.append(item)
        if len(batch) == 500:
            flush()
    flush()
    return elapsed


def bench_corpus(n: int, import_n: int, db_path: Path | None) -> None:
    from crawler.corpus.imports import import_paths
    from crawler.corpus.reextract import reextract
    from storage import connect

    work = Path(tempfile.mkdtemp(prefix="govwatch-bench-archive-"))
    db_path = db_path or work / "bench.db"
    archive_dir = db_path.parent / "archive"
    print(f"corpus: {n} synthetic reports as TRS pages -> {archive_dir}")
    db = connect(db_path)
    archiving = Archiving(n, archive_dir)
    elapsed = store_corpus(db, archiving)
    archiving.report()
    print(f"  stored {n} documents with their pointers in {elapsed:.1f} s ({n / elapsed:.0f} docs/s); "
          f"peak RSS {rss_mib():.0f} MiB")
    for label in ("first (extractor upgrade)", "second (nothing to change)"):
        started, last = time.perf_counter(), [0.0]

        def progress(done, started=started, last=last):
            if done % 10_000 == 0:
                now = time.perf_counter() - started
                print(f"    {done:>7} documents: {now:7.1f} s, {done / now:6.0f} docs/s", flush=True)

        summary = reextract(db, archive_dir, progress=progress)
        elapsed = time.perf_counter() - started
        fields = ", ".join(f"{name} {count}" for name, count in summary.fields.most_common())
        print(f"  reextract, {label}: {summary.documents} documents in {elapsed:.1f} s = "
              f"{summary.documents / elapsed:.0f} docs/s; changed {summary.changed} ({fields or 'none'}), "
              f"missing {summary.missing}, failed {summary.failed}; peak RSS {rss_mib():.0f} MiB")
    # imports of the first import_n pages: one WARC file, and JSON Lines
    warc_dir, jsonl = work / "import-warc", work / "pages.jsonl"
    with open(jsonl, "w", encoding="utf-8") as handle:
        for doc, body in pages(import_n):
            handle.write(json.dumps({"url": doc.url, "html": body.decode("utf-8")}, ensure_ascii=False) + "\n")
    for _ in Archiving(import_n, warc_dir):
        pass
    (warc,) = warc_dir.glob("*.warc.gz")
    for label, source in (("WARC", warc), ("JSON Lines", jsonl)):
        target = connect(work / f"import-{label.split()[0].lower()}.db")
        started = time.perf_counter()
        summary = import_paths(target, [source], archive_dir=work / f"archive-{label.split()[0].lower()}")
        elapsed = time.perf_counter() - started
        print(f"  import {label:10}: {summary.documents} documents in {elapsed:.1f} s = "
              f"{summary.documents / elapsed:.0f} docs/s (imported {summary.imported}, duplicates "
              f"{summary.duplicates}, reports {summary.reports}, unreadable {len(summary.unreadable)}, "
              f"archived {summary.archived})")
    print(f"peak RSS {rss_mib():.0f} MiB; files in {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("crawl", "corpus", "all"), default="all")
    parser.add_argument("--pages", type=int, default=300, help="detail pages of the crawl part (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the crawl part, each on and off")
    parser.add_argument("--n", type=int, default=100_000, help="documents of the corpus part (default 100000)")
    parser.add_argument("--import-n", type=int, default=10_000, help="pages imported (default 10000)")
    parser.add_argument("--db", type=Path, default=None, help="database of the corpus part (default: temporary)")
    args = parser.parse_args()
    if args.part in ("crawl", "all"):
        bench_crawl(args.pages, args.rounds)
    if args.part in ("corpus", "all"):
        bench_corpus(args.n, min(args.import_n, args.n), args.db)


if __name__ == "__main__":
    main()
