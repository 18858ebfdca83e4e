"""What a page's body says it is: ``doc_type`` and the year reported on, for pages whose title is missing,
generic (网站公告, a breadcrumb) or mangled.

A yearly 法治政府建设 report shows itself in four places:

* the opening -- ``2023年，XX区坚持以……``, ``一年来，我局……`` -- and an addressee above it that is the level
  reported to (``市人民政府：``, ``区委、区人大常委会：``);
* the report formula -- ``现将2023年度法治政府建设工作情况报告如下`` or ``现将有关情况报告如下`` -- and ``特此报告``;
* the outline the 督察工作规定 asks for: 主要举措和成效 / 存在的不足 / 下一步工作安排, and the part on the
  党政主要负责人履行推进法治建设第一责任人职责情况;
* the issuer's signature and the date at the end.

The same places give the look-alikes away, and those are checked first: a 解读 (``现解读如下``, 起草背景), a plan
or notice (``制定本方案``, ``现将《…》印发给你们``, ``通知如下``), news (``3月28日，…召开``, ``近日``, 记者), a
政府工作报告 (``各位代表``), a 政务公开年报 (政府信息公开条例), one official's 述法 (``本人``), a legislature's
调研 / 审议, 自查 / 自评, 督察整改, part of a year, a five-year review, a report on another subject
(``现将2023年度优化营商环境工作情况报告如下``) and anonymised 范文 templates (某县, XX区, *市, 20XX年, 小编).

Precision beats recall: a report needs an anchor -- the topic in its formula, a first part named after the topic
(``一、2023年推进法治政府建设的主要举措和成效``), the 第一责任人 part, or an opening about the topic together with a
generic formula, the report's outline or the 纲要's chapters -- and enough of the other evidence (``is_report``).
Every rule reads a simplified-script shadow of the lines with a spam mirror's pinyin glosses (建設(shè)) removed
(``plain``); a flattened dump (paragraphs run together) is read with its breaks restored (``paragraphs``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .dates import is_bare_date, parse_date
from .regions import simplified_chars, strip_glosses

__all__ = ["plain", "paragraphs", "BodyView", "read_body", "body_type", "body_year", "is_template", "signature",
           "TOPIC_RE"]

HEAD_LINES = 14          # lines read as the head of the body (opening, formula, first headings)
TAIL_LINES = 6           # lines read as its end (closing, signature, date)
TOPIC_WINDOW = 30_000    # characters in which the topic words are counted
OUTLINE_CHARS = 300_000  # characters in which headings are looked for
TAIL_CHARS = 3_000       # characters the tail lines are taken from


def plain(s: str) -> str:
    """``s`` in simplified script (character by character) without pinyin glosses: what every typing rule reads."""
    return simplified_chars(strip_glosses(s))


# a Han character -- any letter that is not a digit or Latin; the same as [\u4e00-\u9fff] for these rules, and
# a category class compiles ~10-100x faster than a range of CJK code points (bodytype's import: ~150 ms less)
HAN = r"[^\W\d_a-zA-Z]"
TOPIC_RE = re.compile(r"法治政府建设|建设法治政府|法治政府|依法行政|法治建设|法治" + HAN + r"{2,4}建设")
_BOOK_RE = re.compile(r"《[^》]{0,80}》")
_YEAR = r"((?:19|20)\d{2})"
_CN_YEAR_RE = re.compile(r"[〇○零一二][〇○零一二三四五六七八九]{3}(?=\s*年)")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")

# --- the report's own evidence ------------------------------------------------------------------------------

# 现将2023年度法治政府建设工作情况报告如下 / 将有关情况报告如下 / 现报告如下 / 现将…汇报如下 / 现将…总结如下
_FORMULA_RE = re.compile(r"(报告|汇报|总结)如下")
_CLOSING_RE = re.compile(r"(?:特此|专此|以上)报告")
# the issuer at the head of a formula's object (现将洛阳市生态环境局2022年度工作情况报告如下) is not its subject
_ISSUER_HEAD_RE = re.compile(r"^" + HAN + r"{1,20}?(?:人民政府|政府|局|委员会|管委会|委|办公室|中心|街道)")
_OUTLINE_NUM_RE = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十]{1,3}[）)]|第[一二三四五六七八九十]部分"
                             r"|\d{1,2}[、.．](?!\d))")
_TOP_NUM_RE = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|第[一二三四五六七八九十]部分)")
# the first part of the report named after the topic: 一、2023年推进法治政府建设的主要举措和成效,
# 一、2019年推进法治政府建设情况, 一、2017年法治政府建设情况
_TOPIC_PART_RE = re.compile(
    r"(?:法治政府建设|依法行政|法治建设)(?:工作)?(?:的)?(?:主要)?(?:举措|做法|工作|开展)?(?:和|及|与)?(?:成效|情况|成绩)"
)
_DONE_RE = re.compile(
    r"主要(?:工作)?(?:举措|做法|措施|成效|成绩)|(?:举措|做法|措施|工作)(?:和|及|与)(?:成效|成绩)|工作(?:开展|推进|完成)情况"
    r"|推进(?:法治政府建设|依法行政)(?:工作)?的?(?:主要)?(?:举措|做法|情况|成效|工作)|取得的(?:主要)?成效|工作(?:情况)?回顾"
)
_GAPS_RE = re.compile(r"存在的?(?:主要)?(?:不足|问题|困难|短板)|(?:不足|问题|困难|短板)(?:和|及|与)(?:原因|不足|问题|困难)")
# the shortcomings told in a paragraph near the end instead of under a heading: 但也存在一些问题和不足
_GAPS_TOLD_RE = re.compile(r"存在(?:着)?(?:的)?(?:一些|不少|诸多|一定的?)?(?:问题|不足|短板|差距|薄弱环节)")
_NEXT_RE = re.compile(
    r"下一?步|下一年度|(?:19|20)\d{2}年度?(?:的)?(?:推进" + HAN + r"{2,8}的)?(?:主要)?(?:工作)?(?:安排|打算|计划|思路|重点|谋划)"
    r"|(?:工作|主要)(?:安排|打算|思路|计划)$"
)
_DUTY_RE = re.compile(r"主要负责(?:人|同志)(?:认真)?(?:履行|落实)推进法治建设第一责任人职责")
_DUTY_ONLY_RE = re.compile(r"第一责任人")
# a speaker in the singular (我认真贯彻…), not 我区 / 我局 / 我们: one official's 述法
_FIRST_PERSON_RE = re.compile(r"(?:^|[，。,；])(?:我|本人)(?![省市县区州旗盟镇乡局委办厅院国党们司处所站部街社村单中会公校队])")
# the chapters of the 法治政府建设实施纲要 (2015-2020, 2021-2025) that a report's headings walk through
_THEMES = tuple(re.compile(x) for x in (
    r"政府职能|机构职能|放管服|简政放权",
    r"依法行政制度|制度体系|立法|规范性文件",
    r"行政决策|决策(?:科学化|民主化|法治化|公信力|制度)",
    r"执法",
    r"制约和监督|制约监督|权力监督|监督体系|监督制约",
    r"矛盾纠纷|行政争议|行政复议|复议应诉",
    r"法治思维|依法行政能力|学法用法|法治素养|法治能力",
    r"突发事件|应急",
    r"科技保障|数字法治|信息化|数字政府",
    r"党的领导|党对法治政府建设的领导|组织领导|统筹推进|高位推动",
    r"营商环境",
))
# the level a report goes up to, named above the opening: 市人民政府： / 区委、区人大常委会：
_ADDRESSEE_RE = re.compile(r"^(?!各)[^，。；,]{2,40}(?:人民政府|政府|委|常委会|司法局|办公室|委员会|公署)[：:]$")
_ISSUER_RE = re.compile(
    r"^(?:中共)?(?:" + HAN + r"|[（）()·]){2,40}(?:人民政府|政府|局|委员会|委|管委会|管理委员会|办公室|办事处|厅|院|中心|公署)$"
)

# --- look-alikes ---------------------------------------------------------------------------------------------

_INTERP_RE = re.compile(
    r"解读如下|(?:政策|文件|文字|图文|视频|图片|新闻)解读|【解读】|起草(?:背景|过程|依据|说明)|一图(?:读懂|看懂|了解|速览)|图解"
)
_PLAN_RE = re.compile(
    r"制定本" + HAN + r"{0,6}(?:方案|计划|要点|规划|办法|意见|指引|细则|规则|制度|规定|措施|标准)|特制定|制定如下|工作要点如下|如下工作要点|提出如下|印发给你们|通知如下"
    r"|请于[^。]{0,30}(?:前|之前)(?:报送|上报|报|提交)|请(?:认真)?(?:贯彻)?(?:执行|遵照执行|组织实施|抓好落实)"
)
# a plan's tasks name who leads them; a plan's outline: 总体要求 / 主要任务 / 保障措施
_TASK_OWNER_RE = re.compile(r"[（(](?:牵头|责任|配合|主责)(?:单位|部门)[:：]")
_PLAN_PART_RE = re.compile(r"总体要求|指导思想|主要目标|工作目标|主要任务|重点任务|保障措施|组织保障|工作要求|实施步骤|职责分工|进度安排")
# a notice's addressees, the levels below: 各乡镇人民政府、街道办事处，区政府各部门：
_DOWNWARD_RE = re.compile(r"^各[^：:]{1,80}(?:政府|部门|单位|办事处|科室|机构|委员会|局|直属机构)[^：:]{0,20}[：:]$")
_NEWS_LEAD_RE = re.compile(
    r"^(?:\d{1,2}\s*月\s*\d{1,2}\s*日|[一二三]?[一二三四五六七八九十]月[一二三]?[一二三四五六七八九十]日|近日|日前|近期|连日来"
    r"|本报讯|本网讯|" + HAN + r"{0,8}讯[\s（(])"
)
_NEWS_RE = re.compile(r"[（(]记者|记者\s*" + HAN + r"{2,3}|记者从|通讯员|本报讯|本网讯")
_EVENT_RE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日[^。；]{0,60}(?:召开|举行|举办|开幕|启动|揭牌)")
_GOV_WORK_RE = re.compile(r"各位代表|向大会报告|政府工作报告|人民代表大会第[^。，]{0,6}次会议上")
_GOV_INFO_RE = re.compile(r"政府信息公开(?:条例|工作年度报告|工作报告|年度报告)|主动公开政府信息情况")
_ONE_OFFICIAL_RE = re.compile(r"本人|(?:述法|述职|述廉|述责)(?:报告)?如下|开展[^。，]{0,10}(?:述法|述职)工作")
_REVIEW_RE = re.compile(r"调研组|调研情况|视察|执法检查|审议意见|评议|检查组|常委会组成人员")
_SELF_CHECK_RE = re.compile(r"自查|自评|考核指标|评分标准|得分")
_RECTIFY_RE = re.compile(r"整改|反馈(?:的)?问题|督察组|督查组|巡察组")
_INSPECTION_RE = re.compile(r"督察组|督查组|巡察组|检查组|考核组|对[我本][省市县区镇局].{0,12}(?:督察|督查|检查|考核)")
_PERIOD_RE = re.compile(r"上半年|下半年|季度|前三季|(?<!\d)1\s*[-—–~～至到]\s*\d{1,2}\s*月")
# a review of several years, named by the formula or leading the opening (a 2020 report may look back on
# the five years of the 纲要 further on)
_MULTI_YEAR_RE = re.compile(
    r"五年来|近五年|十年来|[“\"]?十[一二三四五]五[”\"]?(?:以来|时期|期间)"
    r"|(?:19|20)\d{2}\s*年?\s*(?:[—－\-–~～至到]+)\s*(?:19|20)\d{2}\s*年"
)
# a speech or an essay about 法治政府建设, not a report
_SPEECH_RE = re.compile(r"同志们|各位领导|尊敬的|关键词[:：]|摘\s*要[:：]|参考文献|（作者|作者单位")
# a report's subject that is not 法治政府建设, when it fills the opening or the formula
_OTHER_SUBJECT_RE = re.compile(
    r"普法|营商环境|安全生产|信访|政务公开|信息公开|扫黑除恶|平安建设|综治|综合治理|乡村振兴|脱贫|扶贫|党风廉政|党建"
    r"|意识形态|审判|检察|统计|公共法律服务|人民调解|社区矫正|禁毒|招商|环境保护|生态环境|行政执法|行政复议|依法治校|信用"
    r"|民政|教育|卫生|医疗|交通|水利|农业|林业|财政|预算|审计|税务|应急管理|消防|住房|城市管理|市场监管|文化|旅游|体育"
    r"|科技|人才|就业|社会保障|疫情防控|维稳|政法|公安|司法行政工作|规范性文件备案|备案审查|民族宗教|国防|人武"
)
# anonymised templates as 范文 sites publish them, and such sites' own lines
_PLACEHOLDER_RE = re.compile(
    r"(?:XX|xx|ＸＸ|ｘｘ|××|×|\*{1,3}|＊{1,3}|○○|某某|某)(?:省|市|县|区|旗|州|镇|乡|局|街道|单位|部门)"
    r"|(?:19|20)[xX×*＊ｘＸ]{2}\s*年"
)
_STRONG_PLACEHOLDER_RE = re.compile(
    r"(?:XX|xx|ＸＸ|ｘｘ|××|×|\*{1,3}|＊{1,3}|○○)(?:省|市|县|区|旗|州|镇|乡|局|街道)|(?:19|20)[xX×*＊ｘＸ]{2}\s*年"
)
_PLACE_RE = re.compile(HAN + r"(?:省|市|县|区|旗|州|盟|镇|乡|局|管委会)")
_ESSAY_SITE_RE = re.compile(r"小编|范文|范例|例文|仅供参考|供大家参考|以供参考|精心整理|网友投稿|文档编号|上传人|下载文档|公文汇")
_ESSAY_TITLE_RE = re.compile(r"范文|范例|例文|模板|精选|大全|汇编|(?<![\d年])\d{1,2}篇|优秀")


@dataclass(frozen=True)
class BodyView:
    """The parts of a body that typing reads, each as ``plain`` text."""

    above: list[str]      # lines above the opening (addressee, headings, labels)
    opening: str          # the first line that is a sentence
    head: list[str]       # the opening and the lines after it, up to HEAD_LINES in all
    tail: list[str]       # the last lines
    headings: list[str]   # outline headings (一、…  （一）… 第一部分 …), cut at their first full stop
    parts: list[str]      # the top-level ones among them (一、… 第一部分 …)
    topic_count: int      # 法治政府建设 / 依法行政 / 法治建设 ... mentions
    plans_lead: str = ""  # the line after the part on next year's plans (2024年，我区将……)

    @property
    def head_text(self) -> str:
        return "\n".join(self.above + self.head)


# where a flattened dump (paragraphs run together on one line) had its breaks: before an outline numeral that
# follows the end of a sentence, around 特此报告, and after a title glued to the opening (…情况的报告2023年，…)
_FLAT_BREAK_RE = re.compile(
    r"(?<=[。；：:！？!?”」])\s*(?=[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]|特此报告)"
    r"|(?<=特此报告。)|(?<=报告)(?=(?:19|20)\d{2}\s*年[，,度])"
)
# …保障。淮安市人民政府2023年3月5日: the signature and the date run onto the last paragraph
_SIGNED_END_RE = re.compile(
    r"(?:(?<=[。！])(?P<issuer>(?:" + HAN + r"|[（）() ]){2,40}?(?:人民政府|政府|局|委员会|委|管委会|办公室|办事处|中心)))?"
    r"\s*(?P<date>(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[〇○一二][〇○一二三四五六七八九]{3}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)\s*$"
)
LONG_LINE = 200


def paragraphs(text: str) -> list[str]:
    """The non-empty lines of ``text``, a flattened dump's long lines broken where its paragraphs were."""
    out = []
    for ln in text.split("\n"):
        ln = ln.strip()
        if len(ln) <= LONG_LINE:
            if ln:
                out.append(ln)
            continue
        pieces = [x.strip() for x in _FLAT_BREAK_RE.split(ln) if x.strip()]
        last = pieces.pop()
        m = _SIGNED_END_RE.search(last, max(0, len(last) - 80))
        if m and m.start() > 0:
            pieces.append(last[:m.start()].strip())
            pieces.extend(x.strip() for x in (m.group("issuer"), m.group("date")) if x and x.strip())
        else:
            pieces.append(last)
        out.extend(pieces)
    return out


