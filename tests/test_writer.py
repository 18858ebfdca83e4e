"""The crawl's writer process: stores jobs in order, reports outcomes and errors, survives nothing silently."""

from __future__ import annotations

from crawler.corpus.job import Job
from crawler.crawl.writer import WriterProcess
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


def test_a_writer_that_dies_leaves_its_jobs_counted_as_not_stored(tmp_path):
    db_path = tmp_path / "w.db"
    connect(db_path)
    writer = WriterProcess(str(db_path))
    writer.process.kill()
    writer.process.join(10)
    writer.submit(job(1))
    assert writer.close(timeout=30) == [] and writer.pending == 1
