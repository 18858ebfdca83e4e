"""Chinese full-text search: jieba-segmented FTS5, ranking, snippets, safe queries, index in step."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402

from crawler.corpus import search as search_module  # noqa: E402
from crawler.cli import main  # noqa: E402
from crawler.corpus.ingest import store_document  # noqa: E402
from crawler.corpus.search import SearchError, make_snippet, parse_query, search  # noqa: E402
from storage import connect  # noqa: E402

SEEDS = synth.load_seeds()
TITLE_DOC = {
    "url": "http://yx.gov.cn/1.html", "portal_id": "yx", "title": "某县关于持续优化营商环境工作的报告",
    "text": "今年我县围绕中心工作,推进各项改革。\n全年办理行政复议决定书12份,纠错3件。\n营商环境有所改善。",
    "region": "某县", "adcode": "999999", "report_year": 2023, "doc_type": "annual_report",
    "published_at": "2024-01-05",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "t.db"
    db = connect(path)
    for i, seed in enumerate(SEEDS):
        store_document(db, dict(seed, url=f"http://a.gov.cn/{i}.html", portal_id="p"))
    store_document(db, TITLE_DOC)
    # a repost of seed 0: must not show up twice
    store_document(db, dict(SEEDS[0], url="http://news.cn/0.html", portal_id="news",
                            text=synth.with_chrome(SEEDS[0]["text"], SEEDS[0])))
    return path


@pytest.fixture
def db(corpus):
    return connect(corpus)


@pytest.mark.parametrize("query", ["营商", "复议", "行政复议", "营商环境", "法治政府建设"])
def test_chinese_words_and_phrases_are_found(db, query):
    hits = search(db, query)
    assert hits, query
    for hit in hits:
        assert "【" in hit.snippet and "】" in hit.snippet
        marked = hit.snippet.split("【", 1)[1].split("】", 1)[0]
        assert marked in query or query in marked or any(w in marked for w in parse_query(query).words)


@pytest.mark.parametrize("term", ["行政复议", "依法行政", "规范性文件", "加强行政复议", "全面推进依法行政",
                                  "行政复议 决定", "法治政府建设", "营商环境"])
def test_single_phrase_matches_what_both_cuts_match(db, term):
    # parse_query drops the search-mode phrase when it cannot match more than the normal one: no row lost
    text = search_module.compact(term)
    normal, search_mode = search_module.tokens(text), search_module.tokens(text, search=True)
    both = f'{search_module._phrase(normal)} OR {search_module._phrase(search_mode)}'

    def rows(match):
        return {r[0] for r in db.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", [match])}

    assert rows(search_module._term_expression(term)[0]) >= rows(both)
    assert rows(both), term


def test_two_character_words_inside_longer_words(db):
    # 复议 sits inside 行政复议 in every seed: search mode indexes the parts too
    assert len(search(db, "复议")) >= len(search(db, "行政复议")) >= 3


def test_quoted_phrase(db):
    hits = search(db, '"行政复议 决定"')
    assert [h.url for h in hits] == [TITLE_DOC["url"]]
    assert "【行政复议决定】" in hits[0].snippet


def test_title_hit_ranks_first(db):
    hits = search(db, "营商环境")
    assert hits[0].url == TITLE_DOC["url"]
    assert len(hits) >= 3


def test_hit_fields_and_readable_snippet(db):
    hit = search(db, "行政复议", limit=1)[0]
    assert hit.region and hit.report_year and hit.url.startswith("http")
    # snippet is the original text, not space-separated tokens
    core = hit.snippet.strip("…")
    assert "行政 复议" not in core and len(core) > 20


def test_canonical_documents_only_by_default(db):
    urls = [h.url for h in search(db, "镜湖区", limit=50)]
    assert "http://a.gov.cn/0.html" in urls and "http://news.cn/0.html" not in urls
    urls = [h.url for h in search(db, "镜湖区", limit=50, include_duplicates=True)]
    assert "http://news.cn/0.html" in urls


def test_limit(db):
    assert len(search(db, "法治", limit=2)) == 2


@pytest.mark.parametrize("query", ['"营商环境', '营商 AND', 'NEAR(营商 环境)', '营商*', '^营商', 'title:营商',
                                   '(营商 OR', '营商) 复议(', 'AND OR 营商', '"营商" "', "营商 - 复议 +"])
def test_malformed_queries_just_work(db, query):
    search(db, query)  # no exception


@pytest.mark.parametrize("query", ["", "   ", "*", "()", "NOT 营商", "^:*", "AND OR"])
def test_unsearchable_queries_give_clear_message(db, query):
    with pytest.raises(SearchError) as info:
        search(db, query)
    assert "\n" not in str(info.value) and str(info.value)


def test_operators_or_and_not(db):
    both = {h.url for h in search(db, "镜湖区 OR 惠济区", limit=50)}
    assert {"http://a.gov.cn/0.html", "http://a.gov.cn/1.html"} <= both
    without = {h.url for h in search(db, "营商环境 NOT 镜湖区", limit=50)}
    assert "http://a.gov.cn/0.html" not in without and TITLE_DOC["url"] in without


def test_sqlite_errors_become_search_errors(db, monkeypatch):
    monkeypatch.setattr(search_module, "parse_query",
                        lambda q: search_module.ParsedQuery('"unterminated', ("x",)))
    with pytest.raises(SearchError):
        search(db, "x")


def test_make_snippet():
    text = "第一段没有。\n" + "甲" * 100 + "推进行政复议工作" + "乙" * 100
    s = make_snippet(text, ["行政复议", "复议"], prefer=("行政复议",))
    assert "【行政复议】" in s and s.startswith("…") and s.endswith("…") and "\n" not in s
    assert make_snippet("短文本", ["无"]) == "短文本"


# --- the index stays in step ------------------------------------------------------------------------------


@pytest.fixture
def fresh(tmp_path):
    return connect(tmp_path / "t.db")


def test_fts_in_step_through_sql(fresh):
    db = fresh
    db.execute("INSERT INTO documents (url, title, text) VALUES ('http://x.cn/1', '标题甲', '推进营商环境建设')")
    doc_id = db.execute("SELECT id FROM documents").fetchone()[0]
    assert [h.id for h in search(db, "营商环境")] == [doc_id]
    db.execute("UPDATE documents SET text = '深化行政复议改革' WHERE id = ?", [doc_id])
    assert search(db, "营商环境") == []
    assert [h.id for h in search(db, "行政复议")] == [doc_id]
    db.execute("UPDATE documents SET title = '优化营商环境' WHERE id = ?", [doc_id])
    assert [h.id for h in search(db, "营商环境")] == [doc_id]
    db.execute("DELETE FROM documents WHERE id = ?", [doc_id])
    assert search(db, "行政复议") == [] and search(db, "营商环境") == []
    assert db.execute("SELECT count(*) FROM documents_fts").fetchone()[0] == 0


def test_fts_in_step_through_store_document(fresh):
    db = fresh
    first = store_document(db, {"url": "http://x.cn/a.html", "title": "报告", "text": "推进营商环境建设" * 5})
    assert [h.id for h in search(db, "营商环境")] == [first.document_id]
    changed = store_document(db, {"url": "http://x.cn/a.html", "title": "报告", "text": "深化行政复议改革" * 5})
    assert changed.changed and changed.document_id == first.document_id
    assert search(db, "营商环境") == []
    assert [h.id for h in search(db, "行政复议")] == [first.document_id]
    assert db.execute("SELECT count(*) FROM documents_fts").fetchone()[0] == 1


# --- CLI --------------------------------------------------------------------------------------------------


def test_cli_search_json(corpus):
    result = CliRunner().invoke(main, ["search", "营商环境", "--db", str(corpus), "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert 1 <= len(lines) <= 3
    for record in lines:
        assert set(record) == {"title", "url", "region", "report_year", "doc_type", "snippet"}
    assert lines[0]["url"] == TITLE_DOC["url"] and lines[0]["doc_type"] == "annual_report"


def test_cli_search_shows_type_and_year_and_filters_by_type(corpus, tmp_path):
    from storage import sqlite3

    source, copy = sqlite3.connect(str(corpus)), sqlite3.connect(str(tmp_path / "t.db"))
    source.backup(copy)  # the module's corpus stays as it is
    source.close(), copy.close()
    corpus = tmp_path / "t.db"
    db = connect(corpus)
    store_document(db, dict(TITLE_DOC, url="http://yx.gov.cn/2.html", title="一图读懂某县营商环境新政解读",
                            text="营商环境政策解读：一图读懂。\n围绕营商环境，解读十项举措。", doc_type="interpretation",
                            report_year=None))
    db.close()
    runner = CliRunner()
    shown = runner.invoke(main, ["search", "营商环境", "--db", str(corpus)])
    assert shown.exit_code == 0, shown.output
    assert "[某县 · 2023 · annual_report]" in shown.output and "[某县 · interpretation]" in shown.output
    only = runner.invoke(main, ["search", "营商环境", "--db", str(corpus), "--json", "--type", "interpretation"])
    assert [json.loads(line)["url"] for line in only.output.splitlines()] == ["http://yx.gov.cn/2.html"]
    reports = runner.invoke(main, ["search", "营商环境", "--db", str(corpus), "--json", "--type", "annual_report"])
    types = {json.loads(line)["doc_type"] for line in reports.output.splitlines()}
    assert types == {"annual_report"}
    bad = runner.invoke(main, ["search", "营商环境", "--db", str(corpus), "--type", "memo"])
    assert bad.exit_code == 2 and "memo" in bad.output


def test_cli_search_table_and_errors(corpus):
    runner = CliRunner()
    result = runner.invoke(main, ["search", "行政复议", "--db", str(corpus)])
    assert result.exit_code == 0 and "【行政复议】" in result.output and "http://" in result.output
    result = runner.invoke(main, ["search", "*", "--db", str(corpus)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "no searchable words" in result.output
    result = runner.invoke(main, ["search", '"营商环境', "--db", str(corpus)])
    assert result.exit_code == 0


def test_domain_terms_are_one_token_and_their_parts_still_match(tmp_path):
    # 行政执法 and 法治政府建设 are dictionary words: one token each, not a phrase of words every report holds
    assert search_module.tokens("行政执法") == ["行政执法"]
    assert parse_query("法治政府建设").match == '"法治政府建设"'
    db = connect(tmp_path / "terms.db")
    for i, text in enumerate(["全面推进法治政府建设,深化综合行政执法改革。", "行政机关负责人出庭应诉率达到100%。",
                              "政府投资建设项目稳步推进。"]):
        store_document(db, {"url": f"http://t.gov.cn/{i}.html", "portal_id": "t", "title": f"通知{i}", "text": text})

    def urls(query):
        return sorted(h.url[-6:] for h in search(db, query))

    assert urls("法治政府") == ["0.html"]  # a dictionary word inside a longer one (法治政府建设)
    assert urls("行政执法") == ["0.html"]  # inside 综合行政执法
    assert urls("政府建设") == ["0.html"]  # plain words across the parts of one long word
    assert urls("出庭应诉") == ["1.html"] and urls("负责人出庭") == ["1.html"]
    assert urls("建设") == ["0.html", "2.html"]


@pytest.mark.parametrize("query", ["营商环境", "行政复议", "法治政府建设 OR 普法", "政府 NOT 复议", "负责人出庭"])
def test_sharded_ranking_equals_one_scan(tmp_path, query):
    # bm25 takes IDF and average length from the whole table, so per-range bests merge into the overall best
    db = connect(tmp_path / "shards.db")
    for i, doc in enumerate(synth.corpus(60)):
        store_document(db, dict(doc.as_doc(), url=f"http://s.gov.cn/{i}.html"))
    one = [(h.id, round(h.score, 9)) for h in search(db, query, limit=15, shards=1)]
    for shards in (2, 3):
        assert [(h.id, round(h.score, 9)) for h in search(db, query, limit=15, shards=shards)] == one
    assert one or query == "负责人出庭"


def test_sharding_needs_a_large_file_database(tmp_path):
    from crawler.corpus import fts

    small = connect(tmp_path / "small.db")
    assert fts.default_shards(small) == 1 and fts.database_file(small).endswith("small.db")
    assert fts.database_file(connect(":memory:")) is None


def test_migration_reindexes_an_index_cut_without_the_domain_terms(tmp_path):
    from storage.schema import migrate, migrations

    db = connect(tmp_path / "old.db", migrate_schema=False)
    migrations.apply(db, stop_before="m007_fts_domain_terms")
    store_document(db, {"url": "http://o.gov.cn/1.html", "portal_id": "o", "title": "工作报告",
                        "text": "严格规范公正文明行政执法,持续优化营商环境。"})
    # the index as the old cut left it: 行政执法 and 营商环境 as two words each
    db.execute("UPDATE documents_fts SET body = '严格 规范 公正 文明 行政 执法 持续 优化 营商 环境' WHERE rowid = 1")
    assert search(db, "行政执法") == []
    migrate(db)
    assert [h.url for h in search(db, "行政执法")] == ["http://o.gov.cn/1.html"]
    assert [h.url for h in search(db, "营商环境")] == ["http://o.gov.cn/1.html"]
