"""Sends with a hard total deadline: each send runs in a sender child process (`python -m
crawler.monitor.sender`), and the child is killed at the send's deadline.

Why a process. Apprise's timeouts are per socket operation: its plugins call `requests` with
``timeout=(socket_connect_timeout, socket_read_timeout)`` (4 s each by default; ``?cto=`` / ``?rto=`` in the
URL), and requests' read timeout bounds the wait for *one* chunk. A server that answers one byte every 3 s
holds a send as long as it likes (62 s measured). Apprise 2's ``notify(timeout=)`` only stops *waiting*: the
send goes on in a worker thread. A Python thread cannot be stopped, so a deadline kept by abandoning a thread
leaves the send running after its attempt is recorded as failed: it may still deliver (and the retry is a
second copy), or still be running when the delivery's lease expires and another sender claims the row. A
process can be stopped: `SendWorker.send` kills the child at the deadline and waits until it is gone, and
only then returns the failure that the caller records. After that nothing of the send can reach the channel;
what the server had received before stays received (the at-least-once window of crawler.monitor.alerts).

The child guards itself as well: an alarm kills it one second after each send's deadline, and it exits when
its stdin closes, so a sender whose parent died outlives it by at most one send.

Protocol, JSON lines: the child prints ``{"ready": true}`` once Apprise and its plugins are loaded (about 1 s,
counted in no send's deadline); then it answers each ``{"url", "title", "body", "deadline"}`` with
``{"ok", "error"}``.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.monitor.notify import SendResult, scrub

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0  # loading Apprise's ~190 plugins takes about 1 s; a loaded machine may need more
ALARM_GRACE = 1.0
_POLL = 0.1  # how often a wait looks at `cancel`


class SenderUnavailable(RuntimeError):
    """The sender child could not be started in time (or the start was cancelled): nothing was sent."""


class SendWorker:
    """One sender child, started before the first send and replaced after a send it had to kill.

        with SendWorker() as worker:
            worker.start(until=time.monotonic() + 10, cancel=stop_event)
            result = worker.send(url, title, body, deadline=10.0, cancel=stop_event)
    """

    def __init__(self, *, startup_timeout: float = STARTUP_TIMEOUT):
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self._buffer = b""

    def __enter__(self) -> "SendWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self.proc is not None

    def start(self, *, until: float | None = None, cancel=None) -> None:
        """Start the child unless one runs; `until` (a time.monotonic() value) bounds the start-up as well
        as `startup_timeout`. Raises SenderUnavailable."""
        if self.proc is not None:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        # its own session: a terminal's Ctrl-C goes to govwatch, which stops the child itself
        self.proc = subprocess.Popen([sys.executable, "-m", "crawler.monitor.sender"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        self._buffer = b""
        limit = time.monotonic() + self.startup_timeout
        answer, why = self._read(limit if until is None else min(limit, until), cancel)
        if answer is not None and answer.get("ready"):
            return
        self._stop()
        raise SenderUnavailable({"cancel": "interrupted: govwatch is stopping (nothing was sent)",
                                 "timeout": "the sender process did not start in time (nothing was sent)"}.get(
                                     why, "the sender process could not start (nothing was sent)"))

    def send(self, url: str, title: str, body: str, *, deadline: float, cancel=None) -> SendResult:
        """Send one message (starting the child if needed); returns within `deadline` seconds (plus the
        kill), at once when `cancel` (an Event) is set. A send that had to be stopped is a failed result
        whose error says "stopped"; by then the child is gone."""
        self.start(cancel=cancel)
        request = {"url": url, "title": title, "body": body, "deadline": deadline}
        try:
            self.proc.stdin.write((json.dumps(request, ensure_ascii=False) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError:
            return SendResult(False, f"the sender process died (exit code {self._stop()})")
        answer, why = self._read(time.monotonic() + deadline, cancel)
        if answer is None:
            code = self._stop()
            if why == "timeout":
                return SendResult(False, f"no answer within {deadline:g} s: the send was stopped (send_timeout)")
            if why == "cancel":
                return SendResult(False, "interrupted: govwatch is stopping, the send was stopped")
            return SendResult(False, f"the sender process died (exit code {code})")
        return SendResult(bool(answer.get("ok")), scrub(answer.get("error"), url))

    def close(self) -> None:
        """Stop the child. Between sends it has nothing in flight, and killing it saves the ~1 s an
        interpreter with Apprise loaded takes to exit."""
        self._stop()

    # -- the child ----------------------------------------------------------------------------------
    def _read(self, until: float, cancel) -> tuple[dict | None, str]:
        """The child's next answer line, or (None, "timeout" | "cancel" | "eof")."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            if cancel is not None and cancel.is_set():
                return None, "cancel"
            left = until - time.monotonic()
            if left <= 0:
                return None, "timeout"
            ready, _, _ = select.select([fd], [], [], min(_POLL, left))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None, "eof"
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line), ""
        except ValueError:
            return None, "eof"

    def _stop(self) -> int | None:
        """Kill the child (and anything it started) and wait until it is gone."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return code


def serve() -> int:
    """The child: answer send requests from stdin until it closes."""
    # the protocol owns the real stdout; anything a library prints goes to stderr (discarded by the parent)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    from crawler.monitor.channels import deliver, load_plugins

    load_plugins()
    out.write('{"ready": true}\n')
    out.flush()
    for line in io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8"):
        request = json.loads(line)
        # a last guard for a parent that died mid-send: SIGALRM's default action ends the process
        signal.setitimer(signal.ITIMER_REAL, float(request["deadline"]) + ALARM_GRACE)
        result = deliver(request["url"], request["title"], request["body"])
        signal.setitimer(signal.ITIMER_REAL, 0)
        out.write(json.dumps({"ok": result.ok, "error": result.error}, ensure_ascii=False) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