def _is_sentence(line: str) -> bool:
    return len(line) >= 16 and any(p in line for p in "，。；,")


def _cut(text: str, at: int) -> int:
    """``at``, moved back to just after a line break when there is one (the end when ``text`` is shorter)."""
    if len(text) <= at:
        return len(text)
    return text.rfind("\n", 0, at) + 1 or at


@lru_cache(maxsize=16)  # classify, report_year and the template check read the same body
def read_body(text: str) -> BodyView:
    """Read the head (TOPIC_WINDOW characters, in one conversion), the headings within OUTLINE_CHARS and the
    tail: the work stays bounded on huge pages."""
    cut = _cut(text, TOPIC_WINDOW)
    window = plain(text[:cut])
    lines = paragraphs(window)
    tail = lines[-TAIL_LINES:]
    if cut < len(text):  # the rest is read raw; the lines used from it are converted one by one
        lines += paragraphs(text[cut:_cut(text, OUTLINE_CHARS)])
        tail = [plain(ln) for ln in paragraphs(text[-TAIL_CHARS:])[-TAIL_LINES:]]
    above: list[str] = []
    start = len(lines)
    for i, ln in enumerate(lines[:HEAD_LINES]):
        if _is_sentence(ln) and not _OUTLINE_NUM_RE.match(ln):
            start = i
            break
        above.append(ln)
    head = lines[start:max(start + 1, HEAD_LINES - len(above))]
    headings, parts = [], []
    plans_lead = ""
    for i, ln in enumerate(lines):
        if _OUTLINE_NUM_RE.match(ln):
            heading = re.split(r"[。！？!?；;]", plain(ln[:120]), maxsplit=1)[0]
            if len(heading) > 50:  # a flattened dump glues the heading to its first paragraph's first clause
                heading = re.split(r"[，,：:]", heading, maxsplit=1)[0]
            if len(heading) <= 50:
                headings.append(heading)
                if _TOP_NUM_RE.match(heading):
                    parts.append(heading)
                    if not plans_lead and _NEXT_RE.search(heading) and i + 1 < len(lines):
                        plans_lead = plain(lines[i + 1][:20])
    return BodyView(above, head[0] if head else "", head, tail if head else [], headings, parts,
                    len(TOPIC_RE.findall(window)), plans_lead)


