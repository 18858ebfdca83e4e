"""The node side of a scrapyd job: the scratch directory a job crawls from, and the HandBack extension that
writes what the crawl found into the job's items file for the controller.

A job's crawl is the ordinary column spider (`spiders/job.py` only feeds it): it reads a scratch govwatch.toml
and a scratch SQLite database that `prepare_job` writes from the payload, in a temporary directory of the
node (never shared, removed at the end). So the fetch state works exactly as in a local crawl: conditional
list requests, known entries, paging stopped by a page of known items. Nothing is stored on the node: the
job spider has no store pipeline and no run bookkeeping; `HandBack` streams each document to the hand-back
file, preceded by the WARC records its `archive` pointers designate (the archive is in the scratch directory
too, `GOVWATCH_ARCHIVE_DIR`, and goes with it), then the fetch_state rows the crawl changed, each portal's
run, and the end record (format: `crawler.crawl.scrapyd.jobs`).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import __version__
from crawler.config import toml_value
from crawler.corpus.archive import ArchiveError, read_member
from crawler.crawl.scrapyd.jobs import FORMAT, member_record, record
from storage import connect, now_iso, transaction

logger = logging.getLogger(__name__)


@dataclass
class JobSetup:
    """What `prepare_job` wrote: the column spider's arguments and the fetch state as the job got it."""

    workdir: Path
    config_path: Path
    db_path: Path
    portal_ids: list[str]
    seeded: dict[str, dict]  # fetch_state url -> row, as the payload gave it


