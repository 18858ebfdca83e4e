"""govwatch.toml: loading and validation.

A bad config is rejected before any request, with a message naming the file, the portal (or line) and the
offending key. Every section and key is optional except each portal's `id` and its start URLs or home page.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import MISSING, dataclass, field
from datetime import timezone
from functools import cached_property
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
    max_list_items: int = 1000  # items taken from one list page (a flat page of 10,000 links is cut, logged)
    retry_times: int = 3
    processes: int = 0  # crawl processes `govwatch watch` runs at once (0: one per CPU)
    batch_size: int = 2000  # portals one of them crawls at most
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
    alert_on_reclassified: bool = False  # a report found only by `govwatch reextract` is listed, not sent
    # retries: the wait after the n-th failed attempt is backoff_base * 2**(n-1), at most max_backoff; after
    # max_attempts the delivery is `failed` (`govwatch alerts retry` puts it back). The defaults keep retrying
    # for ~44 hours (see `retry_window`), so an outage over a night or a weekend day loses nothing
    max_attempts: int = 50
    backoff_base: float = 60.0  # seconds
    max_backoff: float = 3600.0  # seconds
    send_timeout: float = 30.0  # seconds one send may take in all (connect, TLS, request, answer)
    crawl_flush_budget: float = 10.0  # seconds delivery may add to the end of a crawl; the rest stays pending
    deadline_digest: bool = True


# A send's hard deadline must stay well below the delivery lease (300 s, crawler.monitor.alerts), so that a
# send in flight never outlives the claim on its delivery row.
MAX_SEND_TIMEOUT = 120.0


def retry_window(settings: AlertSettings) -> float:
    """Seconds from a delivery's first attempt to its last, when every attempt fails."""
    return sum(min(settings.max_backoff, settings.backoff_base * 2 ** (n - 1))
               for n in range(1, max(1, settings.max_attempts)))


@dataclass(frozen=True)
class DedupeSettings:
    threshold: float = 0.6  # estimated Jaccard similarity of character 5-grams above which bodies merge (see crawler.corpus.dedupe)


@dataclass(frozen=True)
class ArchiveSettings:
    dir: str = "archive"  # WARC files of every fetched page; relative to the database's folder; "off": none
    max_file_bytes: int = 1_000_000_000  # a WARC file is closed and the next begun at this size

    def directory(self, db_path: str | Path | None) -> Path | None:
        """The archive directory of the database at `db_path` (None when the archive is off)."""
        if self.dir == "off":
            return None
        path = Path(self.dir).expanduser()
        return path if path.is_absolute() else Path(db_path or ".").resolve().parent / path


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

    @cached_property  # asked for every request and list entry of a crawl (thousands of portals per process)
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
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
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


_SECTIONS = {"crawl": CrawlSettings, "alerts": AlertSettings, "dedupe": DedupeSettings,
             "archive": ArchiveSettings}
# the accepted range of each numeric [crawl] key (None: no upper bound); 0 pages, bytes or seconds would
# make every crawl fail in a way that looks like the portal's fault
_CRAWL_RANGES = {
    "download_delay": (0, None),
    "concurrency_per_domain": (1, 16),
    "timeout": (1, None),
    "max_page_bytes": (1, None),
    "max_attachment_bytes": (1, None),
    "max_list_pages": (1, None),
    "retry_times": (0, None),
    "max_list_items": (1, None),
    "processes": (0, None),  # 0: one crawl process per CPU
    "batch_size": (1, None),
}
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_INTERVAL_PATTERN = re.compile(r"^\s*(\d+)\s*[smhd]\s*$")


