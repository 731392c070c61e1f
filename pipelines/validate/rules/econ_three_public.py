"""R-ECON-3P and R-ORG-PUBLIC: the 基本支出 经济分类 table (B8) against the “三公”经费 table (B9).

The 经济分类 款 that pay the 三公 items (30217 公务接待费 ↔ 公务接待费, 30231 公务用车运行维护费 ↔
公务用车运行费, 30913 / 31013 公务用车购置 ↔ 公务用车购置费, 30212 因公出国（境）费用 ↔ 因公出国（境）费)
agree up to the rounding of the 三公 table (万元 cells: 6,707.00 元 vs 0.67 万元 is PASS_ROUNDING).
The 经济分类 table holds 基本支出 only and 三公 may also be paid from 项目支出 (DOMAIN.md §2.1 X7–X9):
the 款 is a lower bound of the item, so only a 款 above its 三公 item (beyond the rounding) is a
FAIL, and a warning. 机关运行经费 is part of the 一般公共预算 基本支出's
公用经费: it cannot exceed it (X10). A 机关运行经费 table by 经济分类 adds up: 合计 = Σ 类, 类 = Σ 款, and
its 合计 is the 机关运行经费 another table of the document states."""

from __future__ import annotations

from collections import defaultdict

from pipelines.normalize.facts import Finding, SummaryFact, TableFacts
from pipelines.normalize.textnorm import collapse
from pipelines.validate.rules.compare import ZERO, compare, tolerance, yuan_or_zero

ECON_FOR_ITEM: list[tuple[str, tuple[str, ...], str]] = [
    ("RECEPTION", ("30217",), "公务接待费"),
    ("VEHICLE_OPERATION", ("30231",), "公务用车运行维护费"),
    ("VEHICLE_PURCHASE", ("31013", "30913"), "公务用车购置"),
    ("OUTBOUND", ("30212",), "因公出国（境）费用"),
]


def econ_three_public_checks(
    facts: TableFacts, econ_table: str = "B8", three_public_table: str = "B9"
) -> list[Finding]:
    cells: dict[str, list] = {}
    for t in facts.three_public:
        if (
            t.at.table_type == three_public_table
            and t.source_kind == "TABLE"
            and t.stage.startswith("BUDGET")
            and t.at.member_unit is None  # the department's 三公, as its 基本支出 table prints them
        ):
            cells.setdefault(t.item, []).append(t)
    econ = {}
    for e in facts.econ:
        # the 三公 tables are of 财政拨款 / 一般公共预算: a 基本支出 table of all funds is no bound of them
        if e.at.table_type == econ_table and e.measure == "TOTAL" and e.fund_scope != "ALL" and not e.at.member_unit:
            econ.setdefault(e.econ_code, e)
    if not cells or not econ:
        return []
    out: list[Finding] = []
    for item, codes, name in ECON_FOR_ITEM:
        found = cells.get(item)
        if not found:
            continue
        row = next((econ[c] for c in codes if c in econ), None)
        econ_yuan = row.amount.yuan if row is not None and row.amount.yuan is not None else ZERO
        # a table printing the item more than once (this year, last year, 增减): the closest cell
        found = [t for t in found if (t.amount.yuan or ZERO) >= 0] or found  # a negative cell is a 增减
        cell = min(found, key=lambda t: abs((t.amount.yuan or ZERO) - econ_yuan))
        cell_yuan = cell.amount.yuan if cell.amount.yuan is not None else ZERO
        code = row.econ_code if row is not None else codes[0]
        printed = f"{row.econ_name} {row.amount.raw or 'blank'}" if row is not None else "no row (0)"
        finding = compare(
                "R-ECON-3P", econ_table, row.at.page_no if row is not None else cell.at.page_no,
                f"{code} {name} ↔ 三公 {item}", econ_yuan, cell_yuan, cell.amount.unit, 1,
                f"经济分类 {code} ({printed}) vs {cell.at.table_title} {item} {cell.amount.raw or 'blank'}"
                f"{cell.amount.unit} (基本支出 only: 三公 may also be paid from 项目支出)",
                severity="warning",
            )  # fmt: skip
        if finding.status == "FAIL" and econ_yuan < cell_yuan:
            # the 基本支出 款 is a lower bound: the rest of the 三公 item is paid from 项目支出
            finding.status, finding.severity = "PASS", "info"
            finding.message += "; below the 三公 item: the difference is 项目支出 (the bound holds)"
        out.append(finding)
    return out


