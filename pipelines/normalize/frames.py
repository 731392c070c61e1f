"""Normalization: recognized records → Polars frames with fixed schemas (exact decimals in 元,
the printed string and unit kept, lineage on every row). These frames are what the lake stores
per document and what the warehouse loads; their columns are the internal tables of sql/."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import polars as pl

from pipelines.normalize.catalog import UNMAPPED
from pipelines.normalize.facts import (
    EconFact,
    Finding,
    FuncFact,
    NarrativeFact,
    NarrativeNumber,
    RosterEntry,
    SummaryFact,
    TableCheck,
    TableInstance,
    ThreePublicFact,
)

MONEY = pl.Decimal(18, 2)
QUANTITY = pl.Decimal(18, 4)  # indicator target values, quantities: not money, up to 4 decimals
Str = pl.Utf8

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "fact_func_amount": {
        "doc_id": Str, "stage": Str, "fund_scope": Str, "table_type": Str, "table_title": Str,
        "func_code": Str, "func_level": pl.Int8, "func_name": Str, "measure": Str,
        "amount_yuan": MONEY, "amount_raw": Str, "amount_unit": Str, "source_kind": Str,
        "page_no": pl.Int32, "line_no": pl.Int32, "row_label": Str, "member_unit_name": Str,
    },
    "fact_econ_amount": {
        "doc_id": Str, "stage": Str, "fund_scope": Str, "table_type": Str, "econ_code": Str,
        "econ_level": pl.Int8, "econ_name": Str, "measure": Str, "amount_yuan": MONEY,
        "amount_raw": Str, "amount_unit": Str, "page_no": pl.Int32, "line_no": pl.Int32, "row_label": Str,
        "member_unit_name": Str,
    },
    "fact_three_public": {
        "doc_id": Str, "stage": Str, "table_type": Str, "item": Str, "amount_yuan": MONEY,
        "amount_raw": Str, "amount_unit": Str, "source_kind": Str, "page_no": pl.Int32, "line_no": pl.Int32,
        "member_unit_name": Str,
    },
    "fact_summary_line": {
        "doc_id": Str, "stage": Str, "fund_scope": Str, "table_type": Str, "label": Str, "measure": Str,
        "amount_yuan": MONEY, "amount_raw": Str, "amount_unit": Str, "page_no": pl.Int32, "line_no": pl.Int32,
        "member_unit_name": Str,
    },
    "dim_table_instance": {
        "doc_id": Str, "table_type": Str, "title": Str, "amount_unit": Str, "page_start": pl.Int32,
        "page_end": pl.Int32, "line_start": pl.Int32, "is_empty": pl.Boolean, "empty_note": Str,
        "n_facts": pl.Int32,
    },
    "fact_check": {
        "doc_id": Str, "rule": Str, "status": Str, "severity": Str, "table_type": Str, "page_no": pl.Int32,
        "subject": Str, "lhs": MONEY, "rhs": MONEY, "diff": MONEY, "tolerance": MONEY, "message": Str,
    },
    # one row per table of a document (B/F tables and 绩效目标 forms) with what its identities proved
    "doc_table": {
        "doc_id": Str, "table_seq": pl.Int32, "table_type": Str, "title": Str, "amount_unit": Str,
        "page_start": pl.Int32, "page_end": pl.Int32, "n_rows": pl.Int32, "identities_passed": pl.Int32,
        "identities_rounding": pl.Int32, "identities_failed": pl.Int32, "status": Str, "reason": Str,
    },
    "bridge_dept_unit": {
        "doc_id": Str, "seq": pl.Int32, "member_unit_name": Str, "remark": Str, "page_no": pl.Int32,
    },
    "fact_narrative_number": {
        "doc_id": Str, "seq": pl.Int32, "page_no": pl.Int32, "section": Str, "subject": Str, "role": Str,
        "basis": Str, "value": pl.Decimal(18, 4), "value_raw": Str, "unit": Str, "amount_yuan": MONEY,
        "func_code": Str, "resolved_by": Str, "sentence": Str,
    },
    # every figure of a document's text as a fact (view narrative_facts); derived: computed from a stated change
    "fact_narrative_fact": {
        "doc_id": Str, "seq": pl.Int32, "number_seq": pl.Int32, "fiscal_year": pl.Int32, "stage": Str,
        "topic": Str, "code": Str, "measure": Str, "amount_yuan": MONEY, "printed": Str, "unit": Str,
        "percent": pl.Decimal(18, 4), "page_no": pl.Int32, "sentence": Str, "derived": pl.Boolean,
    },
    # 绩效目标 forms (pipelines/recognize/perf_forms/): one row per project, line item, indicator, 制度保障 row
    "fact_project": {
        "doc_id": Str, "project_id": Str, "seq": pl.Int32, "form_family": Str, "table_type": Str,
        "project_name": Str, "name_key": Str, "unit_name": Str, "fiscal_year": pl.Int32,
        "project_category": Str, "category_raw": Str, "category_confidence": Str, "project_type": Str,
        "start_date": Str, "end_date": Str, "amount_unit": Str, "total_budget_yuan": MONEY,
        "current_year_budget_yuan": MONEY, "current_year_budget_raw": Str, "fiscal_grant_yuan": MONEY,
        "upper_grant_yuan": MONEY, "own_level_yuan": MONEY, "lower_level_yuan": MONEY, "other_funds_yuan": MONEY,
        "carryover_yuan": MONEY, "line_total_yuan": MONEY, "line_total_raw": Str, "n_line_items": pl.Int32,
        "n_indicators": pl.Int32, "goal_text": Str, "page_no": pl.Int32, "line_no": pl.Int32, "notes": Str,
    },
    "fact_project_line_item": {
        "doc_id": Str, "project_id": Str, "seq": pl.Int32, "content": Str, "detail": Str, "amount_yuan": MONEY,
        "amount_raw": Str, "amount_unit": Str, "unit_price_yuan": MONEY, "quantity": QUANTITY, "remark": Str,
        "page_no": pl.Int32, "line_no": pl.Int32,
    },
    "fact_indicator": {
        "doc_id": Str, "project_id": Str, "seq": pl.Int32, "part_no": pl.Int32, "parts_in_cell": pl.Int32,
        "split_from_cell": pl.Boolean, "scheme": Str, "level1_raw": Str, "level1": Str, "level2_raw": Str,
        "level2": Str, "level_confidence": Str, "subproject": Str, "indicator_name": Str, "cell_name": Str,
        "target_raw": Str, "target_kind": Str, "op": Str, "op_raw": Str, "target_value": QUANTITY,
        "target_unit": Str, "unit_raw": Str, "unit_multiplier": QUANTITY, "target_value_scaled": QUANTITY,
        "per_period": Str, "target_text": Str, "explanation": Str, "target_source": Str, "score": Str,
        "page_no": pl.Int32, "line_no": pl.Int32,
    },
    "fact_project_control": {
        "doc_id": Str, "project_id": Str, "seq": pl.Int32, "control_type": Str, "doc_name": Str, "measures": Str,
        "stage_plan": pl.Boolean, "stage_impl": pl.Boolean, "stage_close": pl.Boolean, "page_no": pl.Int32,
        "line_no": pl.Int32,
    },
}  # fmt: skip


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[table])


def frame(table: str, rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """A frame with the table's exact schema; Decimal values stay exact (no float detour)."""
    rows = list(rows)
    if not rows:
        return empty_frame(table)
    schema = SCHEMAS[table]
    return pl.DataFrame(rows, schema=schema, strict=False)


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def func_frame(doc_id: str, facts: Iterable[FuncFact]) -> pl.DataFrame:
    return frame(
        "fact_func_amount",
        (
            {
                "doc_id": doc_id, "stage": f.stage, "fund_scope": f.fund_scope, "table_type": f.at.table_type,
                "table_title": f.at.table_title, "func_code": f.func_code, "func_level": f.func_level,
                "func_name": f.func_name, "measure": f.measure, "amount_yuan": f.amount.yuan,
                "amount_raw": f.amount.raw, "amount_unit": f.amount.unit, "source_kind": f.source_kind,
                "page_no": f.at.page_no, "line_no": f.at.line_no, "row_label": f.at.row_label,
                "member_unit_name": f.at.member_unit,
            }
            for f in facts
            if f.measure != UNMAPPED
        ),
    )  # fmt: skip


