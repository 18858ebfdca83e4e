"""``doc_type`` and ``report_year`` of an extracted page.

``classify(title, text)`` returns one of ``record.DOC_TYPES``:

* ``annual_report``  a body's own yearly 法治政府建设 / 法治建设 / 依法行政 report
  (``XX关于2020年法治政府建设情况的报告``, ``XX2022年度法治政府建设工作报告``, ``XX2019年度依法行政工作报告``,
  ``XX2020年法治政府建设工作总结`` ...);
* ``interpretation`` a 解读 / 图解 / 一图读懂 of such a document;
* ``plan``           方案 / 要点 / 纲要 / 规划 / 计划 / 安排 / 意见 / 通知 that issue or request one;
* ``news``           meetings, visits, awards, 示范创建 ... about 法治政府建设;
* ``other``          everything else, including look-alikes: 政府信息公开工作年度报告, 政府工作报告, 统计公报,
  述职 / 述法 / 述廉报告, 履行推进法治建设第一责任人职责情况报告, 评估 / 调研 / 自查 / 督察报告, reports on
  part of a year (上半年, 第一季度, 1-6月), drafts (征求意见稿, 审议稿) and a legislature's 审议意见 on the report.

The title decides when it says something about the page (converted to simplified script, a spam mirror's
pinyin glosses such as ``建設(shè)`` dropped; site-name suffixes such as ``… - XX区人民政府``, trailing ``（全文）`` /
``（2023年3月）`` and a file extension are dropped; a leading ``一图看懂｜`` label is kept).  A closing
``及2024年工作计划`` after the report word does not make a report a plan, nor does ``情况及2021年度工作安排的报告``;
the pre-2015 name ``推进依法行政工作情况`` is the same yearly report.  When the title is missing or says nothing
(a breadcrumb, a site-section name such as 网站公告 / 政务公告, the site's name), a heading line opening the body
stands in for it; when there is none, or the title names neither the topic nor a kind of document (a spam
mirror's name, a headline cut short), the body decides (``bodytype.body_type``: the opening, the report formula,
the report's outline, the signature).  Anonymised templates (某县, XX区, *市) on 范文 sites are never reports.
Precision beats recall: an ``annual_report`` title needs a 法治 topic word governing the final 报告/总结 with
nothing but filler (工作/情况/年度/的 ...) between them.
"""

from __future__ import annotations

import re
from datetime import date

from .bodytype import body_type, body_year, is_template, paragraphs, plain, read_body
from .chrome import is_chrome
from .title import DOC_KEYWORDS_RE, is_section_name, is_site_like

__all__ = ["classify", "report_year", "normalize_title", "usable_title"]

_TOPIC = r"(?:法治政府建设|建设法治政府|法治政府|法治建设|依法行政|依法治[省市县区州旗])"
_TOPIC_RE = re.compile(_TOPIC)

