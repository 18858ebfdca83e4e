"""Portal styles (one per CMS family) and the content they serve.

Styles (subclasses of `crawler.demo.server.Portal`):

  TrsPortal      TRS WCM: column `/zwgk/fzzfjs/index.html`, `index_1.html` ...; the pager exists only as
                 `createPageHTML(n, i, "index", "html")` script; items `./YYYYMM/tYYYYMMDD_ID.html`; detail pages
                 with `.TRS_Editor`, ArticleTitle/PubDate/ContentSource/SiteName/ColumnName meta tags.
  HanwebPortal   Hanweb JCMS, GBK bytes under a gb2312 label: column `/col/col1234/index.html` with the first
                 records in `<script type="text/xml"><datastore>...`; the rest from POST
                 `/module/web/jpage/dataproxy.jsp?startrecord=N&endrecord=M&perpage=K`; detail `/art/Y/M/D/
                 art_1234_ID.html` with `#zoom`.
  UcapPortal     Kaipuyun 集约化: column `/fzzfjs/list.shtml`, `list_2.shtml` ... with 下一页/尾页 links;
                 detail `.shtml` pages with `<ucaptitle>`/`<ucapcontent>`; attachments (PDF, DOCX).
  GkmlptPortal   JSON list API: shell `/gkmlpt/index`, data `/gkmlpt/api/all/5?page=N`.
  CountyPortal   plain county site: `/news/list.asp?page=N` with 下一页 links, table-layout `show.asp?id=N`.
  BlockedPortal  every path (robots.txt too) answers 412 (瑞数) or 521 (加速乐) with a challenge script.

`build_demo_portals()` gives the demo set; `tests/portal_server.py` builds the test set from the same parts.
"""

from __future__ import annotations

import hashlib
import html as _html
import io
import json
import random
import zipfile
import zlib
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from crawler.demo.server import Attachment, Item, Portal, Request, Response, parse_published

esc = _html.escape


# ---------------------------------------------------------------------------------------------------------
# Seed reports


def load_seed_reports(directory: str | Path | None = None) -> dict[str, dict]:
    """The golden records of the seed pages, by file stem: the package's `crawler/demo/seeds/*.json` (read
    with importlib.resources, so an installed wheel has them; `seeds/expected` of a checkout links there),
    or those of `directory`."""
    if directory is not None:
        folder = Path(directory)
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        where = str(folder)
    else:
        folder = resources.files("crawler.demo") / "seeds"
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name) \
            if folder.is_dir() else []
        where = "the package data crawler/demo/seeds (a broken install: reinstall govwatch)"
    if not files:
        raise FileNotFoundError(f"seed reports not found in {where}: the demo portals are built from them")
    return {f.name[:-5]: json.loads(f.read_text(encoding="utf-8")) for f in files}


def report_item(stem: str, golden: dict) -> Item:
    return Item(title=golden["title"], paragraphs=golden["text"].split("\n"),
                published=golden["published_at"].replace("T", " "), source=golden.get("source"),
                author=golden.get("author"), kind="report", golden=stem)


# ---------------------------------------------------------------------------------------------------------
# Site facts and generated content

SITES = {
    "jinghu": dict(site="芜湖市镜湖区人民政府", short="镜湖区", column="法治政府建设", site_id="3402020001",
                   icp="皖ICP备05017361号", office="镜湖区司法局"),
    "huiji": dict(site="郑州市惠济区人民政府", short="惠济区", column="法治政府建设", site_id="4101080001",
                  icp="豫ICP备05016272号", office="惠济区司法局"),
    "honggutan": dict(site="南昌市红谷滩区人民政府", short="红谷滩区", column="法治政府建设", site_id="3601130001",
                      icp="赣ICP备05004719号", office="红谷滩区司法局"),
    "jilin": dict(site="吉林市人民政府", short="吉林市", column="法治政府", site_id="2202000001",
                  icp="吉ICP备05002451号", office="吉林市司法局"),
    "wangcheng": dict(site="长沙市望城区人民政府", short="望城区", column="法治政府建设", site_id="4301120001",
                      icp="湘ICP备05003598号", office="望城区司法局"),
}

_FILLER_TITLES = [
    "关于公布{short}第{n}批行政规范性文件清理结果的通知",
    "{short}司法局开展“八五”普法宣传进社区活动（第{n}期）",
    "{short}召开第{n}次行政执法协调监督工作会议",
    "关于开展{year}年度行政执法案卷评查工作的通知（{n}）",
    "{short}举办领导干部学法讲座第{n}讲",
    "{short}行政复议体制改革工作推进情况通报（{n}）",
    "关于征求《{short}重大行政决策程序规定（草案）》意见的公告（{n}）",
    "{short}公共法律服务中心第{n}季度工作动态",
]


_WHO = ["司法局", "市场监管局", "城管执法局", "生态环境分局", "人社局", "应急管理局", "卫健委",
        "教育局", "交通运输局", "住建局", "自然资源分局", "农业农村局", "各街道办事处", "行政审批局"]
_DID = ["组织开展", "集中部署", "专题研究", "督促落实", "全面推进", "联合开展", "认真组织", "扎实推进"]
_WHAT = ["行政执法“三项制度”落实情况检查", "重大行政决策合法性审查", "行政规范性文件备案审查", "执法人员法律知识培训",
         "“双随机、一公开”联合抽查", "行政复议案件集中审理", "法律顾问参与涉法事务", "证明事项告知承诺制",
         "包容审慎监管清单修订", "矛盾纠纷排查化解", "普法责任制清单公示", "政务服务事项标准化梳理",
         "行政应诉败诉案件分析", "涉企行政检查备案", "基层法治观察点建设", "公职律师队伍建设"]
