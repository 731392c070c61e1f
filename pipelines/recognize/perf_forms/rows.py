"""Project forms as rows of the fact tables (fact_project, fact_project_line_item, fact_indicator,
fact_project_control), with the normalized name that follows a project across years."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from pipelines.normalize import frames
from pipelines.normalize.targets import Target, parse_target, split_indicator_cell
from pipelines.normalize.textnorm import (
    collapse,
)
from pipelines.recognize.perf_forms.common import IndicatorRow, ProjectForm, clean, scrub

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


# ---------------------------------------------------------------------------------------------
# Rows and frames

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


def project_frames(doc_id: str, forms: list[ProjectForm], fiscal_year: int | None) -> dict[str, pl.DataFrame]:
    """The fact tables of a document's 绩效目标 forms (none when it has no form)."""
    if not forms:
        return {}
    rows = project_rows(doc_id, forms, fiscal_year)
    return {table: frames.frame(table, table_rows) for table, table_rows in rows.items()}