# look-alikes that are never the yearly law-based-government report
_LOOKALIKE_RE = re.compile(
    r"信息公开|(?<!法治)政府工作报告|统计公报|国民经济|述职|述法|述廉|评估|调研报告|自查|督察|督查|审计|巡察|考核"
    r"|征求意见|民主生活会|社会信用|依法治校"
)
_FIRST_RESPONSIBLE_RE = re.compile(r"第一责任人")
# a 法治政府建设 report that also covers the 第一责任人 duty, in either order:
# …法治政府建设情况暨…第一责任人职责情况的报告 / …第一责任人职责及法治政府建设情况报告 / …法治政府建设和…第一责任人…
_COMBINED_RE = re.compile(
    r"法治政府建设(?:工作)?(?:情况|工作)?(?:的)?(?:暨|和|及|与|以及).*第一责任人"
    r"|第一责任人.*(?:暨|和|及|与|以及)法治政府建设(?:工作)?(?:情况|工作)*(?:的)?(?:年度报告|报告)$"
)
# a part of the year (上半年, 第一季度, 1-6月, 3月份 ...) is not the yearly report
_PERIOD_RE = re.compile(
    r"上半年|下半年|半年|季度|前三季|\d{1,2}\s*(?:[-—–~～至到]|——)\s*\d{1,2}\s*月|\d{1,2}月份|月度|[一二三四五六七八九十]月份"
)
# "<report> 及 2024年工作计划": a yearly report that ends with the next year's plans is still the report
_NEXT_PLAN_RE = re.compile(
    r"(?<=报告|总结)(?:暨|和|及|与|以及)(?:(?:19|20)\d{2}年度?|下一?年度?|明年)?(?:的)?(?:工作)?"
    r"(?:计划|打算|思路|安排|重点|要点|谋划|设想)$"
)
# "<report>情况及2021年度工作安排的报告": the yearly report that also sets out next year's work
_COMBINED_PLAN_RE = re.compile(
    r"(?<=情况|工作)(?:暨|和|及|与|以及)(?:(?:19|20)\d{2}年度?|下一?年度?|明年)(?:的)?(?:工作)?"
    r"(?:计划|打算|思路|安排|重点|要点|谋划|设想)(?=(?:的)?(?:报告|总结)$)"
)
# a headline announcing that a report came out: 休宁县发布2021年法治政府建设年度报告 (关于公布…的公告 is the report)
_PUBLISHED_RE = re.compile(r"^(?!关于)[^《]{0,30}?(?:正式|全文|首次|集中)?(?:发布|晒出|出炉|亮相|公开发布)(?!稿)")
_SPEECH_END_RE = re.compile(r"(?:讲话|致辞|发言|讲稿|发言稿|主持词)(?:稿)?$")
# a title naming a kind of document (with DOC_KEYWORDS_RE): the title decides, the body is not asked
_DOC_WORD_RE = re.compile(r"纪要|讲话|发言|汇报|述职|述法|白皮书|年报|函|批复|公示|简报|通讯|综述|答记者问")
# a legislature hearing or reviewing the report (听取和审议…报告, …报告的审议意见) is not the report
_REVIEW_RE = re.compile(r"审议|听取|评议")
_INTERP_RE = re.compile(r"解读|图解|一图读懂|一图看懂|一图了解|一图速览|图说|读懂")
_PLAN_END_RE = re.compile(r"(?:通知|方案|要点|纲要|规划|计划|安排|意见|清单|分工|办法|实施细则)$")
_PLAN_WORD_RE = re.compile(r"印发|转发|做好|报送|征集")
_NEWS_RE = re.compile(
    r"召开|开展|举办|举行|获评|获批|获得|荣获|入选|命名|授牌|表彰|调研|部署|推进会|座谈|会议|培训|讲座|学习|督导|观摩|"
    r"示范|创建|考察|检查|视察|走访|参加|出席|启动|宣传|活动|成效|成果|亮点|经验|做法|纪实|聚焦|推动|助力|打造|提升|"
    r"强化|加强|深化|扎实|全力|持续|奋力|迈出|取得|见实效|新闻|动态"
)
# between the topic and the final 报告/总结 only filler may stand
_REPORT_TOPIC = r"(?:法治政府建设|建设法治政府|法治政府|法治建设|依法行政)"
_REPORT_RE = re.compile(
    _REPORT_TOPIC + r"(?:工作|情况|进展|有关|主要|年度|开展|推进|落实|等|的)*(?:年度报告|报告|工作总结|总结)$"
)
# 法治政府建设情况暨(党政主要负责人)履行推进法治建设第一责任人职责情况的报告
# XX区2022年度法治政府建设工作情况: a dated 情况 title is the report itself
_SITUATION_RE = re.compile(_REPORT_TOPIC + r"(?:工作|开展|推进|落实|年度|的)*情况$")
_EVENT_RE = re.compile(r"召开|举办|举行|部署|会议|通报|汇报|审议|听取|向[^，,。]{1,20}报告")
_DRAFT_RE = re.compile(r"征求意见稿|草案|送审稿|讨论稿|审议稿|修改稿|初稿|代拟稿")
_REPORT_SUFFIX_RE = re.compile(r"(报告|总结)(?:的)?(?:公示|公告|公开|发布|全文|正文|原文)$")
_TRAIL_RE = re.compile(r"[（(【\[][^（()）【】\[\]]{0,12}[）)】\]]$")
# a file name as link text: 镜湖区2023年度法治政府建设年度报告.pdf
_FILE_EXT_RE = re.compile(r"\.(?:pdf|docx?|wps|ofd|xlsx?|txt|zip|rar)$", re.I)
# a dated trailer: （2023年3月）, （2023年3月28日）, （2023-03-28）
_DATE_TRAIL_RE = re.compile(
    r"(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|(?:19|20)\d{2}[-./]\d{1,2}(?:[-./]\d{1,2})?"
)
_SEP_RE = re.compile(r"\s*(?:_|\||｜|\s[-–—]\s|——|－－)\s*")
_QUOTES = str.maketrans({"“": "", "”": "", '"': "", "‘": "", "’": "", "「": "", "」": "", "〈": "《", "〉": "》"})
_DOC_END_RE = re.compile(r"(?:报告|总结|通知|方案|要点|解读|意见)$")
_SENTENCE_RE = re.compile(r"[。；;！!？?]|，.*，")
_LEAD_IN_RE = re.compile(r"[:：]$|如下")  # 按照…要求，现将…述法如下： leads into a text, it is no title


