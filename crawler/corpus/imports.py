"""`govwatch import PATH...`: pages saved elsewhere become documents of the corpus.

Accepted (folders are walked recursively, hidden entries skipped):

* saved pages `.html`, `.htm`, `.shtml`, `.xhtml` and text dumps `.txt` (like `seeds/pages/`): the page's own
  URL is taken from the browser's `<!-- saved from url=... -->` mark, `<link rel="canonical">` or
  `og:url`; without one the document's URL is the file's `file:` URL (and extraction gets no URL);
* files that are the document: `.pdf`, `.docx`, `.doc`, `.wps` (a Chinese file name stands in for the title);
* WARC files `.warc`, `.warc.gz` (and `.arc`, `.arc.gz`) from wget --warc-file, browsertrix, Heritrix or
  govwatch: every HTML or text `response`/`resource` record with status 200, the latest capture of a URL;
  its archived attachments are read from the same file; a PDF or Word record no page of the file links is
  a document of its own; a `revisit` record of another URL takes the payload it refers to; `request`,
  `metadata` and `warcinfo` records are skipped. Records are read where they are, one seek each;
* JSON Lines `.jsonl`, `.ndjson`: one `{"url": ..., "html": ... | "text": ..., "fetched_at": ...}` per line.

Each document goes through the one store path (`crawler.corpus.ingest.store_document`: extraction as the
crawl does it, dedupe, the full-text index, coverage), in one transaction with its provenance: the WARC
record it came from (`captures`; a page from a file or a JSON line is first written to the archive as a
`resource` record, a WARC record stays where it is and is pointed at). The portal is `import:<name>` (the
path's name) unless `portal` is given. Imports write their report events without delivering them (the
outbox keeps them as `deliver = 0`) unless `alert`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils

from crawler.config import AlertSettings
from crawler.corpus.archive import (ArchiveError, Capture, FileRecord, WarcWriter, iter_file, payload_digest,
                                     read_capture)
from crawler.corpus.ingest import store_document
from crawler.corpus.reextract import capture_fields
from crawler.extract import ExtractError
from crawler.extract.attachments import ATTACHMENT_EXTENSIONS, attachment_kind
from crawler.monitor.alerts import AlertPolicy
from crawler.urls import canonicalize

PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")
TEXT_SUFFIXES = (".txt",)
FILE_SUFFIXES = tuple(f".{ext}" for ext in ATTACHMENT_EXTENSIONS)
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
MAX_BYTES = 30 * 1024 * 1024  # the crawl's attachment cap ([crawl] max_attachment_bytes)
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_FILE_TYPES = ("application/pdf", "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml",
               "application/vnd.ms-works", "application/wps", "application/kswps", "application/octet-stream")
_SAVED_FROM = re.compile(rb"saved from url=\(\d+\)(https?://[^\s>]+)", re.I)
_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.I)
_OG_URL = re.compile(rb"<meta\b[^>]*\bproperty=[\"']?og:url[\"']?[^>]*>", re.I)
_HREF = re.compile(rb"\b(?:href|content)=[\"']?(https?://[^\"'\s>]+)", re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")


class InputError(ValueError):
    """One input that cannot be imported; the message is one line naming it."""


@dataclass
class ImportSummary:
    imported: int = 0  # new documents
    updated: int = 0  # already stored URLs whose fields changed
    unchanged: int = 0  # already stored with the same fields
    duplicates: int = 0  # a copy of another document (duplicate_of)
    reports: int = 0  # canonical annual reports among the documents read
    new_reports: int = 0  # of those, for a (region, year) never seen before
    archived: int = 0  # pages written to the archive as resource records
    skipped: Counter = field(default_factory=Counter)  # inputs that are no page, by reason
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (input, reason)

    @property
    def documents(self) -> int:
        return self.imported + self.updated + self.unchanged

    def as_dict(self) -> dict:
        return {"imported": self.imported, "updated": self.updated, "unchanged": self.unchanged,
                "duplicates": self.duplicates, "reports": self.reports, "new_reports": self.new_reports,
                "archived": self.archived, "skipped": dict(self.skipped.most_common()),
                "unreadable": [{"input": where, "reason": reason} for where, reason in self.unreadable]}


@dataclass
class _Source:
    """One document to import: its bytes (or text), where it came from, and how it is archived."""

    where: str  # the input named in messages: file, file:line, file@offset
    url: str
    role: str  # page | file
    capture: Capture
    fetched_at: str | None
    pointer: dict | None = None  # the WARC record it already is (a WARC import)
    attachment: Callable[[str], Capture | None] = lambda url: None
    listed_title: str | None = None
    attachment_pointers: list[dict] = field(default_factory=list)  # the records `attachment` read


def input_files(paths) -> list[Path]:
    """The files named by `paths`, folders walked recursively in name order (hidden entries skipped)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            files.append(path)
    return files