def prepare_job(payload: dict, workdir: Path | None = None) -> JobSetup:
    """Write the job's scratch config and database from its payload (see `crawler.crawl.scrapyd.jobs`)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix=f"govwatch-job-{payload.get('job', 'x')}-"))
    config_path, db_path = workdir / "govwatch.toml", workdir / "job.db"
    config_path.write_text(_toml(payload), encoding="utf-8")
    db = connect(db_path)
    seeded: dict[str, dict] = {}
    try:
        columns = [row[1] for row in db.execute("PRAGMA table_info(fetch_state)").fetchall()]
        now = now_iso()
        with transaction(db):
            for part in payload["portals"]:
                portal_id = part["portal"]["id"]
                db["portals"].insert({"id": portal_id, "name": part["portal"].get("name") or portal_id,
                                      "source": "config", "status": "never",
                                      "baseline_done": int(part["baseline_done"])}, replace=True)
                if part.get("last_status"):  # the spider pages incrementally only after an `ok` last run
                    db["crawl_runs"].insert({"portal_id": portal_id, "started_at": now, "finished_at": now,
                                             "status": part["last_status"]})
                for row in part["fetch_state"]:
                    values = {key: row.get(key) for key in columns if key in row}
                    db["fetch_state"].insert(values, replace=True)
        # as the scratch database holds them (columns the controller's rows lack take their defaults), so
        # only what the crawl changes differs
        portal_ids = [part["portal"]["id"] for part in payload["portals"]]
        seeded = {row["url"]: row for row in _fetch_state_rows(db, portal_ids)}
    finally:
        db.conn.close()
    return JobSetup(workdir, config_path, db_path, [p["portal"]["id"] for p in payload["portals"]], seeded)


def _toml(payload: dict) -> str:
    """A govwatch.toml with the payload's [crawl] settings and portals (JSON strings are TOML strings)."""
    lines = ["# written by crawler.crawl.scrapyd.node for one scrapyd job", "[crawl]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in payload["crawl"].items()]
    for part in payload["portals"]:
        lines += ["", "[[portal]]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in part["portal"].items()]
    return "\n".join(lines) + "\n"


def changed_fetch_state(db_path: Path, portal_ids: list[str], seeded: dict[str, dict]) -> list[dict]:
    """The scratch database's fetch_state rows of the job's portals that differ from what the job got."""
    db = connect(db_path)
    try:
        rows = _fetch_state_rows(db, portal_ids)
    finally:
        db.conn.close()
    return [row for row in rows if seeded.get(row["url"]) != row]


def _fetch_state_rows(db, portal_ids: list[str]) -> list[dict]:
    cursor = db.conn.execute(f"SELECT * FROM fetch_state WHERE portal_id IN ({', '.join('?' * len(portal_ids))})",
                             portal_ids)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def code_check() -> str | None:
    """Why this process must not run the job, or None. When scrapyd activated an egg of govwatch but the
    `crawler` package was imported from elsewhere (govwatch also installed in the node's environment: an
    egg is appended to sys.path, behind site-packages), the installed copy would crawl silently."""
    import crawler

    code = os.path.abspath(os.path.dirname(crawler.__file__))
    for entry in sys.path:
        if not entry.endswith(".egg") or not os.path.isfile(entry):
            continue
        try:
            with zipfile.ZipFile(entry) as egg:
                has_crawler = "crawler/__init__.py" in egg.namelist()
        except (OSError, zipfile.BadZipFile):
            continue
        if has_crawler and not code.startswith(os.path.abspath(entry) + os.sep):
            return (f"node {socket.gethostname()} runs the installed govwatch in {code} instead of the deployed "
                    f"egg {entry}: uninstall govwatch from the node's environment, or stop deploying eggs to it")
    return None


def handback_path(settings) -> Path | None:
    """The job's items file: GOVWATCH_HANDBACK_FILE, or the local file of the FEEDS entry scrapyd sets when
    its `items_dir` is set (`<items_dir>/<project>/<spider>/<job>.jl`)."""
    explicit = settings.get("GOVWATCH_HANDBACK_FILE")
    if explicit:
        return Path(explicit)
    for uri in settings.getdict("FEEDS"):
        parts = urlsplit(str(uri))
        if parts.scheme in ("file", ""):
            return Path(url2pathname(parts.path))
    return None


class HandBack:
    """Scrapy extension of the job spider: writes the job's hand-back file (see the module docstring).

    Scrapy's own feed exporter is off for the job spider: this is the only writer of the items file, and
    the end record is written last, after everything else."""

    def __init__(self, crawler, path: Path, archive_dir: Path | None = None):
        self.crawler = crawler
        self.path = path
        self.archive_dir = archive_dir  # where the crawl's WARC records are (None: the archive is off)
        self.handed: set[tuple[str, int]] = set()  # records in the hand-back already (one attachment, many pages)
        self.records = 0
        self.handle = None

    @classmethod
    def from_crawler(cls, crawler):
        spider = crawler.spider
        if getattr(spider, "job_id", None) is None:
            raise NotConfigured
        path = handback_path(crawler.settings)
        if path is None:
            raise RuntimeError("no hand-back file: set items_dir in the node's scrapyd.conf (the controller "
                               "fetches the hand-back from /items/), or GOVWATCH_HANDBACK_FILE")
        archive_dir = crawler.settings.get("GOVWATCH_ARCHIVE_DIR")
        extension = cls(crawler, path, None if not archive_dir or archive_dir == "off" else Path(archive_dir))
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        extension.open(spider)
        return extension

    def write(self, kind: str, **fields) -> None:
        self._write_line(record(kind, **fields))

    def _write_line(self, line: str) -> None:
        self.handle.write(line)
        self.records += 1

    def open(self, spider) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in spider_closed
        import crawler

        self.write("header", format=FORMAT, job=spider.job_id, host=socket.gethostname(), pid=os.getpid(),
                   govwatch=__version__, code=os.path.dirname(crawler.__file__), started_at=now_iso(),
                   error=spider.refusal)
        self.handle.flush()

    def item_scraped(self, item, response=None, spider=None) -> None:
        for pointer in item.get("archive") or ():
            self._hand_back_record(pointer)
        self.write("document", item=dict(item))

    def _hand_back_record(self, pointer: dict) -> None:
        key = (pointer["file"], int(pointer["offset"]))
        if self.archive_dir is None or key in self.handed:
            return
        exchange = {**pointer, "length": pointer.get("exchange_length") or pointer["length"]}
        try:  # the response record and the request record written after it
            member = read_member(self.archive_dir, exchange)
        except ArchiveError as exc:  # the document goes back without it; the controller drops its pointer
            logger.error("archive: %s (the record is not handed back)", exc)
            self.crawler.stats.inc_value("govwatch/archive/errors")
            return
        self._write_line(member_record(pointer, member))
        self.handed.add(key)

    def spider_closed(self, spider, reason) -> None:
        setup = spider.setup
        try:
            if setup is not None and setup.portal_ids:
                for row in changed_fetch_state(setup.db_path, setup.portal_ids, setup.seeded):
                    self.write("fetch_state", row=row)
            for portal_id, stats in spider.stats_by_portal.items():
                self.write("run", portal=portal_id, stats=stats.as_dict())
            self.write("end", records=self.records + 1, close_reason=reason, finished_at=now_iso())
            self.handle.flush()
            os.fsync(self.handle.fileno())
        finally:
            self.handle.close()
            if setup is not None:
                spider.close_db()
                shutil.rmtree(setup.workdir, ignore_errors=True)
        logger.info("hand-back of job %s: %d records in %s", spider.job_id, self.records, self.path)
