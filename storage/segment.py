"""Chinese word segmentation for the full-text index: jieba's dictionary and algorithm, loaded on first use.

Two implementations give the same cut (HMM off): rjieba, the binding of jieba-rs (a Rust port of jieba with
the same dictionary), and jieba itself. rjieba is used when installed: on the seed reports it is ~20x faster
(0.5 vs 11 ms per document) and loads in 0.08 s instead of 0.7 s, which is most of the per-page cost of a crawl
and of building the index. Because the tokens are the same (tests compare both on the seeds and on real
pages), an index built with one is searched with the other. `GOVWATCH_SEGMENTER=jieba` forces jieba.

Both get the domain terms of `dictionary.txt` (行政执法, 营商环境, 重大行政决策 ...) as words. Search mode
(jieba's cut_for_search) adds the 2- and 3-character dictionary words inside a long word; `cut_for_search`
here also adds the longer ones (法治政府 inside 法治政府建设), so a query for any dictionary word finds
the longer words containing it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Callable

BACKENDS = ("rjieba", "jieba")
# importlib.resources, not a file path: inside a zipped egg (scrapyd) there is no file
DICTIONARY = files("storage") / "dictionary.txt"
_lock = threading.Lock()
_segmenter: Segmenter | None = None
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$")


@dataclass(frozen=True)
class Segmenter:
    backend: str
    cut: Callable[[str], list[str]]  # the normal cut, punctuation included
    _cut_for_search: Callable[[str], list[str]]
    has_word: Callable[[str], bool]

    def cut_for_search(self, text: str) -> list[str]:
        """The search-mode cut: each word preceded by the dictionary words inside it (2 characters and up)."""
        words = self._cut_for_search(text)
        if not any(len(word) > 4 for word in words):
            return words
        out: list[str] = []
        for word in words:
            if len(word) > 4:  # jieba adds the 2- and 3-character parts only; add those of 4 up to len - 1
                out += [word[i:i + size] for size in range(4, len(word))
                        for i in range(len(word) - size + 1) if self.has_word(word[i:i + size])]
            out.append(word)
        return out


def domain_terms(path: Path | Traversable = DICTIONARY) -> list[tuple[str, int]]:
    """(word, frequency) pairs of the domain dictionary; `#` starts a comment line."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            terms.append((fields[0], int(fields[1]) if len(fields) > 1 else 1000))
    return terms


def load(backend: str | None = None) -> Segmenter:
    """A segmenter of `backend` ('rjieba' or 'jieba'); by default rjieba when importable, else jieba."""
    backend = backend or os.environ.get("GOVWATCH_SEGMENTER") or None
    if backend not in (None, *BACKENDS):
        raise ValueError(f"unknown segmenter {backend!r}: choose one of {', '.join(BACKENDS)}")
    terms = domain_terms()
    if backend in (None, "rjieba"):
        try:
            import rjieba
        except ImportError:
            if backend == "rjieba":
                raise
        else:
            # importing rjieba already loads its default instance (0.1 s): extend that one, not a second
            for word, freq in terms:
                rjieba.add_word(word, freq, None)
            return Segmenter("rjieba", lambda text: rjieba.cut(text, False),
                             lambda text: rjieba.cut_for_search(text, False), rjieba.has_word)
    try:
        import jieba
    except ImportError:  # an optional extra since rjieba (a core dependency) does the same cut
        raise ImportError("no Chinese segmenter: rjieba cannot be imported here and jieba is not installed "
                          "(pip install 'govwatch[jieba]')") from None

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq in terms:
        tokenizer.add_word(word, freq)
    # HMM off in both: new-word guessing is slower and makes index and query cuts less repeatable
    return Segmenter("jieba", lambda text: list(tokenizer.cut(text, HMM=False)),
                     lambda text: list(tokenizer.cut_for_search(text, HMM=False)),
                     lambda word: bool(tokenizer.FREQ.get(word)))


def segmenter() -> Segmenter:
    """The process-wide segmenter (loaded once, thread-safe)."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                _segmenter = load()
    return _segmenter


def tokens(text: str | None, *, search: bool = False) -> list[str]:
    """Words of `text`, punctuation dropped. `search=True` also yields the shorter words inside long ones,
    so that a query for 复议 finds 行政复议 (jieba's search mode)."""
    if not text:
        return []
    seg = segmenter()
    words = seg.cut_for_search(text) if search else seg.cut(text)
    return [w for w in words if not _PUNCT_OR_SPACE.match(w)]


def segment(text: str | None) -> str:
    """Space-separated tokens for indexing: search-mode cut, so both words and their parts are indexed.

    Punctuation tokens are left in: the index's unicode61 tokenizer treats them as separators, exactly as
    if `tokens()` had dropped them (a third of the segmenting time saved on every stored document)."""
    return " ".join(segmenter().cut_for_search(text)) if text else ""
