"""Test portals: one per CMS family, on top of `crawler.demo.server` (see its docstring for the API).

    from tests.portal_server import build_test_portals, PortalServer, Item
    with PortalServer(build_test_portals()) as server:
        server.write_config(tmp_path / "govwatch.toml", download_delay=0, autothrottle=False)
        ...

Portals (ids), each a different region with its golden report from seeds/expected, 4 decoys (一图读懂 解读,
next year's 工作要点, 政府信息公开工作年度报告, 示范创建 news), fillers, and one report-looking entry under
/private/ (disallowed by robots.txt; must never be fetched when robots are obeyed):

  trs         镜湖区  TRS WCM, /zwgk/fzzfjs/index.html + index_1/index_2.html; report 000 on page 2 (index_1)
  hanweb      惠济区  Hanweb JCMS, GBK under gb2312; /col/col1234/index.html embeds records 1-10, the rest via
              POST /module/web/jpage/dataproxy.jsp; report 001 at record 12 (second page)
  ucap        红谷滩区 Kaipuyun, /fzzfjs/list.shtml, list_2.shtml, list_3.shtml; report 004 (HTML) links PDF + DOCX
              copies of itself; a 详见附件 notice "红谷滩区2019年度法治政府建设工作报告" whose DOCX is the report
  gkmlpt      吉林市  JSON API /gkmlpt/api/all/5?page=N (3 pages); report 003 on page 2
  county      望城区  /news/list.asp?page=N (3 pages, 下一页); report 002; two off-site list entries (one to the
              server's `_offsite` listener looking like a report, one to https://www.gov.cn/) never to be followed
  blocked412  every path (robots.txt too) HTTP 412 with a 瑞数 $_ts challenge
  blocked521  every path HTTP 521 with a __jsl_clearance cookie script

`item.kind` tells reports ("report"; the notice is "notice"), decoys, fillers, "private" and "offsite" apart;
`item.golden` is the seeds/expected stem; `server.url(portal_id, item)` is the item's absolute URL.
"""

from __future__ import annotations

from crawler.demo.server import Attachment, Item, LoggedRequest, Portal, PortalServer  # noqa: F401 (re-exports)
from crawler.demo.sites import (
    SITES, BlockedPortal, CountyPortal, GkmlptPortal, HanwebPortal, TrsPortal, UcapPortal, column_items,
    load_seed_reports, notice_item, report_attachments, report_item, synthetic_report,
)

TEST_PORTAL_IDS = ("trs", "hanweb", "ucap", "gkmlpt", "county", "blocked412", "blocked521")
CRAWLABLE_IDS = ("trs", "hanweb", "ucap", "gkmlpt", "county")

# portal id -> seeds/expected stem prefix of its golden report
REPORT_OF = {"trs": "000", "hanweb": "001", "ucap": "004", "gkmlpt": "003", "county": "002"}


def build_test_portals() -> list[Portal]:
    seeds = load_seed_reports()
    stems = {stem[:3]: stem for stem in seeds}

    def report(prefix: str) -> Item:
        return report_item(stems[prefix], seeds[stems[prefix]])

    hgt, ws = SITES["honggutan"], SITES["wangcheng"]
    r004 = report("004")
    r004.attachments = report_attachments(r004.title, r004.paragraphs, r004.date.replace("-", ""))
    notice = notice_item(hgt, "红谷滩区2019年度法治政府建设工作报告", synthetic_report(hgt, 2019), "2020-03-20 09:30")
    offsite = [
        Item(title="长沙市2023年度法治政府建设情况报告", kind="offsite", published="2024-02-02 10:00",
             href="{offsite}/news/show.asp?id=7"),
        Item(title="国务院办公厅关于印发《法治政府建设实施纲要（2021－2025年）》的通知", kind="offsite",
             published="2024-01-20 09:00", href="https://www.gov.cn/zhengce/2021-08/11/content_5630802.htm"),
    ]
    return [
        TrsPortal("trs", site=SITES["jinghu"],
                  items=column_items(SITES["jinghu"], [report("000")], newer=12, older=6, seed=1)),
        HanwebPortal("hanweb", site=SITES["huiji"],
                     items=column_items(SITES["huiji"], [report("001")], newer=11, older=8, seed=2)),
        UcapPortal("ucap", site=hgt, items=column_items(hgt, [r004], newer=8, older=6, extra=[notice], seed=3)),
        GkmlptPortal("gkmlpt", site=SITES["jilin"],
                     items=column_items(SITES["jilin"], [report("003")], newer=14, older=5, seed=4)),
        CountyPortal("county", site=ws, items=column_items(ws, [report("002")], newer=6, older=8, extra=offsite, seed=5)),
        BlockedPortal("blocked412", "瑞数防护站点", status=412, column_path="/zwgk/fzzfjs/index.html"),
        BlockedPortal("blocked521", "加速乐防护站点", status=521, column_path="/col/col88/index.html"),
    ]