_RESULT = ["共检查执法案卷{n}卷，发现问题{m}个，已督促整改。", "累计培训执法人员{n}人次，考试合格率{p}%。",
           "审查各类文件{n}件，提出修改意见{m}条。", "受理群众来信来访{n}件，按期办结率{p}%。",
           "抽查市场主体{n}户，责令整改{m}户。", "出具法律意见书{n}份，挽回经济损失{m}万元。",
           "组织旁听庭审{n}场，参与干部{m}人次。", "梳理公布事项{n}项，其中新增{m}项。"]
_NEXT = ["下一步，将持续巩固工作成效，推动形成长效机制。", "下一步，将加强跟踪问效，确保问题整改到位。",
         "下一步，将把法治要求贯穿行政管理全过程。", "下一步，将进一步压实责任，强化督查考核。",
         "下一步，将总结推广经验做法，提升基层依法行政水平。"]


def _filler_paragraphs(short: str, when: datetime, rng: random.Random) -> list[str]:
    """A short news text of its own (column items on real portals are distinct texts, not near-copies)."""
    paras = [f"{when.month}月{when.day}日，{short}{rng.choice(_WHO)}{rng.choice(_DID)}{rng.choice(_WHAT)}工作。"]
    for what in rng.sample(_WHAT, rng.randint(2, 4)):
        result = rng.choice(_RESULT).format(n=rng.randint(12, 980), m=rng.randint(2, 60), p=rng.randint(90, 100))
        paras.append(f"{rng.choice(_WHO)}围绕{what}，{rng.choice(_DID)}相关工作，{result}")
    paras.append(rng.choice(_NEXT))
    return paras


def filler_items(site: dict, count: int, start: str, step_days: int = 9, seed: int = 0) -> list[Item]:
    """`count` ordinary column items, the first published at `start`, then every `step_days` (deterministic)."""
    base = parse_published(start)
    out = []
    for k in range(count):
        when = base + timedelta(days=k * step_days, hours=(k * 7 + seed) % 9, minutes=(k * 13 + seed) % 60)
        n = k + 1 + seed
        title = _FILLER_TITLES[(k + seed) % len(_FILLER_TITLES)].format(short=site["short"], n=n, year=when.year)
        paras = _filler_paragraphs(site["short"], when, random.Random(f"{site['short']}:{seed}:{k}"))
        out.append(Item(title=title, paragraphs=paras, published=when.strftime("%Y-%m-%d %H:%M"),
                        source=site["office"], kind="filler"))
    return out


def decoy_items(site: dict, report_title: str, year: int, report_date: str) -> list[Item]:
    """Pages that look like the annual report but are not: 解读, 工作要点, 信息公开年报, 示范创建 news."""
    day = parse_published(report_date)

    def at(days: int) -> str:
        return (day + timedelta(days=days, hours=1)).strftime("%Y-%m-%d %H:%M")

    short = site["short"]
    return [
        Item(title=f"一图读懂《{report_title}》", kind="decoy", published=at(2), source=site["office"],
             paragraphs=[f"近日，{short}公布了{year}年度法治政府建设情况报告。",
                         "本文以图解形式对报告的主要内容进行解读，帮助公众快速了解报告要点。",
                         "一、主要成效", "二、存在的不足", "三、下一步工作打算"]),
        Item(title=f"{short}{year + 1}年法治政府建设工作要点", kind="decoy", published=at(-20), source=site["office"],
             paragraphs=[f"{year + 1}年是全面推进法治政府建设的关键之年。为扎实做好全年工作，制定本工作要点。",
                         "一、深入学习贯彻习近平法治思想", "二、健全依法行政制度体系", "三、严格规范公正文明执法",
                         "四、强化对行政权力的制约和监督"]),
        Item(title=f"{site['site']}{year}年政府信息公开工作年度报告", kind="decoy", published=at(-45),
             source=f"{short}人民政府办公室",
             paragraphs=[f"本报告根据《中华人民共和国政府信息公开条例》要求编制，所列数据统计期限自{year}年1月1日起至"
                         f"{year}年12月31日止。", "一、总体情况", "二、主动公开政府信息情况",
                         "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况"]),
        Item(title=f"{short}召开法治政府建设示范创建工作推进会", kind="decoy", published=at(40), source=site["office"],
             paragraphs=[f"{day.year}年{day.month}月，{short}召开法治政府建设示范创建工作推进会。",
                         "会议总结了前一阶段示范创建工作，部署了下一阶段重点任务。",
                         "会议要求，各单位要对标对表示范创建指标体系，查漏补缺，确保创建工作取得实效。"]),
    ]


def private_item(site: dict, published: str) -> Item:
    """A report-looking list entry under /private/ (robots.txt disallows it: must never be fetched)."""
    return Item(title=f"{site['short']}法治政府建设情况报告（内部征求意见稿）", kind="private", published=published,
                source=site["office"], paragraphs=["本稿仅供内部征求意见，请勿外传。"])


def column_items(site: dict, reports: list[Item], *, newer: int, older: int, extra: list[Item] = (),
                 with_private: bool = True, seed: int = 0) -> list[Item]:
    """A column: the reports, their decoys, `newer` fillers after the first report and `older` before it,
    the private entry and `extra` items, newest first."""
    first = reports[0]
    year = int(_report_year(first.title) or first.published[:4])
    items = list(reports) + decoy_items(site, first.title, year, first.published) + list(extra)
    start = first.published_dt
    items += filler_items(site, newer, (start + timedelta(days=3)).strftime("%Y-%m-%d %H:%M"), 7, seed)
    items += filler_items(site, older, (start - timedelta(days=8 * older + 60)).strftime("%Y-%m-%d %H:%M"), 8,
                          seed + 3)
    if with_private:
        items.append(private_item(site, (start - timedelta(days=30)).strftime("%Y-%m-%d %H:%M")))
    return sorted(items, key=lambda i: (i.published_dt, i.title), reverse=True)


