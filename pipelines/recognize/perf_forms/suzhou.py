"""苏州市级财政支出项目绩效目标申报表 (seeds 000 and 002), amounts in 万元."""

from __future__ import annotations

import re

from pipelines.normalize.textnorm import (
    looks_like_amount,
)
from pipelines.read.model import SourceDocument
from pipelines.recognize.perf_forms.common import (
    IndicatorRow,
    LineItem,
    Money,
    ProjectForm,
    Row,
    clean,
    key,
    level1_of,
    money,
    rows_of,
    scrub,
)

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
