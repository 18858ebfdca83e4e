"""Progress of long work on stderr: click's progress bar (counts and an ETA) when stderr is a terminal, plain
lines when it is not (cron mail, CI logs, a pipe). One choice for the project: click.progressbar, no extra
dependency.

`CrawlProgress` is the runner's `progress` callback for `govwatch crawl`: one bar over the portals (the ETA
counts portals), showing the pages and documents so far; without a terminal a line of totals when a portal
finishes and every HEARTBEAT seconds. Each portal's final status is left to the summary table.
"""

from __future__ import annotations

import sys
import time

import click

HEARTBEAT = 30.0  # seconds between the plain lines of totals


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class CrawlProgress:
    def __init__(self, portal_ids: list[str], *, bar: bool | None = None):
        self.portal_ids = list(portal_ids)
        self.counts: dict[str, dict] = {}  # portal id -> its last progress event
        self.done: set[str] = set()
        self.started = time.monotonic()
        self.last_heartbeat = self.last_render = self.started
        self.bar = None
        if bar if bar is not None else stderr_is_terminal():
            self.bar = click.progressbar(length=len(self.portal_ids), label="crawling", file=sys.stderr,
                                         show_eta=True, show_pos=True, item_show_func=self._counts_text)
            self.bar.__enter__()

    def __call__(self, event: dict) -> None:
        kind, portal_id = event.get("event"), event.get("portal")
        if portal_id not in self.portal_ids or kind not in ("progress", "done"):
            return
        self.counts[portal_id] = event
        if kind == "done" and portal_id not in self.done:
            self.done.add(portal_id)
            if self.bar is not None:
                self.bar.update(1, portal_id)
            else:  # progress only: each portal's final status is printed once, in the summary table
                self._line(f"({portal_id})")
            return
        if self.bar is not None:
            if time.monotonic() - self.last_render >= 0.5:  # update(0) would not redraw the counts
                self.last_render = time.monotonic()
                self.bar.current_item = portal_id
                self.bar.render_progress()
        elif time.monotonic() - self.last_heartbeat >= HEARTBEAT:
            self._line("")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def _line(self, note: str) -> None:
        self.last_heartbeat = time.monotonic()
        click.echo(f"  {len(self.done)}/{len(self.portal_ids)} portals done{' ' + note if note else ''}, "
                   f"{self._counts_text()} ({time.monotonic() - self.started:.0f} s)", err=True)

    def _counts_text(self, _item=None) -> str:
        pages = sum(e.get("pages", 0) for e in self.counts.values())
        documents = sum(e.get("documents", 0) for e in self.counts.values())
        return f"{pages} pages, {documents} new documents"
