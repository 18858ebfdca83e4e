"""Which URLs belong to a portal. A portal is its sites: scheme + host + port of its start URLs, home page and
`allowed_hosts` (a bare host name means its default ports and the ports of the portal's own URLs,
`host:port` that port). The same address on
another port is another server, never the portal's; the one exception is a switch between http and https on
their default ports (80 <-> 443), which is how portals move to https.

    scope = PortalScope.of(portal)
    scope.allows("https://www.example.gov.cn/a.html")      # True / False
    index = ScopeIndex(portals)                             # built once per crawl
    index.portal_of("http://127.0.0.2:8081/robots.txt")     # the portal id, or None
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def site_of(url: str) -> tuple[str, int | None] | None:
    """(host, port) of an http(s) URL, port None for the scheme's default port; None for anything else."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:  # a malformed port
        return None
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return host, None if port in (None, DEFAULT_PORTS[scheme]) else port


def _host_entry(value: str) -> tuple[str, int | None] | None:
    """An `allowed_hosts` entry: "host" (default ports) or "host:port"."""
    return site_of(value if "://" in value else f"http://{value}")


@dataclass(frozen=True)
class PortalScope:
    sites: frozenset

    @classmethod
    def of(cls, portal) -> "PortalScope":
        urls = list(portal.start_urls) + ([portal.home] if portal.home else [])
        sites = {site for site in map(site_of, urls) if site}
        ports = {port for _, port in sites} | {None}
        for entry in portal.allowed_hosts:
            site = _host_entry(entry)
            if site is None:
                continue
            if ":" in entry.rpartition("]")[2]:  # host:port
                sites.add(site)
            else:  # a bare name: on its default ports and on the ports the portal's own URLs use
                sites.update((site[0], port) for port in ports)
        return cls(frozenset(sites))

    def allows(self, url: str) -> bool:
        return site_of(url) in self.sites


class ScopeIndex:
    """site -> portal ids, so finding the portal of a request costs one dict lookup whatever the number of
    portals (requests without a portal of their own, such as robots.txt, are looked up here)."""

    def __init__(self, portals):
        self.scopes: dict[str, PortalScope] = {}
        self._by_site: dict[tuple, list[str]] = {}
        for portal in portals:
            scope = PortalScope.of(portal)
            self.scopes[portal.id] = scope
            for site in scope.sites:
                self._by_site.setdefault(site, []).append(portal.id)

    def portal_of(self, url: str) -> str | None:
        """The (first configured) portal the URL's site belongs to."""
        owners = self._by_site.get(site_of(url))
        return owners[0] if owners else None

    def allows(self, portal_id: str, url: str) -> bool:
        scope = self.scopes.get(portal_id)
        return scope is not None and scope.allows(url)