# ---------------------------------------------------------------------------------------------------------------
# the report's evidence


def _formulas(view: BodyView) -> list[tuple[str, str]]:
    """(verb, object) of each report formula in the head: ``现将2023年度法治政府建设情况报告如下`` ->
    (``报告``, ``2023年度法治政府建设情况``); ``…工作情况总结报告如下`` -> (``报告``, ``…工作情况``)."""
    out = []
    for line in view.head[:6]:
        for m in _FORMULA_RE.finditer(line):
            sentence = re.split(r"[。；！？!?]", line[:m.start()])[-1]
            clause = re.split(r"现将|现就|现把|特将|兹将|(?<!" + HAN + r")将|，将|，现", sentence)[-1]
            if clause == sentence:  # no 将: the object is the last clause (…，2023年度法治政府建设情况报告如下)
                clause = re.split(r"[，,：:]", sentence)[-1]
            obj = _BOOK_RE.sub("", clause).strip()
            out.append((m.group(1), obj[:-2] if obj.endswith("总结") and m.group(1) == "报告" else obj))
    return out


def _formula_kind(view: BodyView) -> str | None:
    """``topic`` when a formula names 法治政府建设 / 依法行政 as what it reports on, ``other`` when it names
    another subject (行政执法, 营商环境 ...), else ``generic`` (``现将有关情况报告如下``); None without a formula."""
    kinds = []
    for verb, obj in _formulas(view):
        if _DUTY_ONLY_RE.search(obj) and not re.search(r"法治政府建设|依法行政", obj):
            kinds.append("other")  # 现将我履行推进法治建设第一责任人职责情况报告如下: one official's report
        elif TOPIC_RE.search(obj):
            kinds.append("topic" if verb == "报告" else "generic")
        elif _OTHER_SUBJECT_RE.search(_ISSUER_HEAD_RE.sub("", obj)):
            kinds.append("other")
        else:
            kinds.append("generic")
    for kind in ("topic", "generic", "other"):
        if kind in kinds:
            return kind
    return None


