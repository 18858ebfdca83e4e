"""A portal's identity is its sites (scheme + host + port), and column discovery runs inside the crawl: one
crawl discovers many portals side by side, each with a deadline, under robots.txt and the portal's own sites
(real crawl subprocesses against loopback portals; the slow home page trickles one byte a second)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

import helpers  # noqa: F401  (repo on sys.path)
from crawler.config import Portal as PortalConfig
from crawler.crawl.discover import discover_portals
from crawler.crawl.runner import crawl
from crawler.demo.server import Portal, PortalServer, Response
from crawler.urls import canonicalize
from spiders.scope import PortalScope, ScopeIndex, site_of
from storage import connect
from test_crawl_e2e import HomePortal, report
from test_nothing_lost import PagedSite, item

pytestmark = pytest.mark.timeout(240)
FAST = "[crawl]\ndownload_delay = 0\nautothrottle = false\nretry_times = 1\n"


def test_a_site_is_host_and_port_with_http_and_https_one_site_on_their_default_ports():
    assert site_of("http://www.x.gov.cn/a") == site_of("https://www.x.gov.cn:443/b") == ("www.x.gov.cn", None)
    assert site_of("http://127.0.0.2:8081/") == ("127.0.0.2", 8081) != site_of("http://127.0.0.2:8082/")
    assert site_of("ftp://x.gov.cn/") is None and site_of("http://x.gov.cn:bad/") is None
    scope = PortalScope.of(PortalConfig(id="p", start_urls=("http://127.0.0.2:8081/col/",),
                                        allowed_hosts=("files.x.gov.cn", "127.0.0.3:9000")))
    assert scope.allows("http://127.0.0.2:8081/art/1.html")
    assert not scope.allows("http://127.0.0.2:8082/art/1.html")  # the same address on another port
    assert not scope.allows("http://127.0.0.2/art/1.html")
    assert scope.allows("https://files.x.gov.cn/a.pdf") and scope.allows("http://127.0.0.3:9000/a.pdf")
    # a bare allowed host is also on the port the portal's own URLs use (a second name of the same server)
    assert scope.allows("http://files.x.gov.cn:8081/a.pdf") and not scope.allows("http://files.x.gov.cn:8082/")
    assert not scope.allows("http://127.0.0.3/a.pdf")
    index = ScopeIndex([PortalConfig(id=f"p{n}", start_urls=(f"http://127.0.{n // 250}.{n % 250 + 2}/c/",))
                        for n in range(3000)])
    assert index.portal_of("http://127.0.11.2/robots.txt") == "p2750"
    assert index.portal_of("http://127.0.11.2:81/robots.txt") is None


def test_a_redirect_or_link_to_the_same_address_on_another_port_is_never_followed(tmp_path):
    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(8)])
    other = PagedSite("other", "另一个服务", [item(n) for n in range(20, 23)])
    with PortalServer([site], offsite=False) as server, \
            PortalServer([other], first_host=2, offsite=False) as elsewhere:
        assert server.host("p") == elsewhere.host("other") and server.base_url("p") != elsewhere.base_url("other")
        stolen = elsewhere.url("other", other.items[0])
        redirected = site.items[2]
        site.faults[redirected.path] = Response(status=302, headers={"Location": stolen}, cacheable=False)
        site.items[5].href = elsewhere.url("other", other.items[1])  # listed with the other port
        config = server.write_config(tmp_path / "g.toml", download_delay=0, autothrottle=False, retry_times=0)
        summary = crawl(config, tmp_path / "g.db", timeout=120)
    assert summary.portals["p"].status == "ok", summary.log[-3000:]
    assert elsewhere.requests == [], [(r.path, r.status) for r in elsewhere.requests]
    stored = {r[0] for r in connect(tmp_path / "g.db").execute("SELECT url FROM documents")}
    assert canonicalize(stolen) not in stored and len(stored) == 6
    row = connect(tmp_path / "g.db").execute("SELECT error FROM fetch_state WHERE url = ?",
                                             [canonicalize(site.url(redirected))]).fetchone()
    assert "off-site" in row[0] and stolen in row[0]


class TricklingServer:
    """Answers robots.txt with 404 at once and any other path with a 200 whose body comes a byte a second."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.base_url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.paths: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        try:
            request = conn.recv(65536).decode("latin-1")
            path = request.split(" ", 2)[1] if " " in request else "/"
            self.paths.append(path)
            if path == "/robots.txt":
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html>")
            while not self.stop.is_set():
                time.sleep(1)
                conn.sendall(b" ")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_a_trickling_home_page_stalls_neither_the_crawl_nor_another_portal(tmp_path):
    slow = TricklingServer()
    try:
        with PortalServer([HomePortal("home", "示例县人民政府", [report("示例县", 2023), report("示例县", 2022)])],
                          offsite=False) as server:
            config = tmp_path / "g.toml"
            config.write_text(FAST + f'\n[[portal]]\nid = "slow"\nhome = "{slow.base_url}/"\n'
                              f'\n[[portal]]\nid = "home"\nhome = "{server.base_url("home")}/"\n', encoding="utf-8")
            started = time.monotonic()
            summary = crawl(config, tmp_path / "g.db", timeout=90, settings={"GOVWATCH_DISCOVERY_TIMEOUT": 6})
            took = time.monotonic() - started
    finally:
        slow.close()
    assert summary.status == "ok", summary.log[-3000:]  # before: the whole crawl timed out
    assert summary.portals["home"].status == "ok" and summary.portals["home"].new_reports == 2
    slow_result = summary.portals["slow"]
    assert slow_result.status == "error" and "6 s" in slow_result.reason, slow_result
    assert took < 60, took


