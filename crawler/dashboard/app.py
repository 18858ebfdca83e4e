"""Building and running the dashboard: a Datasette instance on the govwatch database, read-only.

Access: on a loopback address (the default, 127.0.0.1) anyone on this machine may look; anywhere else every
request needs the password (datasette-auth-passwords with HTTP Basic auth over the whole app, so pages,
exports and feeds alike, and feed readers can subscribe). The password comes from the environment
(`GOVWATCH_SERVE_PASSWORD`), never from the command line, where other users could read it; only its PBKDF2
hash is handed to Datasette, through a variable of this process, which Datasette never shows (/-/metadata
prints `$env` references, not values).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from crawler.config import ArchiveSettings
from crawler.dashboard.resources import DATABASE, STATIC, STATIC_MOUNT, TEMPLATES, load_metadata
from storage import sqlite3
from storage.schema import migrations

PASSWORD_ENV = "GOVWATCH_SERVE_PASSWORD"
USER = "govwatch"
_HASH_ENV = "_GOVWATCH_DASHBOARD_PASSWORD_HASH"  # set by this process for Datasette's `$env` lookup
SETTINGS = {
    "allow_download": False,  # the raw file holds what the dashboard hides (connection.READABLE_COLUMNS)
    "suggest_facets": False,  # facet suggestions scan every column of 100,000 documents on each table page
    "truncate_cells_html": 160,  # a report's text is a cell of documents: show its start only
    "default_page_size": 50,
    "sql_time_limit_ms": 3000,  # ranking a common word over a large corpus takes a few hundred ms
}
REQUIRED_TABLES = ("documents", "portals", "documents_fts")


class DashboardError(RuntimeError):
    """The dashboard cannot start; the message is one line naming the file, address or variable."""


def requires_password(host: str) -> bool:
    """Whether serving on `host` needs a password: anything but a loopback address or `localhost`."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return True


def check_database(path: Path) -> None:
    """Refuse a missing file, a file that is no govwatch database, or one whose schema is behind this govwatch
    (the pages' queries need every migration): one line naming the file. Opens it read-only."""
    if not path.is_file():
        raise DashboardError(f"database {path} does not exist (crawl first, or give --db)")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            pending = [m.name for m in migrations.pending(sqlite_utils.Database(conn))]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DashboardError(f"cannot read database {path}: {exc}") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise DashboardError(f"{path} is not a govwatch database (no table {missing[0]})")
    if pending:
        raise DashboardError(f"database {path} needs migration {pending[0]}: open it once with a govwatch command "
                             "that writes (e.g. `govwatch status`)")


def dashboard(db_path: str | os.PathLike, *, password: str | None = None, user: str = USER,
              archive: ArchiveSettings | None = None):
    """The Datasette instance serving `db_path` as the database `govwatch`, with govwatch's plugin, metadata
    and templates. With `password`, every request needs HTTP Basic auth as `user`. `archive` (the config's
    [archive]; default: beside the database) is where document pages find the archived pages they link."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from crawler.dashboard import plugin

    path = Path(db_path).resolve()
    check_database(path)
    if not pm.is_registered(plugin):
        pm.register(plugin, name="govwatch")
    metadata = load_metadata()
    archive_dir = (archive or ArchiveSettings()).directory(path)
    metadata.setdefault("plugins", {}).setdefault("govwatch", {})["archive_dir"] = \
        str(archive_dir) if archive_dir is not None else None
    if password:
        from datasette_auth_passwords.utils import hash_password

        os.environ[_HASH_ENV] = hash_password(password)
        metadata.setdefault("plugins", {})["datasette-auth-passwords"] = {
            f"{user}_password_hash": {"$env": _HASH_ENV}, "http_basic_auth": True}
    ds = Datasette(files=[str(path)], metadata=metadata, settings=SETTINGS, template_dir=str(TEMPLATES),
                   static_mounts=[(STATIC_MOUNT, str(STATIC))], secret=secrets.token_hex(32))
    (opened,) = [db for db in ds.databases.values() if db.path == str(path)]
    ds.remove_database(opened.name)
    ds.add_database(opened, name=DATABASE)
    return ds


def serve(db_path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8001, *, password: str | None = None,
          echo=print, archive: ArchiveSettings | None = None) -> None:
    """Serve the dashboard until interrupted. Off loopback `password` is required (DashboardError without)."""
    import uvicorn

    if requires_password(host) and not password:
        raise DashboardError(f"--host {host} is not a loopback address: set {PASSWORD_ENV} to require a password "
                             "(HTTP Basic auth, user govwatch), or serve on 127.0.0.1")
    ds = dashboard(db_path, password=password, archive=archive)
    asyncio.run(ds.invoke_startup())
    shown = f"[{host}]" if ":" in host else host
    echo(f"govwatch dashboard on http://{shown}:{port}/ (database {Path(db_path)}, read-only)")
    if password:
        echo(f"every request needs the password (HTTP Basic auth, user {USER}; from {PASSWORD_ENV})")
    else:
        echo("no password: reachable from this machine only")
    uvicorn.run(ds.app(), host=host.strip("[]"), port=port, log_level="warning", lifespan="on")
