"""Exporting the corpus: JSON Lines, CSV, Parquet or a folder of plain-text files.

Rows are streamed from one cursor in batches (constant memory whatever the corpus size). Every format has
the same columns (FIELDS, plus `text_segmented` with --segmented), with stable types so that
HuggingFace `datasets` loads the JSON Lines as-is: integers or null for id/report_year/duplicate_of,
strings or null for the text columns, and `attachments` always a list of objects with the keys
url, name, status, chars, error (status as text, chars an integer or null).
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils

FORMATS = ("jsonl", "csv", "parquet", "txt")
FIELDS = ("id", "url", "portal", "title", "text", "published_at", "source", "author", "region", "adcode",
          "report_year", "doc_type", "duplicate_of", "content_hash", "fetched_at", "attachments")
_INT_FIELDS = {"id", "report_year", "duplicate_of"}
ATTACHMENT_KEYS = ("url", "name", "status", "chars", "error")
BATCH = 500
_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
MAX_TITLE_CHARS = 40
MAX_REGION_CHARS = 20
MAX_NAME_BYTES = 200


class ExportError(ValueError):
    """Bad export arguments (format, date, output path); the message is one line for the user."""


def parse_since(value: str | date | None) -> str | None:
    """Validate --since: YYYY-MM-DD (or a full ISO timestamp); returns the comparable ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise ExportError(f"invalid --since date {value!r}: use YYYY-MM-DD, e.g. 2023-01-01") from None


def _attachments(raw) -> list[dict]:
    try:
        items = json.loads(raw) if isinstance(raw, str) and raw else (raw or [])
    except ValueError:
        items = []
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            item = {"url": str(item)}
        chars = item.get("chars")
        try:
            chars = None if chars is None or chars == "" else int(chars)
        except (TypeError, ValueError):
            chars = None
        record = {key: (None if item.get(key) is None else str(item.get(key))) for key in ATTACHMENT_KEYS}
        record["chars"] = chars
        out.append(record)
    return out


def _where(reports_only: bool, since: str | None) -> tuple[str, list]:
    clauses, params = [], []
    if reports_only:
        clauses.append("duplicate_of IS NULL AND doc_type = 'annual_report'")
    if since:
        clauses.append("published_at IS NOT NULL AND published_at >= ?")
        params.append(since)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_SELECT = ("SELECT id, url, portal_id AS portal, title, text, published_at, source, author, region, adcode, "
           "report_year, doc_type, duplicate_of, content_hash, fetched_at, attachments FROM documents")


def iter_rows(db: sqlite_utils.Database, *, reports_only: bool = False, since: str | None = None,
              segmented: bool = False, batch: int = BATCH) -> Iterator[dict]:
    """The export records, streamed from one cursor in batches of `batch`."""
    where, params = _where(reports_only, parse_since(since))
    cursor = db.conn.execute(_SELECT + where + " ORDER BY id", params)
    names = [c[0] for c in cursor.description]
    cut = None
    if segmented:
        from storage.segment import tokens

        cut = tokens
    while True:
        chunk = cursor.fetchmany(batch)
        if not chunk:
            break
        for values in chunk:
            record = dict(zip(names, values))
            for field in _INT_FIELDS:
                if record[field] is not None:
                    try:
                        record[field] = int(record[field])
                    except (TypeError, ValueError):
                        record[field] = None
            record["attachments"] = _attachments(record["attachments"])
            if cut is not None:
                record["text_segmented"] = " ".join(cut(record["text"] or ""))
            yield record


def default_reports_only(fmt: str) -> bool:
    """Whether `fmt` exports only canonical annual reports unless told otherwise: txt (files to read) does,
    the table formats (for analysis: every document, duplicates marked) do not."""
    return fmt == "txt"


def count_rows(db: sqlite_utils.Database, *, reports_only: bool = False, since: str | None = None) -> int:
    where, params = _where(reports_only, parse_since(since))
    return db.execute("SELECT count(*) FROM documents" + where, params).fetchone()[0]


# --- writers -------------------------------------------------------------------------------------------


def _write_jsonl(rows, out: Path, tick) -> int:
    n = 0
    with open(out, "w", encoding="utf-8", newline="\n") as handle:
        for record in rows:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
            tick(n)
    return n


