"""Text normalisation and numpy-vectorised MinHash signatures for duplicate detection.

Chinese has no spaces, so word or whitespace shingles do not work; the body is shingled into overlapping
character n-grams (`SHINGLE` characters) after normalisation:

* Unicode NFKC (full-width ASCII letters/digits/punctuation -> half-width), lower case;
* traditional -> simplified, character by character (OpenCC's TSCharacters table through `str.translate`:
  C speed, and a traditional-script repost maps onto the simplified original);
* every whitespace, punctuation and symbol character removed (`[\\W_]`): re-wrapping, re-punctuating and
  full-width/half-width punctuation never matter.

`normalize()` is also what the exact-duplicate hash (`crawler.corpus.dedupe.exact_hash`) is taken over.

Signature: one-permutation hashing (OPH) with rotation densification (Shrivastava 2017). Each unique
n-gram is hashed once to 64 bits (polynomial over the code points, splitmix64 finaliser, all numpy);
the top 7 bits pick one of `NUM_PERM` = 128 bins, the minimum of each bin is its signature slot. Because
np.unique returns the hashes sorted, the per-bin minima are found with one searchsorted: the whole
signature costs about one sort of the document's shingles (~0.3 ms for 6k characters), where 128
independent permutations cost 128 multiply-mod passes (measured ~10x slower) and datasketch's per-shingle
Python loop ~100x slower. The estimated Jaccard similarity of two bodies is the fraction of equal slots.

LSH: the 128 slots are cut into `BANDS` = 32 bands of `ROWS` = 4; two bodies become candidates when any
band is equal (probability 1-(1-J^4)^32: 0.87 at J=0.5, 0.99 at J=0.6, 0.23 at J=0.3, 0.003 at J=0.1),
so the bands are independent of the merge threshold (any threshold >= 0.5 keeps recall >= 0.87), and the
candidates are verified against the threshold with their full signatures.
"""

from __future__ import annotations

import os
import re
import unicodedata

import numpy as np

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SHINGLE = 5  # characters per n-gram; see crawler.corpus.dedupe for the measurements behind it
_BIN_BITS = 7  # 2**7 == NUM_PERM
_VALUE_BITS = 64 - _BIN_BITS
_VALUE_MASK = np.uint64((1 << _VALUE_BITS) - 1)
_BIN_STARTS = np.arange(NUM_PERM + 1, dtype=np.uint64)[:-1] << np.uint64(_VALUE_BITS)
_NONWORD = re.compile(r"[\W_]+")
_PRIME = np.uint64(0x100000001B3)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_BAND_MULT = (np.arange(ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(0x9E3779B97F4A7C15))

_t2s_table: dict[int, str] | None = None
_traditional_mask: np.ndarray | None = None


def _t2s() -> dict[int, str]:
    """Single-character traditional -> simplified table from OpenCC's dictionary (first candidate)."""
    global _t2s_table
    if _t2s_table is None:
        table: dict[int, str] = {}
        try:
            import opencc

            path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSCharacters.txt")
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    key, _, values = line.rstrip("\n").partition("\t")
                    target = values.split(" ")[0] if values else ""
                    if len(key) == 1 and len(target) == 1 and key != target:
                        table[ord(key)] = target
        except (ImportError, OSError):  # without OpenCC, traditional reposts are only near-duplicates
            pass
        _t2s_table = table
        global _traditional_mask
        if table:  # one bool per code point: "does this text hold any traditional character" in ~20 us
            mask = np.zeros(0x110000, dtype=bool)
            mask[list(table)] = True
            _traditional_mask = mask
    return _t2s_table


def normalize(text: str | None) -> str:
    """The body as compared for duplicates: NFKC, lower case, simplified script, no spaces/punctuation."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    table = _t2s()
    if _traditional_mask is not None and _traditional_mask[
            np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)].any():
        text = text.translate(table)
    return _NONWORD.sub("", text)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps, which is what we want)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def shingle_hashes(normalized: str, n: int = SHINGLE) -> np.ndarray:
    """Sorted unique 64-bit hashes of the character n-grams of an already normalised text."""
    if not normalized:
        return np.empty(0, dtype=np.uint64)
    codes = np.frombuffer(normalized.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < n:
        n = len(codes)
    count = len(codes) - n + 1
    with np.errstate(over="ignore"):
        h = codes[:count].copy()
        for j in range(1, n):
            h = h * _PRIME + codes[j : j + count]
        h = _mix(h + np.uint64(n))
    return np.unique(h)


def signature_from_hashes(hashes: np.ndarray) -> np.ndarray:
    """OPH signature (NUM_PERM uint64 slots) from sorted unique shingle hashes; densified empty bins."""
    sig = np.zeros(NUM_PERM, dtype=np.uint64)
    if len(hashes) == 0:
        return sig
    starts = np.searchsorted(hashes, _BIN_STARTS)
    ends = np.append(starts[1:], len(hashes))
    filled = starts < ends
    sig[filled] = hashes[starts[filled]] & _VALUE_MASK
    if not filled.all():
        # rotation densification: an empty bin borrows the next non-empty bin's value (circularly),
        # tagged with the distance so that borrowed and own values never collide by accident
        idx = np.flatnonzero(filled)
        empty = np.flatnonzero(~filled)
        src = idx[np.searchsorted(idx, empty) % len(idx)]
        dist = ((src - empty) % NUM_PERM).astype(np.uint64)
        sig[empty] = sig[src] | (dist << np.uint64(_VALUE_BITS))
    return sig


def signature(text: str | None, *, normalized: bool = False) -> np.ndarray:
    """MinHash signature of a body (normalised here unless `normalized`)."""
    return signature_from_hashes(shingle_hashes(text if normalized else normalize(text)))


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u8").tobytes()


def from_bytes(blob: bytes | None) -> np.ndarray | None:
    if not blob or len(blob) != NUM_PERM * 8:
        return None
    return np.frombuffer(blob, dtype="<u8")


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the fraction of equal signature slots."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def similarities(sig: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of `sig` against each row of `matrix` (k x NUM_PERM)."""
    return np.count_nonzero(matrix == sig, axis=1) / NUM_PERM


def band_buckets(sig: np.ndarray) -> list[int]:
    """One signed 64-bit bucket id per band (SQLite INTEGER), from the band's ROWS slots."""
    with np.errstate(over="ignore"):
        rows = sig.reshape(BANDS, ROWS)
        combined = _mix((rows * _BAND_MULT).sum(axis=1, dtype=np.uint64) ^ np.uint64(0x51ED27))
    return combined.view(np.int64).tolist()


def exact_jaccard(a: str, b: str, n: int = SHINGLE) -> float:
    """True Jaccard of the n-gram sets of two texts (for measurements and tests)."""
    x, y = shingle_hashes(normalize(a), n), shingle_hashes(normalize(b), n)
    if len(x) == 0 and len(y) == 0:
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)
