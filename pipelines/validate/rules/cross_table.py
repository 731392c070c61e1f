"""R-XT: the same amount printed in two tables (收支总表 and 支出总表) agrees."""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.normalize.facts import Finding, FuncFact
from pipelines.validate.rules.compare import compare, yuan_or_zero

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
                    rule, a, fa.at.page_no, f"{code} {fa.func_name} {a}={b} {stage}", yuan_or_zero(fa), yuan_or_zero(fb),
                    fa.amount.unit, 2, f"{code} {fa.func_name} ({scope}) in {a} p.{fa.at.page_no} vs {b} p.{fb.at.page_no}",
                )
            )  # fmt: skip
    return out
