"""Rows and hierarchy (DOMAIN.md §5.5): R-ROW, a printed row's total = its component columns;
R-HIER, 类 = Σ 款 and 款 = Σ 项 of the 功能分类."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from pipelines.normalize.catalog import UNMAPPED
from pipelines.normalize.facts import Finding, FuncFact, SummaryFact
from pipelines.validate.rules.compare import ZERO, compare, yuan_or_zero

# Row identities: total measure = sum of component measures, first applicable set wins.
ROW_RULES: Sequence[tuple[str, tuple[str, ...]]] = (
    ("TOTAL", ("BASIC", "PROJECT", "EXP_TO_UPPER", "EXP_OPERATING", "EXP_AFFILIATE", UNMAPPED)),
    ("TOTAL", ("PERSONNEL", "PUBLIC", "PROJECT")),
    (
        "TOTAL",
        (
            "CARRY_IN",
            "GRANT_TOTAL",
            "INC_UPPER",
            "INC_BUSINESS",
            "INC_OPERATING",
            "INC_AFFILIATE",
            "INC_OTHER",
            UNMAPPED,
        ),
    ),
    ("TOTAL", ("GRANT_GPB", "GRANT_GOVFUND", "GRANT_SOE")),
    ("BASIC", ("PERSONNEL", "PUBLIC")),
)


def _row_key(f: FuncFact) -> tuple:
    # row_id: a table may print one code on two rows (北京 预算05: a second, unlabelled unit's block)
    return (f.at.table_type, f.at.table_title, f.at.page_no, f.at.line_no, f.at.row_id, f.func_code, f.stage,
            f.at.row_label)  # fmt: skip


def check_rows(facts: Iterable[FuncFact], rule: str = "R-ROW") -> list[Finding]:
    """合计 = 基本支出 + 项目支出 (and the other component sets) on every printed row."""
    rows: dict[tuple, dict[str, list[FuncFact]]] = defaultdict(lambda: defaultdict(list))
    for f in facts:
        rows[_row_key(f)][f.measure].append(f)
    out: list[Finding] = []
    for by_measure in rows.values():
        for total, parts in ROW_RULES:
            if "GRANT_TOTAL" in parts and "GRANT_TOTAL" not in by_measure:
                # no 财政拨款 column: its 一般公共预算 / 政府性基金 / 国有资本经营 columns stand for it (重庆 表二)
                parts = (*parts, *_FUND_GRANTS)
            if "BASIC" in parts and "BASIC" not in by_measure and {"PERSONNEL", "PUBLIC"} <= by_measure.keys():
                # 基本支出 printed only as its 人员 | 公用 sub-columns (湖州 支出预算总表)
                parts = tuple(p for m in parts for p in (("PERSONNEL", "PUBLIC") if m == "BASIC" else (m,)))
            present = [m for m in parts if m in by_measure]
            if total not in by_measure or len(present) < 2:
                continue
            cells = [c for m in [total, *present] for c in by_measure[m]]
            if all(c.amount.yuan is None for c in cells):
                break  # a template row printed blank
            t = by_measure[total][0]
            rhs = sum((yuan_or_zero(c) for m in present for c in by_measure[m]), ZERO)
            n = sum(len(by_measure[m]) for m in present)
            shown = [m if m != UNMAPPED else "other columns" for m in present]
            out.append(
                compare(
                    rule, t.at.table_type, t.at.page_no, f"{t.func_code} {t.func_name} {t.stage}",
                    yuan_or_zero(t), rhs, t.amount.unit, n,
                    f"{t.at.table_title} row {t.func_code} {t.func_name}: {total} = {' + '.join(shown)}",
                )
            )  # fmt: skip
            break
    return out


def check_hierarchy(facts: Iterable[FuncFact], rule: str = "R-HIER") -> list[Finding]:
    """类 = Σ 款 and 款 = Σ 项, per table and measure, where children are printed."""
    by_table: dict[tuple, dict[str, FuncFact]] = defaultdict(dict)
    for f in facts:
        key = (f.at.table_type, f.at.table_title, f.stage, f.fund_scope, f.measure)
        by_table[key].setdefault(f.func_code, f)
    out: list[Finding] = []
    for (table_type, title, stage, _scope, measure), codes in by_table.items():
        for code, parent in codes.items():
            if len(code) not in (3, 5):
                continue
            children = [c for c in codes.values() if len(c.func_code) == len(code) + 2 and c.func_code.startswith(code)]
            if not children:
                continue
            if parent.amount.yuan is None and all(c.amount.yuan is None for c in children):
                continue
            rhs = sum((yuan_or_zero(c) for c in children), ZERO)
            level = "类 = Σ款" if len(code) == 3 else "款 = Σ项"
            out.append(
                compare(
                    rule, table_type, parent.at.page_no, f"{code} {parent.func_name} {measure} {stage}",
                    yuan_or_zero(parent), rhs, parent.amount.unit, len(children),
                    f"{title} {level} for {code} {parent.func_name} ({measure})",
                )
            )  # fmt: skip
    return out


_FUND_GRANTS = ("GRANT_GPB", "GRANT_GOVFUND", "GRANT_SOE")


def check_summary_rows(summary: Iterable[SummaryFact], rule: str = "R-ROW") -> list[Finding]:
    """合计 = Σ sources on the rows of a 收入总表 that print no function code (one row per unit, or a
    合计 row alone): every amount column of the row but the total adds up to it; a 财政拨款 column
    stands for its 一般公共预算 / 政府性基金 / 国有资本经营 parts where both are printed."""
    rows: dict[tuple, dict[str, list[SummaryFact]]] = defaultdict(lambda: defaultdict(list))
    for s in summary:
        if s.at.row_id:
            rows[(s.at.table_type, s.at.table_title, s.stage, s.at.row_id, s.at.block)][s.measure].append(s)
    out: list[Finding] = []
    for by_measure in rows.values():
        if "TOTAL" not in by_measure:
            continue
        parts = [m for m in by_measure if m != "TOTAL" and not ("GRANT_TOTAL" in by_measure and m in _FUND_GRANTS)]
        cells = [c for m in parts for c in by_measure[m]]
        t = by_measure["TOTAL"][0]
        if len(cells) < 2 or all(c.amount.yuan is None for c in [t, *cells]):
            continue
        rhs = sum((yuan_or_zero(c) for c in cells), ZERO)
        shown = [m if m != UNMAPPED else "other columns" for m in parts]
        out.append(
            compare(
                rule, t.at.table_type, t.at.page_no, f"{t.label} {t.stage}", yuan_or_zero(t), rhs, t.amount.unit,
                len(cells), f"{t.at.table_title} row {t.label}: TOTAL = {' + '.join(shown)}",
            )
        )  # fmt: skip
    return out
