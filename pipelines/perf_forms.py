"""绩效目标 forms: projects, their line items, indicators and 制度保障 rows (DOMAIN.md §2.2, §2.3, §3, §4.1).

One recognizer per form family, each returning ``ProjectForm`` records:

- ``shanghai_district_forms``: 财政项目支出绩效目标申报表 in three parts (项目总体情况 / 绩效目标 /
  制度保障), as in seed 003 (22 projects after the budget tables) and seed 004 (standalone, 2019).
- ``suzhou_forms``: 苏州市级财政支出项目绩效目标申报表 (seeds 000 and 002), amounts in 万元.
- ``central_target_tables``: the 项目绩效目标表 of central-unit budgets (西南大学 2023: 一级/二级/三级
  指标, 指标值, 分值), amounts in 万元.
- ``putuo_target_forms``: 财政项目支出绩效目标填报表 of Shanghai Putuo budgets (万里街道 2023), in 元.
- ``project_expense_notes``: 项目经费情况说明 pages (Putuo 2024/2025): a project described in prose,
  with its 年度预算安排, but no indicator table; loaded only where no form of the other families is.

Text extractions have no cell geometry: merged labels (一级/二级目标, 类别) land on an arbitrary row of
their range and columns shift from row to row, so rows are read by what their cells say, not by
position. PDF grids carry geometry: a label merged over several rows is read from the cell that
covers each row (``Grid.origins``).

Personal data (联系人, 联系电话, 项目负责人) is never read into a record; free text that is kept is
scrubbed of mobile numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from pipelines import frames
from pipelines.classify import DocumentInfo
from pipelines.facts import Finding, TableFacts
from pipelines.identities import compare
from pipelines.model import Grid, SourceDocument, TextLine
from pipelines.targets import COMPOSITE, NUMERIC, Target, parse_target, split_indicator_cell
from pipelines.textnorm import NotAnAmount, collapse, join_cjk, looks_like_amount, parse_amount, strip_tags, to_yuan

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


# ---------------------------------------------------------------------------------------------
# Family 1: Shanghai district 财政项目支出绩效目标申报表 (P1 / P2 / P3)

_SH_P1 = re.compile(r"绩效目标申报表[（(]项目总体情况[)）]")
_SH_P2 = re.compile(r"绩效目标申报表[（(]绩效目标[)）]")
_SH_P3 = re.compile(r"绩效目标申报表[（(]制度保障[)）]")
_YEAR_IN_BRACKETS = re.compile(r"[（(]\s*(20\d\d)\s*年\s*[)）]")

# 项目资金 block labels, longest first so that 上级财政拨款 is not read as 财政拨款.
_FUND_LABELS = [
    ("upper", "上级财政拨款"), ("own", "本级财政安排"), ("lower", "下级财政配套"), ("total", "项目总预算"),
    ("current", "当年预算"), ("grant", "财政拨款"), ("other", "其他资金"),
]  # fmt: skip
_FUND_RE = re.compile(r"(" + "|".join(label for _, label in _FUND_LABELS) + r")\s*[:：]\s*(-?[\d,，]+(?:\s*\.\s*\d+)?)")
_FUND_KEY = {label: k for k, label in _FUND_LABELS}

_CATEGORIES = ("一次性项目", "经常性项目", "中期预算试点项目")
_SH_REMARKS = {"计划目标", "管理要求", "行业惯例", "调查问卷", "项目计划", "项目计划、合同条款", "合同条款"}
_TEXT_TARGETS = {
    "及时", "及时性", "建立健全", "提升", "有提升", "相符", "健全", "规范", "合规", "安全", "完成", "清晰",
    "稳定", "有效", "展示", "建立", "制定", "充分", "按时", "显著", "达标", "合格",
}  # fmt: skip
_STAGE_WORDS = ("立项和计划阶段", "实施阶段", "收尾和完成阶段")
_CONTROL_TYPES = ("项目管理制度", "预算管理制度", "财务管理制度")


def _title_kind(row: Row) -> str | None:
    t = key(row.text)
    if _SH_P1.search(t):
        return "P1"
    if _SH_P2.search(t):
        return "P2"
    if _SH_P3.search(t):
        return "P3"
    return None


def parse_category(text: str) -> tuple[str | None, str | None]:
    """项目类别 checkboxes (H9): ``<input checked…/> 经常性项目`` (box before its label) or
    ``一次性项目 <input …/>`` (box after its label). Returns (category, confidence)."""
    # a PDF prints glyphs instead of HTML inputs: ☑ / ■ / √ checked, □ / ☐ not
    text = re.sub(r"[☑☒■√✓✔]", '<input checked="" type="checkbox"/>', text)
    text = re.sub(r"[□☐]", '<input type="checkbox"/>', text)
    tokens = re.findall(r"<input[^>]*>|一次性项目|经常性项目|中期预算试点项目", text)
    if not tokens:
        return None, None
    box_after = not tokens[0].startswith("<input") and tokens[-1].startswith("<input")
    for i, tok in enumerate(tokens):
        if not tok.startswith("<input") or "checked" not in tok:
            continue
        j = i - 1 if box_after else i + 1
        if 0 <= j < len(tokens) and not tokens[j].startswith("<input"):
            return tokens[j], "box_after_label" if box_after else "box_before_label"
    plain = [c for c in _CATEGORIES if c in text]
    if "<input" not in text and len(plain) == 1:  # a PDF prints the chosen category as plain text
        return plain[0], "text"
    return None, "no_box_checked"


def _fund_amounts(rows: list[Row], unit: str, form: ProjectForm) -> None:
    """项目资金: every label: amount pair of the block, each label read once. Some forms print the
    block twice (as an HTML table and as plain rows, H8): the second copy is checked, not added."""
    for row in rows:
        text = join_cjk(re.sub(r"\s+", " ", strip_tags(" ".join(row.cells))))
        for m in _FUND_RE.finditer(text):
            k = _FUND_KEY[m.group(1)]
            amount = money(m.group(2), unit)
            if amount is None:
                continue
            if k not in form.amounts:
                form.amounts[k] = amount
            elif form.amounts[k].yuan != amount.yuan:
                form.notes.append(
                    f"{m.group(1)} printed twice with different amounts: {form.amounts[k].raw} and {amount.raw}"
                )


def _first_value_after(row: Row, label_index: int) -> str:
    for c in row.cells[label_index + 1 :]:
        if clean(c):
            return clean(c)
    return ""


def _sh_project_info(rows: list[Row], form: ProjectForm) -> None:
    unit = "元"
    for row in rows[:6]:
        m = _YEAR_IN_BRACKETS.search(row.text)
        if m and form.fiscal_year is None:
            form.fiscal_year = int(m.group(1))
    for row in rows:
        if re.search(r"金额单位[:：]\s*万元", collapse(row.text)):
            unit = "万元"
    form.amount_unit = unit
    for row in rows:
        filled = row.filled
        if not filled:
            continue
        i0, first = filled[0]
        k = key(first)
        if k == "项目名称" and form.name is None:
            form.name = _first_value_after(row, i0) or None
        elif k == "项目类别":
            raw = " ".join(c for c in row.cells[i0 + 1 :] if c).strip()
            form.category_raw = raw
            form.category, form.category_confidence = parse_category(raw)
        for i, c in filled:
            if key(c) == "起始日期":
                form.start_date = _first_value_after(row, i) or None
            elif key(c) == "结束日期":
                form.end_date = _first_value_after(row, i) or None
        if k in ("年度绩效目标", "年度总体目标") and form.goal_text is None:
            form.goal_text = scrub(clean(_first_value_after(row, i0))) or None
    _fund_amounts(rows, unit, form)


def _is_sh_label(cell: str) -> tuple[str, str] | None:
    """('outer'|'l1'|'l2', label) when the cell is a merged level label of the indicator grid."""
    k = key(cell)
    if k in _OUTER_LABELS:
        return "outer", k
    if k in ("产出目标", "效果目标", "影响力目标", "产出", "效果", "影响力"):
        return "l1", k
    if level2_of(k) and k in LEVEL2:
        return "l2", k
    return None


def _looks_like_target(text: str) -> bool:
    if key(text) in _TEXT_TARGETS:
        return True
    return parse_target(text).kind in (NUMERIC, COMPOSITE)


def _sh_indicator_row(row: Row) -> IndicatorRow | None:
    """One row of the 一级/二级/三级目标 | 目标值 | 备注 grid, wherever its cells have shifted (H14):
    leading cells that are level labels, then the indicator name, the target, the remark."""
    filled = row.filled
    l1 = l2 = None
    pos = 0
    while pos < len(filled):
        label = _is_sh_label(filled[pos][1])
        if label is None:
            break
        if label[0] == "l1":
            l1 = label[1]
        elif label[0] == "l2":
            l2 = label[1]
        pos += 1
    rest = filled[pos:]
    if not rest:
        return IndicatorRow(name_cell="", target_raw="", level1_raw=l1, level2_raw=l2) if (l1 or l2) else None
    name_i, name = rest[0]
    after = rest[1:]
    target = remark = ""
    if len(after) == 1:
        i, x = after[0]
        if key(x) in _SH_REMARKS:
            remark = x
        elif _looks_like_target(x) or i == name_i + 1:
            target = x
        else:
            remark = x
    elif after:
        target = after[0][1]
        remark = " ".join(x for _, x in after[1:])
    return IndicatorRow(
        name_cell=soft(name),
        target_raw=target.strip(),
        level1_raw=l1,
        level2_raw=l2,
        target_source=scrub(clean(remark)) or None,
        page_no=row.page_no,
        line_no=row.line_no,
    )


def assign_levels(indicators: list[IndicatorRow]) -> None:
    """Merged 一级/二级 labels land on an arbitrary row of their range in text extractions (H12).
    A row's 二级目标 is its own label if printed; otherwise the one its name implies, if that is the
    label above or below it; otherwise the label above (the one below before the first label).
    一级目标 is the printed label, else the one the 二级目标 belongs to, else the label above."""
    l2_at = [(i, r.level2_raw) for i, r in enumerate(indicators) if r.level2_raw]
    for i, r in enumerate(indicators):
        if r.level2_raw:
            r.level2 = level2_of(r.level2_raw)
            r.level_confidence = "explicit"
            continue
        above = next((lab for j, lab in reversed(l2_at) if j < i), None)
        below = next((lab for j, lab in l2_at if j > i), None)
        by_name = level2_from_name(clean(r.name_cell))
        # 满意度 is said by the name in every form seen: never give it to a row whose name does not
        candidates = [
            lab for lab in (above, below) if lab and (level2_of(lab) != "SATISFACTION" or by_name == "SATISFACTION")
        ]
        explicit_l1 = level1_of(r.level1_raw) if r.level1_raw else None
        if explicit_l1:
            candidates = [
                lab for lab in candidates if LEVEL1_OF_LEVEL2.get(level2_of(lab)) == explicit_l1
            ] or candidates
        chosen = next((lab for lab in candidates if level2_of(lab) == by_name), None)
        if by_name == "SATISFACTION" and chosen is None:
            r.level2_raw, r.level2, r.level_confidence = "满意度", "SATISFACTION", "inferred"
        elif chosen:
            r.level2_raw, r.level2, r.level_confidence = chosen, by_name, "inferred"
        elif candidates:
            r.level2_raw, r.level2, r.level_confidence = candidates[0], level2_of(candidates[0]), "filled"
    last_l1: str | None = None
    for r in indicators:
        if r.level1_raw:
            r.level1 = level1_of(r.level1_raw)
        elif r.level2 in LEVEL1_OF_LEVEL2:
            r.level1 = LEVEL1_OF_LEVEL2[r.level2]
            r.level1_raw = r.level1_raw or next((k for k, v in LEVEL1.items() if v == r.level1 and "目标" in k), None)
        else:
            r.level1 = last_l1
        last_l1 = r.level1 or last_l1


def _sh_line_item(row: Row, seq: int, unit: str) -> LineItem | None:
    """项目构成分解 row: anchored on its numbers (明细金额, 单价, 数量) because the leading columns shift
    (H14): the two text cells before the amount are 项目内容 and 项目明细."""
    filled = [(i, clean(c)) for i, c in row.filled]
    nums = [(i, c) for i, c in filled if looks_like_amount(c)]
    if not nums:
        return None
    first_num = nums[0][0]
    texts = [c for i, c in filled if i < first_num and key(c) not in ("项目构成分解", "目构成分解", "成分解", "项目构")]
    if len(texts) < 2:
        return None
    content, detail = texts[-2], texts[-1]
    after = [c for i, c in filled if i > first_num and not looks_like_amount(c) and not re.fullmatch(r"[-\s]+", c)]
    return LineItem(
        seq=seq,
        content=content,
        detail=detail,
        amount=money(nums[0][1], unit),
        unit_price=money(nums[1][1], unit) if len(nums) > 1 else None,
        quantity=decimal_or_none(nums[2][1]) if len(nums) > 2 else None,
        remark=after[-1] if after else None,
        page_no=row.page_no,
        line_no=row.line_no,
    )


def _sh_goals_and_items(rows: list[Row], form: ProjectForm) -> None:
    unit = "万元" if any(re.search(r"单位[:：]\s*万元", collapse(r.text)) for r in rows[:8]) else "元"
    mode = None
    for row in rows:
        keys = {key(c) for c in row.cells if c}
        if {"一级目标", "二级目标"} & keys and ("目标值" in keys or "三级目标" in keys):
            mode = "indicators"
            continue
        if "项目内容" in keys and any(k.startswith("明细") for k in keys):
            mode = "items"
            continue
        if "金额合计" in keys:
            i = next(i for i, c in enumerate(row.cells) if key(c) == "金额合计")
            total = next((c for c in row.cells[i + 1 :] if looks_like_amount(c)), None)
            form.line_total = money(total, unit)
            form.line_total_page, form.line_total_line = row.page_no, row.line_no
            mode = None
            continue
        if mode == "indicators":
            ind = _sh_indicator_row(row)
            if ind is None:
                continue
            if not ind.name_cell and form.indicators:  # a label alone on its row belongs to the row above
                prev = form.indicators[-1]
                prev.level1_raw = prev.level1_raw or ind.level1_raw
                prev.level2_raw = prev.level2_raw or ind.level2_raw
                continue
            if ind.name_cell:
                form.indicators.append(ind)
        elif mode == "items":
            item = _sh_line_item(row, len(form.line_items) + 1, unit)
            if item is not None:
                form.line_items.append(item)
    assign_levels(form.indicators)


def _stage_mark(cell: str) -> bool | None:
    t = cell.strip()
    if re.search(r"[✓√✔☑]\s*$", strip_tags(t).strip()):
        return True
    if re.search(r"[×✗✘□☐]\s*$", strip_tags(t).strip()):
        return False
    return None


def _sh_controls(rows: list[Row], form: ProjectForm) -> None:
    current_type: str | None = None
    started = False
    for row in rows:
        keys = [key(c) for c in row.cells]
        if "文件名称" in keys and "具体措施" in keys:
            started = True
            continue
        if not started:
            continue
        stages: dict[str, bool | None] = {}
        texts: list[str] = []
        for c in row.cells:
            t = clean(c)
            if not t:
                continue
            stage = next((s for s in _STAGE_WORDS if s in collapse(t)), None)
            if stage:
                stages[stage] = _stage_mark(t)
            elif key(t) in _CONTROL_TYPES:
                current_type = key(t)
            else:
                texts.append(t)
        if not stages and not texts:
            continue
        form.controls.append(
            ControlRow(
                control_type=current_type,
                doc_name=scrub(texts[0]) if texts else None,
                measures=scrub(" ".join(texts[1:])) or None,
                stage_plan=stages.get("立项和计划阶段"),
                stage_impl=stages.get("实施阶段"),
                stage_close=stages.get("收尾和完成阶段"),
                page_no=row.page_no,
                line_no=row.line_no,
            )
        )


def _p2_project_name(rows: list[Row]) -> str | None:
    for i, row in enumerate(rows[:8]):
        m = re.search(r"项目名称\s*[:：]\s*(.*)", clean(row.text))
        if m:
            name = re.split(r"金?额单位", m.group(1))[0].strip()
            if not name and i + 1 < len(rows):  # the value on the next line (H16)
                name = re.split(r"金?额单位", clean(rows[i + 1].text))[0].strip()
            return name or None
    return None


def shanghai_district_forms(doc: SourceDocument) -> list[ProjectForm]:
    """Seeds 003/004: a project starts at each 项目总体情况 title (never at a 项目名称 cell, H17);
    its 绩效目标 and 制度保障 parts follow."""
    rows = rows_of(doc)
    sections: list[tuple[str, list[Row]]] = []
    for row in rows:
        kind = _title_kind(row)
        if kind:
            sections.append((kind, [row]))
        elif sections:
            sections[-1][1].append(row)
    forms: list[ProjectForm] = []
    for kind, sec in sections:
        if kind == "P1":
            form = ProjectForm("SH_DISTRICT", "P1", None, sec[0].page_no, sec[0].line_no)
            _sh_project_info(sec, form)
            forms.append(form)
            continue
        if not forms:  # a 绩效目标 part without its 项目总体情况: a project of its own
            forms.append(ProjectForm("SH_DISTRICT", "P2", _p2_project_name(sec), sec[0].page_no, sec[0].line_no))
            m = next((_YEAR_IN_BRACKETS.search(r.text) for r in sec[:4] if _YEAR_IN_BRACKETS.search(r.text)), None)
            forms[-1].fiscal_year = int(m.group(1)) if m else None
        form = forms[-1]
        p2_name = _p2_project_name(sec)
        if p2_name and form.name and key(p2_name) not in key(form.name) and key(form.name) not in key(p2_name):
            form.notes.append(f"the {kind} part names the project '{p2_name}', the 项目总体情况 part '{form.name}'")
        if kind == "P2":
            _sh_goals_and_items(sec, form)
        else:
            _sh_controls(sec, form)
    return forms


# ---------------------------------------------------------------------------------------------
# Family 2: Suzhou 苏州市级财政支出项目绩效目标申报表 (S1), amounts in 万元

_SZ_TITLE = re.compile(r"苏州市级财政支出项目绩效目标申报表")
_SZ_CATEGORIES = ["投入", "过程", "产出", "结果", "影响力"]
_SZ_FUND_ROWS = {
    "上级财政资金": "upper", "市级财政资金": "own", "下级财政资金": "lower", "其他": "other", "合计": "sum",
}  # fmt: skip
_BRACKETS = str.maketrans({"（": "(", "）": ")"})


def _sz_norm(text: str) -> str:
    return key(text).translate(_BRACKETS)


def _sz_subproject(cell: str, subprojects: list[str]) -> str | None:
    """The 对应子项目名称 cell: one or several sub-project names (comma-separated), possibly cut at a
    fixed width (H4)."""
    parts = [p for p in re.split(r"[,，]\s*", clean(cell)) if p]
    names = [_sz_norm(s) for s in subprojects]
    if parts and all(any(n.startswith(_sz_norm(p)) or _sz_norm(p).startswith(n) for n in names) for p in parts):
        return clean(cell)
    return None


def _sz_levels(indicators: list[IndicatorRow]) -> None:
    """类别 is a merged label that lands on any row of its range. Rows between two printed 类别 belong
    to the one category missing between them (002: 过程), else to the label above."""
    labelled = [(i, r.level1_raw) for i, r in enumerate(indicators) if r.level1_raw]
    for i, r in enumerate(indicators):
        if r.level1_raw:
            r.level_confidence = "explicit"
        else:
            above_at = next((j for j, _ in reversed(labelled) if j < i), None)
            if above_at is not None and r.block is not None and indicators[above_at].block == r.block:
                r.level1_raw, r.level_confidence = indicators[above_at].level1_raw, "filled"  # same printed block
                r.level1 = level1_of(r.level1_raw)
                continue
            above = next((lab for j, lab in reversed(labelled) if j < i), None)
            below = next((lab for j, lab in labelled if j > i), None)
            missing: list[str] = []
            if above and below:
                a, b = _SZ_CATEGORIES.index(above), _SZ_CATEGORIES.index(below)
                missing = _SZ_CATEGORIES[a + 1 : b]
            if len(missing) == 1:
                r.level1_raw, r.level_confidence = missing[0], "inferred"
            elif above or below:
                r.level1_raw, r.level_confidence = above or below, "filled"
        r.level1 = level1_of(r.level1_raw)


def _sz_form(rows: list[Row]) -> ProjectForm:
    form = ProjectForm("SUZHOU", "S1", None, rows[0].page_no, rows[0].line_no, amount_unit="万元")
    subprojects: list[str] = []
    mode = None
    fund_rows: dict[str, list[str]] = {}
    for row in rows:
        filled = row.filled
        if not filled:
            continue
        keys = [key(c) for _, c in filled]
        k0 = keys[0]
        if k0 == "申报单位名称" and len(filled) > 1:
            value = clean(filled[1][1])
            form.unit_name = re.sub(r"^\d{6,}\s*", "", value) or None
            continue
        if k0 == "项目名称" and len(filled) > 1 and form.name is None:
            form.name = clean(filled[1][1])
            continue
        for i, (_, c) in enumerate(filled[:-1]):
            if key(c) == "项目类型":
                form.project_type = clean(filled[i + 1][1])
        if k0 == "项目年度" and len(filled) > 1 and re.fullmatch(r"20\d\d", key(filled[1][1])):
            form.fiscal_year = int(key(filled[1][1]))
            continue
        if k0 == "年度绩效目标" and len(filled) > 1:
            form.goal_text = scrub(clean(filled[1][1]))
        if any(k.startswith("项目资金构成") for k in keys):
            mode = "items"
            continue
        if mode == "items":
            if any(k.startswith("合计") for k in keys):
                total = next((c for _, c in filled if looks_like_amount(c)), None)
                form.line_total = money(total, "万元")
                form.line_total_page, form.line_total_line = row.page_no, row.line_no
                mode = None
                continue
            texts = [clean(c) for _, c in filled if not looks_like_amount(c)]
            nums = [c for _, c in filled if looks_like_amount(c)]
            if texts and nums and texts[0] not in ("子项目名称",):
                subprojects.append(texts[0])
                form.line_items.append(
                    LineItem(len(form.line_items) + 1, texts[0], None, money(nums[-1], "万元"),
                             page_no=row.page_no, line_no=row.line_no)
                )  # fmt: skip
            continue
        label_at = next((i for i, k in enumerate(keys) if k in _SZ_FUND_ROWS), None)
        if label_at is not None and (mode == "funding" or any(k.startswith("项目资金来源") for k in keys)):
            mode = "funding"
            cells = [c for c in row.cells[filled[label_at][0] + 1 :]]
            while cells and not clean(cells[0]):
                cells.pop(0)
            while cells and not clean(cells[-1]):
                cells.pop()
            fund_rows[_SZ_FUND_ROWS[keys[label_at]]] = cells
            if keys[label_at] == "合计":
                mode = None
            continue
        if any(k.startswith("项目资金来源") for k in keys) or "资金来源" in keys:
            mode = "funding"
            continue
        if "类别" in keys and "指标名称" in keys:
            mode = "indicators"
            continue
        if mode == "indicators":
            if re.match(r"^(需要)?说明的其它|^要说明的|^(申|填)?报单位负责人", k0):
                mode = None
                continue
            ind = _sz_indicator_row(filled, subprojects, row)
            if ind is not None:
                form.indicators.append(ind)
    for k, cells in fund_rows.items():
        if k == "sum":
            continue
        current = money(cells[2], "万元") if len(cells) > 2 else None
        if current is not None:
            form.amounts[k] = current
    total_cells = fund_rows.get("sum", [])
    if total_cells:
        if money(total_cells[0], "万元"):
            form.amounts["total"] = money(total_cells[0], "万元")
        if len(total_cells) > 2 and money(total_cells[2], "万元"):
            form.amounts["current"] = money(total_cells[2], "万元")
    grants = [form.amounts[k] for k in ("upper", "own", "lower") if k in form.amounts]
    if grants:
        form.amounts["grant"] = Money("+".join(m.raw for m in grants), "万元", sum(m.yuan for m in grants if m.yuan))
    _sz_levels(form.indicators)
    return form


def _sz_indicator_row(filled: list[tuple[int, str]], subprojects: list[str], row: Row) -> IndicatorRow | None:
    """类别 | 对应子项目名称 | 指标名称 | 目标值 | 指标解释 | 目标值来源, with cells shifted left or right
    (H14): the category and sub-project are recognized by content, the rest taken in order."""
    category = None
    cells = [clean(c) for _, c in filled]
    while cells and (key(cells[0]) in _SZ_CATEGORIES or key(cells[0]) == "分解目标"):
        if key(cells[0]) in _SZ_CATEGORIES:
            category = key(cells[0])
        cells.pop(0)
    subproject = None
    if cells and len(cells) > 2:
        subproject = _sz_subproject(cells[0], subprojects)
        if subproject:
            cells.pop(0)
    if not cells:
        return None
    name, *rest = cells
    return IndicatorRow(
        name_cell=name,
        target_raw=rest[0] if rest else "",
        level1_raw=category,
        subproject=subproject,
        block=id(row.grid) if row.grid is not None else None,
        explanation=scrub(rest[1]) if len(rest) > 1 else None,
        target_source=scrub(" ".join(rest[2:])) or None,
        page_no=row.page_no,
        line_no=row.line_no,
    )


def suzhou_forms(doc: SourceDocument) -> list[ProjectForm]:
    rows = rows_of(doc)
    starts = [i for i, r in enumerate(rows) if _SZ_TITLE.search(key(r.text))]
    forms = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(rows)
        forms.append(_sz_form(rows[start:end]))
    return forms


# ---------------------------------------------------------------------------------------------
# PDF grids: central 项目绩效目标表 (西南大学) and Putuo 绩效目标填报表

_PROJECT_NAME_CELL = "项目名称"
_INDICATOR_HEADERS = {"一级指标": "l1", "二级指标": "l2", "三级指标": "name", "指标值": "target", "分值": "score"}


def logical_cells(grid: Grid, r: int) -> list[tuple[str, bool]]:
    """The cells of row ``r`` as printed, merged cells resolved: a cell merged with its left
    neighbour is dropped (one logical cell per printed box); a cell merged with the row above takes
    the covering text (flag True: the value comes from geometry, not from this row)."""
    out: list[tuple[str, bool]] = []
    row = grid.rows[r]
    for c in range(len(row)):
        if row[c] is not None:
            out.append((row[c] or "", False))
            continue
        if grid.origins is None or r >= len(grid.origins) or c >= len(grid.origins[r]):
            out.append(("", False))
            continue
        r0, c0 = grid.origins[r][c]
        if c0 < c and r0 == r:
            continue  # swallowed by the cell on its left
        if c0 == c and r0 < r:
            out.append((grid.covering_text(r, c), True))
        elif c0 < c:
            continue  # part of a block merged both ways, counted at its origin column
        else:
            out.append(("", False))
    return out


def _header_roles(cells: list[str]) -> dict[str, int] | None:
    """Roles of an indicator header row (一级指标 | 二级指标 | 三级指标 | 指标值 | 分值) as positions
    counted from the right, so that a continuation grid with fewer columns on the next page (no
    outer 绩效指标 column) is read the same way."""
    roles: dict[str, int] = {}
    n = len(cells)
    for i, c in enumerate(cells):
        k = key(c)
        for label, role in _INDICATOR_HEADERS.items():
            if role not in roles and (k == label or (label == "指标值" and k.endswith("指标值"))):
                roles[role] = i - n
        if k.startswith("分值") and "score" not in roles:
            roles["score"] = i - n
    return roles if {"name", "target"} <= roles.keys() else None


@dataclass
class _GridCursor:
    """Reading state carried across grids and pages: merged labels continue over a page break."""

    roles: dict[str, int] | None = None
    level1_raw: str | None = None
    level2_raw: str | None = None


def _indicator_row(cells: list[tuple[str, bool]], cursor: _GridCursor, form: ProjectForm, page_no: int) -> None:
    """One row of the indicator grid, its cells located by the header's roles (from the right)."""

    def at(role: str) -> tuple[str, bool]:
        i = cursor.roles.get(role) if cursor.roles else None
        return cells[i] if i is not None and -len(cells) <= i < 0 else ("", False)

    name, _ = at("name")
    target, _ = at("target")
    if not clean(name) and not clean(target):
        return
    l1, l1_geo = at("l1")
    l2, l2_geo = at("l2")
    if clean(l1):
        if key(l1) != key(cursor.level1_raw):
            cursor.level2_raw = None
        cursor.level1_raw = clean(l1)
    if clean(l2):
        cursor.level2_raw = clean(l2)
    if not clean(l1) or not clean(l2):
        confidence = "filled"  # a merged label continued from the previous page
    elif l1_geo or l2_geo:
        confidence = "geometry"
    else:
        confidence = "explicit"
    score, _ = at("score")
    form.indicators.append(
        IndicatorRow(
            name_cell=soft(name),
            target_raw=clean(target),
            level1_raw=cursor.level1_raw,
            level2_raw=cursor.level2_raw,
            level1=level1_of(cursor.level1_raw),
            level2=level2_of(cursor.level2_raw),
            level_confidence=confidence,
            score=clean(score) or None,
            page_no=page_no,
        )
    )


