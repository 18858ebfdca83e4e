"""crawler.extract.document: the document a page and its attachments make (crawl, reextract and import alike)."""

from __future__ import annotations

import helpers
from crawler.demo.sites import make_docx
from crawler.extract import analyse
from crawler.extract.attachments import AttachmentText, extract_attachment
from crawler.extract.document import attachment_links, document_fields

REPORT = ["2022年，我区坚持以习近平法治思想为指导，法治政府建设取得新成效。现将有关情况报告如下：", "一、主要举措和成效",
          "推进严格规范公正文明执法。" * 10, "二、存在的不足", "基层法治力量仍然薄弱。" * 4, "三、下一步工作安排",
          "持续深化法治政府建设。", "特此报告。", "芜湖市镜湖区人民政府", "2023年3月1日"]


def page(body: str, title: str = "关于2022年度法治政府建设情况的报告") -> bytes:
    return (f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1>'
            f'<div class="info">发布时间：2023-03-05</div><div id="zoom">{body}</div></body></html>').encode()


def test_a_page_without_attachments_is_its_record():
    stem = helpers.seed_stems()[0]
    analysed = analyse((helpers.SEED_PAGES / f"{stem}.txt").read_bytes())
    fields = document_fields(analysed, [], url=None, listed_title="列表标题", listed_date="2000-01-01")
    assert {k: fields[k] for k in helpers.RECORD_FIELDS} == helpers.load_expected(stem)
    assert fields["attachments"] == [] and fields["text_sources"] == [{"from": "page", "chars": len(fields["text"])}]


def test_a_notice_takes_text_type_year_and_region_from_its_attachment():
    notice = analyse(page('<p>详见附件。</p><p><a href="/P1.docx">年度报告.docx</a><a href="/P1.docx">下载</a>'
                          '<a href="/t.xlsx">统计表.xlsx</a></p>'), "http://www.example.gov.cn/art/1.html")
    assert attachment_links(notice) == [("http://www.example.gov.cn/P1.docx", "年度报告.docx")]
    attachment = extract_attachment("http://www.example.gov.cn/P1.docx", "年度报告.docx", make_docx("报告", REPORT))
    fields = document_fields(notice, [attachment], url="http://www.example.gov.cn/art/1.html")
    assert fields["text"] == attachment.text and fields["text_sources"][0]["from"].endswith("P1.docx")
    assert (fields["doc_type"], fields["report_year"]) == ("annual_report", 2022)
    assert (fields["region"], fields["adcode"]) == ("芜湖市镜湖区", "340202")  # the signature names the issuer
    assert fields["published_at"] == "2023-03-05"


def test_a_file_is_the_document_titled_by_its_listing():
    attachment = extract_attachment("http://x.gov.cn/P2.docx", "P2.docx", make_docx("报告", REPORT))
    fields = document_fields(None, [attachment], url=None, listed_title="镜湖区2022年度法治政府建设情况报告",
                             listed_date="2023-03-02")
    assert fields["title"] == "镜湖区2022年度法治政府建设情况报告" and fields["published_at"] == "2023-03-02"
    assert (fields["doc_type"], fields["report_year"], fields["adcode"]) == ("annual_report", 2022, "340202")
    failed = AttachmentText("http://x.gov.cn/P3.pdf", "P3.pdf", "error", "", "HTTP 404")
    empty = document_fields(None, [failed], url=None, listed_title="某文件")
    assert empty["text"] == "" and empty["attachments"][0]["error"] == "HTTP 404"
