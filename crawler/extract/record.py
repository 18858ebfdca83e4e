"""The record `extract` returns: the one contract between extraction and everything downstream."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

DOC_TYPES = ("annual_report", "interpretation", "plan", "news", "other")


class ExtractError(ValueError):
    """Raised when the input cannot be read as a page at all (e.g. a PDF or binary blob handed in as HTML)."""


@dataclass
class Record:
    title: str | None = None
    text: str = ""
    published_at: str | None = None
    source: str | None = None
    author: str | None = None
    region: str | None = None
    adcode: str | None = None
    report_year: int | None = None
    doc_type: str = "other"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
