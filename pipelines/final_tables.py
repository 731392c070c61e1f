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
from decimal import Decimal

from pipelines.budget_tables import econ_fund_scope, resolve_units
from pipelines.catalog import FINAL_MEASURES, measure_for_path
from pipelines.facts import (
    EconFact,
    Finding,
    RosterEntry,
    SummaryFact,
    TableFacts,
    TableInstance,
    ThreePublicFact,
)
from pipelines.identities import ZERO, compare
from pipelines.model import Grid, SourceDocument, TextLine
from pipelines.table_facts import (
    extract_econ_table,
    extract_func_table,
    extract_three_public_table,
    read_amount,
    table_instance,
)
from pipelines.tables import (
    LogicalTable,
    TitlePattern,
    assemble_tables,
    iter_blocks,
    iter_rows,
    match_title,
    title_pattern,
)
from pipelines.textnorm import NotAnAmount, collapse

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


def extract_final_facts(tables: list[LogicalTable], stage: str = "FINAL") -> TableFacts:
    out = TableFacts()
    gpb_basic: Decimal | None = None
    out.findings += listed_tables_printed(tables)
    for table, unit in zip(tables, resolve_units(tables), strict=True):
        if not table.grids and not table.notes:
            continue  # a table of contents entry or a heading
        kind = table.table_type
        if kind == "F7":
            facts = extract_three_public_table(table, unit, stage)
            facts.findings += three_public_identities(facts.three_public, unit)
        elif kind == "F6":
            facts = extract_econ_table(table, unit, econ_fund_scope(table.title), stage)
            facts.findings += econ_identities(facts.econ, facts.summary, unit, gpb_basic)
        elif kind in _FUND_INCOME:
            measure_of = _fund_table_measure(_FUND_INCOME[kind])
            facts = extract_func_table(table, unit, FUND_SCOPE[kind], stage, FINAL_MEASURES, measure_of)
        else:
            facts = extract_func_table(table, unit, FUND_SCOPE[kind], stage, FINAL_MEASURES)
            if kind in ("F1", "F4"):
                facts.findings += balance_identities(table, unit)
            if kind == "F5":
                gpb_basic = _summary_total(facts.summary, "BASIC")
        out.tables.append(table_instance(table, unit, facts))
        out.extend(facts)
    return out


def listed_tables_printed(tables: list[LogicalTable]) -> list[Finding]:
    """R-TABLES: every table the document's own table of contents lists is printed (a title with
    nothing under it is a contents entry; one with a grid or an explanation is the table)."""
    listed: dict[str, LogicalTable] = {}
    printed: set[str] = set()
    for t in tables:
        if t.grids or t.notes:
            printed.add(t.table_type)
        else:
            listed.setdefault(t.table_type, t)
    out = []
    for kind, entry in listed.items():
        ok = kind in printed
        out.append(
            Finding(
                rule="R-TABLES", status="PASS" if ok else "FAIL", severity="info" if ok else "error",
                table_type=kind, page_no=entry.page_start, subject=collapse(entry.title), lhs=None, rhs=None,
                diff=None, tolerance=None,
                message=f"{kind} '{collapse(entry.title)}' is listed on p.{entry.page_start} "
                + ("and printed" if ok else "but not printed in the document"),
            )
        )  # fmt: skip
    return out


def _summary_total(summary: list[SummaryFact], measure: str) -> Decimal | None:
    for s in summary:
        if s.measure == measure and s.label.startswith(("合计", "总计")) and s.amount.yuan is not None:
            return s.amount.yuan
    return None


# ---------------------------------------------------------------------------------------------
# F1 / F4: the two sides of a total table

_INCOME_TERMS = re.compile(r"^(本年收入合计|使用非财政拨款结余|(年初|上年)(财政拨款)?结转和?结余)")
_EXPENSE_TERMS = re.compile(r"^(本年支出合计|结余分配|年末(财政拨款)?结转和?结余)")
_GRAND_TOTAL = re.compile(r"^(总计|合计)$")
_NUMBERED = re.compile(r"^[一二三四五六七八九十]+、")


def _side_totals(table: LogicalTable, unit: str) -> dict[int, list[tuple[str, Decimal | None, int]]]:
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