_CENTRAL_FUNDS = {"年度资金总额": "current", "其中：财政拨款": "grant", "财政拨款": "grant", "上年结转": "carry",
                  "其他资金": "other"}  # fmt: skip
_PUTUO_FUNDS = {"项目资金总额": "total", "年度资金申请总额": "current", "其中：当年财政拨款": "grant",
                "当年财政拨款": "grant", "上年结转资金": "carry"}  # fmt: skip


def _kv_row(cells: list[str], form: ProjectForm, funds: dict[str, str]) -> None:
    """A key/value row of the form's head (项目名称, 实施单位, 项目资金 …): each label's value is the
    next non-empty cell (the next amount for money labels)."""
    keys = [key(c) for c in cells]
    if any(k.endswith(("（万元）", "(万元)")) for k in keys):
        form.amount_unit = "万元"
    unit = form.amount_unit
    for i, k in enumerate(keys):
        value = next((cells[j] for j in range(i + 1, len(cells)) if cells[j]), "")
        if k == _PROJECT_NAME_CELL and form.name is None:
            form.name = value or None
        elif k == "实施单位" and value:
            form.unit_name = value
        elif k == "项目性质" and value:
            form.category_raw = value
            form.category = value if value in _CATEGORIES else None
            form.category_confidence = "text"
        elif k == "项目类别" and value:
            form.project_type = value
        elif k == "计划开始日期":
            form.start_date = value or None
        elif k == "计划完成日期":
            form.end_date = value or None
        elif k in ("年度总体目标", "年度绩效目标") and value and form.goal_text is None:
            form.goal_text = scrub(value)
        elif k in funds and funds[k] not in form.amounts:
            amount = money(next((c for c in cells[i + 1 :] if looks_like_amount(c)), None), unit)
            if amount is not None:
                form.amounts[funds[k]] = amount
        elif k == "其他资金" and "other" not in form.amounts:
            # Putuo prints 其他资金 twice on one row (project total, then the year): take the last
            later = [j for j, kk in enumerate(keys) if kk == "其他资金" and j > i]
            amounts = [c for c in cells[i + 1 :] if looks_like_amount(c)]
            if amounts and not later:
                form.amounts["other"] = money(amounts[-1], unit)


