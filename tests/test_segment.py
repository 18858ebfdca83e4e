"""Segmentation: rjieba (jieba-rs) and jieba cut alike, so an index built with one is searched with the other."""

from __future__ import annotations

import pytest

from helpers import SEED_PAGES, realpage_files
from storage import segment as seg

MIXED = ("ABC abc 123 4.5% ２０２３年 Ｅ-mail: a@b.cn http://x.gov.cn/a_b?c=1 ① ⑴ 〔2023〕12号 "
         "……——“”《》 𠀀 ㊀ 한국 日本語 café 加强行政复议 优化营商环境 重大行政决策 法治政府建设 1.2.3 v2.0")


@pytest.fixture(scope="module")
def both():
    return seg.load("rjieba"), seg.load("jieba")


def texts() -> list[str]:
    out = [p.read_text(encoding="utf-8") for p in sorted(SEED_PAGES.glob("*.txt"))]
    for path in realpage_files():
        raw = path.read_bytes()
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(raw.decode("gb18030", errors="replace"))
    return out + [MIXED]


def test_backends_cut_alike(both):
    fast, reference = both
    assert (fast.backend, reference.backend) == ("rjieba", "jieba")
    corpus = texts()
    assert len(corpus) >= 6
    for text in corpus:
        assert fast.cut(text) == reference.cut(text)
        assert fast.cut_for_search(text) == reference.cut_for_search(text)


def test_search_mode_adds_inner_words(both):
    for backend in both:
        assert backend.cut("加强行政复议") == ["加强", "行政复议"]
        assert backend.cut_for_search("加强行政复议") == ["加强", "行政", "复议", "行政复议"]


def test_environment_chooses_backend(monkeypatch):
    monkeypatch.setenv("GOVWATCH_SEGMENTER", "jieba")
    assert seg.load().backend == "jieba"
    monkeypatch.setenv("GOVWATCH_SEGMENTER", "hanlp")
    with pytest.raises(ValueError, match="unknown segmenter 'hanlp'"):
        seg.load()
    monkeypatch.delenv("GOVWATCH_SEGMENTER")
    assert seg.load().backend == "rjieba"


def test_falls_back_to_jieba_without_rjieba(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_rjieba(name, *args, **kwargs):
        if name == "rjieba":
            raise ImportError("No module named 'rjieba'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delenv("GOVWATCH_SEGMENTER", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_rjieba)
    assert seg.load().backend == "jieba"
    with pytest.raises(ImportError):
        seg.load("rjieba")


def test_tokens_drop_punctuation():
    assert seg.tokens("营商环境、行政复议。") == ["营商环境", "行政复议"]
    assert seg.segment("") == "" and seg.tokens(None) == []


def test_index_text_equals_filtered_tokens_for_fts5():
    """segment() leaves punctuation tokens in; FTS5's unicode61 must see the same terms at the same offsets
    as from the punctuation-free tokens() (the query side)."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(a, tokenize = 'unicode61 remove_diacritics 0')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
    for text in texts():
        conn.execute("DELETE FROM f")
        conn.execute("INSERT INTO f(rowid, a) VALUES (1, ?), (2, ?)",
                     [seg.segment(text), " ".join(seg.tokens(text, search=True))])
        instances = [conn.execute("SELECT term, offset FROM v WHERE doc = ? ORDER BY offset", [doc]).fetchall()
                     for doc in (1, 2)]
        assert instances[0] == instances[1] and len(instances[0]) > 10
