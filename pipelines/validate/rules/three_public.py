"""“三公”经费 and personnel (DOMAIN.md §1.3, §5.5): R-3P-SUM, 合计 = its parts; for the 经济分类
tables R-HIER 类 = Σ 款 and R-PERS, 人员经费 = 301 + 303, 公用经费 = the other 类."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from pipelines.normalize.facts import (
    EconFact,
    Finding,
    SummaryFact,
    ThreePublicFact,
)
from pipelines.validate.rules.compare import ZERO, compare, yuan_or_zero
from pipelines.validate.rules.totals import plain_label


def check_three_public(facts: Iterable, rule: str = "R-3P-SUM") -> list[Finding]:
    """三公 合计 = 出国 + 接待 + 公务用车小计; 小计 = 购置 + 运行 (budget and final separately)."""
    by_stage: dict[tuple, dict[str, object]] = defaultdict(dict)
    for f in facts:
        if f.source_kind == "TABLE":  # each member unit's row of a table by unit adds up by itself
            by_stage[(f.stage, f.at.member_unit)].setdefault(f.item, f)
    out = []
    for (stage, member), items in by_stage.items():
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
                    rule, t.at.table_type, t.at.page_no, f"三公 {total} {stage}" + (f" {member}" if member else ""),
                    yuan_or_zero(t), sum((yuan_or_zero(p) for p in present), ZERO), t.amount.unit, len(present),
                    f"三公 {name} ({stage}{', ' + member if member else ''})",
                )
            )  # fmt: skip
    return out


def check_econ(econ: Iterable, summary: Iterable[SummaryFact]) -> list[Finding]:
    """经济分类 (B8): 类 = Σ款 (R-HIER); on every row 合计 = 人员经费 + 公用经费 (R-ROW); the 合计 row =
    Σ 类 rows, per measure (R-TOTAL); and where the 类 rows print no 人员/公用 split, 人员经费 = 301 +
    303, 公用经费 = 302 + 310 (R-PERS, a warning: the split is a convention, DOMAIN.md §1.3; a table
    printing the split per row says itself which 类 belong where: 303 is partly 公用 in some)."""
    econ = list(econ)
    summary = [s for s in summary if s.at.table_type in ("B8", "F6")]
    tables: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for e in econ:
        # a code printed on several rows (one per 政府经济分类 or sub-unit) counts with all of them
        tables[(e.at.table_type, e.at.table_title, e.stage, e.measure)][e.econ_code].append(e)
    out: list[Finding] = _econ_rows(econ, summary)
    for (table_type, title, stage, measure), codes in tables.items():
        for code, parents in codes.items():
            if len(code) != 3:
                continue
            kids = [c for k, cs in codes.items() if len(k) == 5 and k.startswith(code) for c in cs]
            if not kids or all(f.amount.yuan is None for f in [*parents, *kids]):
                continue
            parent = parents[0]
            out.append(
                compare(
                    "R-HIER", table_type, parent.at.page_no, f"{code} {parent.econ_name} {measure} {stage}",
                    sum((yuan_or_zero(p) for p in parents), ZERO), sum((yuan_or_zero(k) for k in kids), ZERO),
                    parent.amount.unit, len(kids), f"{title} 类 = Σ款 for {code} {parent.econ_name} ({measure})",
                )
            )  # fmt: skip
    totals = {
        (s.at.table_type, s.at.table_title, s.stage, s.measure): s
        for s in summary
        if plain_label(s.label) in ("合计", "总计") and s.amount.yuan is not None
    }
    # rows of a table that name no code (a sub-unit's heading, a 类 name the catalogue does not know):
    # its 合计 may hold them, so the 类 rows alone are no check of it
    uncoded = {
        (s.at.table_type, s.at.table_title, s.stage, s.measure)
        for s in summary
        if plain_label(s.label) not in ("合计", "总计") and s.amount.yuan
    }
    for key, total in totals.items():
        table_type, title, stage, measure = key
        classes = {c: fs for c, fs in tables.get(key, {}).items() if len(c) == 3}
        if classes and key in uncoded:
            continue
        if classes:
            rows = [f for fs in classes.values() for f in fs]
            out.append(
                compare(
                    "R-TOTAL", table_type, total.at.page_no, f"{total.label} {measure} {stage}", yuan_or_zero(total),
                    sum((yuan_or_zero(f) for f in rows), ZERO), total.amount.unit, len(rows),
                    f"{title} {total.label} = Σ 类 rows ({measure})",
                )
            )  # fmt: skip
            continue
        classes = {c: fs[0] for c, fs in tables.get((table_type, title, stage, "TOTAL"), {}).items() if len(c) == 3}
        for split_measure, members in (("PERSONNEL", ("301", "303")), ("PUBLIC", ("302", "310"))):
            if measure != split_measure or not any(m in classes for m in members):
                continue
            out.append(
                compare(
                    "R-PERS", table_type, total.at.page_no, f"{split_measure} {stage}", yuan_or_zero(total),
                    sum((yuan_or_zero(classes[m]) for m in members if m in classes), ZERO), total.amount.unit, len(members),
                    f"{title}: {'人员经费' if split_measure == 'PERSONNEL' else '公用经费'} = {' + '.join(members)}",
                    severity="warning",
                )
            )  # fmt: skip
    return out


def _econ_rows(econ: list, summary: list[SummaryFact]) -> list[Finding]:
    """R-ROW of a 基本支出 table: 合计 = 人员经费 + 公用经费 on every printed row that has the three
    columns (a blank cell is 0)."""
    rows: dict[tuple, dict[str, object]] = defaultdict(dict)
    for f in [*econ, *summary]:
        if f.at.row_id:
            rows[(f.at.table_type, f.at.table_title, f.stage, f.at.row_id, f.at.block)].setdefault(f.measure, f)
    out: list[Finding] = []
    for cells in rows.values():
        if not {"TOTAL", "PERSONNEL", "PUBLIC"} <= cells.keys():
            continue
        t, parts = cells["TOTAL"], [cells["PERSONNEL"], cells["PUBLIC"]]
        if all(c.amount.yuan is None for c in [t, *parts]):
            continue
        code = getattr(t, "econ_code", "") or ""
        out.append(
            compare(
                "R-ROW", t.at.table_type, t.at.page_no, f"{t.at.row_label} {t.stage}", yuan_or_zero(t),
                sum((yuan_or_zero(c) for c in parts), ZERO), t.amount.unit, 2,
                f"{t.at.table_title} row {code or t.at.row_label}: 合计 = 人员经费 + 公用经费",
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
    for f in econ:
        # 人员经费 | 公用经费 printed as side-by-side blocks of one 决算数 column each (国家信访局 公开06):
        # a code's only amount is its block's
        if f.measure in ("PERSONNEL", "PUBLIC") and f.econ_code not in by_code:
            by_code[f.econ_code] = f
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