def _outline(view: BodyView) -> set[str]:
    """Which parts of the report's outline the headings show: done, gaps, next, duty."""
    found = set()
    for h in view.headings:
        for name, rx in (("done", _DONE_RE), ("gaps", _GAPS_RE), ("next", _NEXT_RE), ("duty", _DUTY_RE)):
            if rx.search(h):
                found.add(name)
    if "gaps" not in found and any(_GAPS_TOLD_RE.search(x) for x in view.tail):
        found.add("gaps")
    return found


def _themes(view: BodyView) -> int:
    """How many chapters of the 纲要 the headings walk through."""
    return sum(any(rx.search(h) for h in view.headings) for rx in _THEMES)


def signature(view: BodyView) -> tuple[str | None, str | None]:
    """(issuer, date line) signed at the end of the body, either may be None."""
    date_line = issuer = None
    tail = view.tail
    for i in range(len(tail) - 1, max(-1, len(tail) - 4), -1):
        if is_bare_date(tail[i]):
            date_line = tail[i]
            above = [re.sub(r"\s+", "", x) for x in tail[max(0, i - 2):i]]
            for cand in reversed(above):
                if _ISSUER_RE.match(cand):
                    issuer = cand
                    break
            break
    if issuer is None and tail:
        last = re.sub(r"\s+", "", tail[-1])
        issuer = last if _ISSUER_RE.match(last) else None
    return issuer, date_line