def _pdf_target_forms(doc: SourceDocument, family: str, funds: dict[str, str], unit: str) -> list[ProjectForm]:
    """Forms whose head starts with a 项目名称 row: the head's key/value rows (continued on the next
    page if need be), then the indicator grid (continued without its header)."""
    forms: list[ProjectForm] = []
    cursor = _GridCursor()
    year = None
    for page in doc.pages:
        for item in page.items:
            if isinstance(item, TextLine):
                m = re.search(r"[（(]\s*(20\d\d)\s*年度\s*[)）]", item.text)
                if m:
                    year = int(m.group(1))
                continue
            for r in range(len(item.rows)):
                cells = logical_cells(item, r)
                texts = [clean(t) for t, _ in cells]
                if texts and key(texts[0]) == _PROJECT_NAME_CELL:
                    forms.append(ProjectForm(family, "PT", None, item.page_no, None, unit, fiscal_year=year))
                    cursor = _GridCursor()
                if not forms:
                    continue
                header = _header_roles(texts)
                if header:
                    cursor.roles = header
                    m = re.search(r"分值[（(](\d+)[)）]", "".join(texts))
                    if m:
                        forms[-1].score_total = Decimal(m.group(1))
                elif cursor.roles is None:
                    _kv_row(texts, forms[-1], funds)
                else:
                    _indicator_row(cells, cursor, forms[-1], item.page_no)
    return forms


