"""Real crawls of list-template variants the CMS test portals do not use: a TRS column in `.shtml` paged by
the newer `createPageHTML('page_div', countPage, ...)` call with dates inside the item links, and a column
whose 下一页 link is `javascript:;` with the next page's URL in its onclick (and an off-site entry)."""

from __future__ import annotations

import re

import pytest

import helpers  # noqa: F401  (puts the repo on sys.path)
from crawler.demo.server import Item, PortalServer, Response
from crawler.demo.sites import SITES, TrsPortal, column_items, esc, load_seed_reports, report_item
from crawler.crawl.runner import crawl
from crawler.urls import canonicalize
from storage import connect


class _VariantPortal(TrsPortal):
    """A TrsPortal (same items and detail pages) whose list pages are `list_page_name(n)` and `render(...)`."""

    def list_path(self, number: int) -> str:
        raise NotImplementedError

    def handle(self, request):
        pages = self.pages()
        for number in range(len(pages)):
            if request.path == self.list_path(number):
                return Response.html(self.render(pages, number), last_modified=self.modified)
        item = self.item_by_path(request.path)
        return Response.html(self.detail_page(item), last_modified=item.published_dt) if item else None

    def rows(self, items) -> str:
        return "\n".join(f'<li><a href="{self._href(i)}"><span class="t">{esc(i.title)}</span>'
                         f'<span class="d">{i.date}</span></a></li>' for i in items)


class ShtmlTrsPortal(_VariantPortal):
    column_path = "/zwgk/fzzfjs/index.shtml"

    def list_path(self, number: int) -> str:
        return "/zwgk/fzzfjs/index.shtml" if number == 0 else f"/zwgk/fzzfjs/index_{number}.shtml"

    def render(self, pages, number: int) -> str:
        return (f"<html><head><meta charset='utf-8'></head><body><ul class='list'>{self.rows(pages[number])}</ul>"
                f"<div id='page_div'></div><script>var countPage = {len(pages)};var currentPage = {number};"
                f"createPageHTML('page_div', countPage, currentPage, 'index', 'shtml', 1057);</script></body></html>")


class OnclickPagerPortal(_VariantPortal):
    column_path = "/zwgk/fzzfjs/list.html"

    def list_path(self, number: int) -> str:
        return "/zwgk/fzzfjs/list.html" if number == 0 else f"/zwgk/fzzfjs/list_{number + 1}.html"

    def render(self, pages, number: int) -> str:
        pager = f"<span>共{len(pages)}页</span>"
        if number + 1 < len(pages):
            target = self.list_path(number + 1).rsplit("/", 1)[1]
            pager += f"<a href=\"javascript:;\" onclick=\"location.href='{target}'\">下一页 &gt;</a>"
        return (f"<html><head><meta charset='utf-8'></head><body><div class='list'><ul>{self.rows(pages[number])}"
                f"</ul></div><div class='page'>{pager}</div></body></html>")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("variants")
    seeds = load_seed_reports()
    stems = {stem[:3]: stem for stem in seeds}
    trs_report = report_item(stems["000"], seeds[stems["000"]])
    pager_report = report_item(stems["002"], seeds[stems["002"]])
    offsite = Item(title="长沙市2023年度法治政府建设情况报告", kind="offsite", published="2024-02-02 10:00",
                   href="OFFSITE")
    portals = [
        ShtmlTrsPortal("shtml", site=SITES["jinghu"],
                       items=column_items(SITES["jinghu"], [trs_report], newer=12, older=6, seed=1)),
        OnclickPagerPortal("onclick", site=SITES["wangcheng"],
                           items=column_items(SITES["wangcheng"], [pager_report], newer=9, older=8,
                                              extra=[offsite], seed=5)),
    ]
    with PortalServer(portals) as server:
        for item in portals[1].items:
            if item.href == "OFFSITE":
                item.href = server.offsite_url + "/fzzf/report.html"
        config = server.write_config(tmp / "govwatch.toml", download_delay=0, autothrottle=False, timeout=120)
        summary = crawl(config, tmp / "govwatch.db", timeout=120)
        yield {"server": server, "summary": summary, "db": tmp / "govwatch.db", "log": server.requests}


@pytest.mark.parametrize("pid", ["shtml", "onclick"])
def test_every_list_page_and_item_reached(crawled, pid):
    server, summary = crawled["server"], crawled["summary"]
    assert summary.portals[pid].status == "ok", summary.log[-3000:]
    portal = server.portal(pid)
    fetched = {r.path for r in crawled["log"] if r.portal == pid and r.status == 200}
    assert {portal.list_path(n) for n in range(len(portal.pages()))} <= fetched
    assert not [r.path for r in crawled["log"] if r.portal == pid and r.status == 404]
    docs = {r["url"]: dict(r) for r in connect(crawled["db"]).query("SELECT * FROM documents WHERE portal_id = ?",
                                                                     [pid])}
    for item in portal.served_items():
        url = canonicalize(portal.url(item))
        if item.kind == "private":
            assert url not in docs
        elif item.kind in ("report", "decoy"):
            assert url in docs, f"{item.title} ({item.kind}) not stored"
            assert (docs[url]["doc_type"] == "annual_report") == (item.kind == "report"), docs[url]["title"]
            assert not re.search(r"\d{4}-\d{2}-\d{2}$", docs[url]["title"] or "")


def test_offsite_entry_listed_but_not_followed(crawled):
    portal = crawled["server"].portal("onclick")
    (offsite,) = [i for i in portal.items if i.kind == "offsite"]
    assert not [r for r in crawled["log"] if r.portal == "_offsite"], "an off-site link was followed"
    urls = {r["url"] for r in connect(crawled["db"]).query("SELECT url FROM documents")}
    assert canonicalize(offsite.href) not in urls
