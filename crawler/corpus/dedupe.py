"""Duplicate detection: exact (normalised-body hash) and near (MinHash + LSH over character 5-grams).

Every duplicate keeps its own row and points at its group's canonical document (`duplicate_of`,
`similarity` = estimated Jaccard to the canonical body, `duplicate_kind` = exact | near); groups are flat
(a duplicate never points at another duplicate). Reports, alerts, counts and search use canonical rows only
(`duplicate_of IS NULL`, or the `canonical_documents` view).

Canonical choice: a copy typed `annual_report` over any other type, then the copy from the issuing region's
own portal (the document's `portal_id` is a portal
whose `adcode` equals the document's adcode, or whose name/region, or the page's `site_name`, names the
region), then the earliest `published_at`, then the first stored. When a newly stored copy beats the
group's canonical, the whole group is re-pointed to it in the same transaction.

Exact duplicates: sha1 of `crawler.minhash.normalize(text)` (NFKC so full-width and half-width forms agree,
traditional script mapped to simplified, whitespace and punctuation removed) in `documents.dedupe_hash`.
Near duplicates: see crawler.minhash for the signature; a document queries the LSH buckets of its 32 bands
(`minhash_bands`), verifies the candidates by estimated Jaccard against their stored signatures and joins
the group of the best one at or above the threshold. Two bodies whose known `report_year`s differ, or whose
known issuing regions (adcode, else region name) differ, are never near duplicates: a region's next-year
report reusing last year's wording, or two counties filling in one template, are different reports.
(Exact duplicates ignore metadata: a byte-for-byte copy is a copy even if its page was extracted worse.)

Threshold (`[dedupe] threshold`, default 0.6), measured on the seed reports (bench/synth.py; true Jaccard
of 5-gram sets, MinHash estimate in brackets; the same ranges hold for 3- and 4-grams shifted up by the
set phrases every report shares, which is why 5-grams were chosen):

    must merge                                   min     max
    dates changed                              0.997   1.000   (0.984-1.000)
    one paragraph rewritten                    0.851   0.971   (0.859-0.977)
    breadcrumb/metadata/footer chrome added    0.948   0.982   (0.953-0.984)
    traditional script (normalised)            0.992   1.000   (1.000)
    all three + traditional                    0.857   0.956   (0.852-0.969)
    must not merge
    other seed body, same region and year      0.007   0.025   (0.000-0.023)
    same region next year (1/3 paragraphs kept) 0.216  0.397   (0.172-0.398)
    synthetic reports (bench corpus)           p99 0.018, max 0.022 (random pairs)

The gap is 0.40 .. 0.85; 0.6 sits in its middle (MinHash standard error at 0.6 is 0.043 with 128 slots),
still merges a repost with two or three paragraphs rewritten and leaves a reused-template next-year report
(which the report_year rule separates anyway) well below. LSH candidate probability at J=0.6 is 0.99.
In the 100k-document bench every merge was right (precision = recall = 1.0; lowest correct merge 0.727).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from crawler import minhash as mh
from crawler.config import DedupeSettings

DEFAULT_THRESHOLD = DedupeSettings().threshold
MIN_NEAR_CHARS = 50  # normalised characters below which only exact duplicates count
_REGION_PART = re.compile(r".+?(?:自治区|自治州|自治县|特别行政区|省|市|区|县|旗|盟)")


@dataclass(frozen=True)
class DedupeResult:
    duplicate_of: int | None  # canonical document id, None when this document is canonical
    similarity: float | None  # estimated Jaccard similarity to duplicate_of
    kind: str | None  # 'exact' | 'near' | None (canonical)
    replaced: int | None = None  # the former canonical this document displaced (its group now points here)
    # documents a group change released to stand alone (different reports): canonical now, so the caller
    # must give them the alert check a newly stored canonical gets
    released: tuple[int, ...] = ()


def exact_hash(normalized: str) -> str | None:
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest() if normalized else None


def canonical_id(db: sqlite_utils.Database, document_id: int) -> int:
    """The canonical document of `document_id`'s duplicate group (itself when canonical)."""
    current, seen = document_id, set()
    while current not in seen:
        seen.add(current)
        row = db.execute("SELECT duplicate_of FROM documents WHERE id = ?", [current]).fetchone()
        if row is None or row[0] is None:
            return current
        current = row[0]
    return current


_COLUMNS = ("id, text, published_at, portal_id, adcode, region, site_name, report_year, doc_type, minhash, "
            "dedupe_hash")


def _row(db, document_id: int) -> dict | None:
    cursor = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", [document_id])
    values = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], values)) if values else None


def _region_short(region: str | None) -> str | None:
    """'芜湖市镜湖区' -> '镜湖区'; '吉林省吉林市' -> '吉林市'."""
    if not region:
        return None
    parts = _REGION_PART.findall(region)
    return parts[-1] if parts else region