def _report_year(title: str) -> str:
    import re

    m = re.search(r"(20\d\d)年", title)
    return m.group(1) if m else ""


# ---------------------------------------------------------------------------------------------------------
# Attachments: DOCX (python-docx) and a small PDF writer with Chinese text


FIXED_ZIP_TIME = (2021, 3, 18, 13, 48, 0)


def make_docx(title: str, paragraphs: list[str]) -> bytes:
    import docx  # python-docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = ""
    document.core_properties.created = datetime(2021, 3, 18, 13, 48)
    document.core_properties.modified = datetime(2021, 3, 18, 13, 48)
    document.add_heading(title, level=1)
    for line in paragraphs:
        document.add_paragraph(line)
    raw = io.BytesIO()
    document.save(raw)
    # rewrite the zip with fixed timestamps so the bytes (and the ETag) are the same on every start
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def make_pdf(title: str, paragraphs: list[str], *, chars_per_line: int = 34, lines_per_page: int = 40) -> bytes:
    """A valid PDF showing `title` and `paragraphs` (Chinese allowed) in the Adobe STSong-Light CJK font.

    Text is written as UCS-2 codes (UniGB-UCS2-H) with an identity ToUnicode map, so viewers render it with
    their CJK font pack and pypdf extracts it. Long paragraphs wrap every `chars_per_line` characters.
    """

    def hexs(s: str) -> str:
        return "<" + s.encode("utf-16-be").hex().upper() + ">"

    rows: list[tuple[str, int]] = [(title, 16), ("", 12)]
    for para in paragraphs:
        for i in range(0, max(len(para), 1), chars_per_line):
            rows.append((para[i:i + chars_per_line], 12))
    pages = [rows[i:i + lines_per_page] for i in range(0, len(rows), lines_per_page)]
    cmap_lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
                  "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                  "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
                  "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
    ranges = [f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>" for h in range(256) if not 0xD8 <= h <= 0xDF]
    for i in range(0, len(ranges), 100):
        chunk = ranges[i:i + 100]
        cmap_lines += [f"{len(chunk)} beginbfrange", *chunk, "endbfrange"]
    cmap_lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]

    def stream(data: bytes) -> bytes:
        packed = zlib.compress(data)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"

    # objects: 1 catalog, 2 pages, 3 font, 4 cid font, 5 descriptor, 6 tounicode, then page/content pairs
    n_pages = len(pages)
    kids = " ".join(f"{7 + 2 * i} 0 R" for i in range(n_pages))
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 6 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
        stream("\n".join(cmap_lines).encode()),
    ]
    for i, page in enumerate(pages):
        ops = ["BT", "50 790 Td"]
        for text, size in page:
            ops += [f"/F1 {size} Tf", f"{hexs(text)} Tj" if text else "", f"0 -{size + 6} Td"]
        ops.append("ET")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                    f"/Contents {8 + 2 * i} 0 R >>".encode())
        objs.append(stream("\n".join(op for op in ops if op).encode()))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info << /Producer (govwatch demo) >> >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, xref))
    return bytes(out)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def report_attachments(title: str, paragraphs: list[str], stamp: str) -> list[Attachment]:
    """The report as PDF and DOCX attachments (file names like TRS/Kaipuyun `P0...` uploads)."""
    text = "\n".join(paragraphs)
    return [
        Attachment(label=f"{title}.pdf", filename=f"P0{stamp}1.pdf", data=make_pdf(title, paragraphs),
                   content_type="application/pdf", text=text),
        Attachment(label=f"{title}.docx", filename=f"P0{stamp}2.docx", data=make_docx(title, paragraphs),
                   content_type=DOCX_TYPE, text=text),
    ]


# ---------------------------------------------------------------------------------------------------------
# Shared chrome


def top_bar(site: dict) -> str:
    return f"""
<div class="top-bar"><div class="w1200"><span class="today">今天是<span id="today"></span></span>
  <a href="javascript:;" id="cniil_wza">无障碍</a> | <a href="javascript:;" class="care">关怀版</a> |
  <a href="javascript:;" id="fan">繁體</a> | <a href="/login">登录</a></div></div>
<div class="header"><div class="logo"><a href="/"><img src="/images/logo.png" alt="{site['site']}"></a></div>
  <form class="search" action="/search/search.jsp"><input type="text" name="q" placeholder="请输入关键字"><button>搜索</button></form></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/bsfw/">政务服务</a></li>
  <li><a href="/hdjl/">互动交流</a></li><li><a href="/ztzl/">专题专栏</a></li></ul></div>"""


def footer(site: dict) -> str:
    return f"""
<div class="footer"><div class="w1200">
  <p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>
  <p>主办单位：{site['site']}办公室　版权所有：{site['site']}</p>
  <p>网站标识码：{site['site_id']}　<a href="https://beian.miit.gov.cn/">{site['icp']}</a></p>
</div></div>"""


def info_line(item: Item) -> list[str]:
    info = [f"发布时间：{item.published}"]
    if item.source:
        info.append(f"来源：{item.source}")
    if item.author:
        info.append(f"作者：{item.author}")
    return info


def attachment_links(portal: Portal, item: Item, relative: bool = False) -> str:
    if not item.attachments:
        return ""
    links = "\n".join(
        f'<p><a href="{(a.path.rsplit("/", 1)[1] if relative else a.path)}" target="_blank">附件{n}：{esc(a.label)}</a></p>'
        for n, a in enumerate(item.attachments, start=1))
    return f'\n<div class="attachments">\n{links}\n</div>'


# ---------------------------------------------------------------------------------------------------------
# TRS WCM