def central_target_tables(doc: SourceDocument) -> list[ProjectForm]:
    """西南大学 2023: ``236 … 绩效目标表`` / ``(2023 年度)`` / a key-value grid (项目资金 in 万元) and the
    indicator grid, continued on the next page without its header."""
    if not any(isinstance(i, TextLine) and re.search(r"绩效目标表$", collapse(i.text)) for i in doc.items()):
        return []
    forms = _pdf_target_forms(doc, "CENTRAL", _CENTRAL_FUNDS, "万元")
    return [f for f in forms if f.amount_unit == "万元" or f.amounts]


def putuo_target_forms(doc: SourceDocument) -> list[ProjectForm]:
    """上海普陀 财政项目支出绩效目标填报表 (元): one page per project."""
    if not any(isinstance(i, TextLine) and "绩效目标填报表" in collapse(i.text) for i in doc.items()):
        return []
    return _pdf_target_forms(doc, "PUTUO", _PUTUO_FUNDS, "元")


# ---------------------------------------------------------------------------------------------
# Family 5: 项目经费情况说明 (project description pages without an indicator table)

_NOTE_TITLE = re.compile(r"^(?P<name>.*?)项目经费情况说明$")
_BUDGET_ITEM = re.compile(r"(?P<label>[\u4e00-\u9fff（）()、\w]{2,30}?)\s*(?P<amount>\d+(?:\.\d+)?)\s*万元")


