"""The national portal farm: one simulated portal per region of the division data (up to 3,214), all served
by ONE asyncio process on loopback, for the national tests and `bench/bench_national.py`.

    with Farm(limit=100) as farm:                    # in this process: the event loop runs in a thread
        farm.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False)
        farm.publish("340202")                       # the region's next-year report, at the column's top
        farm.counts()["340202"]                      # {"requests": 13, "not_modified": 0, "robots": 1, ...}

    python -m crawler.demo.farm serve [--limit N] [--province 安徽省]   # its own process; prints one JSON line
    client = FarmClient("http://127.0.0.1:PORT")     # ... with the control URL: the same API over HTTP

Addresses: portal n listens on 127.100.(n // 250).(n % 250 + 1) on an ephemeral port (Linux routes all of
127.0.0.0/8 to lo, so any 127.x.y.z binds without setup), so Scrapy sees one host per portal: its own download
slot, robots.txt and off-site checks. A `redirect` portal's "new" site listens on 127.101.x.y. One listening
socket per address is one file descriptor per portal: `Farm.start` raises the soft RLIMIT_NOFILE toward the
hard limit and says how many portals fit when it cannot. (A single wildcard socket would see every
address, but it would listen on the machine's real interfaces too.)

What a portal serves is `crawler.demo.farmsites` (families, roles, content); robots.txt, ETag/Last-Modified
and 304 answers are `crawler.demo.server.answer`, as for the test portals. HTTP/1.1 with keep-alive; idle
connections close after IDLE_SECONDS. Memory: a portal's pages are built on its first request and kept, and
the request log is a fixed set of counters per portal plus a bounded deque of recent requests, so memory
does not grow with traffic. The control endpoint (process mode) is plain JSON over HTTP on 127.0.0.1:

    GET  /portals                      [{"id", "name", "code", "level", "family", "role", "column_url", ...}]
    GET  /counts                       {portal id: {"requests", "not_modified", "robots", "moved"}}
    POST /counts/reset
    POST /publish  {"portal": id[, "year": Y]}       {"portal", "year", "title", "url"}
    POST /down     {"portal": id, "down": true}
    GET  /stats                        {"pid", "cpu_s", "max_rss_kib", "requests", "built"}
    GET  /pages                        {portal id: [URL, ...]}: what a full crawl fetches (for a bare crawl)
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import os
import resource
import sys
import threading
import time
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crawler.demo.farmsites import (
    SLOW_SECONDS, Region, build_portal, column_path, family_and_role, initial_report_years, new_report, page_paths,
    report_title, select_regions,
)
from crawler.config import toml_value
from crawler.demo.server import CHINA_TZ, Portal, Request, Response, answer

IDLE_SECONDS = 30.0
MAX_HEAD_BYTES = 64 * 1024
RECENT_REQUESTS = 20000
PORTAL_NET, MOVED_NET = 100, 101  # second octet of the portals' and the moved sites' addresses
_COUNTERS = ("requests", "not_modified", "robots", "moved")


def address(position: int, net: int = PORTAL_NET) -> str:
    if position >= 250 * 256:
        raise ValueError(f"position {position}: the farm has addresses for {250 * 256} portals")
    return f"127.{net}.{position // 250}.{position % 250 + 1}"


class FarmSite:
    """One portal of the farm: its region, family, role, listening address, counters, and (built on first
    use) its `crawler.demo.server.Portal`."""

    def __init__(self, position: int, region: Region):
        self.position = position
        self.region = region
        self.id = region.code
        self.family, self.role = family_and_role(position)
        self.base_url = ""  # set when the listener is bound
        self.moved_url = ""  # the redirect role's new site
        self.down = self.role == "down"
        self.delay = SLOW_SECONDS if self.role == "slow" else 0.0
        self.counts = dict.fromkeys(_COUNTERS, 0)
        self.published: list[int] = []  # years added by publish()
        self._portal: Portal | None = None

    @property
    def name(self) -> str:
        return f"{self.region.full_name}人民政府"

    def portal(self, lock: threading.Lock) -> Portal:
        if self._portal is None:
            with lock:
                if self._portal is None:
                    portal = build_portal(self.id, self.region, self.position)
                    portal.base_url = self.moved_url or self.base_url
                    self._portal = portal
        return self._portal

    @property
    def column_url(self) -> str:
        return self.base_url + column_path(self.position)

    def report_years(self) -> list[int]:
        """The years of the reports the column holds now (blocked portals serve none)."""
        if self.role in ("blocked412", "blocked521"):
            return []
        return initial_report_years(self.region) + self.published

    def row(self) -> dict:
        return {"id": self.id, "name": self.name, "code": self.region.code, "level": self.region.level,
                "region": self.region.full_name, "family": self.family, "role": self.role,
                "base_url": self.base_url, "moved_url": self.moved_url, "column_url": self.column_url,
                "report_years": self.report_years()}


# ---------------------------------------------------------------------------------------------------------
# HTTP on asyncio


_PHRASES = {s.value: s.phrase for s in HTTPStatus} | {521: "Web Server Is Down"}  # 521: 加速乐, Cloudflare


def _render(response: Response, *, head: bool, keep_alive: bool) -> bytes:
    status = response.status
    lines = [f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}", "Server: nginx",
             f"Date: {email.utils.formatdate(usegmt=True)}"]
    if response.content_type and status != 304:
        lines.append(f"Content-Type: {response.content_type}")
    lines += [f"{key}: {value}" for key, value in response.headers.items()]
    if status != 304:
        lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head_bytes if head or status == 304 else head_bytes + response.body


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 client connection: requests answered in order, keep-alive, idle timeout."""

    def __init__(self, handler, loop: asyncio.AbstractEventLoop):
        self.handler = handler  # (method, path, query, headers, body) -> (Response, delay seconds)
        self.loop = loop
        self.buffer = bytearray()
        self.transport = None
        self.busy = False
        self.idle = None

    def connection_made(self, transport):
        self.transport = transport
        self._arm()

    def connection_lost(self, exc):
        if self.idle is not None:
            self.idle.cancel()

    def _arm(self):
        if self.idle is not None:
            self.idle.cancel()
        self.idle = self.loop.call_later(IDLE_SECONDS, self.transport.close)

    def data_received(self, data):
        self.buffer += data
        if not self.busy:
            self._next()

    def _next(self):
        while not self.busy and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD_BYTES:
                    self.transport.close()
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            headers = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return  # the body is still coming
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            keep_alive = (version == "HTTP/1.1" and headers.get("connection", "").lower() != "close") or \
                headers.get("connection", "").lower() == "keep-alive"
            parts = urlsplit(target)
            try:
                response, delay = self.handler(method, parts.path or "/", parts.query, headers, body)
                payload = _render(response, head=method == "HEAD", keep_alive=keep_alive)
            except Exception as exc:  # a rendering bug must show, not hang the client
                delay, payload = 0.0, _render(Response(status=500, body=f"farm error: {exc!r}".encode(),
                                                       content_type="text/plain; charset=utf-8", cacheable=False),
                                              head=False, keep_alive=keep_alive)
            if delay:
                self.busy = True
                self.loop.call_later(delay, self._send, payload, keep_alive)
            else:
                self._send(payload, keep_alive)

    def _send(self, payload: bytes, keep_alive: bool):
        if self.transport.is_closing():
            return
        self.transport.write(payload)
        if not keep_alive:
            self.transport.close()
            return
        self._arm()
        if self.busy:
            self.busy = False
            self._next()


