"""URL canonicalisation: one page is one URL, before any request or insert."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING = re.compile(r"^(utm_\w+|spm|from|source|share_token|isappinstalled|scene|_t|timestamp)$", re.I)
_INDEX_PAGE = re.compile(r"/index\.(s?html?|jsp|php|aspx?)$", re.I)


def canonicalize(url: str) -> str:
    """Lower-case scheme and host, drop default ports, fragments, tracking parameters, `index.html` and
    trailing slashes; keep the order of the remaining query parameters (servers may care)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    path = _INDEX_PAGE.sub("/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, path, query, ""))