def normalize_title(title: str | None) -> str:
    """Simplified-script title without spaces, quotes, site-name suffix or trailing ``（全文）``."""
    if not title:
        return ""
    t = plain(title.strip())
    t = _FILE_EXT_RE.sub("", t)
    parts = [p for p in _SEP_RE.split(t) if p]
    if len(parts) > 1:  # "… - XX区人民政府" / "XX网_…": keep the part naming the topic, else the longest
        topical = [p for p in parts if _TOPIC_RE.search(p)]
        label = parts[0] if len(parts[0]) <= 8 and _INTERP_RE.search(parts[0]) else ""
        t = topical[0] if topical else max(parts, key=len)
        if label and label != t:  # "一图看懂｜XX区2023年法治政府建设年度报告": the leading label says what it is
            t = label + "：" + t
    t = re.sub(r"\s+", "", t).translate(_QUOTES)
    for _ in range(2):
        m = _TRAIL_RE.search(t)
        if not m or m.start() == 0:
            break
        inner = m.group()[1:-1]
        if re.fullmatch(r"(?:19|20)\d{2}.*", inner) and _PLAN_END_RE.search(t[: m.start()]):
            t = t[: m.start()]  # 纲要（2021—2025年）
        elif ((re.fullmatch(r"(?:19|20)\d{2}年?度?", inner) or _DATE_TRAIL_RE.fullmatch(inner))
              and t[: m.start()].endswith(("报告", "总结"))):
            t = t[: m.start()]  # 法治政府建设年度报告（2022年）/ …年度报告（2023年3月）
        elif not re.search(r"\d", inner) or inner in ("全文", "正文", "图文", "附全文"):
            t = t[: m.start()]
        else:
            break
    return t.rstrip("。.:：")


def _title_from_body(text: str) -> str:
    """The first body line when it looks like a title (joined with the next one when the heading was wrapped:
    ``镜湖区人民政府关于2020年法治政府`` / ``建设情况的报告``)."""
    lines = paragraphs(text[:3000])[:6]
    if not lines or not 6 <= len(lines[0]) <= 60 or _SENTENCE_RE.search(lines[0]) or _LEAD_IN_RE.search(lines[0]):
        return ""
    first = lines[0]
    if len(lines) > 1 and not _DOC_END_RE.search(first):
        joined = first + lines[1]
        if len(lines[1]) <= 30 and not _SENTENCE_RE.search(lines[1]) and _DOC_END_RE.search(joined):
            return joined
    return first


def usable_title(title: str | None) -> str:
    """The normalised title, or "" when it says nothing about the page: missing, a breadcrumb, a site-section
    name (网站公告, 政务公告) or the site's name."""
    if not title or is_chrome(title.strip()):
        return ""
    t = normalize_title(title)
    if not t or is_section_name(t) or is_site_like(t):
        return ""
    return t


def classify(title: str | None, text: str) -> str:
    """Return ``annual_report`` | ``interpretation`` | ``plan`` | ``news`` | ``other`` (see module docstring)."""
    t = usable_title(title)
    if not t and text:
        # a heading opening the body stands in for the title -- if a text follows it (a list of links is no page)
        t = usable_title(_title_from_body(text)) if read_body(text).opening else ""
    kind = _classify_title(t, title) if t else None
    if kind is None:
        return body_type(text)
    if kind == "annual_report" and is_template(read_body(text), t):
        return "other"  # an anonymised template on a 范文 site
    return kind