class TrsPortal(Portal):
    cms = "trs"
    column_path = "/zwgk/fzzfjs/index.html"
    per_page = 10
    first_id = 3598200

    def __init__(self, id, name="", items=None, site=None, **options):
        self.site = site or SITES["jinghu"]
        super().__init__(id, name or self.site["site"], items, **options)

    def assign(self, item: Item) -> str:
        ymd = item.date.replace("-", "")
        if item.kind == "private":
            return f"/private/t{ymd}_{item.id}.html"
        return f"/zwgk/fzzfjs/{ymd[:6]}/t{ymd}_{item.id}.html"

    def _href(self, item: Item) -> str:
        if item.href:
            return self.url(item)
        if item.path.startswith("/zwgk/fzzfjs/"):
            return "./" + item.path[len("/zwgk/fzzfjs/"):]
        return "../.." + item.path

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path in ("/zwgk/fzzfjs/", "/zwgk/fzzfjs/index.html") or (
                path.startswith("/zwgk/fzzfjs/index_") and path.endswith(".html")):
            stem = path.rsplit("/", 1)[1][:-5] if path.endswith(".html") else "index"
            number = 0 if stem == "index" else _int(stem[6:])
            pages = self.pages()
            if number is None or not 0 <= number < len(pages):
                return None
            return Response.html(self.list_page(pages, number), last_modified=self.modified)
        item = self.item_by_path(path)
        return Response.html(self.detail_page(item), last_modified=item.published_dt) if item else None

    def list_page(self, pages, number: int) -> str:
        s = self.site
        rows = "\n".join(
            f'      <li><a href="{self._href(i)}" target="_blank" title="{esc(i.title)}">{esc(i.title)}</a>'
            f'<span>{i.date}</span></li>' for i in pages[number])
        return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{s['column']}_{s['site']}</title>
<meta name="SiteName" content="{s['site']}"><meta name="ColumnName" content="{s['column']}">
<link rel="stylesheet" href="../../images/style.css">
</head><body>{top_bar(s)}
<div class="main w1200">
  <div class="crumbs">当前位置：<a href="../../">首页</a> &gt; <a href="../">政务公开</a> &gt; <a href="./">{s['column']}</a></div>
  <div class="side"><div class="side-title">{s['column']}</div><ul><li class="on"><a href="./">{s['column']}</a></li></ul></div>
  <div class="list-box">
    <div class="list-title">{s['column']}</div>
    <ul class="list">
{rows}
    </ul>
    <div class="page"><script type="text/javascript">
    var currentPage = {number};//所在页从0开始
    var countPage = {len(pages)}//共多少页
    createPageHTML({len(pages)}, {number}, "index", "html");
    </script></div>
  </div>
</div>{footer(s)}
</body></html>
"""

    def detail_page(self, item: Item) -> str:
        s = self.site
        body = "\n".join(f'<p style="text-indent: 2em;">{esc(line)}</p>' for line in item.paragraphs)
        return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(item.title)}_{s['site']}</title>
<meta name="SiteName" content="{s['site']}">
<meta name="SiteIDCode" content="{s['site_id']}">
<meta name="ColumnName" content="{s['column']}">
<meta name="ArticleTitle" content="{esc(item.title)}">
<meta name="PubDate" content="{item.published}">
<meta name="ContentSource" content="{esc(item.source or '')}">
</head><body>{top_bar(s)}
<div class="main w1200">
<div class="crumbs">当前位置：<a href="../../../">首页</a> &gt; <a href="../../">政务公开</a> &gt; <a href="../">{s['column']}</a></div>
<div class="article">
  <h1 class="article-title">{esc(item.title)}</h1>
  <div class="article-info">{'　'.join(esc(x) for x in info_line(item))}　浏览量：<span id="hits">1208</span>　字体：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a></div>
  <div class="article-con"><div class="TRS_Editor"><style type="text/css">
.TRS_Editor P{{margin-top:0px;margin-bottom:12px;line-height:1.8;font-family:宋体;font-size:12pt;}}
</style><div class="Custom_UnionStyle">
{body}
</div></div></div>{attachment_links(self, item, relative=True)}
  <div class="tools"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</div></div>{footer(s)}
</body></html>
"""


# ---------------------------------------------------------------------------------------------------------
# Hanweb JCMS (GBK)

HANWEB_COLUMN = 1234
HANWEB_UNIT = 5678


