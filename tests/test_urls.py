"""crawler.urls.canonicalize: one page, one URL, still fetchable."""

import pytest

from helpers import REPO  # noqa: F401  (puts the repo on sys.path)
from crawler.urls import canonicalize


@pytest.mark.parametrize("url, expected", [
    # scheme / host case, default ports, trailing dot, fragments
    ("HTTP://WWW.Example.GOV.cn:80/a.html#top", "http://www.example.gov.cn/a.html"),
    ("https://a.gov.cn:443/a.html", "https://a.gov.cn/a.html"),
    ("https://a.gov.cn:8443/a.html", "https://a.gov.cn:8443/a.html"),
    ("http://a.gov.cn./a.html", "http://a.gov.cn/a.html"),
    ("http://a.gov.cn", "http://a.gov.cn/"),
    ("  http://a.gov.cn/x.html  ", "http://a.gov.cn/x.html"),
    # index pages -> their directory, with the slash (fetchable)
    ("http://a.gov.cn/col/col1/index.html", "http://a.gov.cn/col/col1/"),
    ("http://a.gov.cn/col/col1/INDEX.SHTML", "http://a.gov.cn/col/col1/"),
    ("http://a.gov.cn/index.htm", "http://a.gov.cn/"),
    ("http://a.gov.cn/col/default.html", "http://a.gov.cn/col/"),
    ("http://a.gov.cn/index.jsp?id=3", "http://a.gov.cn/index.jsp?id=3"),  # a script with arguments
    ("http://a.gov.cn/findex.html", "http://a.gov.cn/findex.html"),
    # trailing slash: neither added nor removed
    ("http://a.gov.cn/col/", "http://a.gov.cn/col/"),
    ("http://a.gov.cn/col", "http://a.gov.cn/col"),
    # dot segments and repeated slashes
    ("http://a.gov.cn/a//b/./c/../d.html", "http://a.gov.cn/a/b/d.html"),
    ("http://a.gov.cn/../x.html", "http://a.gov.cn/x.html"),
    # tracking parameters removed, order and spelling of the rest kept
    ("http://a.gov.cn/x?utm_source=wx&id=3&spm=1.2&b=&from=timeline", "http://a.gov.cn/x?id=3&b="),
    ("http://a.gov.cn/x?z=1&a=2", "http://a.gov.cn/x?z=1&a=2"),
    ("http://a.gov.cn/x?", "http://a.gov.cn/x"),
    ("http://a.gov.cn/x?utm_medium=a", "http://a.gov.cn/x"),
    # percent-encoding: upper-case escapes, unreserved decoded, reserved kept, non-ASCII encoded
    ("http://a.gov.cn/%e4%b8%ad%7efile", "http://a.gov.cn/%E4%B8%AD~file"),
    ("http://a.gov.cn/x?q=%2f&r=a+b", "http://a.gov.cn/x?q=%2F&r=a+b"),
    ("http://a.gov.cn/新闻/a b.html", "http://a.gov.cn/%E6%96%B0%E9%97%BB/a%20b.html"),
    ("http://a.gov.cn/100%.html", "http://a.gov.cn/100%25.html"),
    # IDN host -> punycode
    ("http://政府.政务.cn/a", "http://xn--mxtq1m.xn--zfr164b.cn/a"),
    # hash routes of single-page portals are kept
    ("http://a.gov.cn/#/detail?id=1", "http://a.gov.cn/#/detail?id=1"),
    ("http://a.gov.cn/#!/d/1", "http://a.gov.cn/#!/d/1"),
    # userinfo, IPv6
    ("http://u:p@A.cn:8080/x", "http://u:p@a.cn:8080/x"),
    ("http://[::1]:80/x", "http://[::1]/x"),
    # not absolute: unchanged
    ("/relative/path", "/relative/path"),
])
def test_canonicalize(url, expected):
    assert canonicalize(url) == expected


def test_idempotent_and_same_page_same_key():
    variants = ["HTTP://A.gov.cn:80/col/col1/index.html?utm_source=x#f", "http://a.gov.cn/col/col1/",
                "http://a.gov.cn//col/./col1/index.html", "http://a.gov.cn/col/col1/index.html?"]
    keys = {canonicalize(v) for v in variants}
    assert keys == {"http://a.gov.cn/col/col1/"}
    for v in variants + ["http://a.gov.cn/%e4%b8%ad?x=1&y=%41", "http://政府.cn/新闻"]:
        once = canonicalize(v)
        assert canonicalize(once) == once


def test_http_and_https_stay_distinct():
    assert canonicalize("http://a.gov.cn/x") != canonicalize("https://a.gov.cn/x")