def _own_portal(db, row: dict, cache: dict | None = None) -> bool:
    region = _region_short(row.get("region"))
    site = row.get("site_name") or ""
    if region and len(region) >= 2 and region in site:
        return True
    if not row.get("portal_id"):
        return False
    key = row["portal_id"]
    if cache is not None and key in cache:
        portal = cache[key]
    else:
        portal = db.execute("SELECT adcode, name, region FROM portals WHERE id = ?", [key]).fetchone()
        if cache is not None:
            cache[key] = portal
    if portal is None:
        return False
    adcode, name, portal_region = portal
    if adcode and row.get("adcode") and adcode == row["adcode"]:
        return True
    if region and len(region) >= 2 and (region in (name or "") or region == _region_short(portal_region)):
        return True
    return False


def _rank(db, row: dict, cache: dict | None = None) -> tuple:
    """Sort key of canonical candidates: a copy typed as the annual report first (a news item quoting the
    report must not swallow it: only canonical reports alert), then own portal, earliest published, first
    stored."""
    published = row.get("published_at") or ""
    return (0 if row.get("doc_type") == "annual_report" else 1, 0 if _own_portal(db, row, cache) else 1,
            0 if published else 1, published, row["id"])


def _signature(row: dict) -> np.ndarray | None:
    return mh.from_bytes(row.get("minhash"))


def _sim(a: dict, b: dict) -> float:
    sa, sb = _signature(a), _signature(b)
    if a.get("dedupe_hash") and a.get("dedupe_hash") == b.get("dedupe_hash"):
        return 1.0
    if sa is None or sb is None:
        return 0.0
    return mh.similarity(sa, sb)


_MEMBER_COLUMNS = "id, published_at, portal_id, adcode, region, site_name, report_year, doc_type, minhash, dedupe_hash"


def _members(db, canonical_id_: int) -> list[dict]:
    cursor = db.execute(f"SELECT {_MEMBER_COLUMNS} FROM documents WHERE duplicate_of = ?", [canonical_id_])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, values)) for values in cursor]


def _make_canonical(db, new: dict, old: dict) -> list[int]:
    """Re-point `old` (a canonical) and all its duplicates to `new`, which becomes canonical.
    Returns the ids released to stand alone."""
    db.execute("UPDATE documents SET duplicate_of = NULL, similarity = NULL, duplicate_kind = NULL "
               "WHERE id = ?", [new["id"]])
    return _repoint(db, _members(db, old["id"]) + [old], new)


def _detach(db, row: dict) -> list[int]:
    """Before re-assigning a changed document: if it heads a group, hand the group to its best member.
    Returns the ids released to stand alone."""
    members = _members(db, row["id"])
    if not members:
        return []
    cache: dict = {}
    heir = min(members, key=lambda m: _rank(db, m, cache))
    db.execute("UPDATE documents SET duplicate_of = NULL, similarity = NULL, duplicate_kind = NULL "
               "WHERE id = ?", [heir["id"]])
    return _repoint(db, members, heir)


def _repoint(db, members: list[dict], canonical: dict) -> list[int]:
    """Point group members at a new canonical in two statements (a group re-pointed on every better copy
    must not cost a statement per member), releasing members that are different reports (another year or
    region, and not exact copies): they stand alone as their own canonical."""
    linked, released = [], []
    for member in members:
        if member["id"] == canonical["id"]:
            continue
        exact = bool(member.get("dedupe_hash")) and member.get("dedupe_hash") == canonical.get("dedupe_hash")
        if not exact and _different_reports(canonical, member.get("report_year"), member.get("adcode"),
                                            member.get("region")):
            released.append((member["id"],))
            continue
        linked.append((canonical["id"], 1.0 if exact else round(_sim(member, canonical), 4),
                       "exact" if exact else "near", member["id"]))
    db.conn.executemany("UPDATE documents SET duplicate_of = NULL, similarity = NULL, duplicate_kind = NULL "
                        "WHERE id = ?", released)
    db.conn.executemany("UPDATE documents SET duplicate_of = ?, similarity = ?, duplicate_kind = ? WHERE id = ?",
                        linked)
    return [member_id for (member_id,) in released]


def _candidates(db, document_id: int, buckets: list[int]) -> list[int]:
    values = ",".join("(?,?)" for _ in buckets)
    params: list = []
    for band, bucket in enumerate(buckets):
        params += [band, bucket]
    # a join from the VALUES list (not `(band, bucket) IN (VALUES ...)`, which SQLite plans as a full scan)
    rows = db.execute(f"SELECT DISTINCT m.document_id FROM (VALUES {values}) AS v CROSS JOIN minhash_bands AS m "
                      f"ON m.band = v.column1 AND m.bucket = v.column2", params)
    return [r[0] for r in rows if r[0] != document_id]