def balance_identities(table: LogicalTable, unit: str) -> list[Finding]:
    """R-BAL: 总计(收) = 本年收入合计 + 使用非财政拨款结余 + 年初结转和结余; 总计(支) = 本年支出合计 +
    结余分配 + 年末结转和结余; 总计(收) = 总计(支). R-TOTAL on the 收入 side: 本年收入合计 = Σ the
    numbered income rows (其中 rows excluded)."""
    sides = _side_totals(table, unit)
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
                "R-BAL", table.table_type, grand[1], f"总计({name})", grand[0], rhs, unit, len(parts),
                f"{collapse(table.title)} 总计({name}) = {' + '.join(label for label, _ in parts)}",
            )
        )  # fmt: skip
    if 0 in totals and 1 in totals:
        out.append(
            compare(
                "R-BAL", table.table_type, totals[1][1], "总计(收) = 总计(支)", totals[0][0], totals[1][0], unit, 1,
                f"{collapse(table.title)} 收入总计 = 支出总计",
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
                    "R-TOTAL", table.table_type, year_income[1], "本年收入合计 TOTAL FINAL", year_income[0],
                    sum(items, ZERO), unit, len(items), f"{collapse(table.title)} 本年收入合计 = Σ 收入 rows",
                )
            )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# F7: “三公”经费

_THREE_PUBLIC_SUMS = (
    (
        "TOTAL",
        ("OUTBOUND", "VEHICLE_TOTAL", "RECEPTION"),
        "合计 = 因公出国（境）费 + 公务用车购置及运行费 + 公务接待费",
    ),
    ("VEHICLE_TOTAL", ("VEHICLE_PURCHASE", "VEHICLE_OPERATION"), "公务用车购置及运行费 = 购置费 + 运行费"),
)


def three_public_identities(items: list[ThreePublicFact], unit: str) -> list[Finding]:
    """R-3P-SUM, for the 预算数 and the 决算数 columns separately; blank cells count as 0."""
    by_stage: dict[str, dict[str, ThreePublicFact]] = defaultdict(dict)
    for f in items:
        by_stage[f.stage].setdefault(f.item, f)
    out: list[Finding] = []
    for stage, cells in by_stage.items():
        for total, parts, explain in _THREE_PUBLIC_SUMS:
            t = cells.get(total)
            present = [cells[p] for p in parts if p in cells]
            if t is None or len(present) < 2 or all(c.amount.yuan is None for c in [t, *present]):
                continue
            out.append(
                compare(
                    "R-3P-SUM", t.at.table_type, t.at.page_no, f"{total} {stage}", t.amount.yuan or ZERO,
                    sum((c.amount.yuan or ZERO for c in present), ZERO), unit, len(present),
                    f"{t.at.table_title} {stage}: {explain}",
                )
            )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# F6: 经济分类 identities

PERSONNEL_CLASSES = ("301", "303")  # 人员经费 = 301 + 303; 公用经费 = the other 类 (DOMAIN.md §1.3)


def econ_identities(
    econ: list[EconFact], summary: list[SummaryFact], unit: str, gpb_basic: Decimal | None
) -> list[Finding]:
    """R-HIER 类 = Σ 款 (经济分类); R-PERS 人员经费合计 = 301 + 303, 公用经费合计 = the other 类
    (warning: the split is observed, not a rule); R-XT 人员经费 + 公用经费 = F5 基本支出."""
    out: list[Finding] = []
    by_code: dict[str, EconFact] = {}
    for f in econ:
        if f.measure == "TOTAL":
            by_code.setdefault(f.econ_code, f)
    for code, parent in by_code.items():
        if len(code) != 3:
            continue
        children = [c for c in by_code.values() if len(c.econ_code) == 5 and c.econ_code.startswith(code)]
        if not children or (parent.amount.yuan is None and all(c.amount.yuan is None for c in children)):
            continue
        out.append(
            compare(
                "R-HIER", parent.at.table_type, parent.at.page_no, f"{code} {parent.econ_name} TOTAL {parent.stage}",
                parent.amount.yuan or ZERO, sum((c.amount.yuan or ZERO for c in children), ZERO), unit,
                len(children), f"{parent.at.table_title} 类 = Σ款 for {code} {parent.econ_name}",
            )
        )  # fmt: skip
    classes = {c: f for c, f in by_code.items() if len(c) == 3}
    labelled = {s.label: s for s in summary if s.amount.yuan is not None}
    halves = []
    for label, members in (
        ("人员经费合计", [c for c in classes if c in PERSONNEL_CLASSES]),
        ("公用经费合计", [c for c in classes if c not in PERSONNEL_CLASSES]),
    ):
        s = labelled.get(label)
        if s is None:
            continue
        halves.append(s)
        if members:
            rhs = sum((classes[c].amount.yuan or ZERO for c in members), ZERO)
            out.append(
                compare(
                    "R-PERS", s.at.table_type, s.at.page_no, label, s.amount.yuan, rhs, unit, len(members),
                    f"{s.at.table_title} {label} = {' + '.join(sorted(members))}", severity="warning",
                )
            )  # fmt: skip
    if len(halves) == 2 and gpb_basic is not None:
        s = halves[0]
        out.append(
            compare(
                "R-XT", s.at.table_type, s.at.page_no, "人员经费合计 + 公用经费合计 = F5 基本支出",
                halves[0].amount.yuan + halves[1].amount.yuan, gpb_basic, unit, 2,
                f"{s.at.table_title} 人员经费合计 + 公用经费合计 = 一般公共预算财政拨款支出决算表 基本支出 合计",
            )
        )  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# F0 部门决算单位构成

