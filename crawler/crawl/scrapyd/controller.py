"""The controller: crawls the selected portals on scrapyd nodes and stores what they hand back.

    summary = crawl_on_nodes("govwatch.toml", "govwatch.db", ["340202"], progress=print, stop=event)

1. Nodes are probed (daemonstatus.json, the project's spiders); a node that is down, refuses the credentials
   or lacks the project is reported and left out, and the crawl goes on with the others.
2. Placement: a portal stays on the node it was crawled on while that node is healthy (`scrapyd_assignments`);
   new portals, and those of a failed node, go to the healthy node with the fewest portals.
3. Each node's portals are cut into jobs that fill its `scrapyd_jobs_per_node` slots (at most `batch_size`
   portals each, and a payload scrapyd can carry); at most that many jobs are in flight on a node, so a
   finished job is ingested while the others still crawl. A job's `crawl_runs` rows (node, job) and
   its `scrapyd_jobs` row are written before schedule.json, so `govwatch status` shows where each portal runs
   and a controller that restarts finds the job (`_recover`).
4. Jobs are followed with status.json. A finished job's hand-back (its items file) is downloaded into a
   temporary file beside the database and ingested in one transaction (`crawler.crawl.scrapyd.ingest`),
   its WARC records appended to this machine's archive (`[archive] dir`; with it off, the nodes are told
   not to archive). A job whose node stops answering for `scrapyd_node_timeout`
   seconds, that runs past the crawl timeout, or that finished without a whole hand-back (its crawl process
   was killed) is abandoned -- its hand-back is never ingested, even if it turns up later -- and its portals
   go to another node; nothing was stored from it, so nothing is stored twice.
5. `stop` (the daemon's shutdown) and KeyboardInterrupt (the CLI's SIGTERM/SIGINT) stop the crawl within
   `stop_grace` seconds, as `crawler.crawl.runner` stops a local crawl process: every job is cancelled on its
   node (cancel.json, SIGINT: Scrapy closes the spider and the hand-back is written), cancelled again at 60%
   of the grace (Scrapy's unclean shutdown) and SIGKILLed near its end. Hand-backs that arrive in time are
   ingested (their runs say `killed`) when storing them fits in what is left of the grace; a larger one stays
   on its node, its job `finished`, and the next crawl adopts it, stores it and crawls on from there (nothing
   fetched is lost or fetched again). The other jobs end `cancelled` with their runs `killed`, or stay
   `abandoned` when their node could not be told (the next crawl cancels them, `_cancel_abandoned`);
   portals not dispatched yet get a `killed` run. The summary says `interrupted`, as a local crawl's does.

Why not a shared frontier (scrapy-redis): tried with two workers, every URL was fetched twice with its
defaults (the first worker to go idle clears the shared seen-set), the per-host politeness limits are per
process (N workers hit a portal N times as hard), and a robots-disallowed page was fetched. Sharding by
portal keeps each portal's politeness, robots.txt and fetch state on one node at a time.
"""

from __future__ import annotations

import collections
import copy
import json
import logging
import os
import socket
import tempfile
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from crawler.config import ConfigError, load_config
from crawler.corpus.archive import ArchiveError, WarcWriter
from crawler.crawl.lifeline import process_alive, process_started
from crawler.crawl.runs import record_run
from crawler.crawl.scrapyd.client import REQUEST_TIMEOUT, NodeAuthError, NodeClient, NodeDown, NodeError
from crawler.crawl.scrapyd.ingest import PortalResult, ingest_job
from crawler.crawl.scrapyd.jobs import (
    MAX_PAYLOAD_CHARS, SPIDER, HandBackError, build_payload, encode_payload, encoded_size, portal_payload,
    read_handback,
)
from crawler.crawl.summary import CrawlSummary
from storage import connect, now_iso, transaction

log = logging.getLogger("govwatch.scrapyd")

