"""The crawl's writer process: stores jobs in order, reports outcomes and errors, survives nothing silently."""

from __future__ import annotations

import os
import signal
import time

import pytest

from crawler.corpus.job import Job
from crawler.crawl.writer import WriterDied, WriterProcess
from storage import connect


def job(n: int, text: str = "全面推进依法行政,持续优化法治化营商环境。") -> Job:
    url = f"http://w.gov.cn/{n}.html"
    return Job({"url": url, "portal_id": "w", "title": f"示例县2023年法治政府建设年度报告{n}",
                "text": f"{text}第{n}号。" * 20, "doc_type": "annual_report", "report_year": 2023},
               None, url, {"portal_id": "w", "kind": "detail", "status": 200, "list_entry": f"entry-{n}"})


def test_jobs_are_stored_with_their_fetch_state_and_outcomes_come_back(tmp_path):
    db_path = tmp_path / "w.db"
    connect(db_path)
    writer = WriterProcess(str(db_path))
    for n in range(3):
        writer.submit(job(n))
    writer.submit(Job({"url": "http://w.gov.cn/bad.html", "portal_id": "w", "title": "x", "text": "y",
                       "report_year": "not a year", "attachments": object()}, None, "http://w.gov.cn/bad.html", {}))
    outcomes = writer.poll() + writer.close(timeout=60)
    assert writer.pending == 0 and not writer.process.is_alive()
    assert [o.url for o in outcomes] == [f"http://w.gov.cn/{n}.html" for n in range(3)] + ["http://w.gov.cn/bad.html"]
    assert all(o.created and not o.error for o in outcomes[:3])
    assert outcomes[3].error and not outcomes[3].created
    db = connect(db_path)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    assert dict(db.execute("SELECT url, list_entry FROM fetch_state WHERE kind = 'detail'").fetchall()) == {
        f"http://w.gov.cn/{n}.html": f"entry-{n}" for n in range(3)}


def test_a_writer_that_dies_is_noticed_at_once_and_refuses_new_jobs(tmp_path):
    db_path = tmp_path / "w.db"
    connect(db_path)
    deaths = []
    writer = WriterProcess(str(db_path), on_death=deaths.append)
    writer.submit(job(1))
    writer.process.kill()
    writer.process.join(10)
    for _ in range(100):  # the receiver sees the end of the stream as soon as the child is gone
        if deaths:
            break
        time.sleep(0.05)
    assert deaths == ["writer process killed by SIGKILL"] and writer.death == deaths[0]
    with pytest.raises(WriterDied, match="SIGKILL"):
        writer.submit(job(2))
    writer.close(timeout=30)
    assert writer.pending in (0, 1)  # job 1 was stored before the kill, or not at all
    stored = connect(db_path).execute("SELECT count(*) FROM documents").fetchone()[0]
    assert stored == 1 - writer.pending


def test_a_full_backlog_waits_with_a_deadline_and_a_dead_writer_never_blocks_submit(tmp_path):
    db_path = tmp_path / "w.db"
    connect(db_path)
    writer = WriterProcess(str(db_path), backlog=2)
    os.kill(writer.process.pid, signal.SIGSTOP)  # alive but not reading: the socket and the backlog fill up
    try:
        with pytest.raises(TimeoutError):
            for n in range(200):
                writer.submit(job(n, text="大" * 20000), timeout=1)
    finally:
        os.kill(writer.process.pid, signal.SIGKILL)
        os.kill(writer.process.pid, signal.SIGCONT)
    with pytest.raises(WriterDied):
        for n in range(200):
            writer.submit(job(n), timeout=30)
    writer.close(timeout=30)
    assert not writer.process.is_alive()


def test_a_writer_dead_at_the_end_of_a_crawl_fails_the_runs_that_lost_documents(tmp_path):
    # the writer dies while the crawl is closing (too late to stop it): the portals whose documents were not
    # stored end as error, so their baseline is not complete and the next crawl fetches the documents again
    from scrapy.settings import Settings

    from crawler.pipelines import StorePipeline
    from spiders.column import ColumnSpider

    config = tmp_path / "govwatch.toml"
    config.write_text('[[portal]]\nid = "w"\nstart_urls = ["http://w.gov.cn/"]\n\n'
                      '[[portal]]\nid = "v"\nstart_urls = ["http://v.gov.cn/"]\n', encoding="utf-8")
    db_path = tmp_path / "w.db"
    connect(db_path)
    spider = ColumnSpider(config=str(config), db=str(db_path))
    crawler = type("Crawler", (), {"spider": spider, "settings": Settings({"GOVWATCH_WRITER_PROCESS": True})})()
    pipeline = StorePipeline(crawler)
    deaths = []
    pipeline._writer_died_soon = deaths.append  # the crawl would stop here; this one is already closing
    pipeline.open_spider()
    os.kill(pipeline.writer.process.pid, signal.SIGSTOP)  # nothing gets stored from now on
    for n in range(3):
        pipeline.process_item({**job(n).doc, "_list_entry": f"entry-{n}"})
    os.kill(pipeline.writer.process.pid, signal.SIGKILL)
    os.kill(pipeline.writer.process.pid, signal.SIGCONT)
    pipeline.close_spider()
    stats = spider.stats_by_portal
    assert stats["w"].status == "error" and stats["w"].reason.startswith("writer process killed by SIGKILL")
    assert "3 documents not stored" in stats["w"].reason
    assert stats["v"].status == "running"  # nothing of it was lost: the spider settles it as usual
    assert connect(db_path).execute("SELECT count(*) FROM documents").fetchone()[0] == 0