def _different_reports(row: dict, year, adcode, region) -> bool:
    """Known metadata says these are two reports, however alike their wording: different report years,
    or different issuing regions (counties filling in one provincial template write near-identical text)."""
    if year is not None and row["report_year"] is not None and year != row["report_year"]:
        return True
    if adcode and row.get("adcode") and adcode != row["adcode"]:
        return True
    mine = row.get("region")
    if region and mine and region not in mine and mine not in region:
        return True
    return False


def assign_duplicate(db: sqlite_utils.Database, document_id: int, *,
                     threshold: float | None = None) -> DedupeResult:
    """Compute the document's signature and hash, index its bands, and link it to its duplicate group.

    Call inside the transaction that stored the row (crawler.corpus.ingest.store_document does). Safe to call
    again for a changed row: its old bands and group role are cleared first.
    """
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    row = _row(db, document_id)
    if row is None:
        raise KeyError(f"no document with id {document_id}")
    normalized = mh.normalize(row["text"])
    row["dedupe_hash"] = exact_hash(normalized)
    signature = mh.signature(normalized, normalized=True)
    row["minhash"] = mh.to_bytes(signature) if normalized else None

    # a re-run: forget the old bands and the old group role
    db.execute("DELETE FROM minhash_bands WHERE document_id = ?", [document_id])
    released = tuple(_detach(db, row))
    db.execute("UPDATE documents SET minhash = ?, dedupe_hash = ?, duplicate_of = NULL, similarity = NULL, "
               "duplicate_kind = NULL WHERE id = ?", [row["minhash"], row["dedupe_hash"], document_id])
    if not normalized:
        return DedupeResult(None, None, None, released=released)

    match_id = None
    exact = db.execute("SELECT id FROM documents WHERE dedupe_hash = ? AND id != ? ORDER BY id LIMIT 1",
                       [row["dedupe_hash"], document_id]).fetchone()
    if exact:
        match_id = exact[0]
    buckets = mh.band_buckets(signature)
    if match_id is None and len(normalized) >= MIN_NEAR_CHARS:
        ids = _candidates(db, document_id, buckets)
        if ids:
            marks = ",".join("?" * len(ids))
            found = db.execute(f"SELECT id, minhash, report_year, adcode, region FROM documents "
                               f"WHERE id IN ({marks})", ids)
            best_ids, blobs = [], []
            for cid, blob, year, adcode, region in found:
                if blob is None or len(blob) != mh.NUM_PERM * 8:
                    continue
                if _different_reports(row, year, adcode, region):
                    continue
                best_ids.append(cid)
                blobs.append(blob)
            if best_ids:
                matrix = np.frombuffer(b"".join(blobs), dtype="<u8").reshape(len(best_ids), mh.NUM_PERM)
                sims = mh.similarities(signature, matrix)
                top = int(np.argmax(sims))
                if sims[top] >= threshold:
                    match_id = best_ids[top]
    db.conn.executemany("INSERT OR IGNORE INTO minhash_bands (band, bucket, document_id) VALUES (?, ?, ?)",
                        [(band, bucket, document_id) for band, bucket in enumerate(buckets)])
    if match_id is None:
        return DedupeResult(None, None, None, released=released)

    group = _row(db, canonical_id(db, match_id))
    cache: dict = {}
    if _rank(db, row, cache) < _rank(db, group, cache):
        released += tuple(_make_canonical(db, row, group))
        return DedupeResult(None, None, None, replaced=group["id"], released=released)
    released += tuple(_repoint(db, [row], group))
    linked = db.execute("SELECT duplicate_of, similarity, duplicate_kind FROM documents WHERE id = ?",
                        [document_id]).fetchone()
    return DedupeResult(*linked, released=released)


def rebuild(db: sqlite_utils.Database, *, threshold: float | None = None, batch: int = 500,
            progress=None) -> int:
    """Recompute every document's signature, bands and group from scratch (in id order, `batch` documents
    per transaction). Returns the number of documents that ended up as duplicates."""
    from storage import transaction

    with transaction(db):
        db.execute("DELETE FROM minhash_bands")
        db.execute("UPDATE documents SET duplicate_of = NULL, similarity = NULL, duplicate_kind = NULL")
    last = 0
    done = 0
    while True:
        ids = [r[0] for r in db.execute("SELECT id FROM documents WHERE id > ? ORDER BY id LIMIT ?", [last, batch])]
        if not ids:
            break
        with transaction(db):
            for document_id in ids:
                assign_duplicate(db, document_id, threshold=threshold)
        last = ids[-1]
        done += len(ids)
        if progress:
            progress(done)
    return db.execute("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone()[0]