_ROSTER_HEADING = re.compile(r"决算单位构成|单位构成$")
_NEXT_HEADING = re.compile(r"^([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第[一二三四五六七八九十]+部分)")
_ROSTER_SENTENCE = re.compile(r"决算(?:反映|包括)[:：]?(?P<list>[^。；]+?)(?:的(?:经费)?收支情况|。|$)")


def _roster_from_grid(grid: Grid) -> list[RosterEntry]:
    header = [collapse(c) for c in grid.rows[0]]
    name_col = next((i for i, h in enumerate(header) if "单位名称" in h), None)
    if name_col is None:
        return []
    seq_col = next((i for i, h in enumerate(header) if h in ("序号", "编号")), None)
    remark_col = next((i for i, h in enumerate(header) if "备注" in h), None)
    entries: list[RosterEntry] = []
    for row in grid.rows[1:]:
        name = collapse(row[name_col] if name_col < len(row) else "")
        if not name:
            continue
        seq_text = collapse(row[seq_col]) if seq_col is not None and seq_col < len(row) else ""
        seq = int(seq_text) if seq_text.isdigit() else len(entries) + 1
        remark = collapse(row[remark_col]) if remark_col is not None and remark_col < len(row) else ""
        entries.append(RosterEntry(seq=seq, unit_name=name, remark=remark, page_no=grid.page_no))
    return entries


def extract_roster(doc: SourceDocument) -> tuple[list[RosterEntry], TableInstance | None]:
    """The member units under the 部门决算单位构成 heading: its 序号 | 单位名称 | 备注 grid, or, where
    the document has only a sentence (西南大学: ``决算反映西南大学本级、…附属小学的经费收支情况``),
    the units that sentence lists. The heading also stands in the table of contents, so every
    occurrence is tried."""
    armed_at: int | None = None
    text_after: list[TextLine] = []
    from_sentence: list[RosterEntry] = []

    def sentence_roster() -> list[RosterEntry]:
        joined = "".join(collapse(t.text) for t in text_after[:8])
        m = _ROSTER_SENTENCE.search(joined)
        names = [n for n in re.split(r"[、，,]", m.group("list")) if n] if m else []
        if len(names) < 2:  # "包括：本级决算、下属单位决算" style sentences do not name the units
            return []
        page = text_after[0].page_no
        return [RosterEntry(seq=i, unit_name=n, remark="", page_no=page) for i, n in enumerate(names, start=1)]

    for item in doc.items():
        if isinstance(item, TextLine):
            key = collapse(item.text)
            if _ROSTER_HEADING.search(key) and len(key) < 30 and not re.search(r"\.{3}|…", key):
                armed_at, text_after = item.page_no, []
                continue
            if armed_at is None:
                continue
            if _NEXT_HEADING.match(key):
                from_sentence = from_sentence or sentence_roster()
                armed_at, text_after = None, []
                continue
            text_after.append(item)
            continue
        if armed_at is not None and item.rows:
            entries = _roster_from_grid(item)
            if entries:
                return entries, _roster_instance(entries, armed_at)
    if armed_at is not None:
        from_sentence = from_sentence or sentence_roster()
    if not from_sentence:
        return [], None
    return from_sentence, _roster_instance(from_sentence, from_sentence[0].page_no)


def _roster_instance(entries: list[RosterEntry], page: int) -> TableInstance:
    pages = [e.page_no for e in entries]
    return TableInstance(
        table_type="F0",
        title="部门决算单位构成",
        unit=None,
        page_start=min(pages, default=page),
        page_end=max(pages, default=page),
        line_start=None,
        is_empty=not entries,
        empty_note=None,
        n_facts=len(entries),
    )


def final_table_facts(doc: SourceDocument) -> TableFacts:
    """Everything the 决算 tables of ``doc`` hold: F1–F9 facts and identities, the F0 roster."""
    facts = extract_final_facts(recognize_final_tables(doc))
    roster, roster_table = extract_roster(doc)
    if roster_table is not None:
        facts.tables.insert(0, roster_table)
        facts.roster += roster
    return facts
