"""A small multi-portal HTTP server for tests, the demo and the benchmark (standard library only).

Every portal gets its own listener on its own loopback address (127.0.0.2, 127.0.0.3, ...) so that Scrapy
sees distinct hosts: per-host download slots, robots.txt and off-site checks behave as on the real web.
When the platform cannot bind 127.0.0.2 (macOS without aliases) all listeners fall back to 127.0.0.1 on
different ports.

    with PortalServer(portals) as server:
        server.column_url("trs")              # start URL of the portal's column list
        server.write_config(path, download_delay=0, autothrottle=False)
        server.publish("trs", Item(...))      # new item at the top of the column
        server.requests                       # the request log (LoggedRequest rows)

A `Portal` renders its own pages (see `crawler.demo.sites` for the CMS styles); the server adds what every
portal shares: `/robots.txt`, strong ETags and Last-Modified with 304 answers, HEAD, the down switch (503)
and the request log.  An extra "off-site" listener (id `_offsite`, the address after the last portal) answers
anything with a small page, so a crawl that wrongly follows an off-site link shows up in the log.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import html as _html
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crawler.config import toml_value

CHINA_TZ = timezone(timedelta(hours=8))
OFFSITE_ID = "_offsite"
HOME_PATHS = ("/", "/index.html", "/index.htm")
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nAllow: /\n"

__all__ = [
    "Attachment", "Item", "LoggedRequest", "Portal", "PortalServer", "Request", "Response", "answer",
    "parse_published",
]


class _PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a crawler opening 8 connections at once overflowed it, and
    # the dropped SYNs were only retried after the kernel's 1 s timeout (a stall in every crawl and benchmark)
    request_queue_size = 128


# ---------------------------------------------------------------------------------------------------------
# Data


@dataclass
class Attachment:
    """A file linked from an item's page (PDF, DOCX ...), served at `path` (set by the portal when empty)."""

    label: str  # link text, e.g. "附件：吉林市2022年度法治政府建设工作报告.docx"
    filename: str  # e.g. "P020230215384735.docx"
    data: bytes
    content_type: str
    text: str = ""  # the text a good extractor should get out of `data` (one paragraph per line)
    path: str = ""


