"""Attachment text: PDF (pypdf) and DOCX (streamed from its zip) required; DOC/WPS best effort (the Word
97-2003 reader in crawler.extract.worddoc, then antiword / catdoc when installed, else an `unsupported` marker).
Also the rule that merges page and attachment text.

Hostile files stay bounded: a zip member is read only when its declared size is not out of proportion to its
compressed size (MAX_RATIO), never more than MAX_MEMBER_BYTES of it, its XML streamed; at most
MAX_ATTACHMENT_CHARS characters are kept of one attachment (PDF pages stop there too). What was cut says so:
`truncated` in the attachment's entry.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from crawler.extract.worddoc import WordDocError, word97_text

logger = logging.getLogger(__name__)

ATTACHMENT_EXTENSIONS = ("pdf", "docx", "doc", "wps")
_EXT = re.compile(r"\.(pdf|docx|doc|wps)(?:$|[?#])", re.I)
NOTICE_CHARS = 200  # a page body shorter than this is a notice ("详见附件"): the attachment is the document
MAX_ATTACHMENT_CHARS = 500_000  # a long yearly report is ~30,000 characters
MAX_DOCUMENT_CHARS = 1_000_000  # of one document, page and attachments (crawler.settings GOVWATCH_MAX_DOCUMENT_CHARS)
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # decompressed bytes read from one zip member
MAX_RATIO = 100  # declared size / compressed size of a zip member; Word's XML compresses 5-30x
MAX_PDF_PAGES = 2000
_SPACE_LINE = re.compile(r"[ \t\u3000\xa0]+")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class AttachmentTooLarge(ValueError):
    """A file that would inflate out of all proportion (a zip bomb): not read."""


@dataclass
class AttachmentText:
    url: str
    name: str
    status: str  # ok | unsupported | too_large | error
    text: str = ""
    error: str | None = None
    truncated: bool = False  # text cut at MAX_ATTACHMENT_CHARS or MAX_MEMBER_BYTES

    def as_dict(self) -> dict:
        entry = {"url": self.url, "name": self.name, "status": self.status, "chars": len(self.text)}
        if self.truncated:
            entry["truncated"] = True
        if self.error:
            entry["error"] = self.error
        return entry


def cap_text(text: str, limit: int | None) -> tuple[str, bool]:
    """(text, truncated): at most `limit` characters, cut at a line end when there is one in the last tenth."""
    if limit is None or len(text) <= limit:
        return text, False
    cut = text.rfind("\n", limit - limit // 10, limit)
    return text[:cut if cut > 0 else limit], True


def attachment_kind(url: str, content_type: str | None = None, data: bytes | None = None) -> str | None:
    """pdf | docx | doc | wps | None, from magic bytes, then the URL extension, then the Content-Type."""
    if data:
        if data[:5] == b"%PDF-":
            return "pdf"
        if data[:2] == b"PK" and b"word/" in data[:4096]:
            return "docx"
    match = _EXT.search(urlsplit(url).path + "?")
    if match:
        ext = match.group(1).lower()
        if data and data[:2] == b"PK" and ext in ("doc", "wps"):
            return "docx"
        return ext
    if data and data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: a legacy Word (or WPS) file
        return "doc"
    ctype = (content_type or "").lower()
    if "pdf" in ctype:
        return "pdf"
    if "officedocument.wordprocessingml" in ctype:
        return "docx"
    if "msword" in ctype:
        return "doc"
    if "wps" in ctype:
        return "wps"
    return None


def is_attachment_url(url: str) -> bool:
    return bool(_EXT.search(urlsplit(url).path + "?"))


def _clean_lines(lines) -> str:
    out = []
    for line in lines:
        line = _SPACE_LINE.sub(" ", line).strip(" \t\u3000\xa0")
        if line:
            out.append(line)
    return "\n".join(out)


def pdf_text(data: bytes, max_chars: int = MAX_ATTACHMENT_CHARS) -> tuple[str, bool]:
    """(text, truncated): the pages' text until `max_chars` (or MAX_PDF_PAGES pages) is reached."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    lines: list[str] = []
    chars, truncated = 0, False
    for number, page in enumerate(reader.pages):
        if chars > max_chars or number >= MAX_PDF_PAGES:
            truncated = True
            break
        page_lines = (page.extract_text() or "").splitlines()
        chars += sum(len(line) for line in page_lines)
        lines.extend(page_lines)
    text, cut = cap_text(_clean_lines(_join_pdf_lines(lines)), max_chars)
    return text, truncated or cut


def _join_pdf_lines(lines: list[str]) -> list[str]:
    """PDF text comes in visual lines; a line that does not end a sentence continues on the next one."""
    joined: list[str] = []
    buffer = ""
    for raw in lines:
        line = raw.strip(" \t\u3000\xa0")
        if not line:
            if buffer:
                joined.append(buffer)
                buffer = ""
            continue
        buffer += line
        if re.search(r"[。！？；：”」）\)]$|^[一二三四五六七八九十]+、.{0,30}$|^（[一二三四五六七八九十]+）.{0,30}$", buffer) \
                or len(line) < 20:
            joined.append(buffer)
            buffer = ""
    if buffer:
        joined.append(buffer)
    return joined


class _CappedReader(io.RawIOBase):
    """A file object that ends after `limit` bytes of `stream` (whatever the zip header declared)."""

    def __init__(self, stream, limit: int):
        self.stream, self.left, self.cut = stream, limit, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            self.cut = self.cut or bool(self.stream.read(1))
            return 0
        data = self.stream.read(min(len(buffer), self.left))
        buffer[:len(data)] = data
        self.left -= len(data)
        return len(data)


