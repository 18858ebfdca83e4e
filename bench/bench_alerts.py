"""Alert delivery on loopback: how long the flush at the end of a crawl holds up its exit, by channel health.

    python bench/bench_alerts.py [--alerts 20] [--budget 10]

N pending alerts and one JSON webhook (tests/webhook_server.py) that answers at once, takes the POST and
never answers, or answers one byte every 3 s. For each, `flush_after_crawl` runs as `govwatch crawl` runs it
(Apprise already loaded by the config check) and the script prints, side by side: seconds taken, POSTs the
webhook received, deliveries sent / still pending. Prints figures only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def pending_alerts(db_path: Path, n: int):
    import storage
    from crawler.corpus.ingest import store_document

    db = storage.connect(db_path)
    db["portals"].insert({"id": "jh", "name": "镜湖区人民政府", "baseline_done": 1})
    for i in range(n):
        year = 2000 + i
        store_document(db, {"url": f"http://jh.gov.cn/{i}.html", "portal_id": "jh", "report_year": year,
                            "title": f"芜湖市镜湖区{year}年度法治政府建设情况报告", "adcode": "340202",
                            "text": f"{year}年本区法治政府建设第{i}项工作。" * 40, "doc_type": "annual_report"})
    return db


def run(mode: str, n: int, budget: float) -> dict:
    from crawler.config import parse_config
    from crawler.monitor.delivery import flush_after_crawl
    from webhook_server import WebhookServer

    with tempfile.TemporaryDirectory() as tmp, WebhookServer() as hook:
        db = pending_alerts(Path(tmp) / "gw.db", n)
        {"answers": hook.answer_normally, "hangs": hook.hang, "trickles": lambda: hook.trickle(3.0)}[mode]()
        config = parse_config(f'[alerts]\nurls = ["{hook.json_url("hook")}"]\ncrawl_flush_budget = {budget}\n')
        started = time.monotonic()
        flush_after_crawl(db, config)
        seconds = time.monotonic() - started
        pending = db.execute("SELECT COUNT(*) FROM alert_deliveries WHERE status = 'pending'").fetchone()[0]
        return {"webhook": mode, "seconds": seconds, "posts": len(hook.posts), "sent": n - pending, "pending": pending}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    rows = [run(mode, args.alerts, args.budget) for mode in ("answers", "hangs", "trickles")]
    print(f"flush_after_crawl, {args.alerts} pending alerts, crawl_flush_budget {args.budget:g} s")
    print(f"{'webhook':<10}{'seconds':>9}{'POSTs':>7}{'sent':>6}{'pending':>9}")
    for r in rows:
        print(f"{r['webhook']:<10}{r['seconds']:>9.1f}{r['posts']:>7}{r['sent']:>6}{r['pending']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