def project_expense_notes(doc: SourceDocument) -> list[ProjectForm]:
    forms: list[ProjectForm] = []
    section = None
    for page in doc.pages:
        for item in page.items:
            if not isinstance(item, TextLine):
                continue
            t = collapse(item.text)
            m = _NOTE_TITLE.match(t)
            if m:
                forms.append(ProjectForm("EXPENSE_NOTE", "PN", m.group("name") or None, item.page_no, None, "万元"))
                section = None
                continue
            if not forms:
                continue
            form = forms[-1]
            h = re.match(r"^[一二三四五六七八]、(.+)$", t)
            if h:
                section = h.group(1)
                continue
            if section == "年度预算安排":
                for bm in _BUDGET_ITEM.finditer(t):
                    label = re.sub(r"^[，,。；;]+", "", bm.group("label"))
                    form.line_items.append(
                        LineItem(len(form.line_items) + 1, label, None, money(bm.group("amount"), "万元"),
                                 page_no=item.page_no)
                    )  # fmt: skip
            elif section == "绩效目标" and not t.startswith("详见"):
                form.goal_text = scrub((form.goal_text or "") + t)
            elif section in ("项目概述", "项目概况") and form.name is None:
                m2 = re.search(r"建设的(.{2,30}?(?:工程|项目))", t)
                if m2:
                    form.name = m2.group(1)
    return forms