@dataclass
class Item:
    """One entry of a portal's column: a list line plus (unless `href` points elsewhere) a detail page."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    published: str = ""  # "YYYY-MM-DD HH:MM" or "YYYY-MM-DD" (China time)
    source: str | None = None
    author: str | None = None
    kind: str = "news"  # report | notice (body says 详见附件) | decoy | filler | private | offsite | news
    golden: str | None = None  # stem of seeds/expected/<stem>.json when the body is a golden report
    attachments: list[Attachment] = field(default_factory=list)
    href: str | None = None  # explicit link target (off-site items); None: served by the portal at `path`
    path: str = ""  # set by the portal: URL path of the detail page
    id: int = 0  # set by the portal: its numeric article id

    @property
    def published_dt(self) -> datetime:
        return parse_published(self.published)

    @property
    def date(self) -> str:
        return self.published[:10]


def parse_published(value: str) -> datetime:
    value = value.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
    raise ValueError(f"bad published date {value!r}: use 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD'")


@dataclass(frozen=True)
class LoggedRequest:
    portal: str
    host: str
    method: str
    path: str
    query: str
    headers: dict
    status: int
    bytes: int
    at: float  # time.time() when the answer was sent


@dataclass
class Request:
    method: str
    path: str
    query: str
    params: dict[str, str]  # query string merged with a form-encoded body (body wins)
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None
    cacheable: bool = True  # strong ETag + conditional GET

    @classmethod
    def html(cls, text: str, charset: str = "utf-8", *, codec: str | None = None, **kw) -> "Response":
        return cls(body=text.encode(codec or charset), content_type=f"text/html; charset={charset}", **kw)


# ---------------------------------------------------------------------------------------------------------
# Portal base class


class Portal:
    """A site with one column. Subclasses (see `crawler.demo.sites`) set the paths and render the pages.

    `items` are kept newest first (the order of the column list). Item paths and ids are assigned by
    `assign()`, deterministically from the article id and date.
    """

    cms = "generic"  # the crawler.config CMS family this portal imitates
    column_path = "/"
    per_page = 10
    first_id = 100

    def __init__(self, id: str, name: str = "", items: list[Item] | None = None, **options):
        self.id = id
        self.name = name or id
        self.options = options
        self.items: list[Item] = []
        self.lock = threading.RLock()
        self.base_url = "http://127.0.0.1"  # set by the server at start
        self.offsite_base = "http://127.0.0.9"  # set by the server at start
        self._next_id = self.first_id
        self._files: dict[str, Attachment] = {}
        # the list pages were last changed at the newest item's date; publish() moves it to now
        self.modified: datetime | None = None
        for item in reversed(items or []):
            self._add(item)
        self.modified = max((i.published_dt for i in self.items), default=datetime(2020, 1, 1, tzinfo=CHINA_TZ))

    # ----- content
    def _add(self, item: Item) -> Item:
        item = dataclasses.replace(item, attachments=[dataclasses.replace(a) for a in item.attachments])
        item.id = self._next_id
        self._next_id += 1
        if not item.href:
            item.path = self.assign(item)
            for n, att in enumerate(item.attachments, start=1):
                if not att.path:
                    att.path = self.attachment_path(item, att, n)
                self._files[att.path] = att
        self.items.insert(0, item)
        return item

    def publish(self, item: Item) -> Item:
        with self.lock:
            stored = self._add(item)
            now = datetime.now(CHINA_TZ).replace(microsecond=0)
            self.modified = max(now, self.modified + timedelta(seconds=1))
            return stored

    def assign(self, item: Item) -> str:
        """The detail page path of a new item."""
        return f"/art/{item.id}.html"

    def attachment_path(self, item: Item, att: Attachment, n: int) -> str:
        return item.path.rsplit("/", 1)[0] + "/" + att.filename

    def url(self, item: Item) -> str:
        """Absolute URL of an item as linked from the column."""
        return item.href or self.base_url + item.path

    def served_items(self) -> list[Item]:
        return [i for i in self.items if not i.href]

    def item_by_path(self, path: str) -> Item | None:
        for item in self.items:
            if item.path == path and not item.href:
                return item
        return None

    def pages(self) -> list[list[Item]]:
        """The column's items split into list pages."""
        items = self.items
        return [items[i:i + self.per_page] for i in range(0, len(items), self.per_page)] or [[]]

    # ----- serving
    def robots_txt(self) -> str:
        return ROBOTS_TXT

    def home_page(self) -> str:
        """The portal's home page, as real portals have one: a navigation bar whose columns include the
        法治政府建设 column (so `govwatch discover` finds it among the others), special topics and headlines."""
        site = getattr(self, "site", None) or {}
        name, column = site.get("site") or self.name, site.get("column") or "法治政府建设"
        nav = [("首页", "/"), ("政务公开", "/zwgk/"), ("新闻中心", "/xwzx/"), ("政策解读", "/zcjd/"),
               (column, self.column_path), ("互动交流", "/hdjl/"), ("办事服务", "/bsfw/")]
        topics = [("优化营商环境", "/ztzl/yshj/"), ("乡村振兴", "/ztzl/xczx/"), (column, self.column_path),
                  ("安全生产", "/ztzl/aqsc/")]
        headlines = [i for i in self.items if not i.href and i.kind in ("news", "filler")][:5]

        def links(pairs):
            return "\n".join(f'      <li><a href="{_html.escape(href)}">{_html.escape(text)}</a></li>'
                             for text, href in pairs)

        news = "\n".join(f'      <li><a href="{_html.escape(self.url(i))}">{_html.escape(i.title)}</a>'
                         f"<span>{i.date}</span></li>" for i in headlines)
        return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_html.escape(name)}</title></head>
<body>
  <div class="header"><h1>{_html.escape(name)}</h1></div>
  <div class="nav"><ul>
{links(nav)}
  </ul></div>
  <div class="news"><h2>工作动态</h2><ul>
{news}
  </ul></div>
  <div class="topics"><h2>专题专栏</h2><ul>
{links(topics)}
  </ul></div>
  <div class="footer">{_html.escape(name)} 主办</div>