def _opening_topic(view: BodyView) -> bool:
    """The opening is about 法治政府建设 (more than about another subject such as 普法 or 营商环境)."""
    opening = _BOOK_RE.sub("", view.opening)
    topic = len(TOPIC_RE.findall(opening))
    return topic > 0 and topic >= len(_OTHER_SUBJECT_RE.findall(opening))


_YEAR_LEAD_RE = re.compile(
    r"^(?:在)?(?:(?:19|20)\d{2}|[〇○零一二][〇○零一二三四五六七八九]{3})\s*年度?(?:以来|里|中|是|，|,|、|我|全)"
    r"|^(?:一年来|过去的?一年|上一?年度?)"
)


def is_report(view: BodyView) -> bool:
    """Enough of the report's own evidence (module docstring); look-alikes are ruled out before."""
    if view.topic_count < 2:
        return False
    formula = _formula_kind(view)
    if formula == "other":
        return False  # the body reports on another subject
    opening_topic = _opening_topic(view)
    outline = _outline(view)
    issuer, date_line = signature(view)
    topic_part = bool(view.parts) and _TOPIC_PART_RE.search(view.parts[0]) is not None
    duty = "duty" in outline
    score = 0
    if formula == "topic":
        score += 3
    elif formula == "generic" and opening_topic:
        score += 2
    score += 3 if topic_part else bool(view.parts and TOPIC_RE.search(view.parts[0]))  # 一、…法治政府建设工作
    score += 3 * duty
    score += len(outline - {"duty"})
    score += any(_CLOSING_RE.search(x) for x in view.tail + view.head[-2:])
    score += bool(issuer and date_line)
    score += any(_ADDRESSEE_RE.match(x) for x in view.above[-2:])
    score += bool(opening_topic and _YEAR_LEAD_RE.match(view.opening))
    themes = _themes(view) >= 3
    score += 2 * themes
    score += view.topic_count >= 15
    anchored = (formula == "topic" or topic_part or duty
                or (opening_topic and (formula == "generic" or len(outline) >= 2 or themes)))
    return anchored and score >= 4


