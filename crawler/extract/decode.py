"""bytes -> str for Chinese portal pages.

Order: reject binaries (PDF, Office, images, random bytes) -> gunzip -> BOM -> declared charset (HTTP
argument, else <meta charset> in the first 16 KB) -> detection.  Pages declaring gb2312/gbk are decoded as
gb18030, a superset: portals routinely declare gb2312 and serve GBK characters (e.g. 镕, 堃).  Declarations
of latin-1/ascii are ignored (lazy templates); UTF-8 that does not validate is retried as gb18030.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zlib

from .record import ExtractError

_META_CHARSET_RE = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "gb_2312", "x-gbk", "cp936", "ms936", "windows-936", "gb18030",
              "euc-cn", "x-euc-cn", "csgb2312", "chinese", "iso-ir-58", "gb-2312", "gb 2312"}
_IGNORED = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252", "iso8859-1"}
_MAGIC = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff",
          b"Rar!", b"7z\xbc\xaf", b"{\\rtf", b"II*\x00", b"MM\x00*", b"\x00\x00\x01\x00", b"RIFF",
          b"OggS", b"ID3", b"\x1a\x45\xdf\xa3", b"wOFF", b"wOF2")
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_MAX_GUNZIP = 64 * 1024 * 1024


def _binary_reason(sample: bytes) -> str | None:
    head = sample.lstrip()[:16]
    for magic in _MAGIC:
        if head.startswith(magic):
            return f"binary content (starts with {magic[:4]!r})"
    if b"%PDF-" in sample[:1024]:
        return "a PDF document"
    if not sample:
        return None
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if sample.count(0) > 2 or controls / len(sample) > 0.02:
        return "binary content (control bytes)"
    return None


def check_text(text: str) -> None:
    """Raise ExtractError for a str that is really a binary blob (a PDF decoded as latin-1, NUL soup)."""
    sample = text[:4096].lstrip()
    if sample.startswith("%PDF") or "%PDF-" in text[:1024]:
        raise ExtractError("input is a PDF document, not a page")
    if sample:
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\x1b")
        if sample.count("\x00") > 2 or controls / len(sample) > 0.02:
            raise ExtractError("input is binary content, not a page")


def declared_charset(content: bytes) -> str | None:
    m = _META_CHARSET_RE.search(content, 0, 16384)
    return m.group(1).decode("ascii", "ignore").lower() if m else None


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("'\"").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    if name in _IGNORED:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(content: bytes, encoding: str) -> str | None:
    """Strict decode, tolerating a multi-byte character cut off at the very end (truncated downloads)."""
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as e:
        if e.start >= len(content) - 4:
            try:
                return content[:e.start].decode(encoding)
            except UnicodeDecodeError:
                return None
        return None


def _detect(content: bytes) -> str:
    text = _strict(content, "utf-8")
    if text is not None:
        return text
    gb = _strict(content, "gb18030")
    if gb is not None:
        # mostly-UTF-8 pages with a few broken bytes also pass as gb18030 (as mojibake): check how bad UTF-8 is
        bad = content.decode("utf-8", "replace").count("\ufffd")
        return content.decode("utf-8", "replace") if bad <= max(2, len(content) // 2000) else gb
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(content[:200_000]).best()
        if best is not None and best.encoding:
            enc = _normalise(best.encoding) or "utf-8"
            return content.decode(enc, "replace")
    except Exception:  # detection is best effort; never let it crash extraction
        pass
    return content.decode("gb18030", "replace")


def decode(content: bytes | bytearray | str | None, declared: str | None = None) -> str:
    """Decode page bytes to str (str input is returned without BOM).  Raises ExtractError for binaries."""
    if content is None:
        return ""
    if isinstance(content, str):
        check_text(content)
        return content.lstrip("\ufeff")
    content = bytes(content)
    if content[:2] == b"\x1f\x8b":
        try:
            content = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content, _MAX_GUNZIP)
        except (zlib.error, gzip.BadGzipFile) as e:
            raise ExtractError(f"broken gzip content: {e}") from None
    if content.startswith(codecs.BOM_UTF8):
        return content[3:].decode("utf-8", "replace")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", "replace").lstrip("\ufeff")
    reason = _binary_reason(content[:4096])
    if reason:
        raise ExtractError(f"input is {reason}, not a page")
    enc = _normalise(declared) or _normalise(declared_charset(content))
    if enc == "gb18030":
        # a page declared gb2312 that validates as UTF-8 was re-encoded without fixing the declaration
        if not content.isascii():
            utf = _strict(content, "utf-8")
            if utf is not None:
                return utf
        return content.decode("gb18030", "replace")
    if enc and enc != "utf-8":
        text = _strict(content, enc)
        if text is not None:
            return text
    return _detect(content)