# ---------------------------------------------------------------------------------------------
# Dispatch


FAMILIES: list[Callable[[SourceDocument], list[ProjectForm]]] = [
    shanghai_district_forms, suzhou_forms, central_target_tables, putuo_target_forms,
]  # fmt: skip


def recognize_project_forms(doc: SourceDocument, errors: list[str] | None = None) -> list[ProjectForm]:
    """Every project form of a document, in order, whichever families it holds. A recognizer that
    fails is reported in ``errors`` (when given) instead of losing the rest of the document."""
    forms: list[ProjectForm] = []
    for family in [*FAMILIES, project_expense_notes]:
        if family is project_expense_notes and forms:
            break  # the prose description of a project that has its form is not a second project
        try:
            forms += family(doc)
        except Exception as exc:
            if errors is None:
                raise
            errors.append(f"{family.__name__}: {type(exc).__name__}: {exc}")
    return forms


# ---------------------------------------------------------------------------------------------
# Normalized names: following a project across years


_NAME_NOISE = [
    r"20\d\d年度?", r"^(上海市)?[\u4e00-\u9fff]{2,3}区", r"^(江苏省)?苏州市", r"^\d{3}(?!\d)[-\s]*",
    r"[（(][^（）()]*(运维|年|期)[^（）()]*[)）]", r"[（(]项目[)）]",
]  # fmt: skip


def name_key(name: str | None) -> str | None:
    """A project name reduced so that the same project matches across years: no whitespace or
    punctuation, no region prefix (闵行区, 苏州市) or budget code (236), no year or (2020运维)-style
    brackets, no trailing 项目/经费. 闵行区电子书包项目 (2019) → 电子书包; its 2020 successors start with it."""
    if not name:
        return None
    n = collapse(name)
    for pattern in _NAME_NOISE:
        n = re.sub(pattern, "", n)
    n = re.sub(r"[\s\-—_、，,。：:“”\"'（）()\[\]【】]", "", n)
    n = re.sub(r"(项目|经费|专项|专项经费)$", "", n)
    return n or collapse(name)


# ---------------------------------------------------------------------------------------------
# Indicator parts (H15) and R-PROJ identities