# ---------------------------------------------------------------------------------------------------------------
# look-alikes


def is_template(view: BodyView, title: str = "") -> bool:
    """An anonymised template (某县, XX区, *市, 20XX年) or a 范文 site's copy: never a region's own report."""
    if _STRONG_PLACEHOLDER_RE.search(title) or _ESSAY_TITLE_RE.search(title):
        return True
    if any(_ESSAY_SITE_RE.search(x) for x in view.above + view.head[:3] + view.tail):
        return True
    own = [view.opening] + view.above + view.tail[-3:]  # where the issuer names itself
    if any(_STRONG_PLACEHOLDER_RE.search(x) for x in own):
        return True
    # 某县 naming itself under a title that names no place (2022年度法治政府建设工作报告); under a title that does
    # (某县…报告, 示例县…报告) the body's 某县 stands for that place, as on test portals
    return not _PLACE_RE.search(TOPIC_RE.sub("", title)) and any(_PLACEHOLDER_RE.search(x) for x in own)


def lookalike(view: BodyView) -> str | None:
    """The doc_type of a look-alike recognised from the body, or None."""
    head = view.head_text
    lead = "\n".join(view.above + view.head[:3])
    topical = view.topic_count > 0
    if _INTERP_RE.search(lead):
        return "interpretation" if topical else "other"
    if _GOV_WORK_RE.search(lead) or _GOV_INFO_RE.search(lead) or _SPEECH_RE.search(lead):
        return "other"
    plan_parts = sum(bool(_PLAN_PART_RE.search(h)) for h in view.parts)
    if (_PLAN_RE.search(lead) or any(_DOWNWARD_RE.match(x) for x in view.above[-2:]) or _TASK_OWNER_RE.search(head)
            or (plan_parts >= 2 and not _outline(view) & {"done", "gaps"})):
        return "plan" if topical else "other"
    first_sentence = re.split(r"[。！？]", view.opening, maxsplit=1)[0]
    if _NEWS_LEAD_RE.match(view.opening) or _NEWS_RE.search(lead) or _EVENT_RE.search(first_sentence):
        return "news" if topical else "other"
    # what the page says it is, in its first sentence and its formula (a long opening may go on to list
    # achievements such as 述法测评 or 督察整改)
    opening = _BOOK_RE.sub("", view.opening)
    objects = "\n".join(obj for _, obj in _formulas(view))
    subject = re.split(r"[。！？]", opening, maxsplit=1)[0] + "\n" + objects
    for rx in (_ONE_OFFICIAL_RE, _FIRST_PERSON_RE, _REVIEW_RE, _SELF_CHECK_RE, _PERIOD_RE):
        if rx.search(subject):
            return "other"
    if _RECTIFY_RE.search(objects) or _INSPECTION_RE.search(opening):
        return "other"  # a report on rectifying what inspectors found
    if _MULTI_YEAR_RE.search(objects) or _MULTI_YEAR_RE.match(opening):
        return "other"
    if any(_SELF_CHECK_RE.search(h) for h in view.headings[:8]):
        return "other"
    return None


