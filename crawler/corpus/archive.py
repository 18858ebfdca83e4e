"""The archive of what the portals served: WARC files (ISO 28500) written and read with Webrecorder's warcio.

Writing (`WarcWriter`): every exchange is a `response` record and its `request` record, each its own gzip
member, appended to size-rotated files in one directory. The writer knows nothing of the database: it hands
back a *pointer* (file name, offset and length of the response record, its id, date and payload digest, and
`exchange_length`: the bytes of the response and request members together, which are written one after the
other) that travels with the document (file names are unique per host, process and serial). An exchange
written in another archive (a scrapyd node's, which the node deletes) moves here whole:
`append_member(members, pointer)` appends the gzip members the pointer's `exchange_length` spans as they are
and gives back the pointer to them here; `sync()` makes the appended members durable before the database
commits pointers to them.

Whole records only. A record is built in memory and appended in one piece; a failed write is cut off again.
A file is `<name>.warc.gz.open` while its writer holds it (an exclusive `flock`) and renamed to
`<name>.warc.gz` when closed; pointers always name the final file and readers look for both. A writer killed
mid-write leaves an `.open` file whose last gzip member may be cut short: `recover(directory)` (run by every
new writer in that directory) cuts it back to its last whole member and renames it. A pointer is handed out
only after its record was written, so it never points at a record that is not in the file. Files are not
fsynced per record: after a power loss the last records may be missing, as the last commits of the
database (synchronous=NORMAL) may be; `read_capture` then fails with a one-line `ArchiveError`.

Reading: `read_capture(directory, pointer)` reads the one record at the pointer (a seek and `length` bytes);
`iter_file(path)` streams any WARC file (gzipped per record or not, from wget, browsertrix, Heritrix or
govwatch) record by record, never loading it whole. Payloads come out as warcio's `content_stream()` gives
them: chunked transfer encoding and gzip/deflate/brotli content encoding undone.

May import only the base; never the crawl stage (the crawl process imports this module to write).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import socket
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from crawler import __version__

DEFAULT_MAX_FILE_BYTES = 1_000_000_000  # the size WARC tools rotate at by default
GZIP_LEVEL = 6
OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
WARC_VERSION = "WARC/1.1"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9.-]+")
# Headers that describe the bytes on the wire rather than the body as archived (Scrapy has undone them):
# kept under the X-Archive-Orig- prefix (the pywb convention) and replaced by a Content-Length of the body
_WIRE_HEADERS = ("transfer-encoding", "content-length")


class ArchiveError(RuntimeError):
    """A WARC file or record cannot be written or read; the message names the file (and offset)."""


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response to it, as the crawler saw them (body decoded)."""

    url: str
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    date: datetime | None = None  # when the response arrived; now when None