POLL_SECONDS = 0.5
_FOLLOWING: set[str] = set()  # tokens of the controllers running in this process (the daemon runs several)
DEFAULT_BATCH_SIZE = 50
# seconds a stopped crawl gets to cancel its jobs and ingest what they hand back; the daemon, which is gone
# within 10 s of its SIGTERM, passes its own (crawler.crawl.watch.STOP_GRACE)
STOP_GRACE = 6.0
# shares of the stop grace at which the jobs still running are signalled (see _cancel_all)
CANCEL_STEPS = ((0.0, "INT"), (0.6, "INT"), (0.85, "KILL"))
# what storing one handed-back document may take (the store path with dedupe and the index: 10-25 ms
# measured); a stop ingests a hand-back only if all of it fits in what is left of the grace
STORE_SECONDS = 0.04


class DispatchError(RuntimeError):
    """Nothing could be dispatched (no usable node, bad config, database); one line naming the node or file."""


@dataclass
class NodeState:
    url: str
    client: NodeClient
    problem: str | None = None  # why it is not used (down, credentials, project missing, died mid-job)
    failing_since: float | None = None
    jobs: list["JobState"] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.problem is None


@dataclass
class JobState:
    job_id: str
    node: NodeState
    portals: list[str]
    run_ids: dict[str, int]
    attempt: int
    started: float | None = None
    cancelled: bool = False
    adopted: bool = False  # dispatched by an earlier crawl (see Controller._recover)


@dataclass
class NodesSummary(CrawlSummary):
    """A crawl's summary (the runner returns it as it is) with the nodes that could not be used."""

    nodes: dict[str, str | None] = field(default_factory=dict)  # node URL -> its problem, None when healthy


def crawl_on_nodes(config_path, db_path, portal_ids: list[str] | None = None, *, timeout: float | None = None,
                   progress=None, stop=None, settings: dict | None = None, poll: float = POLL_SECONDS,
                   stop_grace: float = STOP_GRACE, log_file=None) -> NodesSummary:
    """Crawl the portals (all when `portal_ids` is empty) on the config's `scrapyd_nodes`; see the module
    docstring. The controller's lines go to `log_file` too (each job's own log stays on its node, at
    `<node>/logs/<project>/column_job/<job>.log`). KeyboardInterrupt (the CLI's SIGTERM and Ctrl-C) stops
    the crawl like `stop`, and the summary says `interrupted`. Raises DispatchError when no node can be used
    or the config/database cannot be read."""
    from crawler.registry import RegistryError, select_portals, sync_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise DispatchError(str(exc)) from None
    try:
        db = connect(db_path)
        sync_config(db, config)
        portals = select_portals(db, config, portal_ids)
    except RegistryError as exc:
        raise DispatchError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - sqlite3 errors on a read-only file etc.
        raise DispatchError(f"database {db_path}: {exc}") from None
    handler = None
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.INFO)
        log.addHandler(handler)
        if log.level == logging.NOTSET:  # the root logger's WARNING would drop the controller's lines
            log.setLevel(logging.INFO)
    try:
        summary = Controller(db, config, portals, timeout=timeout or config.crawl.timeout, progress=progress,
                             stop=stop, settings=settings, poll=poll, stop_grace=stop_grace, db_path=db_path).run()
        summary.log_file = str(log_file) if log_file else None
        return summary
    finally:
        if handler is not None:
            log.removeHandler(handler)
            handler.close()
        db.conn.close()


