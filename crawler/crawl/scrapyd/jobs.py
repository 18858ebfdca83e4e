"""What a scrapyd job carries and what it hands back: plain data, the same on both sides.

The payload (controller -> node) is everything the node needs to crawl the portals incrementally without
the controller's database: each portal's definition, whether its baseline is done and how its last run
ended, its `fetch_state` rows (validators, content hashes, known list entries), and the `[crawl]` settings.
It travels as spider arguments of `schedule.json`: JSON, zlib-compressed, base64, cut into arguments of at
most `CHUNK_CHARS` (scrapyd passes each as one `-a NAME=VALUE` of the crawl's command line, and Linux caps
one argument at 128 KiB and a command line at 2 MiB: `MAX_PAYLOAD_CHARS` stays well inside). A job needs
no callback to the controller, so it can wait in a node's queue for as long as it must.

The hand-back (node -> controller) is the job's items file, which scrapyd serves at `items_url`
(`/items/<project>/<spider>/<job>.jl`): JSON lines, one record each,

    {"type": "header", "format": 2, "job": ..., "host": ..., "govwatch": "0.1.0", "code": ".../crawler"}
    {"type": "member", "file": ..., "offset": N, "length": N, "data": "<base64>"}
                                               a WARC record of the node's archive and its request
                                               record: the gzip members at file/offset, before the
                                               first document pointing at them
    {"type": "document", "item": {...}}        the spider's item, as the store pipeline gets it; its
                                               `archive` pointers name the node's files
    {"type": "fetch_state", "row": {...}}      a fetch_state row the crawl changed or added
    {"type": "run", "portal": ..., "stats": {...}}   the spider's PortalStats of each portal
    {"type": "end", "records": N, "close_reason": "finished"}

written as the crawl goes; the `end` record comes last, so a file without it (a node killed mid-job) is
recognisably incomplete and is never ingested. The node's archive goes with its scratch directory, so the
records travel in the hand-back; the controller appends them to its own archive on ingest. A hand-back of
thousands of pages is large: it is read from a file, line by line, and a member's bytes are read again
from there (`HandBack.member`) when the ingest needs them, never all at once.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from dataclasses import asdict, dataclass, field

FORMAT = 2  # 2: the archive's records travel in the hand-back (member records)
SPIDER = "column_job"  # spiders/job.py
PAYLOAD_ARG = "payload"  # the first chunk; the next ones are payload_1, payload_2, ...
CHUNK_CHARS = 100_000
MAX_PAYLOAD_CHARS = 1_000_000
# [crawl] keys that only the controller reads: the node's scratch config leaves them out
CONTROLLER_KEYS = ("backend", "scrapyd_nodes", "scrapyd_project", "scrapyd_jobs_per_node", "scrapyd_node_timeout",
                   "schedule", "timeout")


class PayloadError(ValueError):
    """A job's payload is missing, cut short, too large or of another format; the message says which."""


class HandBackError(ValueError):
    """A hand-back file is incomplete or malformed; the message says what is wrong."""


# ---------------------------------------------------------------------------------------------------------
# payload


def portal_payload(db, portal, last_status: str | None, baseline_done: bool) -> dict:
    """One portal's part of a payload: definition, incremental state and all its fetch_state rows."""
    definition = {key: value for key, value in asdict(portal).items()
                  if key != "schedule" and value not in (None, "", (), [])}
    cursor = db.conn.execute("SELECT * FROM fetch_state WHERE portal_id = ?", [portal.id])
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    return {"portal": definition, "baseline_done": bool(baseline_done), "last_status": last_status,
            "fetch_state": rows}


