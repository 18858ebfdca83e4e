"""Test and benchmark data made from the seed reports (`seeds/expected/*.json`).

* perturbations a repost really shows (`changed_dates`, `edited_paragraph`, `with_chrome`, `traditional`,
  `repost`) -> copies that must merge with their original;
* `same_region_other_report` and `next_year_report` -> different reports that name the same region and
  year (or the same region a year later) and must NOT merge;
* `corpus(n)` -> a reproducible synthetic corpus of n documents of 2-10k characters with ground truth
  (`group` = index of the original each near-duplicate copies).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_EXPECTED = REPO / "seeds" / "expected"
_DATE = re.compile(r"(20\d\d)年(\d{1,2})月(\d{1,2})日")
_NUMBER = re.compile(r"\d+")
_CHARS_CACHE: dict[str, object] = {}
_HEADING = re.compile(r"^([一二三四五六七八九十]+、|([一二三四五六七八九十]+))")


def load_seeds() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SEED_EXPECTED.glob("*.json"))]


def region_names(seed: dict) -> list[str]:
    """The region's names as they appear in text: '芜湖市镜湖区' -> ['芜湖市镜湖区', '镜湖区', '镜湖']."""
    region = seed.get("region") or ""
    parts = re.findall(r".+?(?:自治区|自治州|省|市|区|县|旗|盟)", region)
    names = [region] + ([parts[-1]] if parts else [])
    if parts and len(parts[-1]) > 2:
        names.append(parts[-1][:-1])
    return [n for n in dict.fromkeys(names) if n]


def swap_region(text: str, source: dict, target: dict) -> str:
    """Replace the region names of `source` in `text` with those of `target` (longest first)."""
    src, dst = region_names(source), region_names(target)
    for i, name in enumerate(src):
        text = text.replace(name, dst[min(i, len(dst) - 1)])
    return text


# --- perturbations of one report (copies that must merge) ----------------------------------------------


def changed_dates(text: str, rng: random.Random) -> str:
    """Dates in the body moved by a few days (a repost's own date lines, a corrected date)."""
    return _DATE.sub(lambda m: f"{m.group(1)}年{m.group(2)}月{rng.randint(1, 28)}日", text)


