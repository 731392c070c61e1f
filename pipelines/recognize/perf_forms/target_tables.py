"""PDF grids of 绩效目标 tables: the reading shared by the central 项目绩效目标表 (``central``) and
the Putuo 绩效目标填报表 (``putuo``): header roles, merged cells, key/value fund rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from pipelines.normalize.textnorm import (
    looks_like_amount,
)
from pipelines.read.model import Grid, SourceDocument, TextLine
from pipelines.recognize.perf_forms.common import (
    _CATEGORIES,
    IndicatorRow,
    ProjectForm,
    clean,
    key,
    level1_of,
    level2_of,
    money,
    scrub,
    soft,
)

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
