"""The rule catalogue, evaluated per document on what the recognizers produced. One module per
rule family (``catalogue`` lists every rule with its id, what it compares and its tolerance):

- ``rows``: R-ROW, R-HIER (rows and the 类/款/项 hierarchy)
- ``totals``: R-TOTAL, R-BAL, R-CARRY (totals and balance)
- ``cross_table``: R-XT (the same amount in two tables)
- ``three_public``: R-3P-SUM, R-PERS and the 经济分类 hierarchy (三公 and personnel)
- ``completeness``: R-TABLES (the tables a document lists are printed)
- ``projects``: R-PROJ (绩效目标 forms)
- ``narrative``: R-NARR (a 决算's 情况说明 against the tables)
- ``budget_narrative``: R-NARR-TOTAL, -SPLIT, -FUNC, -3P, -ORG, -PCT (a 预算's text against its tables)
- ``econ_three_public``: R-ECON-3P, R-ORG-PUBLIC (经济分类 vs “三公”经费 table)
- ``unit_name``: R-UNIT (the unit named alike on cover, table headers and text)
- ``text``: R-TEXT (template residue, wrong years)
- ``codes``: R-CODE (a printed code's name against the code catalogue of its year)
"""

from __future__ import annotations

from decimal import Decimal

from pipelines.normalize.facts import DocumentInfo, Finding, SummaryFact, TableFacts
from pipelines.read.model import SourceDocument
from pipelines.recognize.document import RecognizedDocument
from pipelines.recognize.final.tables import FinalReading
from pipelines.recognize.narrative.reader import NarrativeReading
from pipelines.validate.rules.budget_narrative import budget_narrative_findings, purpose_checks
from pipelines.validate.rules.codes import code_name_findings
from pipelines.validate.rules.completeness import listed_tables_printed, required_budget_tables
from pipelines.validate.rules.cross_table import check_cross_tables
from pipelines.validate.rules.econ_three_public import (
    econ_three_public_checks,
    org_running_cost_checks,
    org_running_cost_items_checks,
)
from pipelines.validate.rules.narrative import narrative_findings
from pipelines.validate.rules.projects import form_findings
from pipelines.validate.rules.rows import check_hierarchy, check_rows, check_summary_rows
from pipelines.validate.rules.text import placeholder_checks
from pipelines.validate.rules.three_public import (
    check_econ,
    check_three_public,
    econ_identities,
    three_public_identities,
)
from pipelines.validate.rules.totals import (
    balance_identities,
    check_balance,
    check_carry,
    check_member_totals,
    check_table_totals,
    check_unit_totals,
)
from pipelines.validate.rules.unit_name import unit_name_checks


def table_identities(facts: TableFacts) -> list[Finding]:
    """Row, hierarchy, total and cross-table identities for every family; the 预算 family's
    balance, 三公 and 经济分类 rules here (the 决算 family's in ``final_table_findings``)."""
    printed = [f for f in facts.func if f.source_kind == "TABLE"]  # not the narrative's quotes
    budget_summary = [s for s in facts.summary if s.at.table_type.startswith("B")]
    return (
        check_rows(printed)
        + check_hierarchy(printed)
        + check_table_totals(printed, facts.summary)
        + check_unit_totals(facts.summary)
        + check_member_totals(facts.summary, facts.econ, facts.three_public)
        + check_cross_tables(printed)
        + check_balance(budget_summary)
        + check_carry(budget_summary)
        + check_three_public([t for t in facts.three_public if (t.at.table_type or "").startswith("B")])
        + check_econ([e for e in facts.econ if e.at.table_type.startswith("B")], budget_summary)
        + check_summary_rows([s for s in budget_summary if s.at.table_type == "B2"])
        + org_running_cost_items_checks(facts)
    )


def _summary_total(summary: list[SummaryFact], measure: str) -> Decimal | None:
    for s in summary:
        if s.measure == measure and s.label.startswith(("合计", "总计")) and s.amount.yuan is not None:
            return s.amount.yuan
    return None


def final_table_findings(reading: FinalReading) -> list[Finding]:
    """The 决算 identities that need a table's layout: the contents against the printed tables,
    the two sides of F1/F4, F7 per stage column, F6's hierarchy and its 人员/公用经费 halves against
    the 基本支出 of the F5 printed before it."""
    out = listed_tables_printed(reading.listed)
    gpb_basic: Decimal | None = None
    for table in reading.tables:
        if table.table_type == "F7":
            out += three_public_identities(table.facts.three_public, table.unit)
        elif table.table_type == "F6":
            out += econ_identities(table.facts.econ, table.facts.summary, table.unit, gpb_basic)
        if table.sides is not None:
            out += balance_identities(table.table_type, table.title, table.sides, table.unit)
        if table.table_type == "F5":
            gpb_basic = _summary_total(table.facts.summary, "BASIC")
    return out


def document_findings(doc: SourceDocument, info: DocumentInfo, recognized: RecognizedDocument) -> list[Finding]:
    """Every rule of the catalogue that applies to this document, in a stable order."""
    findings = table_identities(recognized.facts)
    findings += code_name_findings(recognized.facts, info.fiscal_year)
    if recognized.final is not None:
        findings += final_table_findings(recognized.final)
    if info.doc_kind in ("BUDGET", "PERF_FORM"):
        findings += form_findings(recognized.forms, recognized.form_errors, recognized.facts, info.doc_kind)
    if recognized.narrative is not None and info.doc_kind == "FINAL_ACCOUNT":
        findings += narrative_findings(recognized.narrative, recognized.facts)
        findings += placeholder_checks(doc, info.fiscal_year)
        findings += purpose_checks(recognized.narrative.items)
    if info.doc_kind == "BUDGET":
        if recognized.narrative is not None:
            findings += budget_narrative_findings(recognized.narrative, recognized.facts, info.fiscal_year)
        findings += econ_three_public_checks(recognized.facts)
        findings += org_running_cost_checks(recognized.facts)
        findings += required_budget_tables(recognized.facts.tables, doc, has_text=_states_amounts(recognized.narrative))
        findings += unit_name_checks(doc, info.unit_name)
    return findings


def _states_amounts(narrative: NarrativeReading | None) -> bool:
    """Whether the document has a narrative of its own: text stating at least one amount. Cell
    fragments of a tables-only file (a 附件 of 报表) state none; its explanations are elsewhere."""
    return narrative is not None and any(f.yuan is not None for f in narrative.facts)
