"""What every 绩效目标 form family reads into (``ProjectForm`` and its rows), and the small text
helpers and level vocabularies the families share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.normalize.textnorm import (
    NotAnAmount,
    collapse,
    join_cjk,
    parse_amount,
    strip_tags,
    to_yuan,
)
from pipelines.read.model import Grid, SourceDocument, TextLine

# ---------------------------------------------------------------------------------------------
# Records


@dataclass(slots=True)
class Money:
    raw: str
    unit: str  # 元 | 万元
    yuan: Decimal | None


@dataclass(slots=True)
class LineItem:
    seq: int
    content: str | None  # 项目内容 / 子项目名称
    detail: str | None  # 项目明细
    amount: Money | None  # 明细金额 / 预算金额
    unit_price: Money | None = None
    quantity: Decimal | None = None
    remark: str | None = None
    page_no: int | None = None
    line_no: int | None = None


@dataclass(slots=True)
class IndicatorRow:
    """One printed indicator row; ``name_cell`` may hold several indicators (split later)."""

    name_cell: str
    target_raw: str
    level1_raw: str | None = None
    level2_raw: str | None = None
    level1: str | None = None
    level2: str | None = None
    level_confidence: str = "unknown"  # explicit | geometry | inferred | filled | unknown
    subproject: str | None = None
    explanation: str | None = None
    target_source: str | None = None
    score: str | None = None
    page_no: int | None = None
    line_no: int | None = None
    block: int | None = None  # the printed block (grid) the row is in: merged labels stay inside it


@dataclass(slots=True)
class ControlRow:
    control_type: str | None
    doc_name: str | None
    measures: str | None
    stage_plan: bool | None
    stage_impl: bool | None
    stage_close: bool | None
    page_no: int | None = None
    line_no: int | None = None


@dataclass
class ProjectForm:
    family: str  # SH_DISTRICT | SUZHOU | CENTRAL | PUTUO | EXPENSE_NOTE
    table_type: str  # P1 | S1 | PT | PN: the table code used in findings
    name: str | None
    page_no: int | None
    line_no: int | None
    amount_unit: str = "元"
    fiscal_year: int | None = None
    unit_name: str | None = None
    category: str | None = None  # 一次性项目 | 经常性项目 | 中期预算试点项目
    category_raw: str | None = None
    category_confidence: str | None = None
    project_type: str | None = None  # Suzhou 项目类型 / Putuo 项目类别
    start_date: str | None = None
    end_date: str | None = None
    amounts: dict[str, Money] = field(default_factory=dict)  # total, current, grant, upper, own, lower, other, carry
    line_items: list[LineItem] = field(default_factory=list)
    line_total: Money | None = None  # 金额合计 / 合计 as printed
    line_total_page: int | None = None
    line_total_line: int | None = None
    indicators: list[IndicatorRow] = field(default_factory=list)
    controls: list[ControlRow] = field(default_factory=list)
    goal_text: str | None = None
    score_total: Decimal | None = None  # the 分值 the indicator grid's header announces (分值（90）)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Small helpers

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def scrub(text: str | None) -> str | None:
    """Free text kept in the warehouse never carries a mobile number."""
    if text is None:
        return None
    return _MOBILE.sub("[号码已删除]", text)


def clean(text: str | None) -> str:
    """A cell as a name: tags and Markdown removed, whitespace between CJK characters removed."""
    if not text:
        return ""
    t = strip_tags(text).replace("\n", " ").replace("\u3000", " ")
    t = re.sub(r"\s+", " ", t).strip().lstrip("#").strip()
    return join_cjk(t)


def soft(text: str | None) -> str:
    """A cell with tags and Markdown removed and whitespace runs made single spaces, but spaces kept:
    they may separate two indicators printed in one cell."""
    if not text:
        return ""
    t = strip_tags(text).replace("\n", " ").replace("\u3000", " ")
    return re.sub(r"\s+", " ", t).strip().lstrip("#").strip()


def key(text: str | None) -> str:
    """A cell reduced for vocabulary matching: no whitespace, tags, colons or brackets around it."""
    return collapse(text).lstrip("#").strip("：:")


def money(raw: str | None, unit: str) -> Money | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = parse_amount(raw)
    except NotAnAmount:
        return None
    return Money(raw=raw.strip(), unit=unit, yuan=to_yuan(value, unit))


def decimal_or_none(raw: str | None) -> Decimal | None:
    try:
        return parse_amount(raw)
    except NotAnAmount:
        return None


@dataclass(slots=True)
class Row:
    """A printed row in reading order: a text line is a row of one cell."""

    cells: list[str]
    page_no: int
    line_no: int | None
    grid: Grid | None = None
    index: int = 0  # row index inside ``grid``

    @property
    def filled(self) -> list[tuple[int, str]]:
        return [(i, c) for i, c in enumerate(self.cells) if clean(c)]

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)


def _cells_with_vertical_merges(grid: Grid, r: int) -> list[str]:
    """A PDF row with each cell merged down from the row above given the covering text (a 一级目标
    label printed once for several rows is then on each of them); a cell merged with its left
    neighbour stays empty, so positions are kept. Text extractions have no geometry: cells as printed."""
    out = []
    for c, cell in enumerate(grid.rows[r]):
        if cell is not None:
            out.append(cell)
        elif grid.origins is not None and grid.origins[r][c][1] == c and grid.origins[r][c][0] < r:
            out.append(grid.covering_text(r, c))
        else:
            out.append("")
    return out


def rows_of(doc: SourceDocument) -> list[Row]:
    """Every row of the document in reading order. A text extraction has no pages: there ``page_no``
    is the line number, the finest location there is (as for the budget tables)."""
    rows: list[Row] = []
    for page in doc.pages:
        for item in page.items:
            if isinstance(item, TextLine):
                rows.append(Row([item.text], item.line_no or item.page_no, item.line_no))
            else:
                for r in range(len(item.rows)):
                    line = item.line_no(r)
                    rows.append(Row(_cells_with_vertical_merges(item, r), line or item.page_no, line, item, r))
    return rows


# ---------------------------------------------------------------------------------------------
# Level vocabularies (DOMAIN.md §1.4, §3.3)

LEVEL1 = {
    "产出目标": "OUTPUT", "产出指标": "OUTPUT", "产出": "OUTPUT",
    "效果目标": "EFFECT", "效益指标": "EFFECT", "效益目标": "EFFECT", "效果": "EFFECT", "效益": "EFFECT",
    "结果": "EFFECT", "影响力目标": "IMPACT", "影响力": "IMPACT", "满意度指标": "SATISFACTION",
    "满意度目标": "SATISFACTION", "投入": "INPUT", "过程": "PROCESS", "成本指标": "COST", "成本目标": "COST",
}  # fmt: skip
LEVEL2 = {
    "数量": "QUANTITY", "数量指标": "QUANTITY", "质量": "QUALITY", "质量指标": "QUALITY", "时效": "TIMELINESS",
    "时效指标": "TIMELINESS", "成本": "COST", "成本指标": "COST", "经济成本指标": "COST",
    "社会成本指标": "COST", "生态环境成本指标": "COST", "社会效益": "SOCIAL", "社会效益指标": "SOCIAL",
    "经济效益": "ECONOMIC", "经济效益指标": "ECONOMIC", "生态效益": "ECOLOGICAL", "生态效益指标": "ECOLOGICAL",
    "可持续影响": "SUSTAINABILITY", "可持续影响指标": "SUSTAINABILITY", "长效管理": "LONG_TERM_MGMT",
    "信息共享": "INFO_SHARING", "满意度": "SATISFACTION", "服务对象满意度指标": "SATISFACTION",
    "服务对象满意度": "SATISFACTION", "满意度指标": "SATISFACTION", "立项决策": "DECISION",
}  # fmt: skip
# Shanghai district scheme: which 一级目标 each 二级目标 sits under.
LEVEL1_OF_LEVEL2 = {
    "QUANTITY": "OUTPUT", "QUALITY": "OUTPUT", "TIMELINESS": "OUTPUT", "COST": "OUTPUT",
    "SOCIAL": "EFFECT", "ECONOMIC": "EFFECT", "ECOLOGICAL": "EFFECT", "SUSTAINABILITY": "EFFECT",
    "LONG_TERM_MGMT": "IMPACT", "INFO_SHARING": "IMPACT", "SATISFACTION": "IMPACT", "DECISION": "IMPACT",
}  # fmt: skip
_OUTER_LABELS = {"绩效目标", "绩效日", "目标", "绩效", "绩效指标", "分解目标"}

# 二级目标 from the indicator name where no label says it (H12): checked in this order.
_LEVEL2_FROM_NAME = [
    (re.compile(r"满意"), "SATISFACTION"),
    (re.compile(r"及时|时效|按时"), "TIMELINESS"),
    (re.compile(r"合格率|通过率|验收|达标率|准确率|精品率|持证率"), "QUALITY"),
    (re.compile(r"完成率|数量|次数|人数|人次|完成数|[^效]数$"), "QUANTITY"),
]


def level1_of(label: str | None) -> str | None:
    k = key(label)
    return LEVEL1.get(k) or LEVEL1.get(re.sub(r"(目标|指标)$", "", k))


def level2_of(label: str | None) -> str | None:
    k = key(label)
    return LEVEL2.get(k) or LEVEL2.get(re.sub(r"(目标|指标)$", "", k))


def level2_from_name(name: str) -> str | None:
    for pattern, code in _LEVEL2_FROM_NAME:
        if pattern.search(name):
            return code
    return None


_CATEGORIES = ("一次性项目", "经常性项目", "中期预算试点项目")
