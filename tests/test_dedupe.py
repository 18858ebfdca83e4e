"""Duplicate detection through the real write path (storage.connect + crawler.corpus.ingest.store_document)."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))
import synth  # noqa: E402

from crawler.corpus import dedupe  # noqa: E402
from crawler import minhash as mh  # noqa: E402
from crawler.corpus.ingest import store_document  # noqa: E402
from storage import connect, transaction  # noqa: E402

SEEDS = synth.load_seeds()


@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "t.db")
    database["portals"].insert_all([
        {"id": "own", "name": "镜湖区人民政府", "adcode": "340202", "region": "芜湖市镜湖区"},
        {"id": "city", "name": "芜湖市人民政府", "adcode": "340200", "region": "芜湖市"},
        {"id": "news", "name": "法治新闻网"},
    ])
    return database


def doc(seed: dict, url: str, portal: str = "news", **changes) -> dict:
    record = {k: seed.get(k) for k in synth.SynthDoc.__dataclass_fields__ if k in seed}
    record.update({k: seed.get(k) for k in ("title", "text", "published_at", "source", "author", "region",
                                            "adcode", "report_year", "doc_type")})
    record.update(url=url, portal_id=portal)
    record.update(changes)
    return record


def row(db, document_id):
    return db["documents"].get(document_id)


# --- signatures --------------------------------------------------------------------------------------------


def test_normalize_folds_width_script_space_and_punctuation():
    assert mh.normalize("法治政府建设，２０２２年 ABC。\n") == mh.normalize("法治政府建設,2022年abc")
    assert mh.normalize("") == "" and mh.normalize(None) == ""


def test_signature_estimates_jaccard():
    text = SEEDS[0]["text"]
    copy = synth.edited_paragraph(text, random.Random(3))
    exact = mh.exact_jaccard(text, copy)
    estimate = mh.similarity(mh.signature(text), mh.signature(copy))
    assert abs(exact - estimate) < 0.12
    assert mh.similarity(mh.signature(text), mh.signature(text)) == 1.0
    sig = mh.signature(text)
    assert sig.dtype == np.uint64 and len(sig) == mh.NUM_PERM
    assert np.array_equal(mh.from_bytes(mh.to_bytes(sig)), sig)
    assert len(mh.band_buckets(sig)) == mh.BANDS


def test_short_texts_have_dense_signatures():
    sig = mh.signature("法治政府")  # fewer shingles than bins: densified, no zero slots
    assert np.count_nonzero(sig) == mh.NUM_PERM
    assert mh.similarity(sig, mh.signature("法治政府")) == 1.0


# --- must merge --------------------------------------------------------------------------------------------

PERTURBATIONS = {
    "exact": lambda s, rng: s["text"],
    "rewrapped": lambda s, rng: s["text"].replace("\n", "\n\n  ").replace(",", ","),
    "dates": lambda s, rng: synth.changed_dates(s["text"], rng),
    "paragraph": lambda s, rng: synth.edited_paragraph(s["text"], rng),
    "chrome": lambda s, rng: synth.with_chrome(s["text"], s),
    "traditional": lambda s, rng: synth.traditional(s["text"]),
    "repost+traditional": lambda s, rng: synth.traditional(synth.repost(s["text"], s, rng)),
}


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_perturbed_copies_merge(db, name):
    rng = random.Random(7)
    for i, seed in enumerate(SEEDS):
        first = store_document(db, doc(seed, f"http://a.gov.cn/{i}.html"))
        text = PERTURBATIONS[name](seed, rng)
        copy = store_document(db, doc(seed, f"http://b.gov.cn/{i}.html", text=text))
        assert first.duplicate_of is None
        assert copy.duplicate_of == first.document_id, (name, i)
        stored = row(db, copy.document_id)
        assert stored["duplicate_of"] == first.document_id
        expected_kind = "exact" if mh.normalize(text) == mh.normalize(seed["text"]) else "near"
        if name in ("exact", "rewrapped"):
            assert expected_kind == "exact"
        assert stored["duplicate_kind"] == expected_kind
        assert stored["similarity"] >= dedupe.DEFAULT_THRESHOLD


def test_exact_copy_kind_and_similarity(db):
    seed = SEEDS[1]
    a = store_document(db, doc(seed, "http://a.gov.cn/1.html"))
    b = store_document(db, doc(seed, "http://b.gov.cn/1.html", text=seed["text"].replace("\n", " \n")))
    stored = row(db, b.document_id)
    assert (stored["duplicate_of"], stored["duplicate_kind"], stored["similarity"]) == (a.document_id, "exact", 1.0)


# --- must not merge ----------------------------------------------------------------------------------------


def test_different_reports_of_same_region_and_year_do_not_merge(db):
    target = SEEDS[0]
    store_document(db, doc(target, "http://a.gov.cn/0.html"))
    for i, other in enumerate(SEEDS[1:], start=1):
        text = synth.same_region_other_report(other, target)
        result = store_document(db, doc(target, f"http://a.gov.cn/other{i}.html", text=text))
        assert result.duplicate_of is None


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_next_year_report_of_same_region_does_not_merge(db, index):
    seed = SEEDS[index]
    store_document(db, doc(seed, "http://a.gov.cn/this.html"))
    text = synth.next_year_report(seed, SEEDS)
    # even when the extractor missed the year (no report_year rule), the bodies are too different
    result = store_document(db, doc(seed, "http://a.gov.cn/next.html", text=text, report_year=None))
    assert result.duplicate_of is None
    assert mh.similarity(mh.signature(seed["text"]), mh.signature(text)) < dedupe.DEFAULT_THRESHOLD


def test_known_different_report_years_never_near_merge(db):
    seed = SEEDS[2]
    store_document(db, doc(seed, "http://a.gov.cn/1.html"))
    edited = synth.changed_dates(seed["text"], random.Random(1))
    result = store_document(db, doc(seed, "http://a.gov.cn/2.html", text=edited,
                                    report_year=seed["report_year"] + 1))
    assert result.duplicate_of is None


def test_empty_bodies_never_merge(db):
    a = store_document(db, doc(SEEDS[0], "http://a.gov.cn/e1.html", text=""))
    b = store_document(db, doc(SEEDS[1], "http://a.gov.cn/e2.html", text=None))
    assert a.duplicate_of is None and b.duplicate_of is None


# --- canonical choice ---------------------------------------------------------------------------------------


def test_own_portal_copy_becomes_canonical_even_when_stored_later(db):
    seed = SEEDS[0]  # 芜湖市镜湖区, adcode 340202
    repost = store_document(db, doc(seed, "http://news.cn/1.html", "news", published_at="2021-03-01"))
    city = store_document(db, doc(seed, "http://city.gov.cn/1.html", "city", published_at="2021-03-02",
                                  text=synth.with_chrome(seed["text"], seed)))
    assert city.duplicate_of == repost.document_id  # earliest published among non-own copies
    own = store_document(db, doc(seed, "http://own.gov.cn/1.html", "own", published_at="2021-03-31"))
    assert own.duplicate_of is None
    for other in (repost, city):
        stored = row(db, other.document_id)
        assert stored["duplicate_of"] == own.document_id  # the whole group re-pointed
        assert stored["similarity"] >= dedupe.DEFAULT_THRESHOLD
    assert dedupe.canonical_id(db, city.document_id) == own.document_id
    assert dedupe.canonical_id(db, own.document_id) == own.document_id
    # duplicates keep their rows
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM canonical_documents").fetchone()[0] == 1
    # a later own-portal copy published later does not take over
    late = store_document(db, doc(seed, "http://own.gov.cn/2.html", "own", published_at="2021-05-01",
                                  text=synth.changed_dates(seed["text"], random.Random(2))))
    assert late.duplicate_of == own.document_id


def test_own_portal_by_site_name(db):
    seed = SEEDS[0]
    first = store_document(db, doc(seed, "http://news.cn/2.html", "news", published_at="2021-03-01"))
    own = store_document(db, doc(seed, "http://jh.gov.cn/2.html", None, published_at="2021-04-01",
                                 site_name="芜湖市镜湖区人民政府"))
    assert own.duplicate_of is None
    assert row(db, first.document_id)["duplicate_of"] == own.document_id


def test_earliest_published_wins_without_own_portal(db):
    seed = SEEDS[3]
    later = store_document(db, doc(seed, "http://x.cn/1.html", published_at="2023-03-01"))
    earlier = store_document(db, doc(seed, "http://y.cn/1.html", published_at="2023-02-15"))
    assert earlier.duplicate_of is None
    assert row(db, later.document_id)["duplicate_of"] == earlier.document_id


def test_changed_canonical_hands_group_over(db):
    seed, other = SEEDS[1], SEEDS[4]
    a = store_document(db, doc(seed, "http://a.cn/1.html", published_at="2023-01-01"))
    b = store_document(db, doc(seed, "http://b.cn/1.html", published_at="2023-01-02"))
    c = store_document(db, doc(seed, "http://c.cn/1.html", published_at="2023-01-03"))
    assert b.duplicate_of == a.document_id and c.duplicate_of == a.document_id
    # the canonical page now holds another report: b inherits the group, a stands alone
    changed = store_document(db, doc(other, "http://a.cn/1.html", published_at="2023-01-01"))
    assert changed.changed and changed.duplicate_of is None
    assert row(db, b.document_id)["duplicate_of"] is None
    assert row(db, c.document_id)["duplicate_of"] == b.document_id


def test_unchanged_restore_is_idempotent(db):
    seed = SEEDS[2]
    a = store_document(db, doc(seed, "http://a.cn/1.html"))
    b = store_document(db, doc(seed, "http://b.cn/1.html"))
    again = store_document(db, doc(seed, "http://b.cn/1.html"))
    assert not again.created and not again.changed and again.duplicate_of == a.document_id
    assert b.duplicate_of == a.document_id
    bands = db.execute("SELECT count(*) FROM minhash_bands").fetchone()[0]
    assert bands == 2 * mh.BANDS


def test_rebuild_reproduces_groups(db):
    rng = random.Random(5)
    ids = []
    for i, seed in enumerate(SEEDS):
        ids.append(store_document(db, doc(seed, f"http://a.cn/{i}.html")).document_id)
        store_document(db, doc(seed, f"http://b.cn/{i}.html", text=synth.repost(seed["text"], seed, rng)))
    before = {r["id"]: r["duplicate_of"] for r in db["documents"].rows}
    assert dedupe.rebuild(db) == len(SEEDS)
    after = {r["id"]: r["duplicate_of"] for r in db["documents"].rows}
    assert before == after


def test_threshold_is_configurable(db):
    seed = SEEDS[0]
    a = store_document(db, doc(seed, "http://a.cn/1.html"))
    store_document(db, doc(seed, "http://b.cn/1.html", text=synth.edited_paragraph(seed["text"], random.Random(1))))
    b_id = db.execute("SELECT id FROM documents WHERE url = 'http://b.cn/1.html'").fetchone()[0]
    with transaction(db):
        strict = dedupe.assign_duplicate(db, b_id, threshold=0.999)
    assert strict.duplicate_of is None
    with transaction(db):
        assert dedupe.assign_duplicate(db, b_id, threshold=0.5).duplicate_of == a.document_id
    c = store_document(db, doc(seed, "http://c.cn/1.html", text=synth.edited_paragraph(seed["text"], random.Random(2))),
                       dedupe_threshold=0.999)
    assert c.duplicate_of is None


def test_lsh_candidates_not_whole_corpus(db):
    """A new document is verified only against documents sharing a band bucket."""
    rng = random.Random(11)
    seeds = synth.load_seeds()
    for i in range(60):
        d = synth.original(i, rng, seeds)
        store_document(db, d.as_doc())
    probe = synth.original(999, rng, seeds)
    store_document(db, probe.as_doc())
    pid = db.execute("SELECT id FROM documents WHERE url = ?", [probe.url]).fetchone()[0]
    buckets = mh.band_buckets(mh.from_bytes(row(db, pid)["minhash"]))
    assert len(dedupe._candidates(db, pid, buckets)) < 5


def test_templated_reports_of_different_regions_do_not_merge(db):
    template = SEEDS[1]
    store_document(db, doc(template, "http://a.cn/t1.html"))
    other = dict(template, region="合肥市瑶海区", adcode="340102")
    text = synth.swap_region(template["text"], template, other)
    result = store_document(db, doc(other, "http://a.cn/t2.html", text=text))
    assert result.duplicate_of is None
    # without any region metadata the same pair is a near duplicate
    result = store_document(db, doc(other, "http://a.cn/t3.html", text=text + "。", region=None, adcode=None))
    assert result.duplicate_of is not None


def test_reports_and_status_count_canonical_documents_only(db):
    from crawler.corpus.reports import reports
    from crawler.crawl.status import status

    seed = SEEDS[1]
    store_document(db, doc(seed, "http://city.gov.cn/a.html", portal="city"))
    store_document(db, doc(seed, "http://province.gov.cn/b.html", portal="province",
                           text=synth.with_chrome(seed["text"], seed)))
    for pid in ("city", "province"):
        db.execute("INSERT OR IGNORE INTO portals (id, name) VALUES (?, ?)", [pid, pid])
    counts = {row["id"]: (row["documents"], row["reports"]) for row in status(db)}
    assert (counts["city"], counts["province"]) == ((1, 1), (0, 0))
    assert [r["url"] for r in reports(db)] == ["http://city.gov.cn/a.html"]


def test_a_news_item_quoting_a_report_never_takes_the_canonical_role(db):
    seed = SEEDS[0]
    news = store_document(db, doc(seed, "http://news.cn/early.html", title="镜湖区法治政府建设工作综述",
                                  doc_type="news", report_year=None, published_at="2021-01-05"))
    report = store_document(db, doc(seed, "http://jinghu.gov.cn/r.html", portal="own"))
    assert report.duplicate_of is None
    assert row(db, news.document_id)["duplicate_of"] == report.document_id


def test_a_new_canonical_releases_members_that_are_different_reports(db):
    seed = SEEDS[0]
    body = seed["text"]
    news = store_document(db, doc(seed, "http://news.cn/n.html", title="镜湖区法治建设综述", doc_type="news",
                                  report_year=None, published_at="2021-05-01"))
    older = store_document(db, doc(seed, "http://jinghu.gov.cn/2019.html", report_year=2019,
                                   title="镜湖区2019年法治政府建设情况报告", published_at="2020-03-01",
                                   text=synth.edited_paragraph(body, random.Random(5))))
    newer = store_document(db, doc(seed, "http://jinghu.gov.cn/2020.html", text=body, published_at="2021-03-31"))
    # the 2020 report is an exact copy of the news body, which joined the 2019 report's group: a report of
    # another year, so the 2020 report stands alone instead of being swallowed
    assert newer.duplicate_of is None and older.duplicate_of is None and newer.new_report
    assert row(db, news.document_id)["duplicate_of"] in (older.document_id, newer.document_id)
