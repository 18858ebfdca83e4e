"""Chinese word segmentation for the full-text index (jieba, loaded on first use)."""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_tokenizer = None
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$")


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def tokens(text: str | None, *, search: bool = False) -> list[str]:
    """Words of `text`, punctuation dropped. `search=True` also yields the shorter words inside long ones,
    so that a query for 复议 finds 行政复议 (jieba's search mode)."""
    if not text:
        return []
    tokenizer = _jieba()
    # HMM off: new-word guessing makes segmentation slower and less repeatable between index and query
    words = tokenizer.cut_for_search(text, HMM=False) if search else tokenizer.cut(text, HMM=False)
    return [w for w in words if not _PUNCT_OR_SPACE.match(w)]


def segment(text: str | None) -> str:
    """Space-separated tokens for indexing: search-mode cut, so both words and their parts are indexed."""
    return " ".join(tokens(text, search=True))
