"""HTML tests: 25 generated CMS-style pages (tests/fixtures/build_pages.py) and the real saved pages in
../shared/realpages (what their own markup says is the truth: Kaipuyun's <ucaptitle>/<ucapcontent>, the
`ArticleTitle` meta tag).  Body quality is judged by character-bigram F1 against the expected body; chrome
strings placed around the body must not leak into it; metadata fields must match exactly."""

from __future__ import annotations

import pytest

from helpers import (
    REALPAGES,
    load_build_pages,
    realpage_files,
    resolve_extract,
    bigram_f1,
    realpage_body,
    realpage_title,
    text_diff,
    titled_doc_type,
)

from crawler import extract  # noqa: E402
from crawler.extract import DOC_TYPES

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
# real pages (any CMS; those seen so far are Kaipuyun 集约化 statistics bulletins)

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
    exp = realpage_body(path)
    if exp is None:
        pytest.skip(f"{path.name}: its markup does not mark the body (no <ucapcontent>)")
    got = real_extracted(path).text
    f1 = bigram_f1(got, exp)
    assert f1 >= F1_MIN, f"{path.name}: bigram F1 {f1:.4f} < {F1_MIN}\n{text_diff(exp, got)}"


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_title(path, real_extracted):
    title = realpage_title(path)
    if title is None:
        pytest.skip(f"{path.name}: the page names no title of its own (<ucaptitle>, ArticleTitle)")
    assert real_extracted(path).title == title


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_type_is_what_its_title_makes_certain(path, real_extracted):
    rec = real_extracted(path)
    assert rec.doc_type in DOC_TYPES
    expected = titled_doc_type(realpage_title(path) or rec.title)
    if expected == "annual_report":
        assert rec.doc_type == "annual_report" and rec.report_year, path.name
    elif expected == "not annual_report":
        assert rec.doc_type != "annual_report", path.name


@need_real
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_realpage_no_chrome(path, real_extracted):
    exp = realpage_body(path)
    markers = [s for s in REAL_CHROME if exp is None or s not in exp]
    got = real_extracted(path).text
    assert got.strip(), f"{path.name}: no body"
    leaked = [s for s in markers if s in got]
    assert not leaked, f"{path.name}: chrome in body: {leaked}"


def test_titled_doc_type_is_sure_only_of_plain_titles():
    assert titled_doc_type("江西省2022年国民经济和社会发展统计公报") == "not annual_report"
    assert titled_doc_type("宜春市人民政府关于2022年度法治政府建设情况的报告") == "annual_report"
    assert titled_doc_type("XX县2021年依法行政工作报告") == "annual_report"
    assert titled_doc_type("2022年度履行推进法治建设第一责任人职责情况报告") == "not annual_report"
    assert titled_doc_type("关于印发2023年法治政府建设工作要点的通知") == "not annual_report"
    assert titled_doc_type("法治政府建设") is None and titled_doc_type(None) is None