@dataclass
class Capture:
    """One archived record: what was served for `url` and when."""

    url: str
    record_type: str  # response | resource | revisit
    date: str | None  # WARC-Date, ISO 8601 UTC
    status: int | None  # the HTTP status (None for a resource record)
    headers: list[tuple[str, str]]  # the HTTP response headers ([] for a resource record)
    content_type: str | None
    body: bytes
    record_id: str | None = None
    payload_digest: str | None = None

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((value for key, value in self.headers if key.lower() == lower), None)

    @property
    def charset(self) -> str | None:
        return charset_of(self.content_type)


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest of a body, as warcio writes it (`sha1:` and base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def charset_of(content_type: str | None) -> str | None:
    if content_type and "charset=" in content_type.lower():
        value = content_type.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'")
        return value or None
    return None


def _warc_date(moment: datetime | None) -> str:
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def _gzip_member(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lock(fd: int, *, wait: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): recovery then never touches another process's file
        return not wait
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------
# writing


class WarcWriter:
    """Appends records to `<prefix>-<timestamp>-<serial>-<host>-<pid>.warc.gz` files in `directory`, a new
    file once the current one holds `max_file_bytes`. Thread-safe; one process may run several."""

    def __init__(self, directory: str | os.PathLike, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 prefix: str = "govwatch", info: dict | None = None, gzip_level: int = GZIP_LEVEL):
        from warcio.warcwriter import WARCWriter

        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create the archive directory {self.directory}: {exc.strerror}") from None
        self.max_file_bytes = max_file_bytes
        self.prefix = _UNSAFE_NAME.sub("-", prefix) or "govwatch"
        self.host = _UNSAFE_NAME.sub("-", socket.gethostname()) or "host"
        self.info = {"software": f"govwatch/{__version__} (warcio)", "format": "WARC File Format 1.1",
                     "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                     "hostname": socket.gethostname(), **(info or {})}
        self.gzip_level = gzip_level
        self._builder = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._name: str | None = None
        self._size = 0
        self._serial = 0
        self.files: list[str] = []  # names of the files this writer made
        self.recovered = recover(self.directory)

    # ----- records
    def write_exchange(self, exchange: Exchange) -> dict:
        """Append the response record and its request record; the pointer to the response record."""
        from warcio.statusandheaders import StatusAndHeaders

        date = _warc_date(exchange.date)
        headers = _archived_headers(exchange.response_headers, len(exchange.body))
        reason = _reason(exchange.status)
        http = StatusAndHeaders(f"{exchange.status} {reason}".strip(), headers, protocol=exchange.protocol)
        warc_headers = {"WARC-Date": date}
        if exchange.ip_address:
            warc_headers["WARC-IP-Address"] = exchange.ip_address
        response = self._builder.create_warc_record(
            exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
            http_headers=http, warc_headers_dict=warc_headers)
        request = self._request_record(exchange, date, response.rec_headers.get_header("WARC-Record-ID"))
        return self._append(exchange.url, response, [request], status=exchange.status,
                            content_type=_header(headers, "Content-Type"))

    def write_resource(self, url: str, body: bytes, *, content_type: str | None, date: datetime | None = None,
                       source: str | None = None) -> dict:
        """Append a `resource` record (a page saved elsewhere, kept as it was given); its pointer.
        `source` (where it came from, e.g. the imported file) is kept as a `WARC-Source-URI`-like field."""
        warc_headers = {"WARC-Date": _warc_date(date)}
        if source:
            warc_headers["WARC-Govwatch-Source"] = source
        record = self._builder.create_warc_record(
            url, "resource", payload=io.BytesIO(body), length=len(body),
            warc_content_type=content_type or "application/octet-stream", warc_headers_dict=warc_headers)
        return self._append(url, record, [], status=None, content_type=content_type)

    def _request_record(self, exchange: Exchange, date: str, response_id: str):
        from warcio.statusandheaders import StatusAndHeaders

        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(exchange.request_headers)
        if not _header(headers, "Host") and parts.netloc:
            headers.insert(0, ("Host", parts.netloc.rpartition("@")[2]))
        http = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", headers, is_http_request=True)
        return self._builder.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(exchange.request_body), length=len(exchange.request_body),
            http_headers=http, warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id})

    def _serialize(self, record) -> bytes:
        buffer = io.BytesIO()
        self._builder.out = buffer
        try:
            self._builder.write_record(record)
        finally:
            self._builder.out = None
        return _gzip_member(buffer.getvalue(), self.gzip_level)

    def append_member(self, members: bytes, pointer: dict) -> dict:
        """Append a record that another writer made, with the request record written after it, if any (the
        gzip members a pointer of its archive spans, e.g. handed back by a scrapyd node), as they are;
        `pointer` moved to where the record is now in this archive. ArchiveError unless `members` is whole
        gzip members holding WARC records, only `request` records after the first."""
        lengths = _member_lengths(members)
        name, offset = self._write(members)
        return dict(pointer, file=name, offset=offset, length=lengths[0], exchange_length=len(members))

    def sync(self) -> None:
        """Make what was appended so far durable (fsync the current file), e.g. before a database commit
        that points at it; the file stays open for more."""
        with self._lock:
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    raise ArchiveError(f"cannot write {self.directory / self._name}: {exc.strerror}") from None

    def _append(self, url: str, main, others: list, *, status: int | None, content_type: str | None) -> dict:
        main_bytes = self._serialize(main)
        data = main_bytes + b"".join(self._serialize(record) for record in others)
        name, offset = self._write(data)
        headers = main.rec_headers
        return {"file": name, "offset": offset, "length": len(main_bytes), "exchange_length": len(data), "url": url,
                "record_id": headers.get_header("WARC-Record-ID"), "captured_at": headers.get_header("WARC-Date"),
                "status": status, "content_type": content_type,
                "digest": headers.get_header("WARC-Payload-Digest")}

    def _write(self, data: bytes) -> tuple[str, int]:
        """Append whole members to the current file (a new one when it is full): (file, offset)."""
        with self._lock:
            if self._fd is None or self._size >= self.max_file_bytes:
                self._rotate()
            offset = self._size
            try:
                _write_all(self._fd, data)
            except BaseException as exc:  # interrupted or disk full: cut the file back to its whole records
                try:
                    os.ftruncate(self._fd, offset)
                except OSError:
                    pass
                if isinstance(exc, OSError):
                    raise ArchiveError(f"cannot write {self.directory / self._name}: {exc.strerror}") from None
                raise
            self._size += len(data)
            return self._name, offset

    # ----- files
    def _rotate(self) -> None:
        self._close_file()
        self._serial += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}-{os.getpid()}{WARC_SUFFIX}"
        path = self.directory / (name + OPEN_SUFFIX)
        while True:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
                break
            except FileExistsError:  # another writer of this process began a file in the same millisecond
                self._serial += 1
                name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}-{os.getpid()}{WARC_SUFFIX}"
                path = self.directory / (name + OPEN_SUFFIX)
            except OSError as exc:
                raise ArchiveError(f"cannot create {path}: {exc.strerror}") from None
        _lock(fd, wait=True)
        self._fd, self._name, self._size = fd, name, 0
        info = self._builder.create_warcinfo_record(name, self.info)
        data = self._serialize(info)
        _write_all(fd, data)
        self._size = len(data)
        self.files.append(name)

    def _close_file(self) -> None:
        if self._fd is None:
            return
        fd, name = self._fd, self._name
        self._fd = self._name = None
        try:
            os.fsync(fd)
            os.replace(self.directory / (name + OPEN_SUFFIX), self.directory / name)
        finally:
            os.close(fd)  # releases the lock

    def close(self) -> None:
        """Finish the current file (fsync, drop `.open`). The writer may be used again (a new file)."""
        with self._lock:
            self._close_file()

    def __enter__(self) -> "WarcWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_HEAD = 4096  # of an inflated record: its WARC headers


