"""The text of a document as segments under their headings: the 情况说明 part of a 决算, the
编制说明 / 其他相关情况说明 parts of a 预算 (with their 三公, 机关运行经费, 政府采购, 国有资产 and
绩效 sections). Numbers are read from these by ``reader``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.normalize.textnorm import collapse
from pipelines.read.model import Grid, SourceDocument, TextLine

# ---------------------------------------------------------------------------------------------
# The narrative as text segments under their headings

# 第三部分 …年度部门决算情况说明 (the words may wrap onto the next line), not 第二部分 …部门决算表;
# 三、决算报表说明 in the 高等学校 format.
_PART_START = re.compile(
    r"^第[一二三四五六七八九十]+部分.*决算(?!表)|^[一二三四五六七八九十]+、决算(报表)?(情况)?说明$"
)
_PART_END = re.compile(r"^(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+、)\s*名词解释$")
_HEADING = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
_PAGE_NUMBER = re.compile(r"^[-—]?\s*\d{1,3}\s*[-—]?$")
_ASCII_WORD = re.compile(r"[A-Za-z0-9.%]")


@dataclass
class Segment:
    heading: str
    text: str = ""
    pages: list[int] = field(default_factory=list)  # the page of every character of text
    part: str = ""  # the section it belongs to (a 预算's 一、“三公”经费预算情况说明 over its （一）…)

    def add(self, line: str, page: int) -> None:
        """Append a line: whitespace goes (line wraps and letter spacing), except between two
        Latin words or numbers, where it separates them."""
        for ch in line:
            if ch.isspace():
                if self.text and _ASCII_WORD.match(self.text[-1]) and not self.text.endswith(" "):
                    self.text += " "
                    self.pages.append(page)
                continue
            if self.text.endswith(" ") and not _ASCII_WORD.match(ch):
                self.text, self.pages = self.text[:-1], self.pages[:-1]
            self.text += ch
            self.pages.append(page)
        if self.text.endswith(" "):
            self.text, self.pages = self.text[:-1], self.pages[:-1]


def _is_heading(key: str) -> bool:
    if not _HEADING.match(key) or len(key) > 45:
        return False
    return "。" not in key or key.endswith(("说明。", "情况。"))


def narrative_segments(doc: SourceDocument) -> list[Segment]:
    """The lines of the 情况说明 part (the last heading that opens it: the first one is in the
    table of contents) up to 名词解释, grouped under their headings."""
    lines = [i for i in doc.items() if isinstance(i, TextLine)]
    last_on_page = {}
    for i, line in enumerate(lines):
        last_on_page[line.page_no] = i
    start = max((i for i, ln in enumerate(lines) if _PART_START.search(collapse(ln.text))), default=None)
    if start is None:
        return []
    segments = [Segment(heading=collapse(lines[start].text))]
    for i in range(start + 1, len(lines)):
        line = lines[i]
        key = collapse(line.text)
        if _PART_END.match(key):
            break
        if _PAGE_NUMBER.match(key) and last_on_page.get(line.page_no) == i:
            continue  # the page number in the footer
        if _is_heading(key):
            segments.append(Segment(heading=key))
            continue
        segments[-1].add(line.text, line.page_no)
    return [s for s in segments if s.text]


# A 预算's text sections: 编制说明, 情况说明 and their 三公 / 机关运行经费 / 政府采购 / 国有资产 / 绩效
# parts; 名词解释, 职能, 机构设置, the tables and the 绩效目标 forms are not narrative.
_BUDGET_SECTION = re.compile(
    r"编制说明|情况说明|预算说明|三公|机关运行经费|政府采购|国有资产|资产占[用有]|绩效目标设置|项目经费|"
    r"收支预算|收入预算|支出预算|预算情况|预算安排"
)
_NOT_NARRATIVE = re.compile(r"名词解释|职能|机构设置|概况|^目录|表$|申报表|绩效目标表|[（(]续[）)]|附件|附表")
_TOC_LEADER = re.compile(r"…{2,}|\.{4,}|·{4,}")
_TOP_HEADING = re.compile(r"^(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+、)")
# an amount, also one whose 万元 the line wrap cut after 万 (…预算支出 247.45 万 / 元，与上年…)
_MONEY_IN = re.compile(r"\d\s*(万元|元|%)|\d\s*万\s*$")


def _budget_heading(key: str, marked: bool) -> bool:
    """A heading line of a 预算: numbered (一、 （一） 第一部分), marked (Markdown #), or a short line
    naming a section or a table; never a sentence or a line stating an amount."""
    if not key or len(key) > 45 or "。" in key or "，" in key or _MONEY_IN.search(key):
        return False
    if marked or _HEADING.match(key) or _TOP_HEADING.match(key):
        return True
    return len(key) <= 32 and bool(_BUDGET_SECTION.search(key) or _NOT_NARRATIVE.search(key))


_HEADING_ENDS = ("说明", "情况", "概况", "解释")


def _opens_a_sentence(key: str, marked: bool, following: list[TextLine]) -> bool:
    """An unnumbered line whose sentence the next line finishes with an amount (…一般公共预算财政拨款
    支出预算 / 48,592.98万元，与上年…; …拨款安排的“三公”经 / 费支出预算15万元，…): text wrapped at the
    line's end, not a heading, though it names a section's words."""
    if marked or not following or _HEADING.match(key) or _TOP_HEADING.match(key) or key.endswith(_HEADING_ENDS):
        return False
    if _NOT_NARRATIVE.search(key):
        return False  # a table's or chart's title (…支出情况构成表) closes the part, whatever follows it
    first_clause = re.split(r"[，。；]", collapse(following[0].text))[0]  # not at 48,592.98
    return bool(_MONEY_IN.search(first_clause))


_INDICATOR_LEVEL = re.compile(r"(产出|效益|满意度|成本)指标")
_TARGET_OPERATOR = re.compile(r"[≥≤＝]")


def _target_table_pages(doc: SourceDocument) -> set[int]:
    """Pages of a 绩效目标表: its indicator levels (产出指标, 效益指标, 满意度指标) over and over, with
    targets (≥ 95 %), in its cells or as loose text; the long cells that spill out of the grid are
    not prose either. Prose about 绩效 names a level once or twice."""
    levels: dict[int, int] = {}
    operators: set[int] = set()
    for item in doc.items():
        if isinstance(item, Grid):
            text = " ".join(c for row in item.rows for c in row if c)
        elif isinstance(item, TextLine):
            text = item.text
        else:
            continue
        levels[item.page_no] = levels.get(item.page_no, 0) + len(_INDICATOR_LEVEL.findall(text))
        if _TARGET_OPERATOR.search(text):
            operators.add(item.page_no)
    return {page for page, n in levels.items() if n >= 4 and page in operators}


def budget_segments(doc: SourceDocument) -> list[Segment]:
    """The text sections of a 预算 grouped under their headings: a section opens at a heading
    naming a narrative part and closes at the next heading that names something else (a table,
    名词解释); its （一） sub-headings stay in it. Contents lines (with leaders) are skipped."""
    segments: list[Segment] = []
    part: str | None = None
    lines = [i for i in doc.items() if isinstance(i, TextLine)]
    last_on_page = {line.page_no: i for i, line in enumerate(lines)}
    pages_of: dict[str, set[int]] = {}
    for line in lines:
        pages_of.setdefault(collapse(line.text), set()).add(line.page_no)
    target_pages = _target_table_pages(doc)

    def _furniture(line: TextLine) -> bool:
        return doc.page_count > 3 and len(pages_of[collapse(line.text)]) >= 3 and not _MONEY_IN.search(line.text)

    for i, line in enumerate(lines):
        if line.page_no in target_pages:
            continue  # the cells of a 绩效目标表 not ruled as a grid, not prose
        if _furniture(line):
            continue  # a running header or footer (无锡市发展和改革委员会2025年度部门预算公开), not text
        marked = line.text.lstrip().startswith(("#", "- "))
        key = collapse(line.text).lstrip("#-")
        if _TOC_LEADER.search(key) or (_PAGE_NUMBER.match(key) and last_on_page.get(line.page_no) == i):
            continue
        # the next line of text, past a page's number and the next page's running header
        following = [n for n in lines[i + 1 : i + 4] if not _furniture(n) and not _PAGE_NUMBER.match(collapse(n.text))]
        following = following[:1]
        # a wrapped sentence continues the open part; with no part open it still opens one (its text is kept)
        wrapped = part is not None and _opens_a_sentence(key, marked, following)
        if _budget_heading(key, marked) and not wrapped:
            ordinal = bool(_HEADING.match(key)) and not key.startswith("第") and not marked
            if _NOT_NARRATIVE.search(key):
                part = None
            elif ordinal and part is not None:  # a section or sub-section of the open part
                segments.append(Segment(heading=key, part=part))
            elif _BUDGET_SECTION.search(key):  # a part opens (编制说明, 其他相关情况说明, 第三部分 …)
                part = key
                segments.append(Segment(heading=key, part=part))
            else:
                part = None
            continue
        if part is not None and segments:
            segments[-1].add(line.text, line.page_no)
    return [s for s in segments if s.text]
