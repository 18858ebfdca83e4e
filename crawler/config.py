"""govwatch.toml: loading and validation.

A bad config is rejected before any request, with a message naming the file, the portal (or line) and the
offending key. Every section and key is optional except each portal's `id` and its start URLs or home page.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler import __version__

DEFAULT_CONFIG = "govwatch.toml"
PROJECT_URL = "https://github.com/govwatch/govwatch"
DEFAULT_USER_AGENT = f"govwatch/{__version__} (+{PROJECT_URL})"
CMS_FAMILIES = ("auto", "trs", "hanweb", "ucap", "json", "generic")
BACKENDS = ("local", "scrapyd")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid; the message says where and why."""


@dataclass(frozen=True)
class CrawlSettings:
    download_delay: float = 1.0
    autothrottle: bool = True
    concurrency_per_domain: int = 2
    obey_robots: bool = True
    user_agent: str = DEFAULT_USER_AGENT
    schedule: str = "6h"  # default for portals without their own schedule
    timeout: int = 1800  # seconds one portal's crawl subprocess may run
    max_page_bytes: int = 20 * 1024 * 1024
    max_attachment_bytes: int = 30 * 1024 * 1024
    max_list_pages: int = 50
    retry_times: int = 3
    # where crawls run: "local" (a crawl process on this machine) or "scrapyd" (jobs on scrapyd_nodes, whose
    # results this machine stores: crawler.crawl.scrapyd); credentials from SCRAPYD_USERNAME/SCRAPYD_PASSWORD
    backend: str = "local"
    scrapyd_nodes: tuple[str, ...] = ()
    scrapyd_project: str = "govwatch"
    scrapyd_jobs_per_node: int = 2  # jobs in flight on one node at once
    scrapyd_node_timeout: int = 60  # seconds a node may not answer before its jobs go to another node


@dataclass(frozen=True)
class AlertSettings:
    urls: tuple[str, ...] = ()
    alert_on_baseline: bool = False
    alert_on_update: bool = False
    max_attempts: int = 8
    backoff_base: float = 30.0  # seconds; doubles with every failed attempt
    deadline_digest: bool = True


@dataclass(frozen=True)
class DedupeSettings:
    threshold: float = 0.6  # estimated Jaccard similarity of character 5-grams above which bodies merge (see crawler.corpus.dedupe)


@dataclass(frozen=True)
class Portal:
    id: str
    name: str = ""
    start_urls: tuple[str, ...] = ()
    home: str | None = None
    cms: str = "auto"
    region: str | None = None
    adcode: str | None = None
    schedule: str | None = None
    allowed_hosts: tuple[str, ...] = ()

    @property
    def hosts(self) -> tuple[str, ...]:
        """Hosts the crawl may fetch from: those of its start URLs / home page plus `allowed_hosts`."""
        urls = list(self.start_urls) + ([self.home] if self.home else [])
        seen = dict.fromkeys(urlsplit(u).hostname or "" for u in urls)
        seen.update(dict.fromkeys(self.allowed_hosts))
        return tuple(h for h in seen if h)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)
    portals: tuple[Portal, ...] = ()

    def portal(self, portal_id: str) -> Portal:
        for portal in self.portals:
            if portal.id == portal_id:
                return portal
        known = ", ".join(p.id for p in self.portals) or "none"
        raise ConfigError(f"{self.path or '<config>'}: no portal with id {portal_id!r} (known: {known})")

    def select(self, portal_ids: list[str] | tuple[str, ...] | None) -> list[Portal]:
        """The portals named by `portal_ids` (all when empty), in config order; unknown ids raise."""
        if not portal_ids:
            return list(self.portals)
        return [self.portal(pid) for pid in portal_ids]


_SECTIONS = {"crawl": CrawlSettings, "alerts": AlertSettings, "dedupe": DedupeSettings}
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SCHEDULE_PATTERN = re.compile(r"^\s*(\d+\s*[smhd]|(\S+\s+){4}\S+)\s*$")


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a govwatch TOML file. Raises ConfigError naming the file, portal/line and key."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (create it, or pass --config FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse_config(raw_text, path)