def load_config(path: str | Path = DEFAULT_CONFIG, *, check_channels: bool = True) -> Config:
    """Read and validate a govwatch TOML file. Raises ConfigError naming the file, portal/line and key.

    `check_channels=False` skips parsing the [alerts] urls with Apprise (about 1 s the first time in a
    process): for a process that only crawls, started by one that has checked the same file."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (create it, or pass --config FILE)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse_config(raw_text, path, check_channels=check_channels)


def parse_config(raw_text: str, path: str | Path | None = None, *, check_channels: bool = True) -> Config:
    where = str(path or "<config>")
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the place in the message, "(at line 8, column 25)" (an attribute only from 3.14)
        at_line = re.search(r"\bat line (\d+)", str(exc))
        line = f":{at_line.group(1)}" if at_line else ""
        raise ConfigError(f"{where}{line}: TOML syntax error: {exc}") from None
    locate = _Locator(raw_text, where)
    unknown = set(data) - set(_SECTIONS) - {"portal"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{locate.key(key)}: unknown top-level key {key!r} "
                          f"(expected: [crawl], [alerts], [dedupe], [archive], [[portal]])")
    sections = {name: _section(cls, data.get(name, {}), f"[{name}]", locate) for name, cls in _SECTIONS.items()}
    portal_tables = data.get("portal", [])
    if not isinstance(portal_tables, list):
        raise ConfigError(f"{where}: 'portal' must be an array of tables: write [[portal]]")
    portals: list[Portal] = []
    ids: set[str] = set()
    for index, table in enumerate(portal_tables, start=1):
        portal = _portal(table, index, locate)
        if portal.id in ids:
            raise ConfigError(f"{locate.key('id', portal.id, occurrence=2)}: duplicate portal id {portal.id!r} "
                              f"(portal #{index}); ids must be unique")
        portals.append(portal)
        ids.add(portal.id)
    if check_channels:
        check_channel_urls(sections["alerts"].urls, locate)
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
        for key, (low, high) in _CRAWL_RANGES.items():
            value = getattr(settings, key)
            if value < low or (high is not None and value > high):
                bound = f"{low}..{high}" if high is not None else f">= {low}"
                raise ConfigError(f"{locate.key(key)}: [crawl] {key} must be {bound}, got {value!r}")
        if not settings.user_agent.strip():
            raise ConfigError(f"{locate.key('user_agent')}: [crawl] user_agent must not be empty")
        _check_schedule(settings.schedule, f"{locate.key('schedule')}: [crawl]")
        _check_backend(settings, locate)
    if isinstance(settings, DedupeSettings) and not 0 < settings.threshold <= 1:
        raise ConfigError(f"{locate.key('threshold')}: threshold must be in (0, 1]")
    if isinstance(settings, AlertSettings):
        _check_alert_settings(settings, locate)
    if isinstance(settings, ArchiveSettings):
        if not settings.dir.strip():
            raise ConfigError(f"{locate.key('dir')}: [archive] dir must be a folder or \"off\"")
        if settings.max_file_bytes < 1024 * 1024:
            raise ConfigError(f"{locate.key('max_file_bytes')}: [archive] max_file_bytes must be at least "
                              "1048576 (1 MiB)")
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
    """An interval (`6h`, `30m`, `10s`, `1d`, never 0) or a 5-field crontab line that APScheduler accepts,
    so that `govwatch watch` never meets a schedule it cannot turn into a trigger."""
    interval = _INTERVAL_PATTERN.match(value)
    if interval:
        if int(interval.group(1)) == 0:
            raise ConfigError(f"{where} schedule {value!r}: an interval must be longer than 0")
        return
    if len(value.split()) != 5:
        raise ConfigError(f"{where} schedule {value!r} must be an interval like '6h', '30m', '10s' "
                          "or a 5-field cron expression like '0 8 * * *'")
    from apscheduler.triggers.cron import CronTrigger  # only configs with a cron schedule pay for the import

    try:
        CronTrigger.from_crontab(value.strip(), timezone=timezone.utc)
    except ValueError as exc:
        raise ConfigError(f"{where} schedule {value!r} is not a valid cron expression: {exc}") from None


# ---------------------------------------------------------------------------------------------------------
# [alerts]


def _check_alert_settings(settings: AlertSettings, locate: "_Locator") -> None:
    limits = (("max_attempts", settings.max_attempts >= 1, ">= 1"),
              ("backoff_base", settings.backoff_base >= 0, ">= 0 (seconds)"),
              ("max_backoff", settings.max_backoff >= 0, ">= 0 (seconds)"),
              ("send_timeout", 0 < settings.send_timeout <= MAX_SEND_TIMEOUT,
               f"in (0, {MAX_SEND_TIMEOUT:g}] seconds (a send must end well within its 300 s delivery lease)"),
              ("crawl_flush_budget", settings.crawl_flush_budget >= 0, ">= 0 (seconds; 0: no delivery at crawl end)"))
    for key, ok, rule in limits:
        if not ok:
            raise ConfigError(f"{locate.key(key)}: [alerts] {key} must be {rule}, got {getattr(settings, key)!r}")


def check_channel_urls(urls, locate: "_Locator | None" = None) -> None:
    """Every [alerts] url must be one Apprise can parse: a typo or a retired service is a config error at load
    time, not a delivery that fails for days. The message names the URL with its secrets masked."""
    if not urls:
        return
    # imported here: loading a config without channels must not pay for Apprise (~0.3 s) and its plugins (~0.5 s)
    apprise = import_apprise()
    from apprise.manager_plugins import NotificationManager

    locate = locate or _Locator("", "<config>")
    for index, url in enumerate(urls):
        if apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None:
            continue
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if not scheme:
            why = "it has no scheme:// (see https://appriseit.com/services/)"
        elif scheme not in NotificationManager():
            why = f"Apprise {apprise.__version__} has no service {scheme}://"
        else:
            why = f"Apprise rejects it: its parts do not fit the {scheme}:// syntax (see https://appriseit.com/services/)"
        raise ConfigError(f"{locate.text(url, 'urls')}: [alerts] urls[{index}] {redact_channel_url(url)!r}: {why}")


def import_apprise():
    """Apprise, with its logger cut off from the application's handlers and from logging's last-resort
    stderr handler: its messages may quote tokens ("An invalid DingTalk API Token (...)").
    `crawler.monitor.channels.deliver()` captures them per send and scrubs them into the attempt's error."""
    import apprise

    logger = logging.getLogger("apprise")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    return apprise