def edited_paragraph(text: str, rng: random.Random) -> str:
    """One long paragraph rewritten: its second half replaced by other wording and its numbers changed."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines) if len(line) > 120] or [max(range(len(lines)),
                                                                                 key=lambda i: len(lines[i]))]
    i = rng.choice(candidates)
    line = lines[i]
    half = len(line) // 2
    lines[i] = _NUMBER.sub(lambda m: str(rng.randint(1, 999)), line[:half]) + \
        "经研究,现对上述工作作如下补充说明:相关单位要进一步提高认识,细化措施,确保各项任务按期完成。"
    return "\n".join(lines)


def with_chrome(text: str, seed: dict | None = None) -> str:
    """Breadcrumb, metadata and footer lines a reposting portal wraps around the body."""
    site = (seed or {}).get("source") or "市人民政府"
    head = ["首页 > 政务公开 > 法治政府建设 > 年度报告", f"发布时间:2023-03-01 来源:{site} 字号:[大 中 小]",
            "【打印本页】【关闭窗口】"]
    foot = ["扫一扫在手机打开当前页", "主办单位:市人民政府办公室 承办:市大数据中心",
            "网站标识码:3402000001 皖ICP备05001234号 皖公网安备34020202000123号", "版权所有 © 2023 市人民政府"]
    return "\n".join(head + [text] + foot)


def traditional(text: str) -> str:
    """The same text in traditional script (OpenCC s2t)."""
    if "s2t" not in _CHARS_CACHE:
        import opencc

        _CHARS_CACHE["s2t"] = opencc.OpenCC("s2t")
    return _CHARS_CACHE["s2t"].convert(text)


def repost(text: str, seed: dict, rng: random.Random) -> str:
    """All of the above at once: chrome + changed dates + one edited paragraph."""
    return with_chrome(edited_paragraph(changed_dates(text, rng), rng), seed)


# --- different reports (must not merge) ----------------------------------------------------------------


def same_region_other_report(other: dict, region_of: dict) -> str:
    """Another seed's body given `region_of`'s region and year: same region/year, different report."""
    text = swap_region(other["text"], other, region_of)
    if other.get("report_year") and region_of.get("report_year"):
        text = text.replace(str(other["report_year"]), str(region_of["report_year"]))
    return text


def next_year_report(seed: dict, seeds: list[dict]) -> str:
    """The same region's report a year later: the headings, short set phrases and every third paragraph of
    `seed` carried over (years moved on), the other paragraphs taken from the other seeds with the region
    swapped in. What a region's 2022 vs 2023 reports look like when the drafter reuses last year's."""
    others = [s for s in seeds if s is not seed]
    pool = [swap_region(line, o, seed) for o in others for line in o["text"].split("\n") if len(line) > 60]
    rng = random.Random(seed.get("adcode"))
    lines = []
    for number, line in enumerate(seed["text"].split("\n")):
        if len(line) <= 60 or number % 3 == 0:  # headings, set phrases and every third paragraph carry over
            lines.append(line)
        elif _HEADING.match(line):  # "(一)heading。paragraph…": keep the heading, replace the paragraph
            lines.append(line[: min(40, (line.find("。") + 1) or 40)] + rng.choice(pool))
        else:
            lines.append(rng.choice(pool))
    text = "\n".join(lines)
    year = seed.get("report_year")
    if year:
        text = text.replace(str(year + 1), str(year + 2)).replace(str(year), str(year + 1))
    return text


# --- synthetic corpus ----------------------------------------------------------------------------------


@dataclass
class SynthDoc:
    index: int
    url: str
    portal_id: str
    title: str
    text: str
    region: str
    adcode: str
    report_year: int
    published_at: str
    group: int  # ground truth: index of the original this copies (== index for originals)
    kind: str  # original | exact | near

    def as_doc(self) -> dict:
        return {"url": self.url, "portal_id": self.portal_id, "title": self.title, "text": self.text,
                "region": self.region, "adcode": self.adcode, "report_year": self.report_year,
                "published_at": self.published_at, "doc_type": "annual_report", "source": "司法局",
                "attachments": [], "text_sources": [{"from": "page", "chars": len(self.text)}]}


_REGIONS = ["东城区", "西湖区", "武侯区", "天河区", "鼓楼区", "江北区", "南山区", "雁塔区", "历下区", "和平区",
            "开福区", "新城区", "城关区", "金水区", "青秀区", "龙华区", "思明区", "沙坪坝区", "渝中区", "高新区"]


def _pool(seeds: list[dict]) -> tuple[list[list[str]], dict[int, list[str]]]:
    """Sentences of all seeds as word lists (generic: region names removed) and the seeds' vocabulary by
    word length."""
    if "pool" not in _CHARS_CACHE:
        from storage.segment import segmenter

        cut = segmenter().cut
        sentences, vocabulary = [], {}
        for seed in seeds:
            text = seed["text"]
            for name in region_names(seed):
                text = text.replace(name, "Ⓡ")
            for sentence in re.split(r"(?<=[。;])", text.replace("\n", "")):
                if len(sentence) > 8:
                    words = cut(sentence)
                    sentences.append(words)
                    for word in words:
                        if all("\u4e00" <= c <= "\u9fff" for c in word):
                            vocabulary.setdefault(len(word), set()).add(word)
        _CHARS_CACHE["pool"] = sentences
        _CHARS_CACHE["vocabulary"] = {k: sorted(v) for k, v in vocabulary.items()}
    return _CHARS_CACHE["pool"], _CHARS_CACHE["vocabulary"]


def _fresh_sentence(rng: random.Random, sentences: list[list[str]], vocabulary: dict[int, list[str]]) -> str:
    """A seed sentence with a third of its words swapped for other seed words of the same length: each
    synthetic report gets its own wording (real reports of different regions share set phrases, not
    paragraphs), and the text stays made of dictionary words (so segmenting it costs what real text does)."""
    words = []
    for word in rng.choice(sentences):
        choices = vocabulary.get(len(word))
        if choices and word != "Ⓡ" and rng.random() < 0.35 and "\u4e00" <= word[0] <= "\u9fff":
            word = rng.choice(choices)
        words.append(word)
    return _NUMBER.sub(lambda m: str(rng.randint(1, 2000)), "".join(words))


def original(index: int, rng: random.Random, seeds: list[dict]) -> SynthDoc:
    sentences, vocabulary = _pool(seeds)
    region = rng.choice(_REGIONS)
    city = rng.choice(["合肥市", "长沙市", "郑州市", "南昌市", "吉林市", "芜湖市", "成都市", "杭州市"])
    year = rng.randint(2018, 2024)
    target = rng.randint(2000, 10000)
    paragraphs, size, heading = [], 0, 0
    while size < target:
        if rng.random() < 0.15:
            heading += 1
            line = f"{'一二三四五六七八九十'[heading % 10]}、{_fresh_sentence(rng, sentences, vocabulary)[:18]}"
        else:
            line = "".join(_fresh_sentence(rng, sentences, vocabulary) for _ in range(rng.randint(2, 6)))
        line = line.replace("Ⓡ", region)
        paragraphs.append(line)
        size += len(line) + 1
    text = "\n".join(paragraphs)[:target]
    month, day = rng.randint(1, 4), rng.randint(1, 28)
    return SynthDoc(index, f"https://www.{index:06d}.gov.cn/art/{year + 1}/{month}/{day}/art_{index}.html",
                    f"portal{index % 500}", f"{city}{region}{year}年度法治政府建设情况的报告", text, city + region,
                    f"{110000 + index % 9000:06d}", year, f"{year + 1}-{month:02d}-{day:02d}", index, "original")


def copy_of(doc: SynthDoc, index: int, rng: random.Random, seeds: list[dict]) -> SynthDoc:
    """A repost of `doc`: exact (same text, other URL) or near (chrome, dates, an edited paragraph, script)."""
    roll = rng.random()
    if roll < 0.25:
        text, kind = doc.text, "exact"
    else:
        text = doc.text
        if roll < 0.55:
            text = with_chrome(text)
        if rng.random() < 0.5:
            text = changed_dates(text, rng)
        if rng.random() < 0.5:
            text = edited_paragraph(text, rng)
        if rng.random() < 0.1:
            text = traditional(text)
        kind = "near"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return SynthDoc(index, f"https://news.example.gov.cn/{index}/content_{index}.htm", f"portal{index % 500}",
                    doc.title, text, doc.region, doc.adcode, doc.report_year,
                    f"{doc.report_year + 1}-{month:02d}-{day:02d}", doc.group, kind)


def corpus(n: int, *, dup_fraction: float = 0.2, seed: int = 1):
    """Yield n SynthDoc, about `dup_fraction` of them copies of an earlier original (ground truth in .group)."""
    rng = random.Random(seed)
    seeds = load_seeds()
    recent: list[SynthDoc] = []  # copies are made of the last 5000 originals (bounded memory)
    for index in range(n):
        if recent and rng.random() < dup_fraction:
            yield copy_of(rng.choice(recent), index, rng, seeds)
        else:
            doc = original(index, rng, seeds)
            recent.append(doc)
            if len(recent) > 5000:
                recent.pop(0)
            yield doc