def _request(method, path, query, headers, body) -> Request:
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if body and ("application/x-www-form-urlencoded" in headers.get("content-type", "")
                 or not headers.get("content-type")):
        params.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                                      keep_blank_values=True).items()})
    return Request(method=method, path=path, query=query, params=params, headers=headers, body=body)


def _json(data, status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(data, ensure_ascii=False).encode(),
                    content_type="application/json; charset=utf-8", cacheable=False)


# ---------------------------------------------------------------------------------------------------------
# The farm


class Farm:
    """The portals of `regions` (default: every region of the division data, or `limit` of them from `offset`,
    or those of `provinces`), served from one event loop. `start()` runs it in a thread of this process;
    `serve_forever()` runs it in the calling thread (process mode, with the control endpoint)."""

    def __init__(self, regions: list[Region] | None = None, *, limit: int | None = None, offset: int = 0,
                 provinces: list[str] | tuple[str, ...] = ()):
        if regions is None:
            regions = select_regions(provinces=provinces, limit=limit, offset=offset)
        self.sites: dict[str, FarmSite] = {}
        for position, region in enumerate(regions):
            self.sites[region.code] = FarmSite(position, region)
        self.recent: collections.deque = collections.deque(maxlen=RECENT_REQUESTS)  # (at, portal, method, path, status)
        self.control_url = ""
        self._build_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # ----- serving
    def _answer(self, site: FarmSite, moved: bool):
        def handle(method, path, query, headers, body):
            site.counts["requests"] += 1
            if moved:
                site.counts["moved"] += 1
            if path == "/robots.txt":
                site.counts["robots"] += 1
            if site.role == "redirect" and not moved:
                location = site.moved_url + path + (f"?{query}" if query else "")
                response = Response(status=301, headers={"Location": location}, cacheable=False,
                                    body=b"<html><body>301 Moved Permanently</body></html>")
            else:
                response = answer(site.portal(self._build_lock), _request(method, path, query, headers, body),
                                  down=site.down)
            if response.status == 304:
                site.counts["not_modified"] += 1
            self.recent.append((time.time(), site.id, method, path, response.status))
            return response, site.delay
        return handle

    async def _bind(self, control: bool) -> None:
        loop = asyncio.get_running_loop()
        needed = len(self.sites) + sum(1 for s in self.sites.values() if s.role == "redirect")
        ensure_open_files(needed)
        for site in self.sites.values():
            if site.role == "redirect":
                moved = address(site.position, MOVED_NET)
                server = await loop.create_server(lambda s=site: _Connection(self._answer(s, True), loop),
                                                  moved, 0, backlog=256)
                self._servers.append(server)
                site.moved_url = f"http://{moved}:{server.sockets[0].getsockname()[1]}"
            host = address(site.position)
            server = await loop.create_server(lambda s=site: _Connection(self._answer(s, False), loop),
                                              host, 0, backlog=256)
            self._servers.append(server)
            site.base_url = f"http://{host}:{server.sockets[0].getsockname()[1]}"
        if control:
            server = await loop.create_server(lambda: _Connection(self._control, loop), "127.0.0.1", 0)
            self._servers.append(server)
            self.control_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    def start(self) -> "Farm":
        """Bind every portal and serve from a background thread of this process."""
        if self._thread is not None:
            return self

        def run():
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._bind(control=False))
            except BaseException as exc:  # noqa: BLE001 - reported by start()
                self._error = exc
                self._ready.set()
                self._close(loop)
                return
            self._ready.set()
            loop.run_forever()
            self._close(loop)

        self._thread = threading.Thread(target=run, name="portal-farm", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def _close(self, loop) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> "Farm":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self, *, ready=None) -> None:
        """Process mode: bind, start the control endpoint, call `ready(farm)`, serve until SIGTERM/SIGINT."""
        import signal

        async def main():
            await self._bind(control=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            if ready is not None:
                ready(self)
            await stop.wait()
            for server in self._servers:
                server.close()

        asyncio.run(main())

    # ----- the API (thread-safe: counters are plain ints, a portal's content has its own lock)
    def site(self, portal_id: str) -> FarmSite:
        try:
            return self.sites[portal_id]
        except KeyError:
            raise KeyError(f"no portal {portal_id!r} in the farm") from None

    def portal_ids(self, *, role: str | None = "any") -> list[str]:
        """Portal ids, all by default; `role=None` the ordinary ones, or those of one role."""
        return [pid for pid, s in self.sites.items() if role == "any" or s.role == role]

    def portals(self) -> list[dict]:
        return [s.row() for s in self.sites.values()]

    def column_url(self, portal_id: str) -> str:
        return self.site(portal_id).column_url

    def publish(self, portal_id: str, year: int | None = None) -> dict:
        """Put the region's report of `year` (default: the year after its newest) at the top of its column."""
        site = self.site(portal_id)
        if site.role in ("blocked412", "blocked521"):
            raise ValueError(f"portal {portal_id} is behind an anti-bot wall: nothing it publishes can be seen")
        years = site.report_years()
        year = year or (max(years) + 1)
        if year in years:
            raise ValueError(f"portal {portal_id} already has its {year} report")
        portal = site.portal(self._build_lock)
        item = portal.publish(new_report(site.region, year, datetime.now(CHINA_TZ).replace(microsecond=0)))
        site.published.append(year)
        return {"portal": portal_id, "year": year, "title": report_title(site.region, year), "url": portal.url(item)}

    def set_down(self, portal_id: str, down: bool = True) -> None:
        self.site(portal_id).down = down

    def counts(self) -> dict[str, dict[str, int]]:
        return {pid: dict(s.counts) for pid, s in self.sites.items()}

    def reset_counts(self) -> None:
        for site in self.sites.values():
            for key in _COUNTERS:
                site.counts[key] = 0
        self.recent.clear()

    def stats(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"pid": os.getpid(), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "max_rss_kib": usage.ru_maxrss,
                "requests": sum(s.counts["requests"] for s in self.sites.values()),
                "built": sum(1 for s in self.sites.values() if s._portal is not None)}

    def write_config(self, path: str | Path, portal_ids: list[str] | None = None, **options) -> Path:
        return write_config(path, [self.site(pid).row() for pid in (portal_ids or self.portal_ids())], **options)

    def pages(self, portal_id: str) -> list[str]:
        """The absolute URLs a full crawl of the portal fetches besides robots.txt (see farmsites.page_paths);
        of a portal that is down or has moved, only its column page (nothing behind it can be seen)."""
        site = self.site(portal_id)
        if site.down or site.role == "redirect":
            return [site.column_url]
        return [site.base_url + path for path in page_paths(site.portal(self._build_lock))]

    # ----- the control endpoint
    def _control(self, method, path, query, headers, body):
        try:
            data = json.loads(body) if body else {}
            if method == "GET" and path == "/portals":
                return _json(self.portals()), 0.0
            if method == "GET" and path == "/counts":
                return _json(self.counts()), 0.0
            if method == "POST" and path == "/counts/reset":
                self.reset_counts()
                return _json({"ok": True}), 0.0
            if method == "POST" and path == "/publish":
                return _json(self.publish(data["portal"], data.get("year"))), 0.0
            if method == "POST" and path == "/down":
                self.set_down(data["portal"], bool(data.get("down", True)))
                return _json({"ok": True}), 0.0
            if method == "GET" and path == "/stats":
                return _json(self.stats()), 0.0
            if method == "GET" and path == "/pages":
                return _json({pid: self.pages(pid) for pid in self.sites}), 0.0
        except (KeyError, ValueError) as exc:
            return _json({"error": str(exc)}, status=400), 0.0
        return _json({"error": f"no {method} {path}"}, status=404), 0.0


def ensure_open_files(listeners: int) -> None:
    """Raise the soft RLIMIT_NOFILE so `listeners` sockets plus their connections fit (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = listeners * 3 + 1024  # a listener, and on average two keep-alive connections, per portal
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    if listeners + 64 > soft:
        raise OSError(f"the farm needs {listeners} listening sockets but RLIMIT_NOFILE allows {soft} open files "
                      f"(hard limit {hard}): serve at most {max(0, soft - 1024) // 3} portals or raise `ulimit -n`")


def write_config(path: str | Path, rows: list[dict], *, cms: bool = False, adcode: bool = True,
                 alerts: dict | None = None, **crawl) -> Path:
    """A govwatch.toml: `[crawl]` (the given keys), `[alerts]` (when given), one `[[portal]]` per row."""
    lines: list[str] = []
    for section, values in (("crawl", crawl), ("alerts", alerts or {})):
        if values:
            lines.append(f"[{section}]")
            lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
            lines.append("")
    for row in rows:
        lines += ["[[portal]]", f"id = {toml_value(row['id'])}", f"name = {toml_value(row['name'])}",
                  f"start_urls = {toml_value([row['column_url']])}"]
        if adcode:
            lines.append(f"adcode = {toml_value(row['code'])}")
        if cms:
            lines.append(f"cms = {toml_value(row['family'])}")
        lines.append("")
    path = Path(path)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class FarmClient:
    """The farm's API over its control endpoint, for a farm running in its own process."""

    def __init__(self, control_url: str):
        self.control_url = control_url.rstrip("/")
        self._rows: list[dict] | None = None

    def _call(self, method: str, path: str, data: dict | None = None, *, timeout: float = 30):
        import urllib.error
        import urllib.request

        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.control_url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer_:
                return json.loads(answer_.read())
        except urllib.error.HTTPError as exc:
            raise ValueError(f"farm {method} {path}: {json.loads(exc.read()).get('error')}") from None

    def portals(self) -> list[dict]:
        if self._rows is None:
            self._rows = self._call("GET", "/portals")
        return self._rows

    def portal_ids(self, *, role: str | None = "any") -> list[str]:
        return [r["id"] for r in self.portals() if role == "any" or r["role"] == role]

    def publish(self, portal_id: str, year: int | None = None) -> dict:
        self._rows = None
        return self._call("POST", "/publish", {"portal": portal_id, "year": year})

    def set_down(self, portal_id: str, down: bool = True) -> None:
        self._call("POST", "/down", {"portal": portal_id, "down": down})

    def counts(self) -> dict[str, dict[str, int]]:
        return self._call("GET", "/counts")

    def reset_counts(self) -> None:
        self._call("POST", "/counts/reset")

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def pages(self) -> dict[str, list[str]]:
        return self._call("GET", "/pages", timeout=900)  # builds every portal not built yet (~4 ms each)

    def write_config(self, path: str | Path, portal_ids: list[str] | None = None, **options) -> Path:
        rows = {r["id"]: r for r in self.portals()}
        return write_config(path, [rows[pid] for pid in (portal_ids or list(rows))], **options)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m crawler.demo.farm", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the farm until SIGTERM/SIGINT; prints one JSON line when ready")
    serve.add_argument("--limit", type=int, help="at most this many portals (default: every region)")
    serve.add_argument("--offset", type=int, default=0)
    serve.add_argument("--province", action="append", default=[], help="only this province (name or code)")
    args = parser.parse_args(argv)
    farm = Farm(limit=args.limit, offset=args.offset, provinces=args.province)

    def ready(f: Farm) -> None:
        print(json.dumps({"control": f.control_url, "portals": len(f.sites), "pid": os.getpid()}), flush=True)

    farm.serve_forever(ready=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
