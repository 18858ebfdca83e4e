"""The WARC archive (crawler.corpus.archive): records written whole and read back by their pointer, size
rotation, files a killed writer left, and streaming foreign WARC files (warcio-written, as wget, browsertrix
and Heritrix write them: request/metadata/revisit records, chunked and gzip-encoded responses)."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import zlib

import pytest

import helpers
from crawler.corpus import archive
from crawler.corpus.archive import ArchiveError, Exchange, WarcWriter, iter_file, read_capture, recover

PAGE = "<html><head><title>镜湖区2020年法治政府建设情况的报告</title></head><body><p>正文</p></body></html>"


def exchange(n: int, body: bytes | None = None, **kw) -> Exchange:
    body = body if body is not None else (PAGE.replace("正文", f"正文{n}" * 50)).encode("gb18030")
    return Exchange(f"http://www.jinghu.gov.cn/art/{n}.html?id={n}", 200,
                    [("Content-Type", "text/html; charset=gb2312"), ("Transfer-Encoding", "chunked"),
                     ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], body,
                    request_headers=[("User-Agent", "govwatch-test"), ("Accept", "text/html")],
                    ip_address="127.0.0.2", **kw)


def members(path) -> list[bytes]:
    """The decompressed gzip members of a file, one per record."""
    data, out = open(path, "rb").read(), []
    while data:
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out.append(d.decompress(data))
        assert d.eof, "a member is cut short"
        data = d.unused_data
    return out


def test_an_exchange_reads_back_by_its_pointer_with_its_headers(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointers = [writer.write_exchange(exchange(n)) for n in range(3)]
    for n, pointer in enumerate(pointers):
        capture = read_capture(tmp_path, pointer)
        assert capture.url == f"http://www.jinghu.gov.cn/art/{n}.html?id={n}"
        assert capture.body == exchange(n).body and capture.status == 200
        assert capture.charset == "gb2312" and capture.record_type == "response"
        # the body is archived decoded: the wire framing moves aside, Content-Length is the body's
        assert capture.header("Transfer-Encoding") is None and capture.header("X-Archive-Orig-Transfer-Encoding")
        assert capture.header("Content-Length") == str(len(capture.body))
        assert [v for k, v in capture.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
        assert pointer["record_id"] == capture.record_id and pointer["captured_at"] == capture.date
    (name,) = {p["file"] for p in pointers}
    assert name.endswith(".warc.gz") and sorted(os.listdir(tmp_path)) == [name]


def test_files_are_valid_warc_one_gzip_member_per_record_with_request_records(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointer = writer.write_exchange(exchange(1))
    path = tmp_path / pointer["file"]
    records = members(path)
    assert [r.split(b"\r\n", 1)[0] for r in records] == [b"WARC/1.1"] * 3
    kinds = [next(line for line in r.split(b"\r\n") if line.startswith(b"WARC-Type:")) for r in records]
    assert kinds == [b"WARC-Type: warcinfo", b"WARC-Type: response", b"WARC-Type: request"]
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as handle:
        seen = []
        for record in ArchiveIterator(handle, check_digests=True):
            record.content_stream().read()
            seen.append(record)
        assert all(r.digest_checker.passed is not False for r in seen)
    request = seen[2]
    assert request.http_headers.protocol == "GET" and "/art/1.html?id=1" in request.http_headers.statusline
    assert request.http_headers.get_header("User-Agent") == "govwatch-test"
    assert request.http_headers.get_header("Host") == "www.jinghu.gov.cn"
    assert request.rec_headers.get_header("WARC-Concurrent-To") == seen[1].rec_headers.get_header("WARC-Record-ID")
    assert seen[1].rec_headers.get_header("WARC-IP-Address") == "127.0.0.2"


def test_files_rotate_by_size_and_every_pointer_stays_readable(tmp_path):
    with WarcWriter(tmp_path, max_file_bytes=4000) as writer:
        pointers = [writer.write_exchange(exchange(n)) for n in range(12)]
        files = list(writer.files)
    assert len(files) >= 3 and sorted(os.listdir(tmp_path)) == sorted(files)
    for name in files:
        assert os.path.getsize(tmp_path / name) < 4000 + 2 * max(p["length"] for p in pointers) + 1000
        assert members(tmp_path / name)[0].count(b"WARC-Type: warcinfo") == 1
    for n, pointer in enumerate(pointers):
        assert read_capture(tmp_path, pointer).body == exchange(n).body


def test_the_open_file_is_readable_while_written_and_renamed_when_closed(tmp_path):
    writer = WarcWriter(tmp_path)
    pointer = writer.write_exchange(exchange(1))
    assert os.listdir(tmp_path) == [pointer["file"] + ".open"]
    assert read_capture(tmp_path, pointer).body == exchange(1).body
    assert recover(tmp_path) == []  # a live writer's file is left alone
    writer.close()
    assert os.listdir(tmp_path) == [pointer["file"]]
    assert read_capture(tmp_path, pointer).body == exchange(1).body


def test_a_failed_write_is_cut_back_to_the_whole_records(tmp_path, monkeypatch):
    writer = WarcWriter(tmp_path)
    first = writer.write_exchange(exchange(1))
    size = os.path.getsize(tmp_path / (first["file"] + ".open"))
    real_write = os.write

    def half_then_full_disk(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.os, "write", half_then_full_disk)
    with pytest.raises(ArchiveError, match="No space left"):
        writer.write_exchange(exchange(2))
    monkeypatch.setattr(archive.os, "write", real_write)
    assert os.path.getsize(tmp_path / (first["file"] + ".open")) == size
    third = writer.write_exchange(exchange(3))
    writer.close()
    assert third["offset"] == size
    assert len(members(tmp_path / first["file"])) == 5  # warcinfo + two exchanges
    assert read_capture(tmp_path, third).body == exchange(3).body


def test_recover_cuts_a_killed_writers_file_back_to_its_last_whole_record(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointers = [writer.write_exchange(exchange(n)) for n in range(3)]
    name = pointers[0]["file"]
    whole = os.path.getsize(tmp_path / name)
    torn = tmp_path / (name + ".open")
    os.replace(tmp_path / name, torn)
    extra = archive._gzip_member(b"WARC/1.1\r\nWARC-Type: response\r\n" + b"x" * 5000, 6)
    with open(torn, "ab") as handle:
        handle.write(extra[: len(extra) // 2])  # what a SIGKILL in the middle of a write leaves
    assert recover(tmp_path) == [(name, len(extra) // 2)]
    assert os.listdir(tmp_path) == [name] and os.path.getsize(tmp_path / name) == whole
    assert [f.record_type for f in iter_file(tmp_path / name)] == ["warcinfo"] + ["response", "request"] * 3
    # a file with no whole record at all is removed
    empty = tmp_path / "govwatch-x-00001-h-1.warc.gz.open"
    empty.write_bytes(extra[:10])
    assert recover(tmp_path) == [("govwatch-x-00001-h-1.warc.gz", 10)] and not empty.exists()


KILLED_WRITER = """
import json, sys
sys.path.insert(0, sys.argv[2])
from crawler.corpus.archive import Exchange, WarcWriter
writer = WarcWriter(sys.argv[1], max_file_bytes=10**9)
n = 0
while True:
    body = bytes(range(256)) * (4096 * (1 + n % 3))  # 1-3 MiB, incompressible enough to take a while
    pointer = writer.write_exchange(Exchange(f"http://h.gov.cn/{n}.pdf", 200, [("Content-Type", "application/pdf")], body))
    print(json.dumps(pointer), flush=True)
    n += 1