class HanwebPortal(Portal):
    cms = "hanweb"
    column_path = f"/col/col{HANWEB_COLUMN}/index.html"
    per_page = 10
    first_id = 6130400
    charset = "gb2312"  # declared; the bytes are GBK/GB18030 (and contain GBK-only characters)
    codec = "gb18030"
    gbk_only = "堃"  # in every detail page's byline (责任编辑)

    def __init__(self, id, name="", items=None, site=None, **options):
        self.site = site or SITES["huiji"]
        super().__init__(id, name or self.site["site"], items, **options)

    def assign(self, item: Item) -> str:
        y, m, d = (int(x) for x in item.date.split("-"))
        if item.kind == "private":
            return f"/private/art_{HANWEB_COLUMN}_{item.id}.html"
        return f"/art/{y}/{m}/{d}/art_{HANWEB_COLUMN}_{item.id}.html"

    def record(self, item: Item) -> str:
        return (f'<li><a href="{self.url(item) if item.href else item.path}" target="_blank" title="{esc(item.title)}">'
                f'{esc(item.title)}</a><span>{item.date}</span></li>')

    def _html(self, text: str, **kw) -> Response:
        # old JSP servers send no charset in the header: the gb2312 <meta> is all a client gets
        return Response(body=text.encode(self.codec), content_type="text/html", **kw)

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path in (self.column_path, f"/col/col{HANWEB_COLUMN}/", f"/col/col{HANWEB_COLUMN}/index.jsp"):
            return self._html(self.column_page(), last_modified=self.modified)
        if path == "/module/web/jpage/dataproxy.jsp":
            return self.dataproxy(request)
        item = self.item_by_path(path)
        return self._html(self.detail_page(item), last_modified=item.published_dt) if item else None

    def dataproxy(self, request: Request) -> Response:
        p = request.params
        total = len(self.items)
        perpage = _int(p.get("perpage", "")) or self.per_page
        start = max(_int(p.get("startrecord", "")) or 1, 1)
        end = _int(p.get("endrecord", "")) or start + perpage - 1
        column = p.get("columnid")
        chosen = self.items[start - 1:end] if column in (None, "", str(HANWEB_COLUMN)) else []
        records = "".join(f"<record><![CDATA[\n{self.record(i)}\n]]></record>\n" for i in chosen)
        pages = -(-total // perpage)
        body = (f'<?xml version="1.0" encoding="gb2312"?>\n<datastore>\n<totalrecord>{total}</totalrecord>\n'
                f"<totalpage>{pages}</totalpage>\n<recordset>\n{records}</recordset>\n</datastore>\n")
        return Response(body=body.encode(self.codec), content_type="text/xml;charset=gb2312",
                        last_modified=self.modified)

    def column_page(self) -> str:
        s = self.site
        first = self.items[:self.per_page]
        records = "\n".join(f"<record><![CDATA[\n{self.record(i)}\n]]></record>" for i in first)
        webname = s["site"]
        nextgroup = (f'<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid={HANWEB_COLUMN}'
                     f'&unitid={HANWEB_UNIT}&webname={webname}&permissiontype=0"></a>')
        return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{s['site']} {s['column']}</title>
<script type="text/javascript" src="/module/web/jpage/jquery.min.js"></script>
</head><body>{top_bar(s)}
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr>
<td width="240" valign="top"><div class="lm-title">{s['column']}</div></td>
<td valign="top">
<div class="bt-position">您当前所在位置：<a href="/">首页</a> &gt; <a href="/col/col{HANWEB_COLUMN}/index.html">{s['column']}</a></div>
<div class="default_pgContainer" id="{HANWEB_UNIT}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[{nextgroup}]]></nextgroup>
<recordset>
{records}
</recordset>
</datastore></script></div>
<script language="javascript" src="/module/web/jpage/jpage.js"></script>
<script>
$(document).ready(function(){{
  $('#{HANWEB_UNIT}').jpage({{
    dataStore: $('#{HANWEB_UNIT}').find('script[type="text/xml"]'),
    proxyUrl: '/module/web/jpage/dataproxy.jsp',
    perPage: {self.per_page},
    totalRecord: {len(self.items)},
    groupSize: 1,
    barPosition: 'bottom',
    ajaxParam: {{col: 1, appid: 1, webid: 1, path: '/', columnid: {HANWEB_COLUMN}, sourceContentType: 1,
                 unitid: '{HANWEB_UNIT}', webname: '{webname}', permissiontype: 0}}
  }});
}});
</script>
</td></tr></table>{footer(s)}
</body></html>
"""

    def detail_page(self, item: Item) -> str:
        s = self.site
        paras = "\n".join(f"<p>&nbsp;&nbsp;&nbsp;&nbsp;{esc(line)}</p>" for line in item.paragraphs)
        info = "&nbsp;&nbsp;".join(esc(x).replace("发布时间", "发布日期").replace("来源", "信息来源")
                                   for x in info_line(item))
        y, m, d = (int(x) for x in item.date.split("-"))
        return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{s['site']} {s['column']} {esc(item.title)}</title>
</head><body>{top_bar(s)}
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0"><tr><td>
<div class="bt-position">您当前所在位置：<a href="/">首页</a> &gt; <a href="/col/col{HANWEB_COLUMN}/index.html">{s['column']}</a></div>
<table width="100%" class="article"><tr><td class="title" align="center">{esc(item.title)}</td></tr>
<tr><td class="info" align="center">{info}&nbsp;&nbsp;浏览次数：<script language="javascript" src="/module/visitcount/articlehits.jsp?colid={HANWEB_COLUMN}&amp;artid={item.id}"></script></td></tr>
<tr><td class="bt_content"><div id="zoom">
<!--ZJEG_RSS.content.begin--><meta name="ContentStart">
{paras}
<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->
</div>{attachment_links(self, item)}</td></tr>
<tr><td class="editor" align="right">责任编辑：李{self.gbk_only}　审核：王喆</td></tr></table>
<div class="tools"><a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</td></tr></table>{footer(s)}
<!-- {y}-{m}-{d} -->
</body></html>
"""


# ---------------------------------------------------------------------------------------------------------
# Kaipuyun 集约化 (ucap)


class UcapPortal(Portal):
    cms = "ucap"
    column_path = "/fzzfjs/list.shtml"
    per_page = 10
    first_id = 2081900

    def __init__(self, id, name="", items=None, site=None, **options):
        self.site = site or SITES["honggutan"]
        super().__init__(id, name or self.site["site"], items, **options)

    def assign(self, item: Item) -> str:
        digest = hashlib.sha1(f"{self.id}:{item.id}".encode()).hexdigest()[:18]
        if item.kind == "private":
            return f"/private/{item.id}{digest}.shtml"
        return f"/fzzfjs/{item.date[:7].replace('-', '')}/{item.id}{digest}.shtml"

    def attachment_path(self, item: Item, att: Attachment, n: int) -> str:
        return f"/module/download/downfile.jsp/{item.date[:7].replace('-', '')}/{att.filename}"

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path in ("/fzzfjs/", "/fzzfjs/list.shtml") or (path.startswith("/fzzfjs/list_") and path.endswith(".shtml")):
            number = 1 if path in ("/fzzfjs/", "/fzzfjs/list.shtml") else _int(path[len("/fzzfjs/list_"):-6])
            pages = self.pages()
            if number is None or not 1 <= number <= len(pages) or path == "/fzzfjs/list_1.shtml":
                return None
            return Response.html(self.list_page(pages, number), last_modified=self.modified)
        item = self.item_by_path(path)
        return Response.html(self.detail_page(item), last_modified=item.published_dt) if item else None

    @staticmethod
    def _page_name(n: int) -> str:
        return "list.shtml" if n == 1 else f"list_{n}.shtml"

    def list_page(self, pages, number: int) -> str:
        s = self.site
        rows = "\n".join(
            f'<li><span class="date">{i.date}</span><a href="{self.url(i) if i.href else i.path}" target="_blank" '
            f'title="{esc(i.title)}">{esc(i.title)}</a></li>' for i in pages[number - 1])
        last = len(pages)
        nav = [f'<a href="{self._page_name(1)}">首页</a>']
        nav.append(f'<a href="{self._page_name(number - 1)}">上一页</a>' if number > 1 else "<span>上一页</span>")
        nav.append(f'<a href="{self._page_name(number + 1)}">下一页</a>' if number < last else "<span>下一页</span>")
        nav.append(f'<a href="{self._page_name(last)}">尾页</a>')
        return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="SiteName" content="{s['site']}"><meta name="ColumnName" content="{s['column']}">
<title>{s['column']} | {s['site']}</title>
</head><body>{top_bar(s)}
<div class="container">
<div class="position">您当前的位置：<a href="/">首页</a>&gt;<a href="/fzzfjs/list.shtml">{s['column']}</a></div>
<div class="list-right"><div class="list-title">{s['column']}</div>
<ul class="xxgk-list">
{rows}
</ul>
<div class="pagination">{''.join(nav)}<span>第{number}页/共{last}页</span></div>
</div></div>{footer(s)}
</body></html>
"""

    def detail_page(self, item: Item) -> str:
        s = self.site
        paras = "\n".join(
            f'<p style="text-align: justify; text-indent: 2em; line-height: 1.75em;"><span style="font-family: 仿宋_GB2312; '
            f'font-size: 16pt;">{esc(line)}</span></p>' for line in item.paragraphs)
        info = "".join(f"<span>{esc(x)}</span>" for x in info_line(item))
        return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="SiteName" content="{s['site']}">
<meta name="ColumnName" content="{s['column']}">
<meta name="ArticleTitle" content="{esc(item.title)}">
<meta name="PubDate" content="{item.published}">
<meta name="ContentSource" content="{esc(item.source or '')}">
<title>
\t\t\t{esc(item.title)} |
\t\t\t{s['site']}
\t\t</title>
</head><body>{top_bar(s)}
<div class="container">
<div class="position">您当前的位置：<a href="/">首页</a>&gt;<a href="/fzzfjs/list.shtml">{s['column']}</a></div>
<table class="xxgk-table"><tr><th>索引号：</th><td>{s['site_id']}/{item.date[:4]}-{item.id}</td></tr>
<tr><th>发布机构：</th><td>{esc(item.source or s['site'])}</td></tr></table>
<div class="article">
  <div class="article-title"><ucaptitle>{esc(item.title)}</ucaptitle></div>
  <div class="article-info">{info}<span>访问量：<span id="ucap_vc">87</span></span></div>
  <div class="article-content" id="zoom"><ucapcontent>
{paras}
</ucapcontent></div>{attachment_links(self, item)}
</div></div>{footer(s)}
</body></html>
"""


# ---------------------------------------------------------------------------------------------------------
# gkmlpt (JSON list API)

GKMLPT_CATEGORY = 5


class GkmlptPortal(Portal):
    cms = "json"
    column_path = "/gkmlpt/index"
    per_page = 10
    first_id = 3456700

    def __init__(self, id, name="", items=None, site=None, **options):
        self.site = site or SITES["jilin"]
        super().__init__(id, name or self.site["site"], items, **options)

    def assign(self, item: Item) -> str:
        if item.kind == "private":
            return f"/private/post_{item.id}.html"
        return f"/gkmlpt/content/{item.id // 1000000}/{item.id // 1000}/post_{item.id}.html"

    def url(self, item: Item) -> str:
        if item.href:
            return super().url(item)
        suffix = f"#{GKMLPT_CATEGORY}" if item.path.startswith("/gkmlpt/") else ""
        return self.base_url + item.path + suffix

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path in ("/gkmlpt/index", "/gkmlpt/"):
            return Response.html(self.shell(), last_modified=self.modified)
        if path == f"/gkmlpt/api/all/{GKMLPT_CATEGORY}":
            return self.api(request)
        item = self.item_by_path(path)
        return Response.html(self.detail_page(item), last_modified=item.published_dt) if item else None

    def api(self, request: Request) -> Response:
        pages = self.pages()
        number = _int(request.params.get("page", "1")) or 1
        chosen = pages[number - 1] if 1 <= number <= len(pages) else []
        articles = []
        for i in chosen:
            epoch = int(i.published_dt.timestamp())
            articles.append({"id": i.id, "title": i.title, "url": self.url(i), "first_publish_time": epoch,
                             "publish_time": epoch, "identifier": f"{self.site['site_id']}/{i.date[:4]}-{i.id}",
                             "source": i.source or "", "display_publish_time": epoch})
        data = {"articles": articles, "total": len(self.items), "page": number, "pages": len(pages),
                "classify": {"id": GKMLPT_CATEGORY, "name": self.site["column"]}}
        return Response(body=json.dumps(data, ensure_ascii=False).encode(), content_type="application/json;charset=UTF-8",
                        last_modified=self.modified)

    def shell(self) -> str:
        s = self.site
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>政府信息公开_{s['site']}</title>
<script>window._CONFIG = {{SID: "{s['site_id']}", API: "/gkmlpt/api/all/{GKMLPT_CATEGORY}", CAT: {GKMLPT_CATEGORY}}};</script>
<script src="/gkmlpt/static/js/app.js"></script>
</head><body>{top_bar(s)}
<div id="app"><noscript>请开启浏览器的JavaScript功能以浏览政府信息公开目录。</noscript></div>
{footer(s)}
</body></html>
"""

    def detail_page(self, item: Item) -> str:
        s = self.site
        paras = "\n".join(f"<p>{esc(line)}</p>" for line in item.paragraphs)
        return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta name="ArticleTitle" content="{esc(item.title)}">
<meta name="PubDate" content="{item.published}">
<title>{esc(item.title)}_{s['site']}</title>
</head><body>{top_bar(s)}
<div class="content-container">
<table class="classify"><tbody>
<tr><td class="td-title">索引号：</td><td>{s['site_id']}/{item.date[:4]}-{item.id}</td><td class="td-title">分类：</td><td>{s['column']}</td></tr>
<tr><td class="td-title">发布机构：</td><td>{esc(item.source or '')}</td><td class="td-title">成文日期：</td><td>{item.date}</td></tr>
<tr><td class="td-title">名称：</td><td colspan="3">{esc(item.title)}</td></tr>
<tr><td class="td-title">发布日期：</td><td colspan="3">{item.published}</td></tr>
</tbody></table>
<div class="article-content">
<h1 class="title">{esc(item.title)}</h1>
{paras}
</div>{attachment_links(self, item)}
</div>{footer(s)}
</body></html>
"""


# ---------------------------------------------------------------------------------------------------------
# Plain county site


class CountyPortal(Portal):
    cms = "generic"
    column_path = "/news/list.asp?page=1"
    per_page = 10
    first_id = 500

    def __init__(self, id, name="", items=None, site=None, **options):
        self.site = site or SITES["wangcheng"]
        super().__init__(id, name or self.site["site"], items, **options)

    def assign(self, item: Item) -> str:
        if item.kind == "private":
            return f"/private/show.asp?id={item.id}"
        return f"/news/show.asp?id={item.id}"

    def url(self, item: Item) -> str:
        if item.href:
            return item.href.replace("{offsite}", self.offsite_base)
        return self.base_url + item.path

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path == "/news/list.asp":
            pages = self.pages()
            number = _int(request.params.get("page", "1")) or 1
            if not 1 <= number <= len(pages):
                return None
            return Response.html(self.list_page(pages, number), "gb2312", codec="gb18030",
                                 last_modified=self.modified)
        if path in ("/news/show.asp", "/private/show.asp"):
            item = self.item_by_path(f"{path}?id={request.params.get('id', '')}")
            if item:
                return Response.html(self.detail_page(item), "gb2312", codec="gb18030", last_modified=item.published_dt)
        return None

    def _href(self, item: Item) -> str:
        if item.href:
            return self.url(item)
        return item.path[len("/news/"):] if item.path.startswith("/news/") else item.path

    def list_page(self, pages, number: int) -> str:
        s = self.site
        rows = "\n".join(
            f'<tr><td width="20"><img src="/images/dot.gif"></td><td><a href="{self._href(i)}" '
            f'target="_blank">{esc(i.title)}</a></td><td width="90" align="right">[{i.date}]</td></tr>'
            for i in pages[number - 1])
        nav = []
        if number > 1:
            nav.append(f'<a href="list.asp?page=1">首页</a> <a href="list.asp?page={number - 1}">上一页</a>')
        if number < len(pages):
            nav.append(f'<a href="list.asp?page={number + 1}">下一页</a> <a href="list.asp?page={len(pages)}">末页</a>')
        return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{s['site']}</title></head>
<body topmargin="0" leftmargin="0">
<table width="980" border="0" align="center" cellpadding="0" cellspacing="0"><tr><td><img src="/images/banner.jpg" width="980" height="120"></td></tr></table>
<table width="980" border="0" align="center" cellpadding="0" cellspacing="0"><tr>
<td width="200" valign="top"><table width="100%"><tr><td class="lm">{s['column']}</td></tr>
<tr><td><a href="https://www.gov.cn/">中国政府网</a></td></tr></table></td>
<td valign="top"><table width="100%" border="0" cellspacing="0" cellpadding="4">
<tr><td colspan="3" class="dqwz">当前位置：<a href="/">首页</a> &gt;&gt; {s['column']}</td></tr>
{rows}
<tr><td colspan="3" align="center">共{len(self.items)}条 第{number}/{len(pages)}页 {' '.join(nav)}</td></tr>
</table></td></tr></table>
<table width="980" align="center"><tr><td align="center">{s['site']} 版权所有 {s['icp']}</td></tr></table>
</body></html>
"""

    def detail_page(self, item: Item) -> str:
        s = self.site
        body = "<br>\n".join(f"　　{esc(line)}" for line in item.paragraphs)
        meta = [f"发布日期：{item.date}"] + ([f"来源：{esc(item.source)}"] if item.source else [])
        return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{s['site']}</title></head>
<body topmargin="0" leftmargin="0">
<table width="980" border="0" align="center" cellpadding="0" cellspacing="0"><tr><td><img src="/images/banner.jpg" width="980" height="120"></td></tr></table>
<table width="980" border="0" align="center" cellpadding="8" cellspacing="0">
<tr><td class="dqwz">当前位置：<a href="/">首页</a> &gt;&gt; <a href="list.asp?page=1">{s['column']}</a></td></tr>
<tr><td align="center"><font size="4" color="#C00000"><b>{esc(item.title)}</b></font></td></tr>
<tr><td align="center"><font color="#666666">{'&nbsp;&nbsp;'.join(meta)}&nbsp;&nbsp;点击数：<script src="count.asp?id={item.id}"></script></font></td></tr>
<tr><td><font style="font-size:14px;line-height:200%">
{body}
</font></td></tr>
<tr><td align="right"><a href="javascript:window.print()">【打印】</a> <a href="javascript:window.close()">【关闭】</a></td></tr>
</table>
<table width="980" align="center"><tr><td align="center">{s['site']} 版权所有 {s['icp']}</td></tr></table>
</body></html>
"""


# ---------------------------------------------------------------------------------------------------------
# Anti-bot walls


class BlockedPortal(Portal):
    """Every path, robots.txt included, answers the anti-bot challenge (412 瑞数 or 521 加速乐)."""

    blocks_everything = True

    def __init__(self, id, name="", status: int = 412, column_path: str = "/zwgk/fzzfjs/index.html", **options):
        super().__init__(id, name or f"blocked {status}", [], **options)
        self.status = status
        self.column_path = column_path

    def handle(self, request: Request) -> Response | None:
        if self.status == 412:
            body = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                    '<meta http-equiv="Expires" content="0"><meta http-equiv="Cache-Control" content="no-cache">'
                    '<script type="text/javascript" r="m">$_ts=window[\'$_ts\'];if(!$_ts)$_ts={};$_ts.nsd=48211;'
                    '$_ts.cd="qhcrrAlkEqEmrrqAqqqmcGVWrG3qcqVqEq7qlAE1rGzWqq";</script>'
                    '<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js" r="m">'
                    '</script></head><body></body></html>')
            headers = {"Set-Cookie": "NfBCSins2OywO=60kbVfZr7IrhDn6QjmZ5CcY0; Path=/; HttpOnly"}
        else:
            body = ("<html><body><script>document.cookie=('__jsl_clearance=1617155220.351|0|'"
                    "+'ZmtU6qTdB9mUKPHXVjgBw%3D')+';Expires=Wed, 31-Mar-21 02:47:00 GMT;Path=/;';"
                    "location.href=location.pathname+location.search</script></body></html>")
            headers = {"Set-Cookie": "__jsluid_h=3c1f6d0a9e2b47f8c5d1e0a6b7c8d9e0; max-age=31536000; path=/; HttpOnly"}
        return Response(status=self.status, body=body.encode(), headers=headers, cacheable=False)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------