def econ_frame(doc_id: str, facts: Iterable[EconFact]) -> pl.DataFrame:
    return frame(
        "fact_econ_amount",
        (
            {
                "doc_id": doc_id, "stage": f.stage, "fund_scope": f.fund_scope, "table_type": f.at.table_type,
                "econ_code": f.econ_code, "econ_level": f.econ_level, "econ_name": f.econ_name,
                "measure": f.measure, "amount_yuan": f.amount.yuan, "amount_raw": f.amount.raw,
                "amount_unit": f.amount.unit, "page_no": f.at.page_no, "line_no": f.at.line_no,
                "row_label": f.at.row_label, "member_unit_name": f.at.member_unit,
            }
            for f in facts
        ),
    )  # fmt: skip


def three_public_frame(doc_id: str, facts: Iterable[ThreePublicFact]) -> pl.DataFrame:
    return frame(
        "fact_three_public",
        (
            {
                "doc_id": doc_id, "stage": f.stage, "table_type": f.at.table_type, "item": f.item,
                "amount_yuan": f.amount.yuan, "amount_raw": f.amount.raw, "amount_unit": f.amount.unit,
                "source_kind": f.source_kind, "page_no": f.at.page_no, "line_no": f.at.line_no,
                "member_unit_name": f.at.member_unit,
            }
            for f in facts
        ),
    )  # fmt: skip