"""


def test_a_writer_killed_mid_crawl_leaves_only_whole_records_and_every_pointer_readable(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path), str(helpers.REPO)],
                            stdout=subprocess.PIPE, text=True)
    pointers = []
    try:
        for line in proc.stdout:
            pointers.append(json.loads(line))
            if len(pointers) == 8:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(pointers) == 8
    assert [p.name for p in tmp_path.iterdir()] == [pointers[0]["file"] + ".open"]
    recover(tmp_path)
    path = tmp_path / pointers[0]["file"]
    records = list(iter_file(path))  # no error: the file ends with a whole record
    assert len(records) >= 1 + 2 * len(pointers)
    for n, pointer in enumerate(pointers):
        assert read_capture(tmp_path, pointer).body == bytes(range(256)) * (4096 * (1 + n % 3))


def test_reading_a_missing_or_cut_record_is_one_line_naming_the_file(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointer = writer.write_exchange(exchange(1))
    with pytest.raises(ArchiveError, match=r"gone\.warc\.gz: WARC file not found"):
        read_capture(tmp_path, dict(pointer, file="gone.warc.gz"))
    with pytest.raises(ArchiveError, match="cut short"):
        read_capture(tmp_path, dict(pointer, length=pointer["length"] + 10**6))
    with pytest.raises(ArchiveError, match="no readable record at offset 7") as caught:
        read_capture(tmp_path, dict(pointer, offset=7))
    assert "\n" not in str(caught.value)


def test_resource_records_keep_a_saved_page_as_given(tmp_path):
    with WarcWriter(tmp_path) as writer:
        pointer = writer.write_resource("file:///saved/a.txt", "镜湖区".encode(), content_type="text/plain",
                                        source="/saved/a.txt")
    capture = read_capture(tmp_path, pointer)
    assert capture.record_type == "resource" and capture.status is None and capture.body == "镜湖区".encode()
    assert capture.content_type == "text/plain"


# --- foreign WARC files --------------------------------------------------------------------------------------


def chunked(data: bytes, size: int = 1000) -> bytes:
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def foreign_warc(path, *, gzip_records: bool = True) -> dict:
    """A WARC as crawlers write them (warcio's writer): warcinfo, request/response pairs (one chunked and
    gzip-encoded), a metadata record, a revisit of the first page, an image."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = {"http://a.gov.cn/1.html": PAGE.encode("utf-8"), "http://a.gov.cn/2.html": PAGE.replace("正文", "第二页").encode()}
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzip_records)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "Wget/1.21"}))
        for url, body in pages.items():
            if url.endswith("2.html"):
                payload = chunked(gzip.compress(body))
                headers = [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked"),
                           ("Content-Encoding", "gzip")]
            else:
                payload, headers = body, [("Content-Type", "text/html; charset=utf-8"),
                                          ("Content-Length", str(len(body)))]
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), length=len(payload),
                                                 http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"))
            request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), length=0,
                                                http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", "a.gov.cn")],
                                                                              is_http_request=True))
            writer.write_request_response_pair(request, response)
        writer.write_record(writer.create_warc_record("metadata://crawl/log", "metadata",
                                                      payload=io.BytesIO(b"outlinks: x"), length=11,
                                                      warc_content_type="text/anvl"))
        digest = None
        with open(path, "rb") as reread:
            for found in iter_file(reread.name):
                if found.url == "http://a.gov.cn/1.html" and found.record_type == "response":
                    digest = found.payload_digest
        writer.write_record(writer.create_revisit_record("http://a.gov.cn/1.html", digest, "http://a.gov.cn/1.html",
                                                         "2024-01-01T00:00:00Z"))
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
        writer.write_record(writer.create_warc_record(
            "http://a.gov.cn/logo.png", "response", payload=io.BytesIO(png), length=len(png),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")))
    return pages


@pytest.mark.parametrize("gzip_records", [True, False])
def test_foreign_warc_files_stream_with_encodings_undone(tmp_path, gzip_records):
    path = tmp_path / ("crawl.warc.gz" if gzip_records else "crawl.warc")
    pages = foreign_warc(path, gzip_records=gzip_records)
    found = list(iter_file(path))
    assert [f.record_type for f in found] == ["warcinfo", "response", "request", "response", "request",
                                              "metadata", "revisit", "response"]
    responses = [f for f in found if f.record_type == "response" and f.url in pages]
    assert [f.capture.body for f in responses] == list(pages.values())  # chunked + gzip of page 2 undone
    assert found[6].refers_to_url == "http://a.gov.cn/1.html"
    for f in responses:  # each record also reads back alone from its offset
        assert read_capture(None, {"file": str(path), "offset": f.offset, "length": f.length}).body == pages[f.url]


def test_streaming_reads_only_the_payloads_asked_for(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    foreign_warc(path)
    found = list(iter_file(path, want=lambda r: None if r.record_type == "response" else "not a response"))
    assert {f.record_type for f in found if f.capture is not None} == {"response"}
    assert {f.skipped for f in found if f.capture is None} == {"not a response"}


def test_a_file_that_is_no_warc_is_one_error(tmp_path):
    bad = tmp_path / "page.warc"
    bad.write_text("<html>not a warc</html>")
    with pytest.raises(ArchiveError, match="page.warc: unreadable after offset 0"):
        list(iter_file(bad))


@pytest.mark.parametrize("gzip_records", [True, False])
@pytest.mark.parametrize("where", ["inside the headers", "inside the payload"])
def test_a_file_that_ends_inside_a_record_is_one_error_after_the_whole_records(tmp_path, gzip_records, where):
    path = tmp_path / "crawl.warc"
    foreign_warc(path, gzip_records=gzip_records)
    whole = [(f.offset, f.length, f.record_type) for f in iter_file(path)]
    offset, length, _ = whole[3]  # the second page's response
    cut_at = {"inside the headers": offset + 20, "inside the payload": offset + length - 30}[where]
    cut = tmp_path / "cut.warc"
    cut.write_bytes(path.read_bytes()[:cut_at])
    read = []
    with pytest.raises(ArchiveError, match=r"cut\.warc: (unreadable after offset|the record at offset) \d+") as caught:
        for found in iter_file(cut):
            read.append(found.record_type)
    assert "\n" not in str(caught.value)
    expected = [kind for start, size, kind in whole if start + size <= cut_at]
    assert read == expected


# --- [archive] configuration ---------------------------------------------------------------------------------


def test_archive_is_on_by_default_beside_the_database(tmp_path):
    from crawler.config import parse_config

    config = parse_config("", tmp_path / "govwatch.toml")
    assert config.archive.directory(tmp_path / "data" / "g.db") == (tmp_path / "data" / "archive").resolve()
    assert config.archive.max_file_bytes == archive.DEFAULT_MAX_FILE_BYTES
    assert config.alerts.alert_on_reclassified is False
    absolute = parse_config(f'[archive]\ndir = "{tmp_path / "warc"}"\nmax_file_bytes = 2097152\n'
                            '[alerts]\nalert_on_reclassified = true\n')
    assert absolute.archive.directory("elsewhere/g.db") == tmp_path / "warc"
    assert absolute.archive.max_file_bytes == 2097152 and absolute.alerts.alert_on_reclassified
    assert parse_config('[archive]\ndir = "off"\n').archive.directory(tmp_path / "g.db") is None


@pytest.mark.parametrize("text, line, words", [
    ('[archive]\nmax_file_bytes = 1000\n', 2, "max_file_bytes must be at least 1048576"),
    ('[archive]\ndir = ""\n', 2, 'dir must be a folder or "off"'),
    ('[archive]\ndir = false\n', 2, "[archive] dir must be str"),
    ('[archive]\nmaxfilebytes = 5\n', 2, "unknown key 'maxfilebytes' in [archive]"),
    ('\n[alerts]\nalert_on_reclassified = "yes"\n', 3, "alert_on_reclassified must be bool"),
])
def test_a_bad_archive_key_is_one_error_naming_file_line_and_key(tmp_path, text, line, words):
    from crawler.config import ConfigError, load_config

    path = tmp_path / "govwatch.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: ") and words in str(caught.value)
    assert "\n" not in str(caught.value)