# The portal sets


def notice_item(site: dict, title: str, paragraphs: list[str], published: str, *, pdf: bool = False) -> Item:
    """A short notice whose body is just 详见附件; the real report is the attached DOCX (and PDF)."""
    stamp = published[:10].replace("-", "")
    atts = report_attachments(title, paragraphs, stamp)
    if not pdf:
        atts = [a for a in atts if a.filename.endswith(".docx")]
    return Item(title=title, paragraphs=["详见附件。"], published=published, source=site["office"], kind="notice",
                attachments=atts)


def synthetic_report(site: dict, year: int) -> list[str]:
    """A plausible report body for a year without a golden record (for attachment-only notices)."""
    short = site["short"]
    return [
        f"{year}年，{short}在区委的坚强领导下，深入学习贯彻习近平法治思想，全面落实法治政府建设各项任务，现将有关情况报告如下。",
        "一、主要工作及成效",
        f"（一）加强组织领导。{short}召开常务会议专题研究法治政府建设工作，落实党政主要负责人履行推进法治建设第一责任人职责。",
        "（二）推进依法决策。严格执行重大行政决策程序，全年合法性审查各类文件和合同一百余件。",
        "（三）规范行政执法。全面推行行政执法公示、执法全过程记录和重大执法决定法制审核制度。",
        "二、存在的不足",
        "个别部门依法行政意识有待增强，基层执法队伍专业化水平有待提高。",
        f"三、{year + 1}年工作打算",
        f"{year + 1}年，{short}将继续深入推进法治政府建设，为经济社会高质量发展提供有力法治保障。",
        f"{site['site']}",
        f"{year + 1}年3月10日",
    ]