def _classify_title(t: str, raw_title: str | None) -> str | None:
    """doc_type from a usable title; None when it cannot tell -- it names no kind of document (a headline such
    as 我县召开常务会议, a spam mirror's name glued to the topic) or is cut short with …: the body decides."""
    truncated = (raw_title or "").rstrip().endswith(("…", "...", "。。。"))  # normalize_title drops the dots
    if not _TOPIC_RE.search(t):
        return "other" if (DOC_KEYWORDS_RE.search(t) or _DOC_WORD_RE.search(t)) and not truncated else None
    if _DRAFT_RE.search(plain(raw_title or "")):
        return "other"  # a draft for comment is not the published report

    # 关于《XX区2020年法治政府建设情况报告》的解读 -> interpretation; 关于印发《…》的通知 -> plan
    if _INTERP_RE.search(t):
        return "interpretation"
    outer = re.sub(r"《[^》]*》", "《》", t)  # what the title says outside book-title marks
    if _SPEECH_END_RE.search(outer):
        return "other"  # 局长在2023年法治建设领导小组会议上的讲话
    if _REVIEW_RE.search(outer) and t.endswith("意见"):
        return "other"  # …报告的审议意见: the legislature's opinion, not a plan
    t = _NEXT_PLAN_RE.sub("", t)
    t = _COMBINED_PLAN_RE.sub("", t)
    if _PLAN_END_RE.search(t):
        return "plan"
    if _PLAN_WORD_RE.search(outer):
        return "plan"
    if _REVIEW_RE.search(outer):
        return "news"  # 区人大常委会听取和审议…报告: a sitting that heard the report
    if _PUBLISHED_RE.search(outer) and not outer.endswith(("公告", "公示", "通知")):
        return "news"  # 休宁县发布2021年法治政府建设年度报告: news that the report came out

    core = _REPORT_SUFFIX_RE.sub(r"\1", t)
    core = re.sub(r"[《》]", "", core)
    if core.endswith(("报告", "总结", "公报")):
        if _LOOKALIKE_RE.search(core) or _PERIOD_RE.search(core):
            return "other"
        if _FIRST_RESPONSIBLE_RE.search(core):
            # a 第一责任人 duty report is other, unless it is the government's 法治政府建设 report
            # that also covers the duty (…法治政府建设情况暨…第一责任人职责情况的报告)
            return "annual_report" if _COMBINED_RE.search(core) else "other"
        if _REPORT_RE.search(core):
            if core.endswith("总结") and not re.search(r"(?:19|20)\d{2}|年度", core):
                return "other"  # an undated 总结 is not the yearly report
            return "annual_report"
        return "other"
    if (_SITUATION_RE.search(core) and re.search(r"(?:19|20)\d{2}\s*年", core)
            and not _LOOKALIKE_RE.search(core) and not _EVENT_RE.search(core) and not _PERIOD_RE.search(core)):
        return "annual_report"
    if _NEWS_RE.search(outer):
        return "news"
    names_a_document = DOC_KEYWORDS_RE.search(t) or _DOC_WORD_RE.search(t)
    return "other" if names_a_document and not truncated else None  # 法治政府建设-某某娱乐: the body decides


# ---------------------------------------------------------------------------------------------------------------
# report year

_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_CN_YEAR_RE = re.compile(r"[〇零一二][〇零一二三四五六七八九]{3}(?=年)")
_RANGE_RE = re.compile(r"(?:19|20)\d{2}\s*年?\s*(?:[—–\-－~～至到]+|——)\s*(?:19|20)\d{2}\s*年?")
_YEAR_PATTERNS = (
    re.compile(r"关于((?:19|20)\d{2})\s*年"),
    re.compile(r"((?:19|20)\d{2})\s*年度"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年(?![\d〇零一二三四五六七八九十]{1,2}月)"),
)


def _year_in(s: str) -> list[int]:
    """Single years named in ``s``, best first; ``[0]`` when ``s`` names only a span (2021—2025年)."""
    s = _CN_YEAR_RE.sub(lambda m: m.group().translate(_CN_DIGITS), s)
    s, spans = _RANGE_RE.subn("", s)
    out = []
    for pat in _YEAR_PATTERNS:
        for m in pat.finditer(s):
            out.append(int(m.group(1)))
    return out or ([0] if spans else [])


def report_year(title: str | None, text: str, published_at: str | None) -> int | None:
    """The year a document reports on.

    From the title (``关于2020年…`` > ``2022年度`` > ``2020年…``), else from the body (``bodytype.body_year``: the
    report formula ``现将2020年度…报告如下``, the opening ``2020年，我区…``, an outline heading, the signing date),
    else ``published year - 1`` -- that last fallback only when ``classify`` says ``annual_report`` or
    ``interpretation``.  A title that says nothing about the page (missing, a breadcrumb, 网站公告) is skipped, and
    then a heading line opening the body stands in for it.  Any document whose title/body names a year gets
    it (plans too: ``2022年法治政府建设工作要点`` -> 2022); ``extract`` keeps ``report_year`` only for
    ``annual_report`` and sets it to ``None`` otherwise.  Years before 2000 or after the published year
    (or the current year when unpublished) are rejected -- a title naming only such years gives ``None``;
    a title naming only a span (``2021—2025年``) gives ``None`` too.
    """
    pub = None
    if published_at:
        m = re.match(r"\s*((?:19|20)\d{2})", published_at)
        if m:
            pub = int(m.group(1))
    limit = pub if pub is not None else date.today().year

    def ok(y: int) -> bool:
        return 2000 <= y <= limit

    usable = bool(usable_title(title))
    t = plain(title.strip()) if usable else ""  # not normalize_title: it drops a trailing （2021—2025年）
    years = _year_in(t)
    for y in years:
        if ok(y):
            return y
    if years:
        return None  # the title names only a span or impossible years: do not guess
    if text:
        if not usable:  # a heading line opening the body stands in for a missing title
            for y in _year_in(plain(_title_from_body(text))):
                if ok(y):
                    return y
        y = body_year(text, limit)
        if y is not None:
            return y
    if pub is not None and classify(title, text) in ("annual_report", "interpretation") and ok(pub - 1):
        return pub - 1
    return None