def crawl_settings(crawl) -> dict:
    """The `[crawl]` table the node's crawl runs with (the controller's, less the controller's own keys)."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(crawl).items() if key not in CONTROLLER_KEYS}


def build_payload(job_id: str, crawl, portals: list[dict], settings: dict | None = None) -> dict:
    return {"format": FORMAT, "job": job_id, "crawl": crawl_settings(crawl), "portals": portals,
            "settings": settings or {}}


def encoded_size(data) -> int:
    """Characters `data` takes once encoded (to pack portals into jobs before building them)."""
    return len(_encode(data))


def encode_payload(payload: dict) -> dict[str, str]:
    """The spider arguments carrying `payload`: {"payload": ..., "payload_1": ..., ...}."""
    text = _encode(payload)
    if len(text) > MAX_PAYLOAD_CHARS:
        raise PayloadError(f"job {payload.get('job')}: payload of {len(text):,} characters is over the "
                           f"{MAX_PAYLOAD_CHARS:,} a scrapyd job can carry (fewer portals per job)")
    chunks = [text[i:i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]
    args = {PAYLOAD_ARG: f"{len(chunks)}:{chunks[0]}"}
    for number, chunk in enumerate(chunks[1:], start=1):
        args[f"{PAYLOAD_ARG}_{number}"] = chunk
    return args


def decode_payload(args: dict) -> dict:
    """The payload from the spider's arguments (`encode_payload`'s output, as the spider receives them)."""
    first = args.get(PAYLOAD_ARG)
    if not first:
        raise PayloadError(f"no -a {PAYLOAD_ARG}=...: the {SPIDER} spider runs jobs dispatched by a govwatch "
                           "controller (backend = \"scrapyd\")")
    count, _, text = str(first).partition(":")
    if not count.isdigit():
        raise PayloadError(f"-a {PAYLOAD_ARG}: not a govwatch payload")
    parts = [text]
    for number in range(1, int(count)):
        chunk = args.get(f"{PAYLOAD_ARG}_{number}")
        if chunk is None:
            raise PayloadError(f"payload cut short: {PAYLOAD_ARG}_{number} of {count} is missing")
        parts.append(str(chunk))
    try:
        payload = json.loads(zlib.decompress(base64.urlsafe_b64decode("".join(parts))))
    except (ValueError, zlib.error) as exc:
        raise PayloadError(f"payload does not decode: {exc}") from None
    if payload.get("format") != FORMAT:
        raise PayloadError(f"payload format {payload.get('format')!r}, this node reads format {FORMAT} "
                           "(deploy the controller's govwatch version to the node)")
    return payload


def _encode(data) -> str:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(raw, 6)).decode("ascii")


# ---------------------------------------------------------------------------------------------------------
# hand-back


def record(kind: str, **fields) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, default=str) + "\n"


def member_record(pointer: dict, member: bytes) -> str:
    """The hand-back line carrying the gzip member `pointer` designates in the node's archive."""
    return record("member", file=pointer["file"], offset=int(pointer["offset"]), length=len(member),
                  data=base64.b64encode(member).decode("ascii"))


@dataclass
class HandBack:
    """A complete hand-back (`read_handback`): its records, less the members' bytes, which stay in `source`."""

    header: dict
    end: dict
    documents: list[dict] = field(default_factory=list)
    fetch_state: list[dict] = field(default_factory=list)
    runs: dict[str, dict] = field(default_factory=dict)  # portal id -> PortalStats as a dict
    error: str | None = None  # the node refused the job (header or end say why)
    members: dict[tuple[str, int], int] = field(default_factory=dict)  # (node file, offset) -> line's position
    source: io.BufferedIOBase | None = None

    def member(self, pointer: dict) -> bytes | None:
        """The gzip member a document's pointer designates, as the node handed it back (None: not handed back)."""
        position = self.members.get((pointer.get("file"), int(pointer.get("offset") or 0)))
        if position is None or self.source is None:
            return None
        self.source.seek(position)
        return base64.b64decode(json.loads(self.source.readline())["data"])


def read_handback(source, job_id: str) -> HandBack:
    """Parse a hand-back: a binary file, read line by line (members' bytes are left in it), or its lines;
    HandBackError unless it is whole and belongs to `job_id`."""
    if not hasattr(source, "readline"):
        source = io.BytesIO(b"".join((line.encode("utf-8") if isinstance(line, str) else line).rstrip(b"\n") + b"\n"
                                     for line in source))
    source.seek(0)
    header = end = None
    back = HandBack({}, {}, source=source)
    count = position = 0
    for number, line in enumerate(source, start=1):
        start, position = position, position + len(line)
        line = line.decode("utf-8")
        if not line.strip():
            continue
        if end is not None:
            raise HandBackError(f"line {number}: a record after the end record")
        try:
            data = json.loads(line)
        except ValueError:
            raise HandBackError(f"line {number}: not JSON (the file was cut mid-record)") from None
        kind = data.get("type")
        count += 1
        if header is None:
            if kind != "header":
                raise HandBackError(f"line {number}: the first record is {kind!r}, not the header")
            header = data
            if header.get("job") != job_id:
                raise HandBackError(f"the file is the hand-back of job {header.get('job')!r}, not {job_id!r}")
            if header.get("error"):
                back.error = header["error"]
        elif kind == "member":
            back.members[(data["file"], int(data["offset"]))] = start
        elif kind == "document":
            back.documents.append(data["item"])
        elif kind == "fetch_state":
            back.fetch_state.append(data["row"])
        elif kind == "run":
            back.runs[data["portal"]] = data["stats"]
        elif kind == "end":
            end = data
            if data.get("records") != count:
                raise HandBackError(f"the end record counts {data.get('records')} records, the file has {count}")
            back.error = back.error or data.get("error")
        else:
            raise HandBackError(f"line {number}: unknown record type {kind!r}")
    if header is None:
        raise HandBackError("empty hand-back (the job wrote nothing)")
    if end is None:
        raise HandBackError(f"no end record after {count} records: the job did not finish writing it")
    back.header, back.end = header, end
    return back