def _member_lengths(members: bytes) -> list[int]:
    """The lengths of the whole gzip members `members` is made of, each a WARC record, only `request`
    records after the first; else ArchiveError. Inflated in bounded steps: a member may inflate far beyond
    its size."""
    lengths, rest = [], members
    while rest:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        data, head = rest, b""
        try:
            while not decompressor.eof:
                out = decompressor.decompress(data, 1 << 22)
                head += out[:_HEAD - len(head)]
                data = decompressor.unconsumed_tail
                if not out and not data:
                    break
        except zlib.error as exc:
            raise ArchiveError(f"not a gzip member ({exc})") from None
        if not decompressor.eof:
            raise ArchiveError(f"a gzip member cut short ({len(rest)} bytes)")
        if not head.startswith(b"WARC/"):
            raise ArchiveError("the gzip member holds no WARC record")
        if lengths and b"\r\nWARC-Type: request\r\n" not in head.partition(b"\r\n\r\n")[0] + b"\r\n":
            raise ArchiveError(f"{len(rest)} bytes after the gzip member that are not its request record")
        lengths.append(len(rest) - len(decompressor.unused_data))
        rest = decompressor.unused_data
    if not lengths:
        raise ArchiveError("no gzip member")
    return lengths


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lower = name.lower()
    return next((value for key, value in headers if key.lower() == lower), None)