</body></html>
"""

    def dispatch(self, request: Request) -> Response | None:
        with self.lock:
            att = self._files.get(request.path)
            if att is not None:
                item = next((i for i in self.items if att in i.attachments), None)
                return Response(body=att.data, content_type=att.content_type,
                                headers={"Content-Disposition": f'inline; filename="{att.filename}"'},
                                last_modified=item.published_dt if item else None)
            response = self.handle(request)
            if response is None and request.path in HOME_PATHS and self.column_path not in HOME_PATHS:
                response = Response.html(self.home_page(), last_modified=self.modified)
            return response

    def handle(self, request: Request) -> Response | None:
        """Answer one request (None = 404). Called with the portal lock held."""
        return None

    def not_found(self) -> Response:
        return Response(status=404, body=b"<html><body><h1>404 Not Found</h1></body></html>", cacheable=False)


class _OffsitePortal(Portal):
    """Stands in for another site: any path answers a small page (so followed off-site links show up)."""

    def handle(self, request: Request) -> Response | None:
        return Response.html("<html><head><title>其他网站</title></head><body><p>这是另一个网站的页面。</p>"
                             "</body></html>")


# ---------------------------------------------------------------------------------------------------------
# The server


class PortalServer:
    """Serves portals on loopback, one listener (address + port) per portal, in background threads."""

    def __init__(self, portals: list[Portal], *, first_host: int = 2, offsite: bool = True, port: int = 0):
        ids = [p.id for p in portals]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate portal ids: {ids}")
        self.portals: dict[str, Portal] = {p.id: p for p in portals}
        if offsite:
            self.portals[OFFSITE_ID] = _OffsitePortal(OFFSITE_ID, "其他网站")
        self._first_host = first_host
        self._port = port  # 0: any free port; else every portal's port (or port + n on one address)
        self.fixed_ports = bool(port)  # False once a fixed port was taken and a free one used instead
        self._listeners: dict[str, _PortalHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._down: set[str] = set()
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self.started = False

    # ----- lifecycle
    def start(self) -> "PortalServer":
        if self.started:
            return self
        multi = several_loopback_addresses()
        try:
            for n, portal in enumerate(self.portals.values()):
                host, port = listen_address(n, self._port, multi=multi, first_host=self._first_host)
                httpd = self._listen(host, port, portal)
                self._listeners[portal.id] = httpd
                portal.base_url = f"http://{host}:{httpd.server_address[1]}"
            offsite = self.portals.get(OFFSITE_ID)
            for portal in self.portals.values():
                if offsite is not None:
                    portal.offsite_base = offsite.base_url
            for pid, httpd in self._listeners.items():
                thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                          name=f"portal-{pid}", daemon=True)
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def _listen(self, host: str, port: int, portal: Portal) -> _PortalHTTPServer:
        try:
            return _PortalHTTPServer((host, port), _make_handler(self, portal))
        except OSError:
            if not port:
                raise
        self.fixed_ports = False  # the fixed port is taken: any free one
        return _PortalHTTPServer((host, 0), _make_handler(self, portal))

    def stop(self) -> None:
        for httpd in self._listeners.values():
            if self.started:
                httpd.shutdown()
            httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listeners.clear()
        self._threads.clear()
        self.started = False

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----- addresses
    def portal(self, portal_id: str) -> Portal:
        try:
            return self.portals[portal_id]
        except KeyError:
            raise KeyError(f"no portal {portal_id!r} (have: {', '.join(self.portals)})") from None

    def base_url(self, portal_id: str) -> str:
        return self.portal(portal_id).base_url

    def host(self, portal_id: str) -> str:
        return urlsplit(self.base_url(portal_id)).hostname or ""

    def column_url(self, portal_id: str) -> str:
        portal = self.portal(portal_id)
        return portal.base_url + portal.column_path

    def url(self, portal_id: str, path_or_item) -> str:
        portal = self.portal(portal_id)
        if isinstance(path_or_item, Item):
            return portal.url(path_or_item)
        return portal.base_url + path_or_item

    @property
    def offsite_url(self) -> str:
        return self.base_url(OFFSITE_ID) if OFFSITE_ID in self.portals else ""

    def portal_ids(self) -> list[str]:
        return [pid for pid in self.portals if pid != OFFSITE_ID]

    def write_config(self, path: str | Path, portal_ids: list[str] | None = None, *, cms: bool = False,
                     **crawl) -> Path:
        """Write a govwatch.toml: `[crawl]` with the given overrides, one `[[portal]]` per portal.

        `cms=True` also writes each portal's CMS family (otherwise the crawler auto-detects it).
        """
        lines = []
        if crawl:
            lines.append("[crawl]")
            lines += [f"{key} = {toml_value(value)}" for key, value in crawl.items()]
            lines.append("")
        for pid in portal_ids or self.portal_ids():
            portal = self.portal(pid)
            lines += ["[[portal]]", f"id = {toml_value(portal.id)}", f"name = {toml_value(portal.name)}",
                      f"start_urls = {toml_value([self.column_url(pid)])}"]
            if cms:
                lines.append(f"cms = {toml_value(portal.cms)}")
            lines.append("")
        path = Path(path)
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    # ----- control
    def publish(self, portal_id: str, item: Item) -> str:
        """Add `item` at the top of the portal's column; returns its URL."""
        portal = self.portal(portal_id)
        return portal.url(portal.publish(item))

    def set_down(self, portal_id: str, down: bool = True) -> None:
        self.portal(portal_id)
        if down:
            self._down.add(portal_id)
        else:
            self._down.discard(portal_id)

    # ----- log
    @property
    def requests(self) -> list[LoggedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)

    # ----- answering
    def answer(self, portal: Portal, request: Request) -> Response:
        return answer(portal, request, down=portal.id in self._down)