def parse_config(raw_text: str, path: str | Path | None = None) -> Config:
    where = str(path or "<config>")
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: TOML syntax error: {exc}") from None
    locate = _Locator(raw_text, where)
    unknown = set(data) - set(_SECTIONS) - {"portal"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{locate.key(key)}: unknown top-level key {key!r} "
                          f"(expected: [crawl], [alerts], [dedupe], [[portal]])")
    sections = {name: _section(cls, data.get(name, {}), f"[{name}]", locate) for name, cls in _SECTIONS.items()}
    portal_tables = data.get("portal", [])
    if not isinstance(portal_tables, list):
        raise ConfigError(f"{where}: 'portal' must be an array of tables: write [[portal]]")
    portals: list[Portal] = []
    for index, table in enumerate(portal_tables, start=1):
        portal = _portal(table, index, locate)
        if any(p.id == portal.id for p in portals):
            raise ConfigError(f"{locate.key('id', portal.id, occurrence=2)}: duplicate portal id {portal.id!r} "
                              f"(portal #{index}); ids must be unique")
        portals.append(portal)
    return Config(path=Path(path) if path else None, portals=tuple(portals), **sections)


def _section(cls, table, label: str, locate: "_Locator"):
    if not isinstance(table, dict):
        raise ConfigError(f"{locate.where}: {label} must be a table")
    allowed = cls.__dataclass_fields__
    values = {}
    for key, value in table.items():
        if key not in allowed:
            raise ConfigError(f"{locate.key(key)}: unknown key {key!r} in {label} "
                              f"(allowed: {', '.join(allowed)})")
        values[key] = _typed(value, allowed[key].default, f"{label} {key}", locate.key(key))
    if "urls" in values:
        values["urls"] = tuple(values["urls"])
    settings = cls(**values)
    if isinstance(settings, CrawlSettings):
        if not 1 <= settings.concurrency_per_domain <= 16:
            raise ConfigError(f"{locate.key('concurrency_per_domain')}: concurrency_per_domain must be 1..16")
        if settings.download_delay < 0:
            raise ConfigError(f"{locate.key('download_delay')}: download_delay must be >= 0")
        _check_schedule(settings.schedule, locate.key("schedule"))
        _check_backend(settings, locate)
    if isinstance(settings, DedupeSettings) and not 0 < settings.threshold <= 1:
        raise ConfigError(f"{locate.key('threshold')}: threshold must be in (0, 1]")
    return settings


