"""Hostile content stays bounded in memory and time: zip-bomb and huge DOCX attachments, a flat list page of
10,000 links, and a document longer than the per-document cap. Memory is measured in a subprocess (its own
peak RSS, VmHWM, under an address-space limit so a regression cannot take the machine down); time bounds are ~10x
or more above what the fixed code needs (the old code took 168 s for the DOCX and 290 s for the list page).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile

from pathlib import Path

import pytest

import helpers  # noqa: F401  (repo on sys.path)
from crawler.extract.attachments import cap_text, extract_attachment
from spiders.adapters import parse_list

pytestmark = pytest.mark.timeout(300)

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                 '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                 'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/word/document.xml" ContentType="application/vnd.'
                 'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
# a package python-docx opens too (the reader this replaced), so the old path is measured on the same files
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def docx_of(paragraphs, path) -> None:
    """A DOCX whose document.xml holds `paragraphs` (an iterable of str), streamed into the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        with archive.open("word/document.xml", "w") as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>'.encode())
            chunk = []
            for text in paragraphs:
                chunk.append(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
                if len(chunk) >= 10000:
                    member.write("".join(chunk).encode())
                    chunk = []
            member.write(("".join(chunk) + "</w:body></w:document>").encode())


MEASURE = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
sys.path.insert(0, {repo!r})
from crawler.extract.attachments import extract_attachment
data = open(sys.argv[1], "rb").read()
started = time.process_time()
result = extract_attachment("http://x.gov.cn/files/report.docx", "report.docx", data)
# the peak RSS of this process image: ru_maxrss would carry the parent's peak across fork + exec
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({{"status": result.status, "chars": len(result.text), "truncated": result.truncated,
                  "error": result.error, "cpu": time.process_time() - started, "rss_mib": peak_kib / 1024}}))
"""


@pytest.fixture
def linux_proc():
    if not Path("/proc/self/status").exists():
        pytest.skip("peak RSS is read from /proc/self/status")


def measure_extraction(path) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE.format(repo=str(helpers.REPO)), str(path)],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_a_docx_bomb_is_refused_before_it_is_inflated(tmp_path, linux_proc):
    # 2,000,000 identical paragraphs: ~70 MB of XML in a few hundred KB (the file that became an
    # 18,000,000-character document after 168 s at 2.0 GB)
    path = tmp_path / "bomb.docx"
    docx_of(("第一条" for _ in range(2_000_000)), path)
    assert path.stat().st_size < 1_000_000
    got = measure_extraction(path)
    assert got["status"] == "too_large" and "would inflate" in got["error"], got
    assert got["chars"] == 0 and got["cpu"] < 10 and got["rss_mib"] < 200, got


def test_a_huge_docx_is_streamed_and_cut_at_the_attachment_cap(tmp_path, linux_proc):
    # 600,000 distinct paragraphs (compresses like real text, below the bomb ratio): ~15 million characters
    path = tmp_path / "huge.docx"
    docx_of((f"第{n}段：全面推进依法行政，持续优化法治化营商环境。" for n in range(600_000)), path)
    got = measure_extraction(path)
    assert got["status"] == "ok" and got["truncated"], got
    assert 400_000 < got["chars"] <= 500_000
    assert got["cpu"] < 30 and got["rss_mib"] < 250, got  # python-docx held the whole tree: gigabytes


def test_docx_tables_are_one_line_per_row_in_document_order():
    body = (f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>'
            "<w:p><w:r><w:t>第一段</w:t></w:r></w:p>"
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>项目</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>数量</w:t></w:r>"
            "</w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>行政复议</w:t></w:r></w:p><w:p><w:r><w:t>案件</w:t>"
            "</w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>12</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
            "<w:p><w:r><w:t>第</w:t></w:r><w:r><w:tab/><w:t>二段</w:t></w:r></w:p></w:body></w:document>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", body)
    result = extract_attachment("http://x.gov.cn/a.docx", "a.docx", buffer.getvalue())
    assert result.status == "ok" and not result.truncated
    assert result.text == "第一段\n项目 数量\n行政复议 案件 12\n第 二段"


def test_cap_text_cuts_at_a_line_end_and_says_so():
    text = "\n".join("法治政府建设" * 10 for _ in range(100))
    cut, truncated = cap_text(text, 1000)
    assert truncated and len(cut) <= 1000 and cut.endswith("建设") and text.startswith(cut)
    assert cap_text(text, len(text)) == (text, False) and cap_text(text, None) == (text, False)


@pytest.mark.parametrize("layout", ["div", "table"])
def test_a_flat_list_page_of_10000_links_parses_in_linear_time(layout):
    if layout == "div":  # every link and its date side by side in one container: the O(n^2) case
        rows = "".join(f'<a href="/art/2023/{n}.html">某县法治政府建设工作动态第{n}期</a><span>2023-01-{n % 28 + 1:02d}</span>'
                       "<br>" for n in range(10_000))
        page = f"<html><body><div class='list'>{rows}</div></body></html>"
    else:
        rows = "".join(f'<tr><td><a href="/art/2023/{n}.html">某县法治政府建设工作动态第{n}期</a></td>'
                       f"<td>2023-01-{n % 28 + 1:02d}</td></tr>" for n in range(10_000))
        page = f"<html><body><table class='list'>{rows}</table></body></html>"
    started = time.process_time()
    listed = parse_list(page.encode(), "http://x.gov.cn/col/")
    cpu = time.process_time() - started
    assert len(listed.items) == 10_000 and listed.items[9_999].date == "2023-01-04"
    assert cpu < 30, f"{cpu:.1f} s CPU for 10,000 links (linear: ~1 s; it was 290 s)"


def test_a_crawl_takes_at_most_max_list_items_from_a_page_and_cuts_long_documents(tmp_path):
    from crawler.crawl.runner import crawl
    from crawler.demo.server import PortalServer
    from storage import connect
    from test_nothing_lost import PagedSite, item

    site = PagedSite("p", "示例县人民政府", [item(n) for n in range(50)])
    site.per_page = 50
    with PortalServer([site], offsite=False) as server:
        config = server.write_config(tmp_path / "g.toml", download_delay=0, autothrottle=False, max_list_items=20)
        summary = crawl(config, tmp_path / "g.db", timeout=120, settings={"GOVWATCH_MAX_DOCUMENT_CHARS": 300})
    assert summary.portals["p"].status == "ok" and summary.portals["p"].new_documents == 20, summary.log[-3000:]
    assert "holds 50 items, only the first 20 are taken ([crawl] max_list_items)" in summary.log
    rows = list(connect(tmp_path / "g.db").execute("SELECT text, text_sources FROM documents"))
    assert len(rows) == 20
    for text, sources in rows:
        assert len(text) <= 300 and {"from": "truncated", "chars": len(text)} in json.loads(sources)
