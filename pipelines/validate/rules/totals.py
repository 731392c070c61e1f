"""Totals and balance (DOMAIN.md §5.5): R-TOTAL, a table's 合计 = Σ of its 类; R-BAL, 收入总计 =
支出总计 of the 收支总表 family; R-CARRY, totals that include the carry-over rows."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from pipelines.normalize.facts import (
    Finding,
    FuncFact,
    SummaryFact,
)
from pipelines.normalize.textnorm import collapse
from pipelines.validate.rules.compare import ZERO, compare, yuan_or_zero

_TOTAL_LABELS = ("合计", "总计", "支出合计", "支出总计", "本年支出合计")


def check_table_totals(
    func: Iterable[FuncFact], summary: Iterable[SummaryFact], rule: str = "R-TOTAL"
) -> list[Finding]:
    """The 合计 row of a 功能分类 table = Σ of its 类 rows, per measure; where a table prints no 类 rows
    (codes only at 项 level: 北京 预算05, 泉州 一般公共预算拨款支出预算表), Σ of its top printed level."""
    by_level: dict[tuple, dict[int, list[FuncFact]]] = defaultdict(lambda: defaultdict(list))
    for f in func:
        if f.func_level in (1, 2, 3):
            by_level[(f.at.table_type, f.at.table_title, f.stage, f.measure)][f.func_level].append(f)
    classes = {key: levels[min(levels)] for key, levels in by_level.items()}
    top_level = {key: min(levels) for key, levels in by_level.items()}
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
        rhs = sum((yuan_or_zero(f) for f in rows), ZERO)
        out.append(
            compare(
                rule, s.at.table_type, s.at.page_no, f"{s.label} {s.measure} {s.stage}",
                yuan_or_zero(s), rhs, s.amount.unit, len(rows),
                f"{s.at.table_title} {s.label} = Σ {'类款项'[top_level[key] - 1]} rows ({s.measure})",
            )
        )  # fmt: skip
    return out


def check_unit_totals(summary: Iterable[SummaryFact], rule: str = "R-TOTAL") -> list[Finding]:
    """Tables by unit (a 单位编码 column: 西安 ``201`` the department, ``201001`` / ``201002`` its units):
    the 合计 row = Σ of the top unit rows, and a unit's row = Σ of the rows of the units under its
    code, per measure."""
    tables: dict[tuple, dict[str, SummaryFact]] = defaultdict(dict)
    totals: dict[tuple, SummaryFact] = {}
    for s in summary:
        key = (s.at.table_type, s.at.table_title, s.stage, s.measure)
        if s.at.unit_code:
            tables[key].setdefault(s.at.unit_code, s)
        elif s.label in ("合计", "总计"):
            totals.setdefault(key, s)
    out: list[Finding] = []
    for key, units in tables.items():
        parents = {c: [u for u in units if u != c and u.startswith(c) and _direct(c, u, units)] for c in units}
        top = [c for c in units if not any(c != p and c.startswith(p) for p in units)]
        groups = [(totals[key], [units[c] for c in top], "合计 = Σ units")] if key in totals else []
        groups += [(units[c], [units[k] for k in kids], f"{c} = Σ its units") for c, kids in parents.items() if kids]
        out += _whole_vs_parts(groups, rule)
    return out


def _whole_vs_parts(groups: Iterable[tuple], rule: str) -> list[Finding]:
    """One finding per (whole, parts, what): the whole's amount against Σ of its parts', per measure;
    a group printed blank throughout says nothing."""
    out: list[Finding] = []
    for whole, parts, what in groups:
        if all(c.amount.yuan is None for c in [whole, *parts]):
            continue
        out.append(
            compare(
                rule, whole.at.table_type, whole.at.page_no, f"{what} {whole.measure} {whole.stage}",
                yuan_or_zero(whole), sum((yuan_or_zero(c) for c in parts), ZERO), whole.amount.unit, len(parts),
                f"{whole.at.table_title} {what} ({whole.measure})",
            )
        )  # fmt: skip
    return out


def _direct(parent: str, child: str, codes: Iterable[str]) -> bool:
    """No other code stands between ``parent`` and ``child``."""
    return not any(c not in (parent, child) and c.startswith(parent) and child.startswith(c) for c in codes)


# ---------------------------------------------------------------------------------------------
# Totals of the 收支总表 family, cross-table equalities, 三公 and 经济分类


def plain_label(label: str) -> str:
    from pipelines.normalize.catalog import strip_ordinal

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
        label = plain_label(s.label)
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
                rule, table_type, exp.at.page_no, f"收入总计 = 支出总计 {stage}", yuan_or_zero(inc), yuan_or_zero(exp),
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
            if total is None or not any(plain_label(p.label).startswith("本年") for p in parts) or len(parts) < 2:
                continue
            out.append(
                compare(
                    rule, table_type, total.at.page_no, f"{name}总计 {stage}", yuan_or_zero(total),
                    sum((yuan_or_zero(p) for p in parts), ZERO), total.amount.unit, len(parts),
                    f"{title}: {name}总计 = " + " + ".join(plain_label(p.label) for p in parts),
                )
            )  # fmt: skip
    return out


_INCOME_TERMS = re.compile(r"^(本年收入合计|使用非财政拨款结余|(年初|上年)(财政拨款)?结转和?结余)")
_EXPENSE_TERMS = re.compile(r"^(本年支出合计|结余分配|年末(财政拨款)?结转和?结余)")
_GRAND_TOTAL = re.compile(r"^(总计|合计)$")
_NUMBERED = re.compile(r"^[一二三四五六七八九十]+、")


def balance_identities(
    table_type: str, title: str, sides: dict[int, list[tuple[str, Decimal | None, int]]], unit: str
) -> list[Finding]:
    """R-BAL: 总计(收) = 本年收入合计 + 使用非财政拨款结余 + 年初结转和结余; 总计(支) = 本年支出合计 +
    结余分配 + 年末结转和结余; 总计(收) = 总计(支). R-TOTAL on the 收入 side: 本年收入合计 = Σ the
    numbered income rows (其中 rows excluded)."""
    income, expense = sides.get(0, []), sides.get(1, [])
    out: list[Finding] = []
    totals: dict[int, tuple[Decimal, int]] = {}
    for side, rows, terms, name in ((0, income, _INCOME_TERMS, "收入"), (1, expense, _EXPENSE_TERMS, "支出")):
        grand = next(((v, pg) for label, v, pg in reversed(rows) if _GRAND_TOTAL.match(label)), None)
        if grand is None or grand[0] is None:
            continue
        totals[side] = grand
        parts = [(label, v) for label, v, _ in rows if terms.match(label)]
        if not parts:
            continue
        rhs = sum((v or ZERO for _, v in parts), ZERO)
        out.append(
            compare(
                "R-BAL", table_type, grand[1], f"总计({name})", grand[0], rhs, unit, len(parts),
                f"{collapse(title)} 总计({name}) = {' + '.join(label for label, _ in parts)}",
            )
        )  # fmt: skip
    if 0 in totals and 1 in totals:
        out.append(
            compare(
                "R-BAL", table_type, totals[1][1], "总计(收) = 总计(支)", totals[0][0], totals[1][0], unit, 1,
                f"{collapse(title)} 收入总计 = 支出总计",
            )
        )  # fmt: skip
    year_income = next(((v, pg) for label, v, pg in income if label.startswith("本年收入合计")), None)
    if year_income is not None and year_income[0] is not None:
        items = []
        for label, v, _ in income:
            if label.startswith("本年收入合计"):
                break
            if _NUMBERED.match(label):
                items.append(v or ZERO)
        if items:
            out.append(
                compare(
                    "R-TOTAL", table_type, year_income[1], "本年收入合计 TOTAL FINAL", year_income[0],
                    sum(items, ZERO), unit, len(items), f"{collapse(title)} 本年收入合计 = Σ 收入 rows",
                )
            )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Member units (pipelines/recognize/member_units.py)


def check_member_totals(
    summary: Iterable[SummaryFact], econ: Iterable = (), three_public: Iterable = (), rule: str = "R-TOTAL"
) -> list[Finding]:
    """Tables printing the department's 合计 and its member units' lines (a 单位名称 column, or unit
    headings over blocks of 经济分类 rows): the 合计 = Σ the units' lines, and a unit's line = Σ the
    rows of its block (its 类 rows, coded or named), per measure; a “三公” table by unit: the 合计's
    item = Σ the units' items. Tables keyed by 单位编码 are ``check_unit_totals``'s."""
    summary = list(summary)
    out = _three_public_by_member(three_public, rule)
    lines: dict[tuple, dict[str, SummaryFact]] = defaultdict(dict)  # table → member → its line
    totals: dict[tuple, SummaryFact] = {}
    parts: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))  # table → member → rows
    seen_rows: set[tuple] = set()
    for s in summary:
        key = (s.at.table_type, s.at.table_title, s.stage, s.measure)
        member = s.at.member_unit
        if member is None:
            if s.label in ("合计", "总计"):
                totals.setdefault(key, s)
        elif s.at.unit_code is None and (key, s.at.row_id) not in seen_rows:
            seen_rows.add((key, s.at.row_id))  # a row's first cell of each measure
            if s.label == member:
                lines[key].setdefault(member, s)
            elif not s.label.startswith(_TOTAL_LABELS):
                parts[key][member].append(s)
    for e in econ:
        key = (e.at.table_type, e.at.table_title, e.stage, e.measure)
        if e.at.member_unit is not None and e.econ_level == 1 and (key, e.at.row_id) not in seen_rows:
            seen_rows.add((key, e.at.row_id))
            parts[key][e.at.member_unit].append(e)
    for key, members in lines.items():
        groups = [(totals[key], list(members.values()), "合计 = Σ member units")] if key in totals else []
        groups += [(line, parts[key][m], f"{m} = Σ its rows") for m, line in members.items() if parts[key][m]]
        out += _whole_vs_parts(groups, rule)
    return out


def _three_public_by_member(facts: Iterable, rule: str) -> list[Finding]:
    department: dict[tuple, object] = {}
    members: dict[tuple, dict[str, object]] = defaultdict(dict)
    for f in facts:
        key = (f.at.table_type, f.at.table_title, f.stage, f.item)
        if f.at.member_unit is None:
            department.setdefault(key, f)
        else:
            members[key].setdefault(f.at.member_unit, f)
    out: list[Finding] = []
    for key, units in members.items():
        whole = department.get(key)
        if whole is None or all(c.amount.yuan is None for c in [whole, *units.values()]):
            continue
        if len({len(u.at.unit_code or "") for u in units.values()}) > 1:
            continue  # units under units (单位编码 of two lengths): the 合计 is not the sum of them all
        out.append(
            compare(
                rule, whole.at.table_type, whole.at.page_no, f"三公 {whole.item} = Σ member units {whole.stage}",
                yuan_or_zero(whole), sum((yuan_or_zero(u) for u in units.values()), ZERO), whole.amount.unit,
                len(units), f"{whole.at.table_title} 三公 {whole.item} = Σ member units",
            )
        )  # fmt: skip
    return out
