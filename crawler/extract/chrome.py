"""Recognisers for page-chrome lines, and the metadata-field parser.

Every rule here is line-level and anchored (start of line, or the whole line made of chrome tokens) and
bounded by length: a body paragraph that merely mentions 打印 or 来源 is long or does not start with a
label, so it stays.

Labels and chrome words are written in simplified script.  Portals also serve whole sites in traditional
script (a 繁體 switch backed by a conversion gateway), so every recogniser matches on a simplified shadow of
the line; values are still cut from the original line, literal.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .regions import simplified_chars

# The line tests below are pure and every page of a portal repeats the same header, navigation and footer
# lines, each tested several times: cached, a crawl pays for a portal's chrome once
_LINE_CACHE = 8192

# --- metadata fields ("日期:2021/03/31 14:47来源:镜湖区司法局作者:刘金兰阅读次数:") -------------------------

SOURCE_LABELS = ("来源", "信息来源", "文章来源", "稿件来源", "内容来源", "新闻来源", "来源单位")
AUTHOR_LABELS = ("作者",)
# Publication-date labels, by preference (lower is better).
DATE_LABELS = {
    "发布时间": 0, "发布日期": 0, "发表时间": 0, "发表日期": 0, "公开日期": 0, "发稿时间": 0, "上线时间": 0,
    "日期": 1, "时间": 1,
    "发文日期": 2, "成文日期": 2, "印发日期": 2, "生成日期": 2, "信息提供日期": 2,
}
_OTHER_LABELS = (
    "阅读次数", "浏览次数", "阅读量", "浏览量", "访问量", "访问次数", "点击数", "点击量", "点击率", "浏览",
    "字体大小", "字号", "字体", "索引号", "发布机构", "发文机关", "发文机构", "文号", "发文字号", "公开方式",
    "公开时限", "公开范围", "公开形式", "主题分类", "体裁分类", "组配分类", "信息分类", "服务对象", "分类",
    "有效性", "主题词", "关键词", "关键字", "责任编辑", "编辑", "审核", "审校", "责任部门", "所属机构",
    "发布单位", "信息提供单位", "供稿", "摄影", "校对", "录入", "录入者", "录入时间", "更新时间", "修改时间",
    "发布人", "撰稿",
)
ALL_LABELS = tuple(dict.fromkeys((*SOURCE_LABELS, *AUTHOR_LABELS, *DATE_LABELS, *_OTHER_LABELS)))
_LABEL_SET = frozenset(ALL_LABELS)


def _spaced(label: str) -> str:
    # "索 引 号：" is common in 信息公开 tables.
    return r"[ \u3000\xa0]*".join(map(re.escape, label))


_LABEL_ALT = "|".join(_spaced(x) for x in sorted(ALL_LABELS, key=len, reverse=True))
_FIELD_RE = re.compile(rf"({_LABEL_ALT})[ \t\u3000\xa0]*[:：]")
_META_START_RE = re.compile(rf"^[\s【\[(（|｜•·●▪◆■□*-]*(?:{_LABEL_ALT})[ \t\u3000\xa0]*[:：]")  # • 索 引 号：
# a date opening a metadata line, with its time or weekday ("2023年03月28日 星期二 来源：…")
_LEAD_DATE_RE = re.compile(
    r"^[\s【\[(（]*(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*\d{1,2}\s*[:：]\s*\d{1,2}(?:\s*[:：]\s*\d{1,2})?)?"
    r"(?:\s*[(（]?(?:星期|礼拜|周)[一二三四五六日天][)）]?)?[\s】\])）]*"
)
_SPACE_RE = re.compile(r"[\s\u3000\xa0]+")
_VALUE_STRIP = " \t\u3000\xa0|｜丨【】[]()（）<>《》,，;；/"


@lru_cache(maxsize=_LINE_CACHE)
def _shadow(line: str) -> str:
    """The line in simplified script for matching, converted character by character, so positions found on
    the shadow hold on the original."""
    return simplified_chars(line)


def canon_label(raw: str) -> str:
    return _SPACE_RE.sub("", raw)


def parse_fields(line: str) -> list[tuple[str, str]]:
    """[(label, value)] for every `label:value` on a metadata line; values run to the next label.  An
    unlabelled date opening the line ("2024-03-29 18:32 来源：新华社") is reported as 日期."""
    return list(_fields(line))


@lru_cache(maxsize=_LINE_CACHE)
def _fields(line: str) -> tuple[tuple[str, str], ...]:
    shadow = _shadow(line)
    ms = list(_FIELD_RE.finditer(shadow))
    out = []
    lead = _LEAD_DATE_RE.match(line)
    if lead and ms and lead.end() <= ms[0].start():
        out.append(("日期", lead.group(0).strip(_VALUE_STRIP)))
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(line)
        value = line[m.end():end].strip(_VALUE_STRIP)
        out.append((canon_label(m.group(1)), value))
    return tuple(out)


def clean_value(value: str) -> str | None:
    """Literal field value, cut at a double space (the next unlabelled item); None when empty."""
    value = re.split(r"[ \t\xa0]{2,}|\u3000", value.strip(_VALUE_STRIP), maxsplit=1)[0].strip(_VALUE_STRIP)
    return value or None


@lru_cache(maxsize=_LINE_CACHE)
def is_meta_line(line: str) -> bool:
    """A metadata line: starts with a known label and a colon (after an optional leading date), and is short
    or carries several fields."""
    return _is_meta(_shadow(line))


def _is_meta(line: str) -> bool:  # `line` already in simplified script
    m = _LEAD_DATE_RE.match(line)
    rest = line[m.end():] if m else line
    if not _META_START_RE.match(rest):
        return False
    return len(line) <= 80 or len(_FIELD_RE.findall(line)) >= 2


def is_label_text(text: str) -> bool:
    """A bare metadata label, colon optional ("索 引 号", "发布日期：") — a label cell of a 信息公开 table."""
    t = _SPACE_RE.sub("", _shadow(text)).rstrip(":：")
    return len(t) <= 8 and t in _LABEL_SET


def is_label_only(line: str) -> bool:
    """`索 引 号：` alone on its line: the value sits on the next line (信息公开 tables)."""
    fields = _fields(line)
    return len(fields) == 1 and not fields[0][1] and is_meta_line(line) and len(line) <= 12


# --- whole-line chrome ------------------------------------------------------------------------------------

_CRUMB_SEP = r"(?:>>|->|=>|[>＞»›→/])"
_BREADCRUMB_RE = re.compile(
    r"^[\s>＞»]*(?:(?:您|你)(?:当前|现在|目前)?(?:所在|所处)?的?|当前|现在|目前)(?:所在|所处)?的?位置"
    r"|^[\s>＞»]*(?:所在|当前)?位置\s*[:：]"
    rf"|^\s*(?:网站)?首页\s*{_CRUMB_SEP}"
    # the rest of a breadcrumb wrapped onto its own line: "> 陇西动态 > 政务公告", "» 网站公告"
    rf"|^\s*{_CRUMB_SEP}\s*[^\s。，,；;]{{1,15}}\s*(?:{_CRUMB_SEP}\s*[^\s。，,；;]{{1,15}}\s*)*$"
)
# Tool links, accessibility/language bars, share widgets: the line must consist of these tokens only
# (separators removed first).
_TOOL_TOKENS = (
    r"打印(?:此文|此页|本页|文章|正文|全文)?|关闭(?:窗口|本页|此页|页面|本窗口)?|返回(?:顶部|列表|首页|上一页)?"
    r"|回到顶部|顶部|分享(?:到|至)?|一键分享|(?:手机)?扫一扫(?:在手机(?:上)?打开(?:当前页|此页|本页)?)?"
    r"|在手机(?:上)?打开(?:当前页|此页|本页)?|收藏(?:本页|此页)?|加入收藏|设为首页|字体|字号|大|中|小|默认|标准"
    r"|关怀版|无障碍(?:浏览|阅读|模式)?|长者模式|老年模式|适老化(?:模式)?|读屏专用|简体(?:版|中文)?|繁體(?:版|中文)?"
    r"|繁体(?:版|中文)?|简|繁|登录|注册|退出|个人中心|网站地图|联系我们|关于我们|网站导航|微信|微博|QQ空间|QQ"
    r"|纠错|我要纠错|智能问答|English|ENGLISH|手机版|移动版|搜索|高级搜索|首页|【|】|TOP|top"
)
_TOOL_LINE_RE = re.compile(rf"(?:{_TOOL_TOKENS})+")
_SEPARATORS_RE = re.compile(r"[\s|｜丨/\\·•●◆▪■□\-—_>＞»<【】\[\]（）():：,，、。*]+")
_DATE_WIDGET_RE = re.compile(
    r"^\s*今天是|^\s*(?:19|20)\d{2}\s*[-/.年].{0,14}(?:星期|礼拜|周)[一二三四五六日天]\s*$"
)
_LOGO_RE = re.compile(r"(?i)logo\s*$|^\s*logo")
_FOOTER_RE = re.compile(
    r"版权所有|Copyright|©|网站标识码|ICP\s*备|ICP\s*证|公网安备|技术支持\s*[:：]|网站维护\s*[:：]"
    r"|建议使用.{0,20}(?:浏览器|分辨率)", re.I
)
_FOOTER_START_RE = re.compile(r"^\s*(?:主办|承办|协办|主管)(?:单位)?\s*[:：]")
_PREV_NEXT_RE = re.compile(r"^\s*[【\[]?(?:上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[】\]]?\s*[:：]?")
_RELATED_RE = re.compile(
    r"^\s*[【\[]?(?:相关链接|相关文档|相关信息|相关文件|相关阅读|相关新闻|相关稿件|相关报道|相关内容|关联稿件|关联文档"
    r"|关联文件|延伸阅读|推荐阅读|热点推荐|猜你喜欢|上一篇|下一篇|上一条|下一条)\s*[】\]]?\s*[:：]?"
)


def is_tool_line(line: str) -> bool:
    return len(line) <= 60 and _is_tool(_shadow(line))


def _is_tool(line: str) -> bool:  # `line` already in simplified script
    residue = _SEPARATORS_RE.sub("", line)
    return not residue or _TOOL_LINE_RE.fullmatch(residue) is not None


def is_related_heading(line: str) -> bool:
    return len(line) <= 80 and _RELATED_RE.match(_shadow(line)) is not None


@lru_cache(maxsize=_LINE_CACHE)
def is_chrome(line: str) -> bool:
    """True for a line that is page chrome wherever it appears (never for a long body paragraph)."""
    n = len(line)
    if n > 200:
        return False
    line = _shadow(line)
    if _BREADCRUMB_RE.match(line) or _is_meta(line) or (n <= 60 and _is_tool(line)):
        return True
    if n <= 40 and (_DATE_WIDGET_RE.search(line) or _LOGO_RE.search(line)):
        return True
    if n <= 150 and _FOOTER_RE.search(line):
        return True
    if _FOOTER_START_RE.match(line) or (n <= 80 and _PREV_NEXT_RE.match(line)):
        return True
    return False
