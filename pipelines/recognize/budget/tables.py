"""The 预算 table family B1–B9 (DOMAIN.md §1.2): titles, fund scopes, and fact extraction."""

from __future__ import annotations

from collections import Counter

from pipelines.normalize.catalog import BUDGET_MEASURES
from pipelines.normalize.facts import TableFacts
from pipelines.read.model import SourceDocument
from pipelines.recognize.carry import CodeCarry
from pipelines.recognize.member_units import names_by_code
from pipelines.recognize.table_facts import (
    extract_econ_table,
    extract_func_table,
    extract_three_public_table,
    table_instance,
)
from pipelines.recognize.tables import LogicalTable, assemble_tables
from pipelines.recognize.titles import TitlePattern, match_title, title_pattern

_p = title_pattern


# Order matters: specific titles before the generic ones they contain (财政拨款收支总表 before
# 收支总表; 基本支出 before 一般公共预算支出).
BUDGET_TITLES: list[TitlePattern] = [
    _p("B9", r"三公.*表|机关运行经费.*表", r"决算"),
    _p("B8", r"基本支出.*(经济分类|经济科目)|基本支出(预算)?(总|情况)?表$|基本支出预算明细表", r"决算"),
    _p("B7", r"国有资本经营预算.*支出.*表", r"决算"),
    _p("B6", r"政府性基金.*支出.*表", r"决算"),
    # 一般公共预算(项目)支出…表（按经济分类科目）: the economic, not the function, classification
    _p("B5", r"一般公共预算.*支出.*表", r"决算|基本支出|经济分类|经济科目"),
    _p("B4", r"财政拨款收支.*(总表|总体情况表)|财政拨款支出.*表", r"决算|基本支出"),
    _p("B1", r"收支.*(总表|总体情况表)", r"决算"),
    _p("B2", r"收入.*(总表|预算表|总体情况表)$", r"决算"),
    _p("B3", r"支出.*(总表|预算表|总体情况表)$", r"决算|采购|项目|绩效"),
]

FUND_SCOPE = {"B1": "ALL", "B2": "ALL", "B3": "ALL", "B4": "FISCAL_GRANT", "B5": "GPB", "B6": "GOVFUND", "B7": "SOE"}


def classify_budget_title(text: str) -> str | None:
    return match_title(text, BUDGET_TITLES)


def recognize_budget_tables(doc: SourceDocument) -> list[LogicalTable]:
    return assemble_tables(doc, classify_budget_title)


def resolve_units(tables: list[LogicalTable], default: str | None = None) -> list[str]:
    """Each table's own unit; a table that states none takes the previous table's, else the
    document's most common one, else 元."""
    counts = Counter(t.unit for t in tables if t.unit)
    fallback = default or (counts.most_common(1)[0][0] if counts else "元")
    units: list[str] = []
    previous: str | None = None
    for t in tables:
        unit = t.unit or previous or fallback
        units.append(unit)
        previous = unit
    return units


def econ_fund_scope(title: str) -> str:
    """A 基本支出 table's funds from its title; one naming neither 一般公共预算 nor 财政拨款 (部门预算基本支出
    预算表, 基本支出预算情况表) covers all funds (its 合计 includes 财政专户 and 单位资金)."""
    if "一般公共预算" in title:
        return "GPB"
    if "财政拨款" in title:
        return "FISCAL_GRANT"
    return "ALL"


def extract_budget_facts(
    tables: list[LogicalTable], stage: str = "BUDGET_INITIAL", year: int | None = None
) -> TableFacts:
    """The facts of the 预算 tables; ``year`` (the fiscal year) picks the catalogue's names for rows
    printed without codes."""
    out = TableFacts()
    carry = CodeCarry()
    unit_names = names_by_code(tables)  # member units named in full wherever one table cuts a name
    for table, unit in zip(tables, resolve_units(tables), strict=True):
        carry.enter(table)
        if table.table_type == "B9":
            facts = extract_three_public_table(table, unit, stage, unit_names)
        elif table.table_type == "B8":
            facts = extract_econ_table(table, unit, econ_fund_scope(table.title), stage, carry=carry.econ)
        else:
            facts = extract_func_table(
                table, unit, FUND_SCOPE[table.table_type], stage, BUDGET_MEASURES, last_codes=carry.func,
                names_carry=carry.names, year=year, unit_names=unit_names,
            )  # fmt: skip
        if not table.grids and not table.notes:
            continue  # a title with nothing under it: a table of contents entry or a heading
        out.tables.append(table_instance(table, unit, facts))
        out.extend(
            TableFacts(
                func=facts.func,
                econ=facts.econ,
                three_public=facts.three_public,
                summary=facts.summary,
                notes=facts.notes,
            )
        )
    return out