@dataclass(slots=True)
class IndicatorPart:
    row_seq: int  # the printed row's order in the form
    part_no: int
    parts_in_cell: int
    name: str
    cell_name: str  # the whole cell (parts joined by "；")
    subproject: str | None
    row: IndicatorRow
    target: Target


def indicator_parts(form: ProjectForm) -> Iterator[IndicatorPart]:
    """Each printed indicator row as one or more indicators: a ``【子项目】：`` prefix becomes the
    sub-project, and a cell holding several indicators (H15) is split, each part with the shared
    target."""
    for seq, row in enumerate(form.indicators, start=1):
        target = parse_target(row.target_raw)
        body = re.sub(r"^\s*指标\s*\d+\s*[:：]\s*", "", row.name_cell)  # "指标1：更新设备数量"
        m = re.match(r"^\s*【([^】]*)】\s*[:：]?\s*", body)
        prefix = clean(m.group(1)) if m else None
        if m:
            body = body[m.end() :]
        parts = [clean(p) for p in split_indicator_cell(body)] if body.strip() else [""]
        cell = "；".join(parts)
        for n, part in enumerate(parts, start=1):
            yield IndicatorPart(seq, n, len(parts), part, cell, row.subproject or prefix, row, target)


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def project_findings(forms: list[ProjectForm], project_expenditure: tuple[Decimal, int | None] | None) -> list[Finding]:
    """R-PROJ (DOMAIN.md §5.5): per project 当年预算 = 财政拨款 + 其他资金; 财政拨款 = 上级 + 本级 + 下级;
    金额合计 = Σ 明细; 明细 = 单价 × 数量; 金额合计 = 当年预算; and over the document Σ 当年预算 = the
    tables' 项目支出 (a shortfall is a warning: not every project may be published)."""
    out: list[Finding] = []
    for form in forms:
        a = {k: m.yuan for k, m in form.amounts.items() if m.yuan is not None}
        name = form.name or "?"
        unit = form.amount_unit
        tt, page = form.table_type, form.page_no
        if "current" in a and "grant" in a and form.family in ("SH_DISTRICT", "CENTRAL", "PUTUO"):
            parts = [a["grant"], a.get("other", Decimal(0))] + ([a["carry"]] if "carry" in a else [])
            rhs = "财政拨款 + 其他资金" + (" + 上年结转" if "carry" in a else "")
            out.append(compare("R-PROJ", tt, page, f"{name}: 当年预算 = {rhs}", a["current"], _sum(parts), unit,
                               len(parts), f"{name}: 当年预算 vs {rhs}"))  # fmt: skip
        if "grant" in a and {"upper", "own", "lower"} <= a.keys() and form.family == "SH_DISTRICT":
            parts = [a["upper"], a["own"], a["lower"]]
            out.append(compare("R-PROJ", tt, page, f"{name}: 财政拨款 = 上级 + 本级 + 下级", a["grant"], _sum(parts),
                               unit, 3, f"{name}: 财政拨款 vs 上级 + 本级 + 下级财政"))  # fmt: skip
        items = [i for i in form.line_items if i.amount is not None and i.amount.yuan is not None]
        item_unit = items[0].amount.unit if items else unit
        if form.line_total is not None and form.line_total.yuan is not None and items:
            out.append(compare("R-PROJ", "P2" if form.family == "SH_DISTRICT" else tt, form.line_total_page,
                               f"{name}: 金额合计 = Σ 明细金额 (line {form.line_total_line})", form.line_total.yuan,
                               _sum(i.amount.yuan for i in items), item_unit, len(items),
                               f"{name}: 金额合计 {form.line_total.raw} vs the sum of {len(items)} line items"))  # fmt: skip
        if "current" in a and items and form.family in ("SH_DISTRICT", "SUZHOU"):
            # against the line items themselves: a wrong printed 金额合计 is reported once, above
            out.append(compare("R-PROJ", tt, page, f"{name}: Σ 明细金额 = 当年预算", _sum(i.amount.yuan for i in items),
                               a["current"], unit, len(items), f"{name}: the sum of {len(items)} line items vs 当年预算"))  # fmt: skip
        for item in items:
            if item.unit_price is None or item.unit_price.yuan is None or item.quantity is None:
                continue
            product = (item.unit_price.yuan * item.quantity).quantize(Decimal("0.01"))
            out.append(compare("R-PROJ", "P2", item.page_no,
                               f"{name}: 明细 {item.seq} {item.detail or ''} = 单价 × 数量 (line {item.line_no})",
                               item.amount.yuan, product, item_unit, 1,
                               f"{name}: 明细金额 {item.amount.raw} vs 单价 {item.unit_price.raw} × 数量 {item.quantity}"))  # fmt: skip
        scores = [decimal_or_none(r.score) for r in form.indicators if r.score]
        if form.score_total is not None and scores:
            # not money: a completeness check, every indicator row was read if the 分值 add up
            total = _sum(scores)
            ok = total == form.score_total
            out.append(Finding("R-PROJ", "PASS" if ok else "FAIL", "info" if ok else "warning", tt, page,
                               f"{name}: Σ 分值 of {len(scores)} indicators = {form.score_total}", total,
                               form.score_total, total - form.score_total, Decimal(0),
                               f"{name}: the 分值 of {len(scores)} indicators add up to {total}, the header "
                               f"announces {form.score_total}"))  # fmt: skip
    budgets = [f.amounts["current"].yuan for f in forms if "current" in f.amounts and f.amounts["current"].yuan]
    if project_expenditure is not None and budgets and forms[0].family != "EXPENSE_NOTE":
        expenditure, exp_page = project_expenditure
        f = compare("R-PROJ", "B3", exp_page, f"Σ 当年预算 of {len(budgets)} project forms = 项目支出 of the tables",
                    _sum(budgets), expenditure, forms[0].amount_unit, len(budgets),
                    f"Σ 当年预算 of {len(budgets)} project forms vs 项目支出 of the tables")  # fmt: skip
        # Forms adding up to less than 项目支出 show that not every project was published with a
        # form, not that a number is wrong: no finding then.
        if not (f.status == "FAIL" and f.diff is not None and f.diff < 0):
            out.append(f)
    return out


# ---------------------------------------------------------------------------------------------
# Frames and the family extractor (registered in pipelines.ingest.FAMILY_EXTRACTORS)

_SCHEME = {"SH_DISTRICT": "SH", "SUZHOU": "SZ", "CENTRAL": "CENTRAL", "PUTUO": "SH_PT", "EXPENSE_NOTE": None}


