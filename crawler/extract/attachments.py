"""Attachment text: PDF (pypdf) and DOCX (python-docx) required; DOC/WPS best effort (the Word 97-2003
reader in crawler.crawl.worddoc, then antiword / catdoc when installed, else an `unsupported` marker). Also the
rule that merges page and attachment text."""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from crawler.extract.worddoc import WordDocError, word97_text

logger = logging.getLogger(__name__)

ATTACHMENT_EXTENSIONS = ("pdf", "docx", "doc", "wps")
_EXT = re.compile(r"\.(pdf|docx|doc|wps)(?:$|[?#])", re.I)
NOTICE_CHARS = 200  # a page body shorter than this is a notice ("详见附件"): the attachment is the document
_SPACE_LINE = re.compile(r"[ \t\u3000\xa0]+")


@dataclass
class AttachmentText:
    url: str
    name: str
    status: str  # ok | unsupported | too_large | error
    text: str = ""
    error: str | None = None

    def as_dict(self) -> dict:
        entry = {"url": self.url, "name": self.name, "status": self.status, "chars": len(self.text)}
        if self.error:
            entry["error"] = self.error
        return entry


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


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    lines: list[str] = []
    for page in reader.pages:
        lines.extend((page.extract_text() or "").splitlines())
    return _clean_lines(_join_pdf_lines(lines))


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


def docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if cell.text.strip() and cell.text not in cells:
                    cells.append(cell.text)
            lines.append(" ".join(cells))
    return _clean_lines(lines)


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


def extract_attachment(url: str, name: str, data: bytes, content_type: str | None = None) -> AttachmentText:
    """Text of one downloaded attachment, never raising."""
    kind = attachment_kind(url, content_type, data)
    try:
        if kind == "pdf":
            return AttachmentText(url, name, "ok", pdf_text(data))
        if kind == "docx":
            return AttachmentText(url, name, "ok", docx_text(data))
        if kind in ("doc", "wps"):
            text, reason = legacy_text(data, kind)
            if text:
                return AttachmentText(url, name, "ok", text)
            return AttachmentText(url, name, "unsupported", "", reason)
        return AttachmentText(url, name, "unsupported", "", f"unknown file type ({content_type or 'no type'})")
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
