"""The 决算 table family F0–F9 (DOMAIN.md §1.2, §2.4): titles, fund scopes, measures, the F0 roster
of member units, and the identities that need a table's layout (the two sides of F1/F4, the
economic hierarchy of F6).

Column meanings come from the shared machinery (``tables``, ``table_facts``, ``catalog``): 决算数
columns are stage FINAL, 预算数 / 年初预算数 BUDGET_INITIAL, 全年预算数 BUDGET_ADJUSTED, so the
12-column F7 gives both budget and final rows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.normalize.catalog import FINAL_MEASURES, measure_for_path
from pipelines.normalize.facts import (
    TableFacts,
)
from pipelines.normalize.textnorm import NotAnAmount
from pipelines.read.model import SourceDocument
from pipelines.recognize.budget.tables import econ_fund_scope, resolve_units
from pipelines.recognize.carry import CodeCarry
from pipelines.recognize.final.roster import extract_roster
from pipelines.recognize.rows import iter_blocks, iter_rows
from pipelines.recognize.table_facts import (
    extract_econ_table,
    extract_func_table,
    extract_three_public_table,
    read_amount,
    table_instance,
)
from pipelines.recognize.tables import LogicalTable, assemble_tables
from pipelines.recognize.titles import TitlePattern, match_title, title_pattern

_p = title_pattern


# Order matters: the specific titles before the generic ones they contain (一般公共预算财政拨款支出
# 决算表 contains 财政拨款支出决算表 and 支出决算表; 政府性基金预算财政拨款收入支出决算表 contains
# 收入支出决算表).
FINAL_TITLES: list[TitlePattern] = [
    _p("F7", r"三公.*决算(明细)?表"),
    _p("F6", r"基本支出.*决算(明细)?表"),
    _p("F8", r"政府性基金.*决算(明细)?表"),
    _p("F9", r"国有资本经营.*决算(明细)?表"),
    _p("F5", r"一般公共预算.*支出决算(明细)?表"),
    _p("F4", r"财政拨款收入支出决算(总)?表|财政拨款收支决算总表|财政拨款支出决算(明细)?表"),
    _p("F1", r"收入支出决算(总)?表$|收支决算总表$"),
    _p("F2", r"收入决算(明细)?表$"),
    _p("F3", r"支出决算(明细)?表$", r"项目支出|采购|绩效"),
]

FUND_SCOPE = {
    "F1": "ALL", "F2": "ALL", "F3": "ALL", "F4": "FISCAL_GRANT", "F5": "GPB", "F8": "GOVFUND", "F9": "SOE",
}  # fmt: skip

# 政府性基金 / 国有资本经营 tables (F8/F9) print 年初结转和结余 | 本年收入 | 本年支出 | 年末结转和结余:
# their 本年收入 is the year's grant of that fund.
_FUND_INCOME = {"F8": "GRANT_GOVFUND", "F9": "GRANT_SOE"}


def classify_final_title(text: str) -> str | None:
    return match_title(text, FINAL_TITLES)


def recognize_final_tables(doc: SourceDocument) -> list[LogicalTable]:
    return assemble_tables(doc, classify_final_title)


def _fund_table_measure(grant_measure: str):
    def measure_of(path: tuple[str, ...]) -> str | None:
        if any(re.fullmatch(r"本年收入(合计)?", e) for e in path):
            return grant_measure
        return measure_for_path(path)

    return measure_of


@dataclass
class FinalTable:
    """One printed 决算 table as read: its facts, and for F1/F4 the labelled rows of its two sides
    (0 收入, 1 支出: label, 决算数 in 元, page), which the balance identities compare."""

    table_type: str
    title: str
    unit: str
    facts: TableFacts
    sides: dict[int, list[tuple[str, Decimal | None, int]]] | None = None


@dataclass
class FinalReading:
    """The 决算 tables of a document: every fact (``facts``), each printed table (``tables``) and
    every title found, contents entries included (``listed``)."""

    facts: TableFacts = field(default_factory=TableFacts)
    tables: list[FinalTable] = field(default_factory=list)
    listed: list[LogicalTable] = field(default_factory=list)


def extract_final_facts(tables: list[LogicalTable], stage: str = "FINAL") -> FinalReading:
    out = FinalReading(listed=tables)
    carry = CodeCarry()  # the same continuation rule as the 预算 family's
    for table, unit in zip(tables, resolve_units(tables), strict=True):
        carry.enter(table)
        if not table.grids and not table.notes:
            continue  # a table of contents entry or a heading
        kind = table.table_type
        sides = None
        if kind == "F7":
            facts = extract_three_public_table(table, unit, stage)
        elif kind == "F6":
            facts = extract_econ_table(table, unit, econ_fund_scope(table.title), stage, carry=carry.econ)
        elif kind in _FUND_INCOME:
            measure_of = _fund_table_measure(_FUND_INCOME[kind])
            facts = extract_func_table(
                table, unit, FUND_SCOPE[kind], stage, FINAL_MEASURES, measure_of, last_codes=carry.func
            )
        else:
            facts = extract_func_table(table, unit, FUND_SCOPE[kind], stage, FINAL_MEASURES, last_codes=carry.func)
            if kind in ("F1", "F4"):
                sides = side_totals(table, unit)
        out.tables.append(FinalTable(kind, table.title, unit, facts, sides))
        out.facts.tables.append(table_instance(table, unit, facts))
        out.facts.extend(facts)
    return out


# ---------------------------------------------------------------------------------------------
# F1 / F4: the two sides of a total table


def side_totals(table: LogicalTable, unit: str) -> dict[int, list[tuple[str, Decimal | None, int]]]:
    """Per side (0 收入, 1 支出): (label, 决算数 in 元, page) of every labelled row, in order."""
    sides: dict[int, list[tuple[str, Decimal | None, int]]] = defaultdict(list)
    last_lei: dict[int, str] = {}
    for row in iter_rows(table):
        for block in iter_blocks(row, last_lei):
            if not block.label or not block.amounts:
                continue
            # the first amount column of a side is its total (决算数, or 合计 on F4's 支出 side)
            cell = block.amounts[0]
            if measure_for_path(cell.column.path) not in ("TOTAL", None):
                continue
            try:
                amount = read_amount(cell, unit)
            except NotAnAmount:
                continue
            sides[block.position].append((block.label, amount.yuan if amount else None, row.page_no))
    return sides


def final_table_facts(doc: SourceDocument) -> FinalReading:
    """Everything the 决算 tables of ``doc`` hold: F1–F9 facts, the F0 roster."""
    reading = extract_final_facts(recognize_final_tables(doc))
    roster, roster_table = extract_roster(doc)
    if roster_table is not None:
        reading.facts.tables.insert(0, roster_table)
        reading.facts.roster += roster
    return reading