def _typed(value, default, label: str, where: str):
    expected = type(default)
    if expected is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {label} must be a list of strings")
        return tuple(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if default is None:
        expected = str
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: {label} must be {expected.__name__}, got {value!r}")
    return value


def portal_from_table(table: dict, where: str) -> Portal:
    """A portal from a `[[portal]]`-shaped dict (a registry row, an imported line), validated exactly like a
    TOML entry; ConfigError messages start with `where` (e.g. `portals.csv:7`)."""
    return _portal(table, 1, _FixedLocator("", where))


def _portal(table, index: int, locate: "_Locator") -> Portal:
    if not isinstance(table, dict):
        raise ConfigError(f"{locate.where}: portal #{index} must be a table")
    portal_id = table.get("id")
    if portal_id is None:
        raise ConfigError(f"{locate.where}: portal #{index} has no 'id' (every [[portal]] needs a unique id)")
    if not isinstance(portal_id, str) or not _ID_PATTERN.match(portal_id):
        raise ConfigError(f"{locate.where}: portal #{index}: id {portal_id!r} must be 1-64 letters, digits, "
                          "'_', '-' or '.'")
    label = f"portal {portal_id!r}"
    allowed = Portal.__dataclass_fields__
    values = {}
    for key, value in table.items():
        if key not in allowed:
            raise ConfigError(f"{locate.key(key, portal_id)}: unknown key {key!r} in {label} "
                              f"(allowed: {', '.join(allowed)})")
        default = allowed[key].default
        if default is None or default is MISSING:
            default = ""
        values[key] = _typed(value, default, f"{label} {key}",
                             locate.key(key, portal_id))
    for url in list(values.get("start_urls", ())) + ([values["home"]] if values.get("home") else []):
        key = "home" if url == values.get("home") else "start_urls"
        _check_url(url, f"{locate.key(key, portal_id)}: {label} {key}")
    if not values.get("start_urls") and not values.get("home"):
        raise ConfigError(f"{locate.key('id', portal_id)}: {label} needs start_urls (column list pages) or home")
    if values.get("cms", "auto") not in CMS_FAMILIES:
        raise ConfigError(f"{locate.key('cms', portal_id)}: {label} cms must be one of {', '.join(CMS_FAMILIES)}")
    if values.get("adcode") and not re.fullmatch(r"\d{6}", values["adcode"]):
        raise ConfigError(f"{locate.key('adcode', portal_id)}: {label} adcode must be 6 digits")
    if values.get("schedule"):
        _check_schedule(values["schedule"], f"{locate.key('schedule', portal_id)}: {label}")
    return Portal(**values)


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise ConfigError(f"{where}: malformed URL {url!r} (need http:// or https:// and a host)")


def _check_backend(crawl: CrawlSettings, locate: "_Locator") -> None:
    if crawl.backend not in BACKENDS:
        raise ConfigError(f"{locate.key('backend')}: backend must be one of {', '.join(BACKENDS)}, got {crawl.backend!r}")
    for url in crawl.scrapyd_nodes:
        where = f"{locate.key('scrapyd_nodes')}: [crawl] scrapyd_nodes"
        _check_url(url, where)
        if urlsplit(url).username or urlsplit(url).password:
            raise ConfigError(f"{where}: {urlsplit(url).hostname}: no credentials in node URLs "
                              "(set SCRAPYD_USERNAME and SCRAPYD_PASSWORD in the environment)")
    if crawl.backend == "scrapyd" and not crawl.scrapyd_nodes:
        raise ConfigError(f"{locate.key('backend')}: backend = \"scrapyd\" needs [crawl] scrapyd_nodes "
                          "(e.g. [\"http://127.0.0.1:6800\"])")
    if crawl.scrapyd_jobs_per_node < 1:
        raise ConfigError(f"{locate.key('scrapyd_jobs_per_node')}: scrapyd_jobs_per_node must be >= 1")
    if crawl.scrapyd_node_timeout < 1:
        raise ConfigError(f"{locate.key('scrapyd_node_timeout')}: scrapyd_node_timeout must be >= 1")
    if not _ID_PATTERN.match(crawl.scrapyd_project):
        raise ConfigError(f"{locate.key('scrapyd_project')}: scrapyd_project {crawl.scrapyd_project!r} must be "
                          "letters, digits, '_', '-' or '.'")


def _check_schedule(value: str, where: str) -> None:
    if not _SCHEDULE_PATTERN.match(value):
        raise ConfigError(f"{where}: schedule {value!r} must be an interval like '6h', '30m', '10s' "
                          "or a 5-field cron expression")


class _Locator:
    """Finds the line of a key in the raw TOML text, so messages can say `govwatch.toml:12`."""

    def __init__(self, raw_text: str, where: str):
        self.lines = raw_text.splitlines()
        self.where = where

    def key(self, key: str, portal_id: str | None = None, occurrence: int = 1) -> str:
        start = 0
        if portal_id is not None:
            id_line = re.compile(rf"^\s*id\s*=\s*[\"']{re.escape(portal_id)}[\"']")
            seen = 0
            for number, line in enumerate(self.lines):
                if id_line.match(line):
                    start, seen = number, seen + 1
                    if seen == occurrence:
                        break
            # the key may sit above `id` in the same [[portal]] table
            while start > 0 and not self.lines[start].lstrip().startswith("[["):
                start -= 1
        key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines)):
            if key_line.match(self.lines[number]):
                return f"{self.where}:{number + 1}"
        return self.where


class _FixedLocator(_Locator):
    """For a portal that has no TOML text: every key is at `where` (no regex per key, thousands of rows)."""

    def key(self, key: str, portal_id: str | None = None, occurrence: int = 1) -> str:
        return self.where