def summary_frame(doc_id: str, facts: Iterable[SummaryFact]) -> pl.DataFrame:
    return frame(
        "fact_summary_line",
        (
            {
                "doc_id": doc_id, "stage": f.stage, "fund_scope": f.fund_scope, "table_type": f.at.table_type,
                "label": f.label, "measure": f.measure, "amount_yuan": f.amount.yuan, "amount_raw": f.amount.raw,
                "amount_unit": f.amount.unit, "page_no": f.at.page_no, "line_no": f.at.line_no,
                "member_unit_name": f.at.member_unit,
            }
            for f in facts
        ),
    )  # fmt: skip


def table_frame(doc_id: str, tables: Iterable[TableInstance]) -> pl.DataFrame:
    return frame(
        "dim_table_instance",
        (
            {
                "doc_id": doc_id, "table_type": t.table_type, "title": t.title, "amount_unit": t.unit,
                "page_start": t.page_start, "page_end": t.page_end, "line_start": t.line_start,
                "is_empty": t.is_empty, "empty_note": t.empty_note, "n_facts": t.n_facts,
            }
            for t in tables
        ),
    )  # fmt: skip


def findings_frame(doc_id: str, findings: Iterable[Finding]) -> pl.DataFrame:
    return frame(
        "fact_check",
        (
            {
                "doc_id": doc_id, "rule": f.rule, "status": f.status, "severity": f.severity,
                "table_type": f.table_type, "page_no": f.page_no, "subject": f.subject, "lhs": _q(f.lhs),
                "rhs": _q(f.rhs), "diff": _q(f.diff), "tolerance": _q(f.tolerance), "message": f.message,
            }
            for f in findings
        ),
    )  # fmt: skip


def table_check_frame(doc_id: str, checks: Iterable[TableCheck]) -> pl.DataFrame:
    return frame(
        "doc_table",
        (
            {
                "doc_id": doc_id, "table_seq": c.seq, "table_type": c.table_type, "title": c.title,
                "amount_unit": c.unit, "page_start": c.page_start, "page_end": c.page_end, "n_rows": c.rows,
                "identities_passed": c.passed, "identities_rounding": c.rounding, "identities_failed": c.failed,
                "status": c.status, "reason": c.reason,
            }
            for c in checks
        ),
    )  # fmt: skip


def roster_frame(doc_id: str, roster: Iterable[RosterEntry]) -> pl.DataFrame:
    return frame(
        "bridge_dept_unit",
        (
            {"doc_id": doc_id, "seq": r.seq, "member_unit_name": r.unit_name, "remark": r.remark, "page_no": r.page_no}
            for r in roster
        ),
    )


def narrative_frame(doc_id: str, numbers: Iterable[NarrativeNumber]) -> pl.DataFrame:
    return frame(
        "fact_narrative_number",
        (
            {
                "doc_id": doc_id, "seq": n.seq, "page_no": n.page_no, "section": n.section, "subject": n.subject,
                "role": n.role, "basis": n.basis, "value": n.value, "value_raw": n.raw, "unit": n.unit,
                "amount_yuan": n.yuan, "func_code": n.func_code, "resolved_by": n.resolved_by, "sentence": n.sentence,
            }
            for n in numbers
        ),
    )  # fmt: skip


def narrative_fact_frame(doc_id: str, facts: Iterable[NarrativeFact]) -> pl.DataFrame:
    return frame(
        "fact_narrative_fact",
        (
            {
                "doc_id": doc_id, "seq": f.seq, "number_seq": f.number_seq, "fiscal_year": f.fiscal_year,
                "stage": f.stage, "topic": f.topic, "code": f.code, "measure": f.measure, "amount_yuan": _q(f.yuan),
                "printed": f.printed, "unit": f.unit, "percent": f.percent, "page_no": f.page_no,
                "sentence": f.sentence, "derived": f.derived,
            }
            for f in facts
        ),
    )  # fmt: skip
