"""Corpus benchmark: dedupe inserts, search latency, export throughput (figures printed, not timed tests).

    python bench/bench_corpus.py [--n 100000] [--db PATH] [--fts inline|off] [--path batch|store]

Insert path:
  --path batch (default): plain INSERTs of the document rows in transactions of 500, and for each row the
      same `crawler.corpus.dedupe.assign_duplicate` that `store_document` calls inside its transaction (so the
      alerts hook and sqlite-utils' per-call overhead are not measured);
  --path store: `crawler.corpus.ingest.store_document` per document (one transaction each, alerts hook included).
Full-text index (the documents_fts triggers call govwatch_segment = jieba search-mode through rjieba,
~0.9 ms per 6k-character document):
  --fts inline (default): the real trigger function;
  --fts off: the trigger gets a trivial tokeniser (measures dedupe + SQLite writes alone; search figures are
      then meaningless and skipped).
The synthetic documents are generated while inserting (holding 100k of them would inflate the memory
figure); the time spent generating them is measured and reported apart from the insert time.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402

from crawler import minhash as mh  # noqa: E402
from crawler.corpus import dedupe  # noqa: E402
from storage import connect, now_iso, transaction  # noqa: E402

QUERIES = ["营商环境", "行政复议", "复议", "营商", "法治政府建设", "行政执法", "依法行政", "重大行政决策",
           "公共法律服务", "普法", "行政诉讼", "规范性文件", "法律顾问", "信访", "放管服", "执法监督",
           "\"行政复议 决定\"", "西湖区", "2021年", "矛盾纠纷 化解"]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed_table() -> None:
    """The similarity distribution behind the default threshold (seed perturbations)."""
    seeds = synth.load_seeds()
    rng = random.Random(0)
    cases = {"must merge": {}, "must not merge": {}}
    for s in seeds:
        t = s["text"]
        for name, copy in [("dates changed", synth.changed_dates(t, rng)),
                           ("one paragraph edited", synth.edited_paragraph(t, rng)),
                           ("chrome added", synth.with_chrome(t, s)), ("traditional", synth.traditional(t)),
                           ("all + traditional", synth.traditional(synth.repost(t, s, rng)))]:
            cases["must merge"].setdefault(name, []).append(mh.similarity(mh.signature(t), mh.signature(copy)))
        cases["must not merge"].setdefault("same region next year", []).append(
            mh.similarity(mh.signature(t), mh.signature(synth.next_year_report(s, seeds))))
        for o in seeds:
            if o is not s:
                cases["must not merge"].setdefault("other body, same region+year", []).append(
                    mh.similarity(mh.signature(t), mh.signature(synth.same_region_other_report(o, s))))
    print("seed perturbations: estimated Jaccard (MinHash, 5-grams)   min    max")
    for verdict, rows in cases.items():
        print(f"  {verdict}")
        for name, sims in rows.items():
            print(f"    {name:32s} {min(sims):.3f}  {max(sims):.3f}")
    print(f"  default threshold: {dedupe.DEFAULT_THRESHOLD}")


def insert(db, n: int, *, path: str, fts: str, batch: int = 500):
    truth: dict[int, int] = {}  # document id -> ground-truth group
    kinds: dict[int, str] = {}
    if fts == "off":
        db.conn.create_function("govwatch_segment", 1, lambda t: (t or "")[:16], deterministic=True)
    checkpoints = {n // 10, n // 2, n}
    start = time.perf_counter()
    dedupe_time = generate_time = 0.0
    docs = synth.corpus(n)

    def generated():
        nonlocal generate_time
        while True:
            t0 = time.perf_counter()
            doc = next(docs, None)
            generate_time += time.perf_counter() - t0
            if doc is None:
                return
            yield doc
    columns = ("url", "portal_id", "title", "text", "region", "adcode", "report_year", "published_at",
               "doc_type", "source", "attachments", "text_sources", "content_hash", "fetched_at",
               "first_seen_at", "updated_at")
    sql = f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    count = 0
    pending = []

    def flush():
        nonlocal dedupe_time
        if path == "store":
            from crawler.corpus.ingest import store_document

            for doc in pending:
                t0 = time.perf_counter()
                result = store_document(db, doc.as_doc())
                dedupe_time += time.perf_counter() - t0
                truth[result.document_id] = doc.group
                kinds[result.document_id] = doc.kind
        else:
            now = now_iso()
            with transaction(db):
                for doc in pending:
                    d = doc.as_doc()
                    cur = db.conn.execute(sql, [d["url"], d["portal_id"], d["title"], d["text"], d["region"],
                                                d["adcode"], d["report_year"], d["published_at"], d["doc_type"],
                                                d["source"], "[]", "[]", None, now, now, now])
                    t0 = time.perf_counter()
                    dedupe.assign_duplicate(db, cur.lastrowid)
                    dedupe_time += time.perf_counter() - t0
                    truth[cur.lastrowid] = doc.group
                    kinds[cur.lastrowid] = doc.kind
        pending.clear()

    for doc in generated():
        pending.append(doc)
        count += 1
        if len(pending) >= batch or count in checkpoints:
            flush()
        if count in checkpoints:
            inserting = time.perf_counter() - start - generate_time
            print(f"  {count:>7} documents: {inserting:7.1f} s inserting, {count / inserting:6.0f} docs/s "
                  f"(+{generate_time:.1f} s generating them), peak RSS {rss_mib():.0f} MiB", flush=True)
    flush()
    return time.perf_counter() - start - generate_time, generate_time, dedupe_time, truth, kinds


def quality(db, truth: dict[int, int]) -> None:
    predicted = correct = 0
    true_sims, false_sims = [], []
    for doc_id, dup_of, sim in db.execute("SELECT id, duplicate_of, similarity FROM documents"):
        if dup_of is None:
            continue
        predicted += 1
        if truth.get(doc_id) == truth.get(dup_of):
            correct += 1
            true_sims.append(sim)
        else:
            false_sims.append(sim)
    expected = len(truth) - len(set(truth.values()))
    precision = correct / predicted if predicted else 1.0
    recall = correct / expected if expected else 1.0
    print(f"  merges: {predicted} predicted, {expected} in ground truth; precision {precision:.4f}, "
          f"recall {recall:.4f}")
    if true_sims:
        q = statistics.quantiles(true_sims, n=100)
        print(f"  similarity of correct merges: min {min(true_sims):.3f} p1 {q[0]:.3f} p5 {q[4]:.3f} "
              f"median {statistics.median(true_sims):.3f}")
    if false_sims:
        print(f"  similarity of wrong merges: {sorted(false_sims)[:10]}")
    # distribution for unrelated pairs (random originals, by signature)
    rows = db.execute("SELECT id, minhash FROM documents WHERE minhash IS NOT NULL ORDER BY random() LIMIT 2000")
    sigs = [(i, mh.from_bytes(b)) for i, b in rows]
    unrelated = [mh.similarity(a[1], b[1]) for a, b in zip(sigs[::2], sigs[1::2]) if truth.get(a[0]) != truth.get(b[0])]
    if unrelated:
        print(f"  estimated similarity of {len(unrelated)} random unrelated pairs: max {max(unrelated):.3f}, "
              f"median {statistics.median(unrelated):.3f}")


def bench_search(db) -> None:
    from crawler.corpus.search import search

    latencies = []
    for query in QUERIES:
        search(db, query, limit=20)  # warm
        t0 = time.perf_counter()
        hits = search(db, query, limit=20)
        latencies.append((time.perf_counter() - t0) * 1000)
        print(f"    {query:16s} {len(hits):3d} hits {latencies[-1]:7.1f} ms")
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]
    print(f"  search latency over {len(QUERIES)} queries: median {statistics.median(latencies):.1f} ms, "
          f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms")


def bench_export(db, outdir: Path) -> None:
    from crawler.corpus.export import export

    for fmt in ("jsonl", "parquet"):
        out = outdir / f"corpus.{fmt}"
        t0 = time.perf_counter()
        rows = export(db, fmt, out)
        elapsed = time.perf_counter() - t0
        print(f"  export {fmt:7s}: {rows} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s, "
              f"{out.stat().st_size / 2**20:.0f} MiB, peak RSS {rss_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="database file (default: a temporary one)")
    parser.add_argument("--fts", choices=("inline", "off"), default="inline")
    parser.add_argument("--path", choices=("batch", "store"), default="batch")
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="govwatch-bench-"))
    db_path = Path(args.db) if args.db else workdir / "bench.db"
    if db_path.exists():
        os.remove(db_path)
    seed_table()
    db = connect(db_path)
    print(f"\ninserting {args.n} synthetic documents (path={args.path}, fts={args.fts}) into {db_path}")
    elapsed, generate_time, dedupe_time, truth, kinds = insert(db, args.n, path=args.path, fts=args.fts)
    print(f"  inserting {elapsed:.1f} s = {args.n / elapsed:.0f} docs/s (generating the documents took another "
          f"{generate_time:.1f} s); time inside "
          f"{'store_document' if args.path == 'store' else 'assign_duplicate'}: {dedupe_time:.1f} s "
          f"({dedupe_time / args.n * 1000:.2f} ms/doc); peak RSS {rss_mib():.0f} MiB")
    bands = db.execute("SELECT count(*) FROM minhash_bands").fetchone()[0]
    print(f"  minhash_bands rows: {bands}; database {db_path.stat().st_size / 2**20:.0f} MiB")
    quality(db, truth)
    if args.fts != "off":
        bench_search(db)
    if not args.skip_export:
        bench_export(db, workdir)
    print(f"peak RSS {rss_mib():.0f} MiB; files in {workdir}")


if __name__ == "__main__":
    main()