TOKEN_LIKE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.=+%]{12,}$|^[A-Za-z0-9_\-=+%]{24,}$")
MASK = "***"


def redact_channel_url(url: str) -> str:
    """A channel URL that Apprise cannot parse, masked without knowing which parts are secret: the scheme, a
    host that is a DNS name or an address, the port and the user name stay; everything else is ***. (URLs that
    Apprise parses are rendered by Apprise itself: crawler.monitor.notify.)"""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return f"{url.split(':', 1)[0]}://{MASK}"
    host = parts.hostname or ""
    looks_like_host = bool(re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|localhost|[0-9a-fA-F:]*:[0-9a-fA-F:]*", host)) and \
        not any(TOKEN_LIKE.match(label) for label in host.split("."))
    if looks_like_host and ":" in host:
        host = f"[{host}]"
    shown = (host if looks_like_host else MASK) + (f":{port}" if port and looks_like_host else "")
    if "@" in parts.netloc:
        shown = f"{MASK}@{shown}"
    path = "/".join(MASK if segment else "" for segment in parts.path.split("/"))
    query = "&".join(f"{key}={MASK}" for key in dict.fromkeys(
        pair.split("=", 1)[0] for pair in parts.query.split("&") if pair))
    return f"{parts.scheme or '?'}://{shown}{path}" + (f"?{query}" if query else "")


_ID_LINE = re.compile(r"^\s*id\s*=\s*[\"']([^\"']*)[\"']")


class _Locator:
    """Finds the line of a key in the raw TOML text, so messages can say `govwatch.toml:12`."""

    def __init__(self, raw_text: str, where: str):
        self.lines = raw_text.splitlines()
        self.where = where
        self._id_lines: dict[str, list[int]] | None = None

    def _id_line(self, portal_id: str, occurrence: int) -> int:
        # one pass over the file for all portals: every key of every portal is located (thousands of portals)
        if self._id_lines is None:
            self._id_lines = {}
            for number, line in enumerate(self.lines):
                found = _ID_LINE.match(line)
                if found:
                    self._id_lines.setdefault(found.group(1), []).append(number)
        numbers = self._id_lines.get(portal_id) or [0]
        return numbers[min(occurrence, len(numbers)) - 1]

    def key(self, key: str, portal_id: str | None = None, occurrence: int = 1) -> str:
        start = 0
        if portal_id is not None:
            start = self._id_line(portal_id, occurrence)
            # the key may sit above `id` in the same [[portal]] table
            while start > 0 and not self.lines[start].lstrip().startswith("[["):
                start -= 1
        key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines)):
            if key_line.match(self.lines[number]):
                return f"{self.where}:{number + 1}"
        return self.where

    def text(self, value: str, key: str) -> str:
        """`file:line` of the line that holds `value` (an item of a multi-line array), else of `key`."""
        for number, line in enumerate(self.lines):
            if value in line:
                return f"{self.where}:{number + 1}"
        return self.key(key)


