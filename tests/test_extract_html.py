"""HTML tests: 25 generated CMS-style pages (tests/fixtures/build_pages.py) and the real Kaipuyun pages in
/work/shared/realpages.  Body quality is judged by character-bigram F1 against the expected body; chrome
strings placed around the body must not leak into it; metadata fields must match exactly."""

from __future__ import annotations

import pytest

from helpers import (
    REALPAGES,
    load_build_pages,
    realpage_files,
    resolve_extract,
    bigram_f1,
    text_diff,
    ucap_expectations,
)

from crawler import extract  # noqa: E402

extract = resolve_extract(extract)

F1_MIN = 0.995
BP = load_build_pages()
PAGES = BP.manifest(BP.build_pages())  # cheap and deterministic: gives the parametrize ids at collection
META_FIELDS = ("title", "published_at", "source", "author", "region", "adcode", "report_year", "doc_type")


@pytest.fixture(scope="session")
def html_dir(tmp_path_factory):
    """The 25 pages written to a temporary directory (nothing generated lives in the tree)."""
    out = tmp_path_factory.mktemp("html_pages")
    BP.write_pages(out)
    return out


@pytest.fixture(scope="session")
def extracted_page(html_dir):
    cache = {}

    def get(page: dict):
        if page["name"] not in cache:
            cache[page["name"]] = extract((html_dir / page["file"]).read_bytes(), url=page["url"])
        return cache[page["name"]]

    return get


def test_manifest_shape():
    assert len(PAGES) == 25
    assert {p["style"] for p in PAGES} == set(BP.STYLES)
    assert len({p["seed"] for p in PAGES}) == 5


@pytest.mark.parametrize("page", PAGES, ids=[p["name"] for p in PAGES])
def test_html_body_f1(page, extracted_page):
    exp = page["expected"]["text"]
    got = extracted_page(page).text
    f1 = bigram_f1(got, exp)
    assert f1 >= F1_MIN, f"{page['name']} ({page['notes']}): bigram F1 {f1:.4f} < {F1_MIN}\n{text_diff(exp, got)}"


@pytest.mark.parametrize("page", PAGES, ids=[p["name"] for p in PAGES])
def test_html_no_chrome(page, extracted_page):
    got = extracted_page(page).text
    leaked = [s for s in page["chrome"] if s in got]
    assert not leaked, f"{page['name']}: chrome in body: {leaked}"


@pytest.mark.parametrize("page", [p for p in PAGES if p["must_contain"]], ids=lambda p: p["name"])
def test_html_charset(page, extracted_page):
    """Pages labelled gb2312 but holding GBK/GB18030-only characters must still decode them correctly."""
    got = extracted_page(page).text
    for s in page["must_contain"]:
        assert s in got, f"{page['name']} ({page['notes']}): {s!r} not decoded correctly"


@pytest.mark.parametrize("field", META_FIELDS)
@pytest.mark.parametrize("page", PAGES, ids=[p["name"] for p in PAGES])
def test_html_field(page, field, extracted_page):
    rec = extracted_page(page)
    assert getattr(rec, field) == page["expected"][field], f"{page['name']} ({page['notes']}): {field}"


# ---------------------------------------------------------------------------------------------------------
# real pages (Kaipuyun 集约化 statistics bulletins: not annual reports)

REAL = realpage_files()
REAL_CHROME = ("您当前的位置", "访问量", "打印", "关闭窗口", "索引号", "发布机构", "扫一扫", "版权所有", "网站标识码",
               "ICP备", "公网安备", "页面生成时间")
need_real = pytest.mark.skipif(not REAL, reason=f"real pages not available at {REALPAGES}")


@pytest.fixture(scope="module")
def real_extracted():
    cache = {}

    def get(path):
        if path not in cache:
            cache[path] = extract(path.read_bytes())
        return cache[path]

    return get


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_body_f1(path, real_extracted):
    _, exp = ucap_expectations(path)
    got = real_extracted(path).text
    f1 = bigram_f1(got, exp)
    assert f1 >= F1_MIN, f"{path.name}: bigram F1 {f1:.4f} < {F1_MIN}\n{text_diff(exp, got)}"


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_title(path, real_extracted):
    title, _ = ucap_expectations(path)
    assert real_extracted(path).title == title


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_not_annual_report(path, real_extracted):
    rec = real_extracted(path)
    assert rec.doc_type in ("interpretation", "plan", "news", "other")
    assert rec.doc_type != "annual_report"


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_no_chrome(path, real_extracted):
    _, exp = ucap_expectations(path)
    markers = [s for s in REAL_CHROME if s not in exp]
    assert markers == list(REAL_CHROME), "a chrome marker occurs in the real body: fix REAL_CHROME"
    got = real_extracted(path).text
    leaked = [s for s in markers if s in got]
    assert not leaked, f"{path.name}: chrome in body: {leaked}"
