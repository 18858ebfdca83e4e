"""URL canonicalisation: one page is one URL, before any request or insert.

The canonical URL is still a URL the server answers (it is also what the crawler fetches). Rules:

* scheme and host lower-cased; an internationalised host in its ASCII (punycode) form; a trailing dot on the
  host dropped; the scheme's default port dropped; `user:password@` kept;
* path: dot segments resolved (`/a/./b/../c` -> `/a/c`), repeated slashes collapsed, an empty path is `/`;
  an index page (`index.html`, `index.htm`, `index.shtml`, `index.jsp`, `index.php`, `index.asp(x)`, also
  `default.htm(l)`) without a query becomes its directory WITH the trailing slash (`/col/col1/index.html`
  -> `/col/col1/`; `index.jsp?id=1` is a script with arguments and stays);
* trailing slash rule: otherwise a final slash is neither added nor removed. `/a` and `/a/` can be
  different resources (and an API may 404 on one of them); a server that treats them as one redirects one
  to the other, and the crawler stores the URL it was redirected to, so both still end as one row;
* percent-encoding: escapes upper-cased (`%e4` -> `%E4`), escapes of unreserved characters decoded
  (`%7E` -> `~`), non-ASCII characters and spaces encoded as UTF-8 escapes; nothing else is decoded or
  re-encoded (`+`, `%2F`, `%26` keep their meaning);
* query: tracking parameters (utm_*, spm, from, share_token, ... see _TRACKING) removed; the remaining
  parameters keep their order and raw spelling (servers may care); an empty query is dropped;
* fragment dropped, except hash-bang / hash-route fragments (`#!/…`, `#/…`), which single-page portals use
  to address different documents;
* http and https are kept distinct (a portal may serve different content or nothing on one of them).
A string without scheme and host is returned stripped but otherwise unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
_TRACKING = re.compile(
    r"^(utm_\w+|spm|from|share_token|share_from|isappinstalled|scene|_t|timestamp|gclid|fbclid|"
    r"wxshare_count|clicktime|enterid|sharer_shareid|sharer_sharetime)$", re.I)
_INDEX_PAGE = re.compile(r"/(index|default)\.(s?html?|jsp|php|aspx?)$", re.I)
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# characters allowed as they are in a path / query (RFC 3986 pchar plus '/', '?'); '%' kept for escapes
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/?:@!$&'()*+,;=-._~%"


def _fix_escapes(text: str, safe: str) -> str:
    """Encode what must be encoded, upper-case escapes, decode escapes of unreserved characters."""
    text = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text)  # a lone '%' is a literal percent sign
    text = quote(text, safe=safe)  # leaves valid '%' and ASCII safe chars alone, encodes non-ASCII/space

    def fix(m: re.Match) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _ESCAPE.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    segments = path.split("/")
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
            continue
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
            continue
        out.append(segment)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = quote(host, safe="")
    return host


def canonicalize(url: str) -> str:
    """The canonical form of `url` (see the module docstring for the rules)."""
    raw = (url or "").strip()
    parts = urlsplit(raw)
    if not parts.scheme or not parts.netloc:
        return raw
    scheme = parts.scheme.lower()
    host = _host(parts.hostname or "")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a malformed port: keep the netloc as written
        port = None
        host = parts.netloc.rpartition("@")[2].lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    path = _remove_dot_segments(path)
    kept = [pair for pair in parts.query.split("&") if pair and not _TRACKING.match(pair.split("=", 1)[0])]
    if not kept:  # index.jsp?id=1 is a script with arguments, not a directory
        path = _INDEX_PAGE.sub("/", path)
    path = _fix_escapes(path, _PATH_SAFE)
    query = _fix_escapes("&".join(kept), _QUERY_SAFE)
    fragment = parts.fragment if parts.fragment.startswith(("!", "/")) else ""
    return urlunsplit((scheme, netloc, path, query, fragment))
