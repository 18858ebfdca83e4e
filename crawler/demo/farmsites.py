"""The portals of the national farm (`crawler.demo.farm`): one per region of `crawler/data/divisions.csv`.

A region's portal is built from its code alone, deterministically: the same region always gets the same CMS
family, role, column and pages. Families rotate by position in the farm (TRS, Hanweb, Kaipuyun pager, JSON
API, plain county site: the page styles of `crawler.demo.sites`); every 100 positions, five portals play a
role instead:

    position % 100   role        what a crawler meets
    7                blocked412  every path, robots.txt too, answers a 瑞数 412 `$_ts` challenge
    23               blocked521  every path answers a 加速乐 521 `__jsl_clearance` script
    41               down        every path answers 503 (the portal is up again after `set_down(id, False)`)
    59               slow        every answer waits SLOW_SECONDS
    83               redirect    every path answers 301 to the same path on another host (the site "moved")

A column holds 1-3 reports of consecutive years up to LATEST_YEAR, titled with the region's full name
(`芜湖市镜湖区2023年度法治政府建设情况报告`) so that they classify as `annual_report` of that region and year,
the four look-alike decoys of `crawler.demo.sites.decoy_items`, a few news items, and one report-looking
entry under /private/ (disallowed by robots.txt). Every 40th portal attaches its newest report as a DOCX.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from crawler.demo.server import Item, Portal
from crawler.demo.sites import (
    GKMLPT_CATEGORY, HANWEB_COLUMN, BlockedPortal, CountyPortal, GkmlptPortal, HanwebPortal, TrsPortal, UcapPortal,
    column_items, report_attachments,
)

LATEST_YEAR = 2023  # the newest report year a portal starts with; `publish` adds the years after it
SLOW_SECONDS = 1.5
FAMILIES = ("trs", "hanweb", "ucap", "json", "generic")
ROLES = {7: "blocked412", 23: "blocked521", 41: "down", 59: "slow", 83: "redirect"}
ATTACHMENT_EVERY = 40
BLOCKED412_COLUMN, BLOCKED521_COLUMN = "/zwgk/fzzfjs/index.html", "/col/col88/index.html"
_STYLES = {"trs": TrsPortal, "hanweb": HanwebPortal, "ucap": UcapPortal, "json": GkmlptPortal,
           "generic": CountyPortal}
# the ICP filing prefix of each province (first two digits of the code)
_PROVINCE_ABBR = dict(zip(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65".split(),
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"))


@dataclass(frozen=True)
class Region:
    code: str
    name: str  # 镜湖区
    level: str  # province | city | county
    parent: str | None
    full_name: str  # 芜湖市镜湖区 (crawler.extract.regions: parent + name)

    @property
    def province(self) -> str:
        return self.code[:2] + "0000"


@cache
def all_regions() -> tuple[Region, ...]:
    """Every region of the division data, in its order (provinces, each followed by its cities and counties)."""
    from crawler.extract.regions import full_name

    lines = resources.files("crawler").joinpath("data/divisions.csv").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines[1:]:
        code, name, level, parent = line.split(",")
        out.append(Region(code, name, level, parent or None, full_name(code) or name))
    return tuple(out)


def select_regions(*, provinces: list[str] | tuple[str, ...] = (), limit: int | None = None,
                   offset: int = 0) -> list[Region]:
    """Regions of the named provinces (names like 安徽省 or codes like 340000; all when empty), from
    `offset`, at most `limit`."""
    chosen = all_regions()
    if provinces:
        names = {r.code: r for r in chosen if r.level == "province"}
        wanted = set()
        for p in provinces:
            match = [c for c, r in names.items() if p in (c, r.name)]
            if not match:
                raise ValueError(f"no province {p!r} in the division data")
            wanted.add(match[0][:2])
        chosen = [r for r in chosen if r.code[:2] in wanted]
    chosen = list(chosen)[offset:]
    return chosen[:limit] if limit is not None else chosen


def family_and_role(position: int) -> tuple[str, str | None]:
    role = ROLES.get(position % 100)
    return FAMILIES[position % len(FAMILIES)], role


def column_path(position: int) -> str:
    """The path of the column list of the portal at `position` (a blocked portal's wall answers it too)."""
    family, role = family_and_role(position)
    if role in ("blocked412", "blocked521"):
        return BLOCKED412_COLUMN if role == "blocked412" else BLOCKED521_COLUMN
    return _STYLES[family].column_path


def site_facts(region: Region) -> dict:
    """The page chrome facts of `crawler.demo.sites` (site, short, column, site_id, icp, office)."""
    abbr = _PROVINCE_ABBR.get(region.code[:2], "京")
    return dict(site=f"{region.full_name}人民政府", short=region.name, column="法治政府建设",
                site_id=f"{region.code}0001", icp=f"{abbr}ICP备{int(region.code) % 100000000:08d}号",
                office=f"{region.name}司法局", full=region.full_name)


def initial_report_years(region: Region) -> list[int]:
    count = 1 + random.Random(f"years:{region.code}").randrange(3)
    return list(range(LATEST_YEAR - count + 1, LATEST_YEAR + 1))


def report_title(region: Region, year: int) -> str:
    return f"{region.full_name}{year}年度法治政府建设情况报告"


_LEAD = {"province": "省委", "city": "市委"}
_DEEDS = ["健全依法决策机制", "深化“放管服”改革", "规范行政执法行为", "加强行政复议应诉", "推进政务公开",
          "完善矛盾纠纷多元化解", "强化行政权力监督", "开展法治宣传教育", "优化法治化营商环境", "提升基层治理法治化水平",
          "加强行政规范性文件管理", "推进数字法治政府建设"]
_MEASURES = ["出台制度文件{n}件", "审查重大行政决策事项{n}项", "办理行政复议案件{n}件", "组织执法人员培训{n}人次",
             "清理证明事项{n}项", "开展行政执法监督检查{n}次", "化解矛盾纠纷{n}件", "公开政府信息{n}条",
             "审核合同协议{n}份", "建成基层法治观察点{n}个"]


def report_paragraphs(region: Region, year: int, variant: int = 0) -> list[str]:
    """A report body of its own for the region and year (seeded by both): the structure every report has,
    sentences drawn per region so that reports of different regions are different texts."""
    rng = random.Random(f"report:{region.code}:{year}:{variant}")
    lead = _LEAD.get(region.level) or (region.name[-1] + "委" if region.name[-1] in "区县市旗" else "党委")
    who = region.full_name
    paras = [f"{year}年，{who}人民政府在{lead}的坚强领导下，深入学习贯彻习近平法治思想，全面落实《法治政府建设实施纲要"
             f"（2021—2025年）》，现将{year}年度法治政府建设情况报告如下。", "一、主要工作及成效"]
    for number, deed in enumerate(rng.sample(_DEEDS, rng.randint(4, 6)), start=1):
        measures = "，".join(m.format(n=rng.randint(3, 900)) for m in rng.sample(_MEASURES, rng.randint(2, 3)))
        paras.append(f"（{'一二三四五六'[number - 1]}）{deed}。{year}年{rng.randint(1, 12)}月起，{region.name}{measures}，"
                     f"相关工作经验在{rng.choice(['全省', '全市', '全区', '系统内'])}推广。")
    paras += ["二、存在的不足", f"{region.name}部分单位依法行政意识仍需增强，基层执法队伍专业化水平有待提高，"
              f"行政复议纠错率为{rng.randint(3, 19)}%，仍有改进空间。",
              f"三、{year + 1}年工作打算", f"{year + 1}年，{who}将围绕{rng.choice(_DEEDS)}和{rng.choice(_DEEDS)}，"
              "持续推进法治政府建设，为高质量发展提供法治保障。", f"{who}人民政府", f"{year + 1}年3月{rng.randint(1, 28)}日"]
    return paras


def report_item(region: Region, year: int, published: str, variant: int = 0) -> Item:
    return Item(title=report_title(region, year), paragraphs=report_paragraphs(region, year, variant),
                published=published, source=f"{region.name}司法局", kind="report")


def build_portal(portal_id: str, region: Region, position: int) -> Portal:
    """The portal of `region` at `position` of the farm (its family or its blocking role)."""
    family, role = family_and_role(position)
    if role == "blocked412":
        return BlockedPortal(portal_id, f"{region.full_name}人民政府", status=412, column_path=BLOCKED412_COLUMN)
    if role == "blocked521":
        return BlockedPortal(portal_id, f"{region.full_name}人民政府", status=521, column_path=BLOCKED521_COLUMN)
    site = site_facts(region)
    rng = random.Random(f"column:{region.code}")
    years = initial_report_years(region)
    reports = [report_item(region, y, f"{y + 1}-03-{rng.randint(1, 28):02d} {rng.randint(8, 17):02d}:00")
               for y in reversed(years)]
    if position % ATTACHMENT_EVERY == 0:
        # the DOCX only: the demo PDF's identity ToUnicode map (248 ranges) costs pypdf ~2 CPU-s per file,
        # which would make the farm a bench of pypdf
        newest = reports[0]
        newest.attachments = [a for a in report_attachments(newest.title, newest.paragraphs,
                                                             newest.date.replace("-", "")) if a.filename.endswith(".docx")]
    items = column_items(site, reports, newer=rng.randint(1, 4), older=rng.randint(1, 3), seed=int(region.code) % 97)
    return _STYLES[family](portal_id, site["site"], items, site=site)


def new_report(region: Region, year: int, now: datetime) -> Item:
    """The report a `publish` adds: the region's report of `year`, published `now` (China time)."""
    return report_item(region, year, now.strftime("%Y-%m-%d %H:%M"), variant=1)


def page_paths(portal: Portal) -> list[str]:
    """Every path a full crawl of `portal` fetches besides robots.txt: its list pages (however its family
    pages them) and the detail pages and attachments of its column, /private/ left out. For a bare
    download of the same pages (`bench/bench_national.py`)."""
    count = len(portal.pages())
    if isinstance(portal, BlockedPortal):
        return [portal.column_path]
    if isinstance(portal, TrsPortal):
        lists = [portal.column_path] + [f"/zwgk/fzzfjs/index_{n}.html" for n in range(1, count)]
    elif isinstance(portal, HanwebPortal):
        per = portal.per_page
        lists = [portal.column_path] + [f"/module/web/jpage/dataproxy.jsp?startrecord={n * per + 1}&endrecord="
                                        f"{(n + 1) * per}&perpage={per}&columnid={HANWEB_COLUMN}" for n in range(1, count)]
    elif isinstance(portal, UcapPortal):
        lists = [portal.column_path] + [f"/fzzfjs/list_{n}.shtml" for n in range(2, count + 1)]
    elif isinstance(portal, GkmlptPortal):
        lists = [portal.column_path] + [f"/gkmlpt/api/all/{GKMLPT_CATEGORY}?page={n}" for n in range(1, count + 1)]
    else:
        lists = [f"/news/list.asp?page={n}" for n in range(1, count + 1)]
    served = [i for i in portal.served_items() if not i.path.startswith("/private/")]
    return lists + [i.path for i in served] + [a.path for i in served for a in i.attachments]