class _FixedLocator(_Locator):
    """For a portal that has no TOML text: every key is at `where` (no regex per key, thousands of rows)."""

    def key(self, key: str, portal_id: str | None = None, occurrence: int = 1) -> str:
        return self.where

# ---------------------------------------------------------------------------------------------------------
# `govwatch init`: the commented template

# One line per key: what `govwatch init` writes beside its default. Every key of every section needs one
# (tests/test_init.py checks), so a new key is documented where a user first meets it.
KEY_HELP = {
    "crawl": {
        "download_delay": "seconds between two requests to one host",
        "autothrottle": "lengthen the delay when the server answers slowly (Scrapy AutoThrottle)",
        "concurrency_per_domain": "requests at once to one host, 1..16",
        "obey_robots": "obey each portal's robots.txt",
        "user_agent": "the User-Agent of every request: say who you are and how to reach you",
        "schedule": "default schedule of `govwatch watch`: an interval (6h, 30m, 1d) or a 5-field cron line, UTC",
        "timeout": "seconds one crawl may run before it is stopped",
        "max_page_bytes": "largest page downloaded, in bytes",
        "max_attachment_bytes": "largest attachment (PDF, DOCX, DOC) downloaded, in bytes",
        "max_list_pages": "list pages followed per column in one crawl",
        "retry_times": "retries of a failed request (timeouts, 5xx), with backoff",
        "max_list_items": "items taken from one list page; more are cut, with a warning",
        "processes": "crawl processes `govwatch watch` runs at once (0: one per CPU)",
        "batch_size": "portals one crawl process of `govwatch watch` crawls at most",
        "backend": "local | scrapyd: crawl on this machine, or as jobs on scrapyd_nodes (results stored here)",
        "scrapyd_nodes": "scrapyd node URLs; credentials from SCRAPYD_USERNAME/SCRAPYD_PASSWORD, never here",
        "scrapyd_project": "the project name on the nodes (`govwatch scrapyd --project`, scrapyd-deploy)",
        "scrapyd_jobs_per_node": "jobs in flight on one node at once",
        "scrapyd_node_timeout": "seconds a node may not answer before its jobs go to another node",
    },
    "alerts": {
        "urls": "Apprise URLs every alert goes to (examples below); empty: alerts stay in the database",
        "alert_on_baseline": "also alert on what a portal's first crawl finds (otherwise a silent baseline)",
        "alert_on_update": "alert when a known report changes substantially",
        "alert_on_reclassified": "also send reports found only by `govwatch reextract` (otherwise listed, not sent)",
        "max_attempts": "delivery attempts per channel before an alert counts as failed",
        "backoff_base": "seconds before the first retry; doubles with every failed attempt",
        "max_backoff": "longest wait between two attempts, in seconds (the defaults retry for ~44 hours)",
        "send_timeout": "seconds one send may take in all (connect, TLS, answer), at most 120",
        "crawl_flush_budget": "seconds delivery may add to the end of `govwatch crawl`; the rest stays pending",
        "deadline_digest": "after 1 April, one digest of the regions still missing last year's report",
    },
    "dedupe": {
        "threshold": "similarity (0..1] of two bodies above which they are copies of one document",
    },
    "archive": {
        "dir": "WARC files of every fetched page and attachment, beside the database unless absolute; \"off\": none",
        "max_file_bytes": "a WARC file is closed and the next begun at this size (>= 1 MiB)",
    },
    "portal": {
        "id": "unique; used in CLI flags and the database",
        "name": "the portal's name, for tables and alerts",
        "start_urls": "the 法治政府建设 column's list page(s)",
        "home": "or the home page: the column is found on it (see `govwatch discover URL`)",
        "cms": "auto | trs | hanweb | ucap | json | generic (auto detects it from the page)",
        "region": "the region's name, when the pages do not say it",
        "adcode": "its 6-digit GB/T 2260 code, likewise",
        "schedule": "this portal's own schedule for `govwatch watch`",
        "allowed_hosts": "further hosts the crawl may fetch from (e.g. an attachment server)",
    },
}
ALERT_URL_EXAMPLES = (
    "json://127.0.0.1:9000/hook", "dingtalk://secret@token/", "wecombot://key/", "feishu://token/",
    "mailtos://user:pass@smtp.example.com",
)
SAMPLE_PORTAL = {"id": "jinghu", "name": "芜湖市镜湖区人民政府",
                 "start_urls": ["https://www.jinghu.gov.cn/zwgk/fzzfjs/index.html"], "region": "镜湖区",
                 "adcode": "340202"}
