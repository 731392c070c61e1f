"""Arithmetic identities of the printed tables (DOMAIN.md §5.5), evaluated per document and table.

Each check yields a ``Finding`` with both sides, the difference and the tolerance. 万元 tables are
rounded cell by cell to 0.01 万元 (100 元), so a sum of n addends may differ from its printed total
by up to 0.5 × 100 元 × n: such a difference is ``PASS_ROUNDING``, larger ones ``FAIL``. 元 tables
must add up exactly.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from pipelines.catalog import UNMAPPED
from pipelines.facts import Finding, FuncFact, SummaryFact

ZERO = Decimal(0)
HALF_CENT_WAN = Decimal(50)  # 0.5 × 0.01 万元, in 元


def tolerance(unit: str, n_addends: int) -> Decimal:
    return HALF_CENT_WAN * max(n_addends, 1) if unit == "万元" else ZERO


def compare(
    rule: str,
    table_type: str | None,
    page_no: int | None,
    subject: str,
    lhs: Decimal,
    rhs: Decimal,
    unit: str,
    n_addends: int,
    explain: str,
    severity: str = "error",
) -> Finding:
    diff = lhs - rhs
    tol = tolerance(unit, n_addends)
    if diff == 0:
        status = "PASS"
    elif abs(diff) <= tol:
        status = "PASS_ROUNDING"
    else:
        status = "FAIL"
    scale = Decimal(10000) if unit == "万元" else Decimal(1)

    def shown(v: Decimal) -> str:
        return f"{v / scale:,.2f}{unit}"

    message = f"{explain}: {shown(lhs)} vs {shown(rhs)} (difference {shown(diff)})"
    return Finding(
        rule=rule,
        status=status,
        severity=severity if status == "FAIL" else "info",
        table_type=table_type,
        page_no=page_no,
        subject=subject,
        lhs=lhs,
        rhs=rhs,
        diff=diff,
        tolerance=tol,
        message=message,
    )


def _v(f: FuncFact | SummaryFact | None) -> Decimal:
    return ZERO if f is None or f.amount.yuan is None else f.amount.yuan


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
    return (f.at.table_type, f.at.table_title, f.at.page_no, f.at.line_no, f.func_code, f.stage, f.at.row_label)


def check_rows(facts: Iterable[FuncFact], rule: str = "R-ROW") -> list[Finding]:
    """合计 = 基本支出 + 项目支出 (and the other component sets) on every printed row."""
    rows: dict[tuple, dict[str, list[FuncFact]]] = defaultdict(lambda: defaultdict(list))
    for f in facts:
        rows[_row_key(f)][f.measure].append(f)
    out: list[Finding] = []
    for by_measure in rows.values():
        for total, parts in ROW_RULES:
            present = [m for m in parts if m in by_measure]
            if total not in by_measure or len(present) < 2:
                continue
            cells = [c for m in [total, *present] for c in by_measure[m]]
            if all(c.amount.yuan is None for c in cells):
                break  # a template row printed blank
            t = by_measure[total][0]
            rhs = sum((_v(c) for m in present for c in by_measure[m]), ZERO)
            n = sum(len(by_measure[m]) for m in present)
            shown = [m if m != UNMAPPED else "other columns" for m in present]
            out.append(
                compare(
                    rule, t.at.table_type, t.at.page_no, f"{t.func_code} {t.func_name} {t.stage}",
                    _v(t), rhs, t.amount.unit, n,
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
            rhs = sum((_v(c) for c in children), ZERO)
            level = "类 = Σ款" if len(code) == 3 else "款 = Σ项"
            out.append(
                compare(
                    rule, table_type, parent.at.page_no, f"{code} {parent.func_name} {measure} {stage}",
                    _v(parent), rhs, parent.amount.unit, len(children),
                    f"{title} {level} for {code} {parent.func_name} ({measure})",
                )
            )  # fmt: skip
    return out


_TOTAL_LABELS = ("合计", "总计", "支出合计", "支出总计", "本年支出合计")


def check_table_totals(
    func: Iterable[FuncFact], summary: Iterable[SummaryFact], rule: str = "R-TOTAL"
) -> list[Finding]:
    """The 合计 row of a 功能分类 table = Σ of its 类 rows, per measure."""
    classes: dict[tuple, list[FuncFact]] = defaultdict(list)
    for f in func:
        if f.func_level == 1:
            classes[(f.at.table_type, f.at.table_title, f.stage, f.measure)].append(f)
    out: list[Finding] = []
    seen: set[tuple] = set()
    for s in summary:
        if not s.label.endswith(_TOTAL_LABELS) or "收入" in s.label:
            continue
        key = (s.at.table_type, s.at.table_title, s.stage, s.measure)
        if key not in classes or key in seen or s.amount.yuan is None:
            continue
        seen.add(key)
        rows = classes[key]
        rhs = sum((_v(f) for f in rows), ZERO)
        out.append(
            compare(
                rule, s.at.table_type, s.at.page_no, f"{s.label} {s.measure} {s.stage}",
                _v(s), rhs, s.amount.unit, len(rows),
                f"{s.at.table_title} {s.label} = Σ 类 rows ({s.measure})",
            )
        )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Totals of the 收支总表 family, cross-table equalities, 三公 and 经济分类


def _plain_label(label: str) -> str:
    from pipelines.catalog import strip_ordinal

    return strip_ordinal(label).replace("（", "(").replace("）", ")")


def _row_amount(fact: SummaryFact, same_row: list[SummaryFact]) -> SummaryFact | None:
    """The amount a summary label stands for: its own cell, or (when a badly split row printed the
    label in one block and the amount in the next) the unlabelled amount to its right."""
    if fact.amount.yuan is not None:
        return fact
    for other in same_row:
        if other.at.block > fact.at.block and not other.label and other.amount.yuan is not None:
            return other
    return None


_INCOME_TOTAL = re.compile(r"^(收入总计|收入合计)$")
_SPEND_TOTAL = re.compile(r"^(支出总计|支出合计)$")


def _by_table(summary: Iterable[SummaryFact]) -> dict[tuple, list[SummaryFact]]:
    tables: dict[tuple, list[SummaryFact]] = defaultdict(list)
    for s in summary:
        if s.measure == "TOTAL":
            tables[(s.at.table_type, s.at.table_title, s.stage)].append(s)
    return tables


def _sides(rows: list[SummaryFact]) -> tuple[dict[str, SummaryFact], dict[str, SummaryFact]]:
    """Labelled totals of the income side (block 0) and the expenditure side (other blocks)."""
    by_row: dict[str, list[SummaryFact]] = defaultdict(list)
    for s in rows:
        by_row[s.at.row_id].append(s)
    income: dict[str, SummaryFact] = {}
    spend: dict[str, SummaryFact] = {}
    for s in rows:
        label = _plain_label(s.label)
        if not label:
            continue
        value = _row_amount(s, by_row[s.at.row_id])
        if value is None:
            continue
        side = income if (s.at.block == 0 and not label.startswith("支出")) or label.startswith("收入") else spend
        side.setdefault(label, value)
    return income, spend


def check_balance(summary: Iterable[SummaryFact], rule: str = "R-BAL") -> list[Finding]:
    """收入总计 = 支出总计 in the 收支总表 family (B1, B4, F1, F4)."""
    out = []
    for (table_type, title, stage), rows in _by_table(summary).items():
        income, spend = _sides(rows)
        inc = next((v for k, v in income.items() if _INCOME_TOTAL.match(k) or k == "总计"), None)
        exp = next((v for k, v in spend.items() if _SPEND_TOTAL.match(k) or k == "总计"), None)
        if inc is None or exp is None:
            continue
        out.append(
            compare(
                rule, table_type, exp.at.page_no, f"收入总计 = 支出总计 {stage}", _v(inc), _v(exp),
                exp.amount.unit, 2, f"{title}: 收入总计 = 支出总计",
            )
        )  # fmt: skip
    return out


_CARRY_PARTS_IN = re.compile(r"^(本年收入合计|使用非财政拨款结余.*|上年结转.*|年初结转和结余.*)$")
_CARRY_PARTS_OUT = re.compile(r"^(本年支出合计|结余分配|结转下年.*|年末结转和结余.*)$")


def check_carry(summary: Iterable[SummaryFact], rule: str = "R-CARRY") -> list[Finding]:
    """Totals include the carry-over rows: 总计(收) = 本年收入合计 + 使用非财政拨款结余 + 年初结转和结余,
    总计(支) = 本年支出合计 + 结余分配 + 年末结转和结余 (where a table prints 本年收入/支出合计)."""
    out = []
    for (table_type, title, stage), rows in _by_table(summary).items():
        income, spend = _sides(rows)
        for side, total_re, parts_re, name in (
            (income, _INCOME_TOTAL, _CARRY_PARTS_IN, "收入"),
            (spend, _SPEND_TOTAL, _CARRY_PARTS_OUT, "支出"),
        ):
            total = next((v for k, v in side.items() if total_re.match(k) or k == "总计"), None)
            parts = [v for k, v in side.items() if parts_re.match(k)]
            if total is None or not any(_plain_label(p.label).startswith("本年") for p in parts) or len(parts) < 2:
                continue
            out.append(
                compare(
                    rule, table_type, total.at.page_no, f"{name}总计 {stage}", _v(total),
                    sum((_v(p) for p in parts), ZERO), total.amount.unit, len(parts),
                    f"{title}: {name}总计 = " + " + ".join(_plain_label(p.label) for p in parts),
                )
            )  # fmt: skip
    return out


# Tables printing the same amounts for the same fund scope: (table, other table) per family.
# (收入 tables are not compared with 支出 tables: carry-over makes them differ by design.)
_CROSS_TABLES = (("B1", "B3"), ("F1", "F3"))


def check_cross_tables(facts: Iterable[FuncFact], rule: str = "R-XT") -> list[Finding]:
    """The same 类 expenditure printed in the 收支总表 and the 支出总表 (same fund scope) must agree.
    Two independently rounded 万元 cells may differ by 0.01 万元."""
    index: dict[tuple, FuncFact] = {}
    for f in facts:
        if f.measure == "TOTAL" and f.source_kind == "TABLE":
            index.setdefault((f.at.table_type, f.fund_scope, f.stage, f.func_code), f)
    out = []
    for a, b in _CROSS_TABLES:
        for (t, scope, stage, code), fa in index.items():
            if t != a:
                continue
            fb = index.get((b, scope, stage, code))
            if fb is None or (fa.amount.yuan is None and fb.amount.yuan is None):
                continue
            out.append(
                compare(
                    rule, a, fa.at.page_no, f"{code} {fa.func_name} {a}={b} {stage}", _v(fa), _v(fb),
                    fa.amount.unit, 2, f"{code} {fa.func_name} ({scope}) in {a} p.{fa.at.page_no} vs {b} p.{fb.at.page_no}",
                )
            )  # fmt: skip
    return out


def check_three_public(facts: Iterable, rule: str = "R-3P-SUM") -> list[Finding]:
    """三公 合计 = 出国 + 接待 + 公务用车小计; 小计 = 购置 + 运行 (budget and final separately)."""
    by_stage: dict[str, dict[str, object]] = defaultdict(dict)
    for f in facts:
        if f.source_kind == "TABLE":
            by_stage[f.stage].setdefault(f.item, f)
    out = []
    for stage, items in by_stage.items():
        for total, parts, name in (
            ("TOTAL", ("OUTBOUND", "RECEPTION", "VEHICLE_TOTAL"), "合计 = 因公出国 + 公务接待 + 公务用车"),
            ("VEHICLE_TOTAL", ("VEHICLE_PURCHASE", "VEHICLE_OPERATION"), "公务用车 = 购置 + 运行"),
        ):
            present = [items[p] for p in parts if p in items]
            t = items.get(total)
            if t is None or len(present) < 2 or all(x.amount.yuan is None for x in [t, *present]):
                continue
            out.append(
                compare(
                    rule, t.at.table_type, t.at.page_no, f"三公 {total} {stage}", _v(t),
                    sum((_v(p) for p in present), ZERO), t.amount.unit, len(present), f"三公 {name} ({stage})",
                )
            )  # fmt: skip
    return out


def check_econ(econ: Iterable, summary: Iterable[SummaryFact]) -> list[Finding]:
    """经济分类: 类 = Σ款 (R-HIER) and 人员经费 = 301 + 303, 公用经费 = 302 + 310 (R-PERS, a warning:
    the split is a convention, DOMAIN.md §1.3)."""
    econ = list(econ)
    out: list[Finding] = []
    tables: dict[tuple, dict[str, object]] = defaultdict(dict)
    for e in econ:
        tables[(e.at.table_type, e.at.table_title, e.stage, e.measure)].setdefault(e.econ_code, e)
    for (table_type, title, stage, measure), codes in tables.items():
        for code, parent in codes.items():
            if len(code) != 3:
                continue
            kids = [c for k, c in codes.items() if len(k) == 5 and k.startswith(code)]
            if not kids or (parent.amount.yuan is None and all(k.amount.yuan is None for k in kids)):
                continue
            out.append(
                compare(
                    "R-HIER", table_type, parent.at.page_no, f"{code} {parent.econ_name} {measure} {stage}",
                    _v(parent), sum((_v(k) for k in kids), ZERO), parent.amount.unit, len(kids),
                    f"{title} 类 = Σ款 for {code} {parent.econ_name} ({measure})",
                )
            )  # fmt: skip
    totals = {
        (s.at.table_type, s.at.table_title, s.stage, s.measure): s
        for s in summary
        if s.at.table_type in ("B8", "F6") and _plain_label(s.label) in ("合计", "总计") and s.amount.yuan is not None
    }
    for (table_type, title, stage, measure), total in totals.items():
        classes = tables.get((table_type, title, stage, "TOTAL"), {})
        for split_measure, members in (("PERSONNEL", ("301", "303")), ("PUBLIC", ("302", "310"))):
            if measure != split_measure or not any(m in classes for m in members):
                continue
            out.append(
                compare(
                    "R-PERS", table_type, total.at.page_no, f"{split_measure} {stage}", _v(total),
                    sum((_v(classes[m]) for m in members if m in classes), ZERO), total.amount.unit, len(members),
                    f"{title}: {'人员经费' if split_measure == 'PERSONNEL' else '公用经费'} = {' + '.join(members)}",
                    severity="warning",
                )
            )  # fmt: skip
    return out