def org_running_cost_checks(facts: TableFacts, econ_table: str = "B8") -> list[Finding]:
    """R-ORG-PUBLIC: 机关运行经费 (三公 table) ≤ 公用经费 合计 of the 一般公共预算基本支出 table."""
    org = next(
        (
            t
            for t in facts.three_public
            if t.item == "ORG_RUNNING_COST" and t.source_kind == "TABLE" and t.at.member_unit is None
        ),
        None,
    )
    public = next(
        (
            s
            for s in facts.summary
            if s.at.table_type == econ_table and s.measure == "PUBLIC" and s.amount.yuan is not None
        ),
        None,
    )
    if org is None or public is None or org.amount.yuan is None:
        return []
    tol = tolerance(org.amount.unit, 1)
    diff = org.amount.yuan - public.amount.yuan
    status = "PASS" if diff <= tol else "FAIL"
    return [
        Finding(
            "R-ORG-PUBLIC", status, "warning" if status == "FAIL" else "info", org.at.table_type, org.at.page_no,
            "机关运行经费 ≤ 公用经费", org.amount.yuan, public.amount.yuan, diff, tol,
            f"{org.at.table_title} 机关运行经费 {org.amount.raw}{org.amount.unit} vs {public.at.table_title} "
            f"公用经费 {public.amount.yuan:,.2f}元: 机关运行经费 is part of the 公用经费 and cannot exceed it",
        )
    ]  # fmt: skip


def org_running_cost_items_checks(facts: TableFacts) -> list[Finding]:
    """A 机关运行经费 table by 经济分类 (its coded rows: summary lines of measure ORG_RUNNING_COST):
    R-HIER 类 = Σ 款; R-TOTAL its 机关运行经费 合计 = Σ 类 (Σ 款 where it prints no 类); R-XT that 合计 =
    the 机关运行经费 of the document's other tables (a 三公 table with a 机关运行经费 column)."""
    items: dict[tuple, dict[str, list[SummaryFact]]] = defaultdict(lambda: defaultdict(list))
    for s in facts.summary:
        if s.measure == "ORG_RUNNING_COST" and s.at.row_label:
            items[(s.at.table_type, s.at.table_title, s.stage)][s.at.row_label.split(" ", 1)[0]].append(s)
    stated = [t for t in facts.three_public if t.item == "ORG_RUNNING_COST" and t.source_kind == "TABLE"]
    out: list[Finding] = []
    for (table_type, title, stage), codes in items.items():
        unit = next(iter(codes.values()))[0].amount.unit
        classes = {c: fs for c, fs in codes.items() if len(c) == 3}
        for code, parents in classes.items():
            kids = [f for k, fs in codes.items() if len(k) == 5 and k.startswith(code) for f in fs]
            if kids:
                out.append(
                    compare(
                        "R-HIER", table_type, parents[0].at.page_no, f"{code} {parents[0].label} ORG_RUNNING_COST {stage}",
                        sum((yuan_or_zero(p) for p in parents), ZERO), sum((yuan_or_zero(k) for k in kids), ZERO),
                        unit, len(kids), f"{title} 类 = Σ款 for {code} {parents[0].label} (机关运行经费)",
                    )
                )  # fmt: skip
        top = list(classes.values()) or [fs for c, fs in codes.items() if len(c) == 5]
        parts = [f for fs in top for f in fs]
        own = [
            t for t in stated if (t.at.table_type, collapse(t.at.table_title), t.stage) == (table_type, title, stage)
        ]
        if own and own[0].amount.yuan is not None and parts:
            total = own[0]
            out.append(
                compare(
                    "R-TOTAL", table_type, total.at.page_no, f"合计 ORG_RUNNING_COST {stage}", total.amount.yuan,
                    sum((yuan_or_zero(p) for p in parts), ZERO), unit, len(parts),
                    f"{title} 合计 = Σ {'类' if classes else '款'} rows (机关运行经费)",
                )
            )  # fmt: skip
            for other in stated:
                if (
                    other.at.table_title != total.at.table_title
                    and other.stage == stage
                    and other.amount.yuan is not None
                ):
                    out.append(
                        compare(
                            "R-XT", table_type, total.at.page_no, f"机关运行经费 {stage} = {other.at.table_title}",
                            total.amount.yuan, other.amount.yuan, unit, 1,
                            f"{title} 合计 = {other.at.table_title} 机关运行经费",
                        )
                    )  # fmt: skip
    return out