OPTIONAL_PORTAL_KEYS = {"home": "https://www.jinghu.gov.cn/", "cms": "auto", "schedule": "0 8 * * *",
                        "allowed_hosts": ["www.wuhu.gov.cn"]}
_COMMENT_AT = 40  # the column where the one-line meanings start
_LINE_WIDTH = 118


def config_template(portals: list[dict] | None = None, crawl: dict | None = None) -> str:
    """The text `govwatch init` writes: every key of [crawl], [alerts] and [dedupe] with its default and a
    one-line meaning, alert channel examples, and `portals` as [[portal]] tables (without them, a sample
    portal, commented out so that nothing is crawled until it is edited). `crawl` overrides defaults."""
    crawl = crawl or {}
    lines = [f"# govwatch.toml, written by `govwatch init` (govwatch {__version__}).",
             "# Every key is optional except each portal's id and its start_urls (or home); the values",
             "# shown are the defaults. A bad key or value is refused before any request, naming its line.", ""]
    for name, cls in _SECTIONS.items():
        lines.append(f"[{name}]")
        for key, spec in cls.__dataclass_fields__.items():
            value = crawl.get(key, spec.default) if name == "crawl" else spec.default
            note = KEY_HELP[name][key] + ("" if value == spec.default else f" (default {toml_value(spec.default)})")
            lines += _commented(f"{key} = {toml_value(value)}", note)
        if name == "alerts":
            lines += ["# for example:", "# urls = ["] + [f'#     "{url}",' for url in ALERT_URL_EXAMPLES] + ["# ]"]
        lines.append("")
    if portals:
        for number, portal in enumerate(portals):
            lines.append("[[portal]]")
            for key, value in portal.items():
                line = f"{key} = {toml_value(value)}"
                lines += _commented(line, KEY_HELP["portal"][key]) if number == 0 else [line]
            lines.append("")
    else:
        lines += ["# A sample portal: edit it, then remove the leading '# ' of its lines.", "# [[portal]]"]
        for key, value in SAMPLE_PORTAL.items():
            lines += ["# " + line for line in _commented(f"{key} = {toml_value(value)}", KEY_HELP["portal"][key], 2)]
        lines.append("")
    lines.append("# Optional keys of a portal:")
    for key, value in OPTIONAL_PORTAL_KEYS.items():
        lines += ["#   " + line for line in _commented(f"{key} = {toml_value(value)}", KEY_HELP["portal"][key], 4)]
    return "\n".join(lines) + "\n"


def minimal_config(portals: list[dict], crawl: dict | None = None) -> str:
    """Only what differs from the defaults: the `crawl` overrides and the [[portal]] tables."""
    lines = (["[crawl]"] + [f"{key} = {toml_value(value)}" for key, value in crawl.items()] + [""]) if crawl else []
    for portal in portals:
        lines += ["[[portal]]"] + [f"{key} = {toml_value(value)}" for key, value in portal.items()] + [""]
    return "\n".join(lines)


def init(path: str | Path = DEFAULT_CONFIG, *, portals: list[dict] | None = None,
         crawl: dict | None = None) -> Path:
    """Write `config_template(portals, crawl)` to `path`; ConfigError if `path` exists (never overwritten)."""
    path = Path(path)
    text = config_template(portals, crawl)
    parse_config(text, path)  # the template itself must load
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ConfigError(f"{path} exists: not overwritten (edit it, remove it, or pass --config OTHER.toml)") \
            from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write config: {exc.strerror or exc}") from None
    return path


def _commented(line: str, note: str, indent: int = 0) -> list[str]:
    """`line` with `# note` beside it in the comment column, or on the line above when both do not fit."""
    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    padded = line + " " * max(2, _COMMENT_AT - width(line))
    if indent + width(padded) + 2 + width(note) > _LINE_WIDTH:
        return [f"# {note}", line]
    return [f"{padded}# {note}"]


def toml_value(value) -> str:
    """`value` (bool, number, string, or a list of them) as TOML; the one writer of TOML values (the
    init template, the demo and farm configs, a scrapyd job's scratch config)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string, control characters too
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")
