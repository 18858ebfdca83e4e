"""The crawl's document writer: a child process that stores the documents the spider extracts.

Storing a document (the row, its full-text index entry, dedupe, alerts and its fetch state, in one
transaction: `crawler.corpus.ingest.store_one`) is about a third of a crawl's CPU time per page. In the crawl
process it runs between downloads on the one core that Scrapy's reactor uses; in a writer process it runs
on another core while the crawl goes on. The crawl process imports only this module's light half: the
store path is imported by the writer itself. Documents are written in the order they arrive, each in its
own transaction; the results (new document, new report, or the error) come back to the pipeline for the
crawl's counts. The database stays the one place of truth: a writer killed with its crawl loses only
documents not yet committed, and their fetch state with them, so the next crawl fetches them again.

Neither side waits on the other without a deadline or a liveness check. Jobs and outcomes travel over one
socket pair (no multiprocessing queue: its feeder thread blocked the crawl's exit for good once the writer
was dead); a sender thread feeds it from a bounded backlog, a receiver thread reads the outcomes and sees
the writer's death as the end of the stream, within a fraction of a second, and calls `on_death`. The
writer dies with the crawl process (`crawler.crawl.lifeline`) and ends when the socket closes.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue
import signal
import threading
import time
from typing import TYPE_CHECKING, Callable

from crawler.corpus.job import Job, Outcome

if TYPE_CHECKING:
    from crawler.config import AlertSettings

BACKLOG = 256  # jobs waiting to be sent; past that, `submit` waits (the crawl slows to the writer's pace)
_STOP = None  # the job that ends the writer; its answer, the same None, says every job before it is done


class WriterDied(RuntimeError):
    """The writer process is gone; the message says how (exit code or signal)."""


def _serve(db_path: str, alerts: AlertSettings | None, threshold: float | None, conn, parent_pid: int) -> None:
    from crawler.crawl.lifeline import die_with_parent

    die_with_parent(parent_pid, signal.SIGKILL)  # what it committed stays; the rest is fetched again
    # the store path (dedupe, index, alerts) is imported here: the crawl process that imports this module
    # for WriterProcess never stores, and its start-up is on the crawl's critical path
    from crawler.corpus.ingest import store_one
    from crawler.crawl.fetchstate import FetchState
    from crawler.monitor.alerts import AlertPolicy
    from storage import connect
    from storage.segment import segmenter

    db = connect(db_path)
    fetch_state, policy = FetchState(db), AlertPolicy.from_settings(alerts)
    segmenter()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the crawl process died: what was committed stays, the rest is refetched
            return
        if job is _STOP:
            break
        conn.send(store_one(db, fetch_state, job, policy=policy, threshold=threshold))
    db.conn.close()
    conn.send(_STOP)


def describe_exit(exitcode: int | None) -> str:
    """`killed by SIGKILL`, `exit code 3`, or `still running` for a process's exit code."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class WriterProcess:
    """Feeds jobs to a writer child process and collects their outcomes (`poll` never blocks).

    `on_death(message)` is called once, from a background thread, if the writer dies before `close`."""

    def __init__(self, db_path: str, *, alerts: AlertSettings | None = None, threshold: float | None = None,
                 on_death: Callable[[str], None] | None = None, backlog: int = BACKLOG):
        context = multiprocessing.get_context("spawn")  # never fork a process running Twisted and threads
        self._conn, child_conn = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(db_path, alerts, threshold, child_conn, os.getpid()),
                                       name="govwatch-writer", daemon=True)
        self.process.start()
        child_conn.close()  # only the child holds its end now: the child's death is the end of our stream
        self.pending = 0
        self.death: str | None = None  # how the writer died, once it did
        self._on_death = on_death
        self._backlog: queue.Queue = queue.Queue(maxsize=backlog)
        self._outcomes: collections.deque[Outcome] = collections.deque()
        self._finished = threading.Event()  # the writer answered the stop job, or died
        self._closing = False
        self._sender = threading.Thread(target=self._send_loop, name="govwatch-writer-send", daemon=True)
        self._receiver = threading.Thread(target=self._receive_loop, name="govwatch-writer-receive", daemon=True)
        self._sender.start()
        self._receiver.start()

    def submit(self, job: Job, *, timeout: float | None = None) -> None:
        """Queue `job` for the writer; waits while the backlog is full, never past the writer's death (then
        raises WriterDied) or `timeout` seconds (then raises TimeoutError)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.death is not None:
                raise WriterDied(self.death)
            try:
                self._backlog.put(job, timeout=0.2)
                break
            except queue.Full:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"writer process busy for {timeout:g} s") from None
        self.pending += 1

    def poll(self) -> list[Outcome]:
        """Outcomes of the jobs finished so far."""
        out = []
        while self._outcomes:
            out.append(self._outcomes.popleft())
        self.pending -= len(out)
        return out

    def close(self, *, timeout: float = 600.0) -> list[Outcome]:
        """Wait for every submitted job, stop the child, return the outcomes not polled yet (`pending` then
        counts the jobs the child could not finish: it died, or `timeout` passed)."""
        self._closing = True
        deadline = time.monotonic() + timeout
        while self.death is None:
            try:
                self._backlog.put(_STOP, timeout=0.2)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    break
        self._finished.wait(max(0.0, deadline - time.monotonic()))
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=10)
        self._receiver.join(timeout=10)  # it reads to the end of the stream before the socket is closed
        self._conn.close()
        return self.poll()

    # ----- the two threads
    def _send_loop(self) -> None:
        while True:
            job = self._backlog.get()
            try:
                self._conn.send(job)
            except (OSError, ValueError):  # broken pipe: the writer is gone (the receiver reports it)
                return
            if job is _STOP:
                return

    def _receive_loop(self) -> None:
        while True:
            try:
                item = self._conn.recv()
            except (EOFError, OSError):
                break
            if item is _STOP:
                self._finished.set()
                return
            self._outcomes.append(item)
        for _ in range(100):  # its exit status (not join: another thread may be joining it too)
            if self.process.exitcode is not None:
                break
            time.sleep(0.05)
        self.death = f"writer process {describe_exit(self.process.exitcode)}"
        self._finished.set()
        try:  # unblock the sender if it waits for a job
            self._backlog.put_nowait(_STOP)
        except queue.Full:
            pass
        if self._on_death is not None and not self._closing:
            self._on_death(self.death)