def answer(portal: Portal, request: Request, *, down: bool = False) -> Response:
    """What every portal shares around its own pages: the down switch (503), `/robots.txt`, 404s, and strong
    ETags with Last-Modified and 304 answers to conditional requests (also used by `crawler.demo.farm`)."""
    if down:
        return Response(status=503, body=b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                        headers={"Retry-After": "120"}, cacheable=False)
    if request.path == "/robots.txt" and not getattr(portal, "blocks_everything", False):
        return Response(body=portal.robots_txt().encode(), content_type="text/plain; charset=utf-8",
                        last_modified=datetime(2020, 1, 1, tzinfo=CHINA_TZ))
    response = portal.dispatch(request)
    if response is None:
        response = portal.not_found()
    if response.status != 200 or not response.cacheable:
        return response
    etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
    response.headers["ETag"] = etag
    if response.last_modified is not None:
        response.headers["Last-Modified"] = email.utils.format_datetime(
            response.last_modified.astimezone(timezone.utc), usegmt=True)
    if _not_modified(request.headers, etag, response.last_modified):
        return Response(status=304, headers=dict(response.headers), content_type="", cacheable=False)
    return response


def several_loopback_addresses() -> bool:
    """Whether this machine answers on 127.0.0.2 as well as 127.0.0.1 (Linux does; macOS needs aliases)."""
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def listen_address(n: int, port: int = 0, *, multi: bool, first_host: int = 2) -> tuple[str, int]:
    """The address of the n-th portal (from 0): its own loopback address, all on `port`, or when the machine
    has only 127.0.0.1, that one on port + n (any free port when `port` is 0)."""
    if multi:
        return f"127.0.0.{first_host + n}", port
    return "127.0.0.1", port + n if port else 0


def _not_modified(headers: dict[str, str], etag: str, last_modified: datetime | None) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    ims = headers.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return last_modified.replace(microsecond=0) <= since
    return False


def _make_handler(server: PortalServer, portal: Portal):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real servers (and faster for the benchmark)
        server_version = "nginx"
        sys_version = ""
        timeout = 30  # idle keep-alive connections close after this
        disable_nagle_algorithm = True  # small answers must not wait for delayed ACKs (40 ms each)

        def log_message(self, format, *args):  # quiet
            pass

        def do_GET(self):
            self._serve()

        def do_HEAD(self):
            self._serve(head=True)

        def do_POST(self):
            self._serve()

        def _serve(self, head: bool = False):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            ctype = self.headers.get("Content-Type", "")
            if body and "application/x-www-form-urlencoded" in ctype or (body and not ctype):
                try:
                    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                    params.update({k: v[-1] for k, v in form.items()})
                except ValueError:
                    pass
            headers = {k: v for k, v in self.headers.items()}
            request = Request(method=self.command, path=parts.path or "/", query=parts.query, params=params,
                              headers={k.lower(): v for k, v in headers.items()}, body=body)
            try:
                response = server.answer(portal, request)
            except Exception as exc:  # a rendering bug must show, not hang the client
                response = Response(status=500, body=f"server error: {exc!r}".encode(), cacheable=False,
                                    content_type="text/plain; charset=utf-8")
            self.send_response(response.status)
            if response.content_type and response.status != 304:
                self.send_header("Content-Type", response.content_type)
            for key, value in response.headers.items():
                self.send_header(key, value)
            payload = b"" if response.status == 304 else response.body
            if response.status != 304:
                self.send_header("Content-Length", str(len(payload)))
            self.send_header("Date", email.utils.formatdate(usegmt=True))
            # headers and body in one write (one packet for small pages)
            self._headers_buffer.append(b"\r\n")
            if not head and payload:
                self._headers_buffer.append(payload)
            # logged before the answer leaves: a client that has its answer always finds it in the log
            server._record(LoggedRequest(
                portal=portal.id, host=self.server.server_address[0], method=self.command, path=request.path,
                query=parts.query, headers=headers, status=response.status,
                bytes=0 if head else len(payload), at=time.time()))
            self.flush_headers()

    return Handler