class NoColumnPortal(Portal):
    def handle(self, request):
        if request.path == "/":
            return Response.html("<html><body><a href='/xw/'>新闻中心</a><a href='/hd/'>互动交流</a>"
                                 "<p>" + "欢迎访问本网站。" * 20 + "</p></body></html>")
        return None


class RedirectHome(Portal):
    def handle(self, request):
        return Response(status=302, headers={"Location": self.offsite_base + "/fzzfjs/"}, cacheable=False)


class WallHome(Portal):
    blocks_everything = True

    def handle(self, request):
        return Response(status=412, body=b"<html><script>$_ts=window['$_ts'];</script></html>", cacheable=False)


def test_one_crawl_discovers_many_portals_each_with_its_own_outcome(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    portals = [HomePortal("found", "示例县人民政府", [report("示例县", 2023)]), NoColumnPortal("none", "无专栏县"),
               RedirectHome("moved", "跳转县"), WallHome("wall", "防护县")]
    config = tmp_path / "fast.toml"
    config.write_text(FAST, encoding="utf-8")
    seen = []
    with PortalServer(portals) as server:
        homes = [(pid, server.base_url(pid) + "/") for pid in ("found", "none", "moved", "wall")]
        results = discover_portals(homes + [("down", refused)], config=config, per_portal_timeout=20,
                                   progress=seen.append)
        log = server.requests
    assert {pid: r.status for pid, r in results.items()} == {
        "found": "found", "none": "none", "moved": "unreachable", "wall": "blocked", "down": "unreachable"}
    found = results["found"]
    assert found.columns == [server.base_url("found") + "/fzzfjs/"] and found.score == found.candidates[0].score
    assert "off-site" in results["moved"].reason and "$_ts" in results["wall"].reason
    assert "Connection" in results["down"].reason or "refused" in results["down"].reason.lower()
    assert sorted(r.portal for r in seen) == sorted(results)  # reported one by one as they end
    assert not [r for r in log if r.portal == "_offsite"], "discovery followed a redirect off the portal"
    assert not [r for r in log if r.path.startswith("/private/")], "a robots.txt-disallowed page was fetched"
    assert all("govwatch" in r.headers.get("User-Agent", "") for r in log)


def test_govwatch_discover_on_a_trickling_home_page_ends_at_its_deadline(tmp_path):
    import subprocess
    import sys

    slow = TricklingServer()
    config = tmp_path / "fast.toml"
    config.write_text(FAST, encoding="utf-8")
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-c", "from crawler.cli import main; main()", "discover",
                                 slow.base_url + "/", "--timeout", "5", "--config", str(config)],
                                capture_output=True, text=True, cwd=helpers.REPO, timeout=120)
    finally:
        slow.close()
    took = time.monotonic() - started
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"Error: cannot fetch {slow.base_url}/: no answer within 5 s"
    assert took < 40, took  # before: no end (one read timeout per byte)