def portal_name(path: str | Path) -> str:
    """`import:<name>`: the folder's or the file's name without its suffixes."""
    name = Path(path).resolve().name
    for suffix in (*WARC_SUFFIXES, *JSONL_SUFFIXES, *PAGE_SUFFIXES, *TEXT_SUFFIXES, *FILE_SUFFIXES):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "files"
    return f"import:{name}"


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    for kind, suffixes in (("warc", WARC_SUFFIXES), ("jsonl", JSONL_SUFFIXES), ("page", PAGE_SUFFIXES),
                           ("text", TEXT_SUFFIXES), ("file", FILE_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


def saved_url(content: bytes) -> str | None:
    """The URL a saved page came from: the browser's `saved from url=` mark, else the canonical link or
    og:url of its head."""
    head = content[:65536]
    found = _SAVED_FROM.search(head)
    if found:
        return found.group(1).decode("ascii", "replace")
    for pattern in (_CANONICAL, _OG_URL):
        tag = pattern.search(head)
        href = _HREF.search(tag.group(0)) if tag else None
        if href:
            return href.group(1).decode("ascii", "replace")
    return None


def _iso(value: str | datetime | None) -> str | None:
    """A timestamp as the database writes them (UTC, to the second); None for no or an unreadable value."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _type_of(capture: Capture, url: str) -> str | None:
    """page | file | None (no document: a style sheet, an image...)."""
    ctype = (capture.content_type or "").split(";")[0].strip().lower()
    if ctype.startswith(_PAGE_TYPES):
        return "page"
    if attachment_kind(url, ctype or None, capture.body[:4096]) and (not ctype or ctype.startswith(_FILE_TYPES)):
        return "file"
    if not ctype and capture.body[:1024].lstrip()[:1] == b"<":
        return "page"
    return None


# ---------------------------------------------------------------------------------------------------------
# reading the inputs


def _file_sources(path: Path, kind: str) -> Iterator[_Source]:
    try:
        data = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
    url = (saved_url(data) if kind == "page" else None) or path.resolve().as_uri()
    content_type = {"page": "text/html", "text": "text/plain"}.get(kind)
    capture = Capture(url=url, record_type="resource", date=None, status=None, headers=[], body=data,
                      content_type=content_type)
    listed = path.stem if kind == "file" and _CJK.search(path.stem) else None
    yield _Source(str(path), url, "file" if kind == "file" else "page", capture, _iso(mtime), listed_title=listed)


def _jsonl_sources(path: Path, summary: ImportSummary) -> Iterator[_Source]:
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except ValueError as exc:
                summary.unreadable.append((where, f"not JSON ({exc.msg})"))
                continue
            content = entry.get("html") if isinstance(entry, dict) else None
            kind = "page"
            if content is None and isinstance(entry, dict):
                content, kind = entry.get("text"), "text"
            url = entry.get("url") if isinstance(entry, dict) else None
            if not isinstance(url, str) or not url.strip() or not isinstance(content, str):
                summary.unreadable.append((where, 'needs "url" and "html" or "text" (strings)'))
                continue
            fetched_at = _iso(entry.get("fetched_at")) if isinstance(entry.get("fetched_at"), str) else None
            if entry.get("fetched_at") and fetched_at is None:
                summary.unreadable.append((where, f"fetched_at {entry.get('fetched_at')!r} is no ISO 8601 time"))
                continue
            content_type = "text/html; charset=utf-8" if kind == "page" else "text/plain; charset=utf-8"
            capture = Capture(url=url, record_type="resource", date=None, status=None, headers=[],
                              body=content.encode("utf-8"), content_type=content_type)
            yield _Source(where, url.strip(), "page", capture, fetched_at)


def _want(found: FileRecord) -> str | None:
    if found.record_type not in ("response", "resource", "revisit"):
        return f"{found.record_type} record"
    if not (found.url or "").startswith(("http://", "https://")):
        return "record of no web page"
    if found.record_type == "response" and found.status != 200:
        return f"HTTP {found.status} response"
    ctype = (found.content_type or "").split(";")[0].strip().lower()
    if found.record_type != "revisit" and ctype and not ctype.startswith((*_PAGE_TYPES, *_FILE_TYPES)):
        return f"not a page ({ctype})"  # images, scripts, styles: most of a browser crawl, never indexed
    return "indexed"  # the first pass only indexes; payloads are read by offset


def _warc_sources(path: Path, summary: ImportSummary, progress: Callable[[float], None]) -> Iterator[_Source]:
    """Index the file in one streaming pass, then read the documents' records by offset."""
    absolute = str(path.resolve())
    size = max(path.stat().st_size, 1)
    latest: dict[str, FileRecord] = {}  # canonical URL -> its latest capture (response/resource)
    by_digest: dict[str, FileRecord] = {}
    revisits: list[FileRecord] = []
    try:
        for found in iter_file(path, want=_want):
            progress(0.5 * found.offset / size)
            if found.skipped != "indexed":
                summary.skipped[found.skipped] += 1
                continue
            if found.record_type == "revisit":
                revisits.append(found)
                continue
            key = canonicalize(found.url)
            if key in latest:
                summary.skipped["older capture of a URL"] += 1
                if (latest[key].date or "") > (found.date or ""):
                    continue
            latest[key] = found
            if found.payload_digest:
                by_digest.setdefault(found.payload_digest, found)
    except ArchiveError as exc:
        summary.unreadable.append((str(path), str(exc).removeprefix(f"{path}: ")))
    def pointer(found: FileRecord) -> dict:
        return {"file": absolute, "offset": found.offset, "length": found.length, "url": found.url,
                "record_id": found.record_id, "captured_at": found.date, "status": found.status,
                "content_type": found.content_type, "digest": found.payload_digest}

    def read(found: FileRecord) -> Capture:
        return read_capture(None, pointer(found), max_bytes=MAX_BYTES)

    used: set[str] = set()

    def page_source(where: str, found: FileRecord, capture: Capture, url: str, role: str) -> _Source:
        """A page of the file, whose attachments are looked up in the same file."""
        source = _Source(where, url, role, capture, _iso(found.date), pointer=pointer(found))

        def attachment(link: str) -> Capture | None:
            record = latest.get(canonicalize(link))
            if record is None:
                return None
            used.add(canonicalize(link))
            source.attachment_pointers.append(pointer(record))
            return read(record)

        source.attachment = attachment
        return source

    entries = list(latest.values())
    total = max(len(entries) + len(revisits), 1)
    done = 0
    files: list[tuple[FileRecord, Capture]] = []
    for found in entries:
        done += 1
        progress(0.5 + 0.5 * done / total)
        where = f"{path}@{found.offset}"
        try:
            capture = read(found)
        except ArchiveError as exc:
            summary.unreadable.append((where, str(exc).removeprefix(f"{absolute}: ")))
            continue
        role = _type_of(capture, found.url)
        if role is None:
            summary.skipped[f"not a page ({(capture.content_type or 'no type').split(';')[0]})"] += 1
        elif role == "file":
            files.append((found, capture))
        else:
            yield page_source(where, found, capture, found.url, "page")
    for found in revisits:
        done += 1
        progress(0.5 + 0.5 * done / total)
        original = latest.get(canonicalize(found.refers_to_url or "")) or by_digest.get(found.payload_digest or "")
        if original is None:
            summary.skipped["revisit of a record not in the file"] += 1
            continue
        if canonicalize(original.url) == canonicalize(found.url) or canonicalize(found.url) in latest:
            summary.skipped["revisit of a page already imported"] += 1
            continue
        try:
            capture = read(original)
        except ArchiveError as exc:
            summary.unreadable.append((f"{path}@{found.offset}", str(exc).removeprefix(f"{absolute}: ")))
            continue
        role = _type_of(capture, found.url)
        if role is not None:
            capture.url = found.url
            source = page_source(f"{path}@{found.offset}", original, capture, found.url, role)
            source.fetched_at = _iso(found.date)
            yield source
        else:
            summary.skipped["revisit of no page"] += 1
    for found, capture in files:  # after the pages: a file one of them links is its attachment, no document
        if canonicalize(found.url) in used:
            summary.skipped["attachment of an imported page"] += 1
            continue
        yield _Source(f"{path}@{found.offset}", found.url, "file", capture, _iso(found.date), pointer=pointer(found))


# ---------------------------------------------------------------------------------------------------------
# importing


def import_paths(db: sqlite_utils.Database, paths, *, portal: str | None = None, archive_dir=None,
                 alert: bool = False, alerts: AlertSettings | None = None, dedupe_threshold: float | None = None,
                 progress: Callable[[int], None] | None = None,
                 on_error: Callable[[str, str], None] | None = None) -> ImportSummary:
    """Import saved pages, text dumps, PDF/Word files, folders of them, WARC files and JSON Lines (see the
    module docstring) into the corpus. `archive_dir` (None: archive off) receives the pages that are no WARC
    record yet. `progress(bytes)` gets the input bytes done so far (see `input_bytes`), `on_error(input,
    reason)` each unreadable input as it is met. Never raises for one input."""
    policy = AlertPolicy.from_settings(alerts, quiet=not alert,
                                       alert_on_baseline=True if alert else (alerts or AlertSettings()).alert_on_baseline)
    summary = ImportSummary()
    writer = WarcWriter(archive_dir, info={"description": "pages imported by govwatch import"}) \
        if archive_dir is not None else None
    done = 0
    try:
        for argument in paths:
            portal_id = portal or portal_name(argument)
            for path in input_files([argument]):
                size = _size(path)
                reported = len(summary.unreadable)

                def advance(fraction: float, base=done, size=size) -> None:
                    if progress is not None:
                        progress(base + int(size * min(fraction, 1.0)))

                _import_file(db, path, portal_id, summary, policy=policy, threshold=dedupe_threshold,
                             writer=writer, advance=advance)
                done += size
                if progress is not None:
                    progress(done)
                if on_error is not None:
                    for where, reason in summary.unreadable[reported:]:
                        on_error(where, reason)
    finally:
        if writer is not None:
            writer.close()
    return summary


def input_bytes(paths) -> int:
    """The total size of what `import_paths(paths)` reads (a progress bar's length)."""
    return sum(_size(path) for path in input_files(paths))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _import_file(db, path: Path, portal_id: str, summary: ImportSummary, *, policy, threshold, writer,
                 advance) -> None:
    kind = kind_of(path)
    if kind is None:
        summary.skipped[f"not an importable file ({path.suffix or 'no suffix'})"] += 1
        return
    try:
        if kind == "warc":
            sources = _warc_sources(path, summary, advance)
        elif kind == "jsonl":
            sources = _jsonl_sources(path, summary)
        else:
            sources = _file_sources(path, kind)
        for source in sources:
            _import_one(db, source, portal_id, summary, policy=policy, threshold=threshold, writer=writer,
                        origin=f"import:{path.resolve()}")
    except InputError as exc:
        summary.unreadable.append((str(path), str(exc).removeprefix(f"{path}: ")))
    except ArchiveError as exc:
        summary.unreadable.append((str(path), str(exc).removeprefix(f"{path}: ")))


def _import_one(db, source: _Source, portal_id: str, summary: ImportSummary, *, policy, threshold, writer,
                origin: str) -> None:
    try:
        fields = capture_fields(source.capture, source.role, url=source.url, attachment=source.attachment,
                                listed_title=source.listed_title, listed_date=None)
    except ExtractError as exc:
        summary.unreadable.append((source.where, f"not a page: {exc}"))
        return
    except ArchiveError as exc:  # an attachment record of a WARC
        summary.unreadable.append((source.where, str(exc)))
        return
    if source.role == "file":
        (entry,) = fields["attachments"]
        if entry["status"] != "ok":
            summary.unreadable.append((source.where, f"{entry['status']}: {entry.get('error') or 'no text'}"))
            return
    if not (fields["text"] or "").strip():
        summary.unreadable.append((source.where, "no text in it"))
        return
    pointer = source.pointer
    if pointer is None and writer is not None:
        pointer = _archived_already(db, source)
    if pointer is None and writer is not None:
        pointer = writer.write_resource(source.url, source.capture.body, content_type=source.capture.content_type,
                                        date=_datetime(source.fetched_at), source=source.where)
        summary.archived += 1
    doc = {"url": source.url, "portal_id": portal_id, "fetched_at": source.fetched_at, **fields}
    if pointer is not None:
        doc["archive"] = [dict(pointer, role=source.role, origin=origin),
                          *(dict(p, role="attachment", origin=origin) for p in source.attachment_pointers)]
    try:
        result = store_document(db, doc, policy=policy, dedupe_threshold=threshold)
    except Exception as exc:  # noqa: BLE001 - one document must not stop the import
        summary.unreadable.append((source.where, f"storing failed: {type(exc).__name__}: {exc}"))
        return
    if result.created:
        summary.imported += 1
    elif result.changed:
        summary.updated += 1
    else:
        summary.unchanged += 1
    if result.duplicate_of is not None:
        summary.duplicates += 1
    elif fields["doc_type"] == "annual_report":
        summary.reports += 1
    summary.new_reports += int(result.new_report)


def _archived_already(db, source: _Source) -> dict | None:
    """The record an earlier import of the same bytes for the same URL wrote (importing again adds none)."""
    row = db.conn.execute(
        "SELECT c.url, c.warc_file, c.warc_offset, c.warc_length, c.record_id, c.captured_at, c.status, "
        "c.content_type, c.payload_digest FROM captures c JOIN documents d ON d.id = c.document_id "
        "WHERE d.url = ? AND c.role = ?", [canonicalize(source.url), source.role]).fetchone()
    if row is None or row[8] != payload_digest(source.capture.body):
        return None
    names = ("url", "file", "offset", "length", "record_id", "captured_at", "status", "content_type", "digest")
    return dict(zip(names, row))


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