def _archived_headers(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """The response headers as they describe the archived body: wire framing headers under X-Archive-Orig-,
    and the body's own Content-Length."""
    out = []
    for name, value in headers:
        if name.lower() in _WIRE_HEADERS:
            if name.lower() == "content-length" and value.strip() == str(body_length):
                continue
            out.append((f"X-Archive-Orig-{name}", value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(body_length)))
    return out


# ---------------------------------------------------------------------------------------------------------
# recovery


def whole_members_end(handle) -> int:
    """The end offset of the last complete gzip member at the start of `handle` (read from offset 0)."""
    handle.seek(0)
    good = position = 0  # end of the last whole member; bytes of the file fed to decompressors so far
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    chunk = b""
    while True:
        if not chunk:
            chunk = handle.read(1 << 20)
            if not chunk:
                return good
        try:
            data = chunk
            while data and not decompressor.eof:  # bounded output: a member may inflate far beyond its size
                decompressor.decompress(data, 1 << 22)
                data = decompressor.unconsumed_tail
        except zlib.error:
            return good
        if decompressor.eof:
            rest = decompressor.unused_data
            position += len(chunk) - len(rest)
            good = position
            chunk = rest
            decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        else:
            position += len(chunk)
            chunk = b""


def recover(directory: str | os.PathLike) -> list[tuple[str, int]]:
    """Finish the `.open` files no writer holds any more (their writer was killed): cut each back to its
    last whole record and drop the suffix (or delete it when no record is whole). Returns (file, bytes cut)
    for each file finished."""
    directory = Path(directory)
    finished = []
    for path in sorted(directory.glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            if not _lock(fd, wait=False):
                continue  # a live writer's file
            with os.fdopen(os.dup(fd), "rb") as handle:
                end = whole_members_end(handle)
            size = os.fstat(fd).st_size
            if end < size:
                os.ftruncate(fd, end)
                os.fsync(fd)
            final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
            if end == 0:
                path.unlink()
            else:
                os.replace(path, final)
            finished.append((final.name, size - end))
        finally:
            os.close(fd)
    return finished


# ---------------------------------------------------------------------------------------------------------
# reading


def record_path(directory: str | os.PathLike | None, name: str) -> Path:
    """The file a pointer names: relative to the archive directory (absolute for an imported WARC), or its
    `.open` twin while its writer has it."""
    path = Path(name) if directory is None else Path(directory) / name
    if not path.exists():
        open_twin = path.with_name(path.name + OPEN_SUFFIX)
        if open_twin.exists():
            return open_twin
    return path


def read_member(directory: str | os.PathLike | None, pointer: dict) -> bytes:
    """The bytes a pointer (`file`, `offset`, `length`) designates: its record's gzip member, as written.
    Raises ArchiveError naming the file."""
    path = record_path(directory, pointer["file"])
    offset, length = int(pointer["offset"]), int(pointer["length"])
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
    except FileNotFoundError:
        raise ArchiveError(f"{path}: WARC file not found") from None
    except OSError as exc:
        raise ArchiveError(f"{path}: {exc.strerror or exc}") from None
    if len(data) < length:
        raise ArchiveError(f"{path}: record at offset {offset} is cut short ({len(data)} of {length} bytes)")
    return data


def read_capture(directory: str | os.PathLike | None, pointer: dict, *, max_bytes: int | None = None) -> Capture:
    """The record a pointer (`file`, `offset`, `length`) points at. Raises ArchiveError naming the file."""
    data = read_member(directory, pointer)
    path, offset = record_path(directory, pointer["file"]), int(pointer["offset"])
    from warcio.archiveiterator import ArchiveIterator

    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
        return _capture(record, max_bytes)
    except (StopIteration, Exception) as exc:  # noqa: BLE001 - warcio raises several kinds
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError(f"{path}: no readable record at offset {offset} ({_describe(exc)})") from None


@dataclass
class FileRecord:
    """One record met while streaming a WARC file: where it is, what it is, and (when asked) its capture."""

    offset: int
    length: int
    record_type: str
    url: str | None
    date: str | None
    record_id: str | None
    content_type: str | None  # the HTTP Content-Type (response) or the record's (resource)
    status: int | None
    payload_digest: str | None
    refers_to_url: str | None = None  # revisit records
    refers_to_date: str | None = None
    capture: Capture | None = None
    skipped: str | None = None  # why the payload was not read


def iter_file(path: str | os.PathLike, *, want: Callable[[FileRecord], str | None] | None = None,
              max_bytes: int | None = None) -> Iterator[FileRecord]:
    """Stream the records of a WARC file (gzipped per record or plain; `.arc`/`.arc.gz` files as ARC).
    `want(record)` decides from the
    headers whether to read the payload: None reads it, a string is the reason not to. Raises ArchiveError
    (file and offset) when the file is not a WARC or ends inside a record; records before it were yielded."""
    from warcio.archiveiterator import ArchiveIterator, WARCIterator

    path = Path(path)
    is_arc = path.name.lower().endswith((".arc", ".arc.gz"))
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise ArchiveError(f"{path}: {exc.strerror or exc}") from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        # an ARC file's records read as WARC ones; anything else must be WARC (ARC's header line is lax)
        iterator = ArchiveIterator(handle, arc2warc=True) if is_arc else WARCIterator(handle)
        offset = end = 0
        try:
            for record in iterator:
                found = _describe_record(record)
                reason = want(found) if want is not None else None
                if reason is None:
                    try:
                        found.capture = _capture(record, max_bytes)
                    except ArchiveError as exc:
                        found.skipped = str(exc)
                else:
                    found.skipped = reason
                found.offset = offset = iterator.get_record_offset()
                found.length = iterator.get_record_length()
                end = offset + found.length
                if getattr(record.raw_stream, "limit", 0) > 0 or (  # the file ended before the record's length
                        record.format == "warc" and record.rec_headers.get_header("Content-Length") is None):
                    raise ArchiveError(f"{path}: the record at offset {offset} is cut short")
                yield found
        except ArchiveError:
            raise
        except Exception as exc:  # noqa: BLE001 - warcio's parse errors, zlib errors, EOF inside a record
            raise ArchiveError(f"{path}: unreadable after offset {offset} ({_describe(exc)})") from None
        # warcio takes a file cut inside a record's headers (or gzip member) for its end
        if size - end > 4:
            raise ArchiveError(f"{path}: unreadable after offset {end} (the file ends inside a record)")


def _describe_record(record) -> FileRecord:
    headers = record.rec_headers
    http = record.http_headers
    status = None
    content_type = headers.get_header("Content-Type")
    if http is not None and record.rec_type in ("response", "revisit"):
        try:
            status = int(http.get_statuscode())
        except ValueError:
            status = None
        content_type = http.get_header("Content-Type")
    return FileRecord(
        offset=0, length=0, record_type=record.rec_type, url=headers.get_header("WARC-Target-URI"),
        date=headers.get_header("WARC-Date"), record_id=headers.get_header("WARC-Record-ID"),
        content_type=content_type, status=status, payload_digest=headers.get_header("WARC-Payload-Digest"),
        refers_to_url=headers.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=headers.get_header("WARC-Refers-To-Date"))


def _capture(record, max_bytes: int | None) -> Capture:
    described = _describe_record(record)
    stream = record.content_stream()
    body = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    if max_bytes is not None and len(body) > max_bytes:
        raise ArchiveError(f"record of {described.url} is larger than {max_bytes} bytes")
    http = record.http_headers
    headers = list(http.headers) if http is not None and record.rec_type != "request" else []
    return Capture(url=described.url or "", record_type=record.rec_type, date=described.date,
                   status=described.status, headers=headers, content_type=described.content_type, body=body,
                   record_id=described.record_id, payload_digest=described.payload_digest)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