def _write_csv(rows, out: Path, tick, columns) -> int:
    n = 0
    with open(out, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: spreadsheets detect UTF-8
        writer = csv.writer(handle)
        writer.writerow(columns)
        for record in rows:
            record["attachments"] = json.dumps(record["attachments"], ensure_ascii=False)
            writer.writerow(["" if record[c] is None else record[c] for c in columns])
            n += 1
            tick(n)
    return n


def require_pyarrow() -> None:
    """ExportError unless pyarrow (the `parquet` extra) can be imported."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ExportError("--format parquet needs pyarrow, an optional extra: pip install 'govwatch[parquet]' "
                          "(or use --format jsonl or csv)") from None


def parquet_schema(segmented: bool = False):
    import pyarrow as pa

    attachment = pa.struct([("url", pa.string()), ("name", pa.string()), ("status", pa.string()),
                            ("chars", pa.int64()), ("error", pa.string())])
    types = {"id": pa.int64(), "report_year": pa.int32(), "duplicate_of": pa.int64(),
             "attachments": pa.list_(attachment)}
    fields = [pa.field(name, types.get(name, pa.string())) for name in FIELDS]
    if segmented:
        fields.append(pa.field("text_segmented", pa.string()))
    return pa.schema(fields)


def _write_parquet(rows, out: Path, tick, columns, segmented: bool, row_group: int = 5000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(segmented)
    n = 0
    buffer: list[dict] = []
    with pq.ParquetWriter(str(out), schema, compression="zstd") as writer:
        def flush():
            if buffer:
                writer.write_table(pa.Table.from_pylist(buffer, schema=schema), row_group_size=row_group)
                buffer.clear()

        for record in rows:
            buffer.append(record)
            n += 1
            tick(n)
            if len(buffer) >= row_group:
                flush()
        flush()
    return n


def safe_filename(adcode: str | None, year: int | None, title: str | None, region: str | None = None) -> str:
    """`<adcode>-<year>-<short title>.txt` (the region's name where the adcode is unknown) without path
    separators, reserved or control characters."""
    short = _clean_name(title, MAX_TITLE_CHARS) or "untitled"
    code = re.sub(r"[^0-9A-Za-z]", "", str(adcode)) if adcode else ""
    place = code or _clean_name(region, MAX_REGION_CHARS).replace("-", "_") or "unknown"
    stem = f"{place}-{year if year else 'unknown'}-{short}"
    while len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + ".txt"


def _clean_name(text: str | None, limit: int) -> str:
    cleaned = _UNSAFE.sub("", text or "").strip().strip(".")
    return re.sub(r"\s+", " ", cleaned)[:limit].strip()


def _write_txt(rows, out: Path, tick) -> int:
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for record in rows:
        name = safe_filename(record["adcode"], record["report_year"], record["title"], record["region"])
        path = out / name
        counter = 2
        while path.exists():
            path = out / f"{name[:-4]}-{counter}.txt"
            counter += 1
        header = [record["title"] or "", record["url"] or ""]
        if record.get("published_at"):
            header.append(record["published_at"])
        path.write_text("\n".join(header) + "\n\n" + (record["text"] or "") + "\n", encoding="utf-8")
        n += 1
        tick(n)
    return n


def export(db: sqlite_utils.Database, fmt: str, out: str | Path, *, reports_only: bool | None = None,
           since: str | date | None = None, segmented: bool = False,
           progress: Callable[[int], None] | None = None) -> int:
    """Write the corpus (or its canonical reports, or documents published since `since`) to `out` in
    `fmt` (jsonl | csv | parquet | txt: a folder). Returns the number of documents written.

    `reports_only=None` takes the format's default (`default_reports_only`): a txt folder holds one file
    per canonical annual report, the table formats every document."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    reports_only = default_reports_only(fmt) if reports_only is None else reports_only
    since_iso = parse_since(since)
    if fmt == "parquet":
        require_pyarrow()
    out = Path(out)
    if fmt != "txt":
        if out.is_dir():
            raise ExportError(f"{out} is a directory; give a file name for --format {fmt}")
        out.parent.mkdir(parents=True, exist_ok=True)
    elif out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; --format txt writes a folder")
    columns = list(FIELDS) + (["text_segmented"] if segmented else [])
    rows = iter_rows(db, reports_only=reports_only, since=since_iso, segmented=segmented)

    def tick(n: int) -> None:
        if progress is not None and n % BATCH == 0:
            progress(n)

    if fmt == "jsonl":
        n = _write_jsonl(rows, out, tick)
    elif fmt == "csv":
        n = _write_csv(rows, out, tick, columns)
    elif fmt == "parquet":
        n = _write_parquet(rows, out, tick, columns, segmented)
    else:
        n = _write_txt(rows, out, tick)
    if progress is not None:
        progress(n)
    return n


__all__ = ["FORMATS", "FIELDS", "ExportError", "export", "iter_rows", "count_rows", "default_reports_only",
           "parse_since", "safe_filename", "parquet_schema", "require_pyarrow"]