def build_demo_portals(seed_dir: str | Path | None = None) -> list[Portal]:
    """The demo set, ids after the regions: TRS WCM (jinghu 镜湖区), Hanweb GBK (huiji 惠济区), Kaipuyun
    (honggutan 红谷滩区) and a plain county site (wangcheng 望城区), each with its seed report, a couple of
    decoys and one page of filler."""
    seeds = load_seed_reports(seed_dir)
    by_prefix = {stem[:3]: stem for stem in seeds}

    def report(prefix: str) -> Item:
        stem = by_prefix[prefix]
        return report_item(stem, seeds[stem])

    def small(site, reports, extra=()):
        items = column_items(site, reports, newer=4, older=3, extra=extra)
        # a couple of decoys is enough for the demo: keep 解读 and 工作要点
        return [i for i in items if i.kind != "decoy" or "一图读懂" in i.title or "工作要点" in i.title]

    hgt = SITES["honggutan"]
    r004 = report("004")
    r004.attachments = report_attachments(r004.title, r004.paragraphs, r004.date.replace("-", ""))
    return [
        TrsPortal("jinghu", site=SITES["jinghu"], items=small(SITES["jinghu"], [report("000")])),
        HanwebPortal("huiji", site=SITES["huiji"], items=small(SITES["huiji"], [report("001")])),
        UcapPortal("honggutan", site=hgt, items=small(hgt, [r004], extra=[
            notice_item(hgt, "红谷滩区2019年度法治政府建设工作报告", synthetic_report(hgt, 2019), "2020-03-20 09:30")])),
        CountyPortal("wangcheng", site=SITES["wangcheng"], items=small(SITES["wangcheng"], [report("002")])),
    ]