def open_member(archive: zipfile.ZipFile, name: str) -> _CappedReader:
    """A bounded stream of one zip member; AttachmentTooLarge when it would inflate beyond MAX_RATIO."""
    info = archive.getinfo(name)
    if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise AttachmentTooLarge(f"{name} would inflate {info.file_size // max(info.compress_size, 1)}x "
                                 f"({info.file_size:,} bytes from {info.compress_size:,}): not read")
    return _CappedReader(archive.open(info), MAX_MEMBER_BYTES)


def docx_text(data: bytes, max_chars: int = MAX_ATTACHMENT_CHARS) -> tuple[str, bool]:
    """(text, truncated) of a DOCX: its paragraphs in document order, one per line, a table row as one line
    of its distinct non-empty cells. The document XML is streamed and cleared as it is read, so memory stays
    flat whatever the number of paragraphs; reading stops at `max_chars`."""
    from lxml import etree

    lines: list[str] = []
    chars = 0
    paragraphs: list[list[str]] = []  # text pieces of each open w:p (text boxes nest paragraphs)
    cells: list[list[str]] = []  # paragraph texts of each open w:tc
    rows: list[list[str]] = []  # cell texts of each open w:tr

    def emit(text: str) -> None:
        nonlocal chars
        if cells:
            cells[-1].append(text)
        else:
            lines.append(text)
            chars += len(text)

    tags = [_W + t for t in ("p", "t", "tab", "br", "cr", "tc", "tr")]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        stream = open_member(archive, "word/document.xml")
        for event, element in etree.iterparse(stream, events=("start", "end"), tag=tags):
            tag = element.tag[len(_W):]
            if event == "start":
                if tag == "p":
                    paragraphs.append([])
                elif tag == "tc":
                    cells.append([])
                elif tag == "tr":
                    rows.append([])
                continue
            if tag == "t" and paragraphs:
                paragraphs[-1].append(element.text or "")
            elif tag in ("tab", "br", "cr") and paragraphs:
                paragraphs[-1].append(" ")
            elif tag == "p" and paragraphs:
                emit("".join(paragraphs.pop()))
            elif tag == "tc" and cells:
                cell = " ".join(text.strip() for text in cells.pop() if text.strip())
                if rows and cell and cell not in rows[-1]:
                    rows[-1].append(cell)
            elif tag == "tr" and rows:
                emit(" ".join(rows.pop()))
            if tag in ("p", "tr"):
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
            if chars >= max_chars:
                break
        truncated = chars >= max_chars or stream.cut
    text, cut = cap_text(_clean_lines(lines), max_chars)
    return text, truncated or cut


def legacy_text(data: bytes, kind: str) -> tuple[str, str | None]:
    """(text, None) from the built-in Word 97-2003 reader, else antiword/catdoc when on PATH, else
    ("", reason)."""
    try:
        text = _clean_lines(word97_text(data).splitlines())
        if text:
            return text, None
        reason = "no text in the document"
    except WordDocError as exc:
        reason = str(exc)
    tools = [("antiword", ["antiword", "-m", "UTF-8.txt"]), ("catdoc", ["catdoc", "-d", "utf-8"])]
    available = [(name, cmd) for name, cmd in tools if shutil.which(name)]
    if not available:
        return "", f".{kind}: {reason}; no other converter (install antiword or catdoc)"
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as handle:
        handle.write(data)
        handle.flush()
        for name, cmd in available:
            try:
                out = subprocess.run(cmd + [handle.name], capture_output=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                logger.debug("%s failed: %s", name, exc)
                continue
            if out.returncode == 0 and out.stdout.strip():
                return _clean_lines(out.stdout.decode("utf-8", "replace").splitlines()), None
    return "", f".{kind}: {reason}; antiword/catdoc could not read it either"


def extract_attachment(url: str, name: str, data: bytes, content_type: str | None = None, *,
                       max_chars: int = MAX_ATTACHMENT_CHARS) -> AttachmentText:
    """Text of one downloaded attachment (at most `max_chars` of it), never raising."""
    kind = attachment_kind(url, content_type, data)
    try:
        if kind == "pdf":
            text, truncated = pdf_text(data, max_chars)
            return AttachmentText(url, name, "ok", text, truncated=truncated)
        if kind == "docx":
            text, truncated = docx_text(data, max_chars)
            return AttachmentText(url, name, "ok", text, truncated=truncated)
        if kind in ("doc", "wps"):
            text, reason = legacy_text(data, kind)
            if text:
                text, truncated = cap_text(text, max_chars)
                return AttachmentText(url, name, "ok", text, truncated=truncated)
            return AttachmentText(url, name, "unsupported", "", reason)
        return AttachmentText(url, name, "unsupported", "", f"unknown file type ({content_type or 'no type'})")
    except AttachmentTooLarge as exc:
        return AttachmentText(url, name, "too_large", "", str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 - a broken file is recorded, never fatal
        return AttachmentText(url, name, "error", "", f"{type(exc).__name__}: {exc}"[:300])


def attachment_name(url: str, link_text: str | None) -> str:
    text = (link_text or "").strip()
    return text or unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def merge_text(page_text: str, attachments: list[AttachmentText]) -> tuple[str, list[dict], bool]:
    """(document text, text_sources, from_attachments).

    A page whose body is only a short notice (< NOTICE_CHARS) takes its text from the attachments that
    have text; otherwise the page body is the text (the attachment texts stay in `attachments`)."""
    page_text = page_text or ""
    with_text = [a for a in attachments if a.status == "ok" and a.text.strip()]
    if len(page_text.replace("\n", "")) < NOTICE_CHARS and with_text:
        text = "\n".join(a.text for a in with_text)
        sources = [{"from": a.url, "chars": len(a.text)} for a in with_text]
        return text, sources, True
    return page_text, ([{"from": "page", "chars": len(page_text)}] if page_text else []), False
