"""Shanghai district 财政项目支出绩效目标申报表 in three parts (项目总体情况 / 绩效目标 / 制度保障), as
in seed 003 (22 projects after the budget tables) and seed 004 (standalone, 2019)."""

from __future__ import annotations

import re

from pipelines.normalize.targets import COMPOSITE, NUMERIC, parse_target
from pipelines.normalize.textnorm import (
    collapse,
    join_cjk,
    looks_like_amount,
    strip_tags,
)
from pipelines.read.model import SourceDocument
from pipelines.recognize.perf_forms.common import (
    _CATEGORIES,
    _OUTER_LABELS,
    LEVEL1,
    LEVEL1_OF_LEVEL2,
    LEVEL2,
    ControlRow,
    IndicatorRow,
    LineItem,
    ProjectForm,
    Row,
    clean,
    decimal_or_none,
    key,
    level1_of,
    level2_from_name,
    level2_of,
    money,
    rows_of,
    scrub,
    soft,
)

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