class Controller:
    def __init__(self, db, config, portals, *, timeout: float, progress, stop, settings, poll: float,
                 stop_grace: float, db_path):
        from crawler.monitor.alerts import AlertPolicy

        self.db, self.config, self.crawl = db, config, config.crawl
        self.portals = {p.id: p for p in portals}
        self.timeout, self.progress, self.stop = timeout, progress, stop
        self.settings, self.poll, self.stop_grace = settings or {}, poll, stop_grace
        self.project = self.crawl.scrapyd_project
        # hand-backs are spooled beside the database, not in a /tmp that may be memory
        self.spool_dir = Path(db_path).resolve().parent
        self.archive_dir = config.archive.directory(db_path)
        self.archive: WarcWriter | None = None  # opened by the first ingest (archive_dir None: off)
        self.batch_size = getattr(self.crawl, "batch_size", None) or DEFAULT_BATCH_SIZE
        self.policy = AlertPolicy.from_settings(config.alerts)
        # an API call that takes longer than a node may stay silent is a silence: it must not hold up the others
        self.call_timeout = min(REQUEST_TIMEOUT, self.crawl.scrapyd_node_timeout)
        self.nodes = {url.rstrip("/"): NodeState(url.rstrip("/"), NodeClient(url, timeout=self.call_timeout))
                      for url in self.crawl.scrapyd_nodes}
        self.queues: dict[str, collections.deque[str]] = {url: collections.deque() for url in self.nodes}
        self.job_size: dict[str, int] = {}  # portals per job, per node (see _place)
        self.attempts: collections.Counter[str] = collections.Counter()
        self.results: dict[str, PortalResult] = {}
        self.lines: list[str] = []
        self.started = time.monotonic()
        self.token = f"{socket.gethostname()}:{os.getpid()}:{process_started(os.getpid())}:{uuid.uuid4().hex[:8]}"

    # ----- the crawl
    def run(self) -> NodesSummary:
        _FOLLOWING.add(self.token)
        try:
            return self._run()
        finally:
            _FOLLOWING.discard(self.token)
            if self.archive is not None:
                self.archive.close()

    def _run(self) -> NodesSummary:
        for node in self.nodes.values():
            self._probe(node)
        adopted = self._recover()
        if not any(n.healthy for n in self.nodes.values()) and not adopted:
            problems = "; ".join(n.problem for n in self.nodes.values())
            raise DispatchError(f"no scrapyd node can be used: {problems}")
        todo = [pid for pid in self.portals if pid not in adopted]
        self._place(todo)
        stopped_by = None
        try:
            while self._busy():
                if self._stopping():
                    stopped_by = "the daemon's shutdown"
                    break
                for node in self.nodes.values():
                    self._dispatch(node)
                time.sleep(self.poll)
                for node in self.nodes.values():
                    for job in list(node.jobs):
                        if not self._stopping():
                            self._follow(job)
        except KeyboardInterrupt as exc:
            stopped_by = getattr(exc, "signal_name", "SIGINT")
        status = "ok" if stopped_by is None else "interrupted"
        if stopped_by is not None:
            self._say(f"crawl stopped by {stopped_by}: cancelling the jobs", logging.WARNING)
            self._cancel_all()
        for pid in self.portals:
            if pid in self.results:
                continue
            if stopped_by is None:
                self.results[pid] = PortalResult(pid, None, "error", self._no_node_reason())
            else:  # a run of its own, `killed`, as a local crawl records a portal it never got to
                reason = f"crawl stopped by {stopped_by} before the portal was dispatched"
                self.results[pid] = PortalResult(pid, record_run(self.db, pid, "killed", reason), "killed", reason)
        return NodesSummary(status, 0, time.monotonic() - self.started,
                            portals={pid: self.results[pid] for pid in self.portals}, log="\n".join(self.lines),
                            nodes={url: n.problem for url, n in self.nodes.items()})

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _busy(self) -> bool:
        return any(self.queues[url] and node.healthy for url, node in self.nodes.items()) or \
            any(node.jobs for node in self.nodes.values())

    def _say(self, message: str, level=logging.INFO) -> None:
        log.log(level, message)
        self.lines.append(message)

    def _emit(self, event: dict) -> None:
        if self.progress is not None:
            try:
                self.progress(event)
            except Exception:  # noqa: BLE001 - a progress printer must not break the crawl
                pass

    # ----- nodes
    def _probe(self, node: NodeState) -> None:
        try:
            node.client.daemon_status()
            spiders = node.client.list_spiders(self.project)
        except NodeError as exc:
            self._node_failed(node, str(exc))
            return
        if SPIDER not in spiders:
            self._node_failed(node, f"{node.url}: project {self.project} has no {SPIDER} spider (deploy govwatch "
                                    "to the node: scrapyd-deploy, or install it there)")

    def _node_failed(self, node: NodeState, problem: str) -> None:
        if node.problem is None:
            node.problem = problem
            self._say(f"scrapyd node {problem}; the crawl goes on without it", logging.WARNING)
        queued = list(self.queues[node.url])
        self.queues[node.url].clear()
        if queued:
            self._place(queued, exclude=node.url)

    def _no_node_reason(self) -> str:
        return "no scrapyd node left to crawl it (" + "; ".join(
            n.problem or f"{n.url}: ok" for n in self.nodes.values()) + ")"

    # ----- placement
    def _place(self, portal_ids: list[str], exclude: str | None = None) -> None:
        healthy = [url for url, n in self.nodes.items() if n.healthy and url != exclude]
        if not healthy:
            for pid in portal_ids:
                self._give_up(pid, self._no_node_reason())
            return
        sticky = dict(self.db.execute("SELECT portal_id, node FROM scrapyd_assignments").fetchall())
        load = collections.Counter(node for node in sticky.values() if node in healthy)
        now = now_iso()
        with transaction(self.db):
            for pid in portal_ids:
                node = sticky.get(pid)
                if node not in healthy:
                    node = min(healthy, key=lambda url: (load[url], healthy.index(url)))
                    load[node] += 1
                    self.db.execute("INSERT INTO scrapyd_assignments (portal_id, node, assigned_at) VALUES (?, ?, ?) "
                                    "ON CONFLICT(portal_id) DO UPDATE SET node = excluded.node, "
                                    "assigned_at = excluded.assigned_at", [pid, node, now])
                self.queues[node].append(pid)
        # a node's portals fill all its job slots at once (so a finished job is ingested while the others
        # crawl), in jobs of at most batch_size portals
        slots = self.crawl.scrapyd_jobs_per_node
        for url in healthy:
            if self.queues[url]:
                self.job_size[url] = min(self.batch_size, max(1, -(-len(self.queues[url]) // slots)))

    def _give_up(self, portal_id: str, reason: str) -> None:
        now = now_iso()
        with transaction(self.db):
            run_id = self.db["crawl_runs"].insert({"portal_id": portal_id, "started_at": now, "finished_at": now,
                                                   "status": "error", "reason": reason}).last_pk
            self.db.execute("UPDATE portals SET status = 'error', reason = ?, last_crawl_at = ?, last_run_id = ?, "
                            "updated_at = ? WHERE id = ?", [reason, now, run_id, now, portal_id])
        self.results[portal_id] = PortalResult(portal_id, run_id, "error", reason)
        self._emit({"event": "done", "portal": portal_id, "run_id": run_id, "status": "error", "reason": reason})

    # ----- dispatch
    def _dispatch(self, node: NodeState) -> None:
        queue = self.queues[node.url]
        while node.healthy and queue and len(node.jobs) < self.crawl.scrapyd_jobs_per_node and not self._stopping():
            size = self.job_size.get(node.url, self.batch_size)
            batch = [queue.popleft() for _ in range(min(size, len(queue)))]
            for part in self._fit(batch):
                self._submit(node, part)

    def _fit(self, batch: list[str]) -> list[list[dict]]:
        """The batch's payload parts, cut into jobs whose payload scrapyd can carry."""
        parts, jobs, size = [], [], 0
        for pid in batch:
            part = portal_payload(self.db, self.portals[pid], *self._incremental_state(pid))
            part_size = encoded_size(part)
            if part_size > MAX_PAYLOAD_CHARS:
                self._give_up(pid, f"its fetch state ({part_size:,} characters encoded) is too large for a scrapyd "
                                   "job: crawl it with backend = \"local\"")
                continue
            if parts and size + part_size > MAX_PAYLOAD_CHARS * 0.9:
                jobs.append(parts)
                parts, size = [], 0
            parts.append(part)
            size += part_size
        if parts:
            jobs.append(parts)
        return jobs

    def _incremental_state(self, portal_id: str) -> tuple[str | None, bool]:
        row = self.db.execute("SELECT baseline_done FROM portals WHERE id = ?", [portal_id]).fetchone()
        last = self.db.execute("SELECT status FROM crawl_runs WHERE portal_id = ? ORDER BY id DESC LIMIT 1",
                               [portal_id]).fetchone()
        return (last[0] if last else None), bool(row and row[0])

    def _submit(self, node: NodeState, parts: list[dict]) -> None:
        job_id = uuid.uuid4().hex
        portal_ids = [p["portal"]["id"] for p in parts]
        attempt = 1 + max(self.attempts[pid] for pid in portal_ids)
        now = now_iso()
        with transaction(self.db):
            run_ids = {pid: self.db["crawl_runs"].insert({"portal_id": pid, "started_at": now, "status": "running",
                                                          "node": node.url, "job_id": job_id}).last_pk
                       for pid in portal_ids}
            self.db["scrapyd_jobs"].insert({"job_id": job_id, "node": node.url, "portals": json.dumps(portal_ids),
                                            "run_ids": json.dumps(run_ids), "state": "scheduled",
                                            "attempt": attempt, "dispatched_at": now, "controller": self.token})
        payload = build_payload(job_id, self.crawl, parts, self._job_settings(len(parts)))
        try:
            node.client.schedule(self.project, SPIDER, job_id, encode_payload(payload))
        except NodeError as exc:
            with transaction(self.db):  # never ran: no trace of it
                self.db.execute(f"DELETE FROM crawl_runs WHERE id IN ({', '.join('?' * len(run_ids))})",
                                list(run_ids.values()))
                self.db.execute("DELETE FROM scrapyd_jobs WHERE job_id = ?", [job_id])
            self._node_failed(node, str(exc))
            self._place(portal_ids, exclude=node.url)
            return
        for pid in portal_ids:
            self.attempts[pid] = attempt
        node.jobs.append(JobState(job_id, node, portal_ids, run_ids, attempt))
        self._say(f"job {job_id} on {node.url}: {len(portal_ids)} portals (attempt {attempt})")
        for pid in portal_ids:
            self._emit({"event": "start", "portal": pid, "run_id": run_ids[pid], "node": node.url, "job": job_id})

    def _job_settings(self, portal_count: int) -> dict:
        from crawler.settings import batch_settings

        # the daemon's batches raise the process-wide request limit with the batch (crawler.crawl.batch)
        settings = {**batch_settings(portal_count, self.crawl), **self.settings}
        if self.archive_dir is None:  # records this machine would drop need not be written nor handed back
            settings["GOVWATCH_ARCHIVE_DIR"] = "off"
        return settings

    def _archive(self) -> WarcWriter | None:
        """The writer that receives the jobs' WARC records (None: the archive is off or cannot be written)."""
        if self.archive is None and self.archive_dir is not None:
            try:
                self.archive = WarcWriter(self.archive_dir, max_file_bytes=self.config.archive.max_file_bytes,
                                          info={"description": "records of crawls on scrapyd nodes"})
            except ArchiveError as exc:  # as a local crawl does: the documents are stored without records
                self._say(f"archive: {exc} (documents are stored without their WARC records)", logging.ERROR)
                self.archive_dir = None
                return None
            for name, cut in self.archive.recovered:
                self._say(f"archive: finished {name} left open by a killed writer ({cut} bytes of a record cut)",
                          logging.WARNING)
        return self.archive

    def _handback(self, job: JobState, *, timeout: float | None = None):
        """The job's hand-back, downloaded into a temporary file (closed with `back.source`); `timeout` bounds
        the download (the stop's grace)."""
        spool = tempfile.TemporaryFile(prefix="govwatch-handback-", dir=self.spool_dir)  # noqa: SIM115 - the caller's
        try:
            job.node.client.download(f"items/{self.project}/{SPIDER}/{job.job_id}.jl", spool, timeout=timeout)
            return read_handback(spool, job.job_id)
        except BaseException:
            spool.close()
            raise

    # ----- following
    def _follow(self, job: JobState) -> None:
        node = job.node
        try:
            state = node.client.job_state(self.project, job.job_id)
        except NodeError as exc:
            node.failing_since = node.failing_since or time.monotonic()
            if isinstance(exc, NodeAuthError) or time.monotonic() - node.failing_since >= self.crawl.scrapyd_node_timeout:
                self._node_failed(node, f"{exc} for {self.crawl.scrapyd_node_timeout} s, mid-job")
                for other in list(node.jobs):
                    self._abandon(other, f"node {node.url} stopped answering mid-job")
            return
        node.failing_since = None
        if state == "pending":
            return
        if state == "running":
            if job.started is None:
                job.started = time.monotonic()
                self._mark(job, "running", started_at=now_iso())
            elif time.monotonic() - job.started > self.timeout:
                self._cancel(job)
                self._abandon(job, f"job ran past the crawl timeout ({self.timeout:g} s) on {node.url}")
            return
        if state is None:
            self._abandon(job, f"node {node.url} does not know the job any more (restarted without its queue?)")
            return
        self._collect(job)

    def _collect(self, job: JobState) -> None:
        node = job.node
        try:
            back = self._handback(job)
        except (NodeError, HandBackError) as exc:
            if isinstance(exc, NodeDown):
                return  # the node went away just now: followed (and timed out) like any other call
            self._abandon(job, f"job {job.job_id} ended on {node.url} without a whole hand-back ({exc}); "
                               f"its log: {node.url}/logs/{self.project}/{SPIDER}/{job.job_id}.log")
            return
        with closing(back.source):
            if back.error:  # the node refused the job (e.g. an installed copy shadowing the egg)
                self._node_failed(node, f"{node.url}: {back.error}")
                self._abandon(job, back.error)
                return
            self._ingest(job, back)

    def _ingest(self, job: JobState, back) -> None:
        results = ingest_job(self.db, job.job_id, back, policy=self.policy, threshold=self.config.dedupe.threshold,
                             node=job.node.url, alert_on_baseline=self.config.alerts.alert_on_baseline,
                             archive=self._archive())
        job.node.jobs.remove(job)
        if results is None:
            return
        # a job an earlier crawl's stop left behind: what it crawled is stored now, the rest is crawled now
        again = [pid for pid, result in results.items() if job.adopted and result.status == "killed"
                 and pid in self.portals and not self._stopping()]
        if again:
            self._say(f"job {job.job_id} of a stopped crawl ingested: crawling on {len(again)} of its portals")
            self._place(again)
        for pid, result in results.items():
            if pid in again:
                continue
            self.results[pid] = result
            self._emit({"event": "done", "portal": pid, "run_id": result.run_id, "node": job.node.url,
                        "job": job.job_id, **_event(result), "baseline_reports": result.baseline_reports})
        self._say(f"job {job.job_id} on {job.node.url}: ingested {len(back.documents)} documents of "
                  f"{len(job.portals)} portals")

    def _mark(self, job: JobState, state: str, **columns) -> None:
        with transaction(self.db):
            self.db["scrapyd_jobs"].update(job.job_id, {"state": state, **columns})

    def _abandon(self, job: JobState, reason: str, *, redispatch: bool = True) -> None:
        """The job's hand-back is never ingested; its runs are closed as killed and its portals go elsewhere."""
        now = now_iso()
        with transaction(self.db):
            self.db.execute("UPDATE scrapyd_jobs SET state = 'abandoned', reason = ?, finished_at = ? "
                            "WHERE job_id = ? AND state != 'ingested'", [reason, now, job.job_id])
            self._kill_runs(job, reason, now)
        if job in job.node.jobs:
            job.node.jobs.remove(job)
        if not job.cancelled and redispatch:  # a node that hangs may wake up: its job must not crawl on
            try:
                job.node.client.cancel(self.project, job.job_id, timeout=2.0)
            except NodeError:
                pass  # followed up by the next crawl (`_recover`)
        self._say(f"job {job.job_id}: {reason}", logging.WARNING)
        if not redispatch:
            return
        again = [pid for pid in job.portals if self.attempts[pid] < max(2, len(self.nodes))]
        for pid in job.portals:
            if pid not in again:
                self._give_up(pid, f"{reason} (after {self.attempts[pid]} attempts)")
        if again:
            self._place(again, exclude=job.node.url)

    # ----- stopping
    def _cancel(self, job: JobState, signal: str = "INT", *, timeout: float | None = None) -> None:
        try:
            job.node.client.cancel(self.project, job.job_id, signal, timeout=timeout)
            job.cancelled = True
        except NodeError as exc:
            self._say(f"cannot cancel job {job.job_id}: {exc}", logging.WARNING)

    def _cancel_all(self) -> None:
        """Stop every job in flight within `stop_grace` seconds (CANCEL_STEPS: SIGINT, SIGINT again, SIGKILL),
        ingesting the hand-backs of the jobs that end in time. Every call to a node is bounded by what is left
        of the grace, and a node that does not answer one is not asked again: a hung node cannot hold up the
        stop."""
        started = time.monotonic()
        deadline = started + self.stop_grace
        steps = collections.deque(CANCEL_STEPS)
        silent: set[str] = set()  # nodes that did not answer during the stop

        def left() -> float:
            return max(0.2, min(self.call_timeout, deadline - time.monotonic()))

        def jobs() -> list[JobState]:
            return [j for node in self.nodes.values() for j in node.jobs if node.url not in silent]

        while jobs() and time.monotonic() < deadline:
            while steps and time.monotonic() >= started + steps[0][0] * self.stop_grace:
                _, signal = steps.popleft()
                for job in jobs():
                    self._cancel(job, signal, timeout=left())
                    if not job.cancelled:
                        silent.add(job.node.url)
            time.sleep(min(self.poll, max(0.0, deadline - time.monotonic())))
            for job in jobs():
                try:
                    state = _bounded(job.node.client, left()).job_state(self.project, job.job_id)
                except NodeError:
                    silent.add(job.node.url)
                    continue
                if state in ("finished", None):
                    self._collect_or_close(job, timeout=left(), deadline=deadline)
        for job in [j for node in self.nodes.values() for j in node.jobs]:
            self._close_stopped(job, gone=job.cancelled and job.node.url not in silent and not steps)

    def _collect_or_close(self, job: JobState, *, timeout: float, deadline: float) -> None:
        try:
            back = self._handback(job, timeout=timeout)
        except (NodeError, HandBackError):
            self._close_stopped(job, gone=True)
            return
        with closing(back.source):
            if len(back.documents) * STORE_SECONDS > deadline - time.monotonic():
                self._leave_for_next_crawl(job, len(back.documents))
                return
            self._ingest(job, back)

    def _leave_for_next_crawl(self, job: JobState, documents: int) -> None:
        """A hand-back too large to store within the stop's grace stays on its node, whole: the job is
        `finished` and its runs `killed`, and the next crawl (whose controller finds this one gone) adopts
        and ingests it, so nothing it crawled is lost or crawled again."""
        reason = (f"crawl stopped: job {job.job_id} on {job.node.url} handed back {documents} documents, more "
                  "than the stop's grace can store; the next crawl ingests them")
        with transaction(self.db):
            self.db.execute("UPDATE scrapyd_jobs SET state = 'finished', reason = ? WHERE job_id = ? AND "
                            "state IN ('scheduled', 'running')", [reason, job.job_id])
            self._kill_runs(job, reason, now_iso())
        job.node.jobs.remove(job)
        self._say(f"job {job.job_id}: {reason}", logging.WARNING)
        self._killed_results(job, reason)

    def _kill_runs(self, job: JobState, reason: str, now: str) -> None:
        """Close the job's runs still `running` as `killed` (inside the caller's transaction)."""
        for run_id in job.run_ids.values():
            self.db.execute("UPDATE crawl_runs SET status = 'killed', reason = ?, finished_at = ? "
                            "WHERE id = ? AND status = 'running'", [reason, now, run_id])

    def _killed_results(self, job: JobState, reason: str) -> None:
        for pid, run_id in job.run_ids.items():
            self.results[pid] = PortalResult(pid, run_id, "killed", reason)

    def _close_stopped(self, job: JobState, *, gone: bool) -> None:
        """Close a stopped job's runs as killed. `gone`: the job no longer runs on its node (it ended, or it was
        SIGKILLed there) and it ends `cancelled`; otherwise it stays `abandoned`, so the next crawl cancels it
        if its node still runs it. Its hand-back is never ingested either way."""
        if gone:
            reason = f"crawl stopped: job {job.job_id} cancelled on {job.node.url}"
        else:
            reason = f"crawl stopped: job {job.job_id} on {job.node.url} could not be cancelled in time"
        self._abandon(job, reason, redispatch=False)
        if gone:
            with transaction(self.db):
                self.db.execute("UPDATE scrapyd_jobs SET state = 'cancelled' WHERE job_id = ? AND state = 'abandoned'",
                                [job.job_id])
        self._killed_results(job, reason)

    # ----- a previous controller's jobs
    def _recover(self) -> set[str]:
        """Jobs a previous controller dispatched and did not finish with: ingest the finished ones, follow the
        running ones, close the lost ones. Returns the portals this crawl adopted that way."""
        adopted: set[str] = set()
        rows = self.db.execute("SELECT job_id, node, portals, run_ids, attempt, controller FROM scrapyd_jobs "
                               "WHERE state IN ('scheduled', 'running', 'finished')").fetchall()
        for job_id, url, portals, run_ids, attempt, controller in rows:
            if _alive(controller):
                continue  # another crawl follows it (the daemon's next batch, another process)
            with transaction(self.db):  # ours now: a third crawl must not take it too
                claimed = self.db.execute("UPDATE scrapyd_jobs SET controller = ? WHERE job_id = ? AND "
                                          "controller IS ?", [self.token, job_id, controller]).rowcount
            if not claimed:
                continue
            node = self.nodes.get(url)
            if node is None:  # no longer configured: its jobs are followed, it gets no new ones
                node = self.nodes[url] = NodeState(url, NodeClient(url, timeout=self.call_timeout),
                                                   problem=f"{url}: not in scrapyd_nodes")
            self.queues.setdefault(url, collections.deque())
            job = JobState(job_id, node, json.loads(portals), {k: int(v) for k, v in json.loads(run_ids).items()},
                           attempt or 1, adopted=True)
            try:
                state = node.client.job_state(self.project, job_id)
            except NodeError as exc:
                state = f"unreachable ({exc})"
            if state in ("pending", "running", "finished"):
                node.jobs.append(job)
                adopted.update(job.portals)
                self._say(f"job {job_id} of an earlier crawl on {url} is {state}: followed by this crawl")
            else:
                self._abandon(job, f"job {job_id} of an earlier crawl was lost on {url}: {state}", redispatch=False)
        self._cancel_abandoned()
        return adopted & set(self.portals) if self.portals else adopted

    def _cancel_abandoned(self) -> None:
        """Cancel abandoned jobs of the last day that their node still runs (it hung, then woke up): their
        portals were crawled elsewhere, and two crawls of one portal at once would double its load."""
        rows = self.db.execute("SELECT job_id, node FROM scrapyd_jobs WHERE state = 'abandoned' AND "
                               "dispatched_at >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-1 day')").fetchall()
        for job_id, url in rows:
            node = self.nodes.get(url)
            if node is None or not node.healthy:
                continue
            try:
                if node.client.job_state(self.project, job_id) in ("pending", "running"):
                    node.client.cancel(self.project, job_id)
                    self._say(f"job {job_id} on {url}, abandoned by an earlier crawl, was still running: cancelled")
            except NodeError:
                continue
            with transaction(self.db):
                self.db.execute("UPDATE scrapyd_jobs SET state = 'cancelled' WHERE job_id = ?", [job_id])


def _bounded(client: NodeClient, timeout: float) -> NodeClient:
    """The same node and credentials, its calls bounded by `timeout` seconds."""
    quick = copy.copy(client)
    quick.timeout = timeout
    return quick


def _alive(controller: str | None) -> bool:
    """Whether the controller that dispatched a job still follows it."""
    if not controller:
        return False
    if controller in _FOLLOWING:
        return True
    host, _, rest = controller.partition(":")
    pid, _, rest = rest.partition(":")
    started, _, _ = rest.partition(":")
    if host != socket.gethostname():
        return True  # another machine's controller: it is not ours to judge
    if not pid.isdigit() or int(pid) == os.getpid():
        return False  # this process, not a live controller of it: one that ended or died with an earlier run
    return process_alive(int(pid)) and (started in ("None", "") or process_started(int(pid)) == started)


def _event(result: PortalResult) -> dict:
    return {"status": result.status, "reason": result.reason, "requests": result.requests, "pages": result.pages,
            "documents": result.new_documents, "changed": result.changed_documents, "reports": result.new_reports,
            "errors": result.errors, "family": result.family}