def body_type(text: str) -> str:
    """doc_type of a page judged from its body alone."""
    if not text:
        return "other"
    view = read_body(text)
    kind = lookalike(view)
    if kind:
        return kind
    if is_report(view) and not is_template(view):
        return "annual_report"
    return "other"


# ---------------------------------------------------------------------------------------------------------------
# the year reported on

_FIRST_YEAR_RE = re.compile(r"(?<!\d)" + _YEAR + r"\s*年(?![\d〇零一二三四五六七八九十]{1,2}月)")
_SPAN_RE = re.compile(r"(?:19|20)\d{2}\s*年?\s*(?:[—－\-–~～至到]+)\s*(?:19|20)\d{2}\s*年?")
_HEADING_YEAR_RE = re.compile(_YEAR + r"\s*年度?(?:的)?(?:推进|全[省市县区旗镇])?" + HAN + r"{0,10}?"
                              r"(?:法治政府建设|依法行政|法治建设|工作)")


def _years(s: str) -> list[int]:
    s = _CN_YEAR_RE.sub(lambda m: m.group().translate(_CN_DIGITS), _BOOK_RE.sub("", s))
    s = _SPAN_RE.sub("", s)
    return [int(m.group(1)) for m in _FIRST_YEAR_RE.finditer(s)]


def body_year(text: str, limit: int) -> int | None:
    """The year a report's body says it reports on: the formula's (``现将2023年度…报告如下``), the opening's
    (``2023年，…``), an outline heading's (``一、2023年推进法治政府建设的主要举措和成效``), else the signing date's
    (the year before, unless signed in November or December), else the year before the one its plans are for
    (``四、2024年推进法治政府建设的主要安排``, or the part on them opening with ``2024年，我区将……``).  Only years in
    2000..limit count."""
    if not text:
        return None
    view = read_body(text)

    def ok(y: int) -> bool:
        return 2000 <= y <= limit

    for _, obj in _formulas(view):
        for y in _years(obj):
            if ok(y):
                return y
    if _YEAR_LEAD_RE.match(view.opening):
        for y in _years(view.opening[:12]):
            if ok(y):
                return y
    for h in view.headings:
        if _NEXT_RE.search(h) or _GAPS_RE.search(h):
            continue  # next year's plans
        m = _HEADING_YEAR_RE.search(h)
        if m and ok(int(m.group(1))):
            return int(m.group(1))
    _, date_line = signature(view)
    signed = parse_date(date_line) if date_line else None
    if signed:
        y = signed.day.year if signed.day.month >= 11 else signed.day.year - 1
        if ok(y):
            return y
    # 四、2024年推进法治政府建设的主要安排 / 三、下一步工作安排 + 2024年，我区将……: the report is on the year before
    plans = [h for h in view.parts if _NEXT_RE.search(h)][:1]
    if _YEAR_LEAD_RE.match(view.plans_lead):
        plans.append(view.plans_lead[:8])
    for s in plans:
        for y in _years(s):
            if ok(y - 1):
                return y - 1
    return None