def project_id_for(doc_id: str, seq: int) -> str:
    """Stable: the document's id (its bytes) and the project's order in it."""
    return f"{doc_id}-P{seq:03d}"


def _yuan(form: ProjectForm, k: str) -> Decimal | None:
    m = form.amounts.get(k)
    return m.yuan if m is not None else None


def project_rows(doc_id: str, forms: list[ProjectForm], fiscal_year: int | None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"fact_project": [], "fact_project_line_item": [], "fact_indicator": [],
                                  "fact_project_control": []}  # fmt: skip
    for seq, form in enumerate(forms, start=1):
        pid = project_id_for(doc_id, seq)
        current = form.amounts.get("current")
        out["fact_project"].append({
            "doc_id": doc_id, "project_id": pid, "seq": seq, "form_family": form.family,
            "table_type": form.table_type, "project_name": form.name, "name_key": name_key(form.name),
            "unit_name": form.unit_name, "fiscal_year": form.fiscal_year or fiscal_year,
            "project_category": form.category, "category_raw": scrub(form.category_raw) or None,
            "category_confidence": form.category_confidence, "project_type": form.project_type,
            "start_date": form.start_date, "end_date": form.end_date, "amount_unit": form.amount_unit,
            "total_budget_yuan": _yuan(form, "total"), "current_year_budget_yuan": _yuan(form, "current"),
            "current_year_budget_raw": current.raw if current else None, "fiscal_grant_yuan": _yuan(form, "grant"),
            "upper_grant_yuan": _yuan(form, "upper"), "own_level_yuan": _yuan(form, "own"),
            "lower_level_yuan": _yuan(form, "lower"), "other_funds_yuan": _yuan(form, "other"),
            "carryover_yuan": _yuan(form, "carry"),
            "line_total_yuan": form.line_total.yuan if form.line_total else None,
            "line_total_raw": form.line_total.raw if form.line_total else None,
            "n_line_items": len(form.line_items), "n_indicators": len(form.indicators),
            "goal_text": scrub(form.goal_text), "page_no": form.page_no, "line_no": form.line_no,
            "notes": scrub("; ".join(form.notes)) or None,
        })  # fmt: skip
        for item in form.line_items:
            out["fact_project_line_item"].append({
                "doc_id": doc_id, "project_id": pid, "seq": item.seq, "content": scrub(item.content),
                "detail": scrub(item.detail), "amount_yuan": item.amount.yuan if item.amount else None,
                "amount_raw": item.amount.raw if item.amount else None,
                "amount_unit": item.amount.unit if item.amount else None,
                "unit_price_yuan": item.unit_price.yuan if item.unit_price else None, "quantity": item.quantity,
                "remark": scrub(item.remark), "page_no": item.page_no, "line_no": item.line_no,
            })  # fmt: skip
        for part in indicator_parts(form):
            r, t = part.row, part.target
            out["fact_indicator"].append({
                "doc_id": doc_id, "project_id": pid, "seq": part.row_seq, "part_no": part.part_no,
                "parts_in_cell": part.parts_in_cell, "split_from_cell": part.parts_in_cell > 1,
                "scheme": _SCHEME.get(form.family), "level1_raw": r.level1_raw, "level1": r.level1,
                "level2_raw": r.level2_raw, "level2": r.level2, "level_confidence": r.level_confidence,
                "subproject": scrub(part.subproject), "indicator_name": scrub(part.name) or None,
                "cell_name": scrub(part.cell_name) or None, "target_raw": scrub(r.target_raw) or None,
                "target_kind": t.kind, "op": t.op, "op_raw": t.op_raw, "target_value": t.value,
                "target_unit": t.unit, "unit_raw": t.unit_raw, "unit_multiplier": t.multiplier,
                "target_value_scaled": t.scaled_value if t.multiplier else t.value, "per_period": t.per_period,
                "target_text": scrub(t.text), "explanation": scrub(r.explanation), "target_source": scrub(r.target_source),
                "score": r.score, "page_no": r.page_no, "line_no": r.line_no,
            })  # fmt: skip
        for n, c in enumerate(form.controls, start=1):
            out["fact_project_control"].append({
                "doc_id": doc_id, "project_id": pid, "seq": n, "control_type": c.control_type,
                "doc_name": scrub(c.doc_name), "measures": scrub(c.measures), "stage_plan": c.stage_plan,
                "stage_impl": c.stage_impl, "stage_close": c.stage_close, "page_no": c.page_no, "line_no": c.line_no,
            })  # fmt: skip
    return out


def project_expenditure(facts: TableFacts) -> tuple[Decimal, int | None] | None:
    """项目支出 of the document's tables: the 合计 row of 支出总表 (B3), else of the B1/B5 totals."""
    for table_type, labels in (("B3", ("合计",)), ("B1", ("支出总计", "合计")), ("B5", ("合计",))):
        for s in facts.summary:
            if (s.at.table_type == table_type and s.measure == "PROJECT" and collapse(s.label) in labels
                    and s.amount.yuan is not None):  # fmt: skip
                return s.amount.yuan, s.at.page_no
    return None


def extract_perf_forms(doc: SourceDocument, info: DocumentInfo, facts: TableFacts) -> dict[str, pl.DataFrame]:
    """Family extractor for 预算 documents and standalone 绩效目标 forms: the project tables and the
    R-PROJ findings (under ``_findings``)."""
    if info.doc_kind not in ("BUDGET", "PERF_FORM"):
        return {}
    from pipelines.ingest import doc_id_for  # ingest registers this extractor: import at call time

    errors: list[str] = []
    forms = recognize_project_forms(doc, errors)
    doc_id = doc_id_for(doc.sha256)
    # a failing form recognizer must not cost the document its budget tables: say so in the findings
    findings = [
        Finding("R-PROJ", "FAIL", "warning", None, None, "绩效目标 forms could not be read", None, None, None, None,
                f"The 绩效目标 forms of this document could not be read ({e}); its tables are loaded.")
        for e in errors
    ]  # fmt: skip
    out: dict[str, pl.DataFrame] = {}
    if forms:
        rows = project_rows(doc_id, forms, info.fiscal_year)
        out = {table: frames.frame(table, table_rows) for table, table_rows in rows.items()}
        findings += project_findings(forms, project_expenditure(facts) if info.doc_kind == "BUDGET" else None)
    if findings:
        out["_findings"] = frames.findings_frame(doc_id, findings)
    return out
