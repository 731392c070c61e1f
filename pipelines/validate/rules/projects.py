"""R-PROJ (DOMAIN.md §5.5): the money of each 绩效目标 form against itself and the document's tables."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pipelines.normalize.facts import Finding, TableFacts
from pipelines.normalize.textnorm import (
    collapse,
)
from pipelines.recognize.perf_forms.common import ProjectForm, decimal_or_none
from pipelines.validate.rules.compare import compare


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def project_findings(forms: list[ProjectForm], project_expenditure: tuple[Decimal, int | None] | None) -> list[Finding]:
    """R-PROJ (DOMAIN.md §5.5): per project 当年预算 = 财政拨款 + 其他资金; 财政拨款 = 上级 + 本级 + 下级;
    金额合计 = Σ 明细; 明细 = 单价 × 数量; 金额合计 = 当年预算; and over the document Σ 当年预算 = the
    tables' 项目支出 (a shortfall is a warning: not every project may be published)."""
    out: list[Finding] = []
    for form in forms:
        a = {k: m.yuan for k, m in form.amounts.items() if m.yuan is not None}
        name = form.name or "?"
        unit = form.amount_unit
        tt, page = form.table_type, form.page_no
        if "current" in a and "grant" in a and form.family in ("SH_DISTRICT", "CENTRAL", "PUTUO"):
            parts = [a["grant"], a.get("other", Decimal(0))] + ([a["carry"]] if "carry" in a else [])
            rhs = "财政拨款 + 其他资金" + (" + 上年结转" if "carry" in a else "")
            out.append(compare("R-PROJ", tt, page, f"{name}: 当年预算 = {rhs}", a["current"], _sum(parts), unit,
                               len(parts), f"{name}: 当年预算 vs {rhs}"))  # fmt: skip
        if "grant" in a and {"upper", "own", "lower"} <= a.keys() and form.family == "SH_DISTRICT":
            parts = [a["upper"], a["own"], a["lower"]]
            out.append(compare("R-PROJ", tt, page, f"{name}: 财政拨款 = 上级 + 本级 + 下级", a["grant"], _sum(parts),
                               unit, 3, f"{name}: 财政拨款 vs 上级 + 本级 + 下级财政"))  # fmt: skip
        items = [i for i in form.line_items if i.amount is not None and i.amount.yuan is not None]
        item_unit = items[0].amount.unit if items else unit
        if form.line_total is not None and form.line_total.yuan is not None and items:
            out.append(compare("R-PROJ", "P2" if form.family == "SH_DISTRICT" else tt, form.line_total_page,
                               f"{name}: 金额合计 = Σ 明细金额 (line {form.line_total_line})", form.line_total.yuan,
                               _sum(i.amount.yuan for i in items), item_unit, len(items),
                               f"{name}: 金额合计 {form.line_total.raw} vs the sum of {len(items)} line items"))  # fmt: skip
        if "current" in a and items and form.family in ("SH_DISTRICT", "SUZHOU"):
            # against the line items themselves: a wrong printed 金额合计 is reported once, above
            out.append(compare("R-PROJ", tt, page, f"{name}: Σ 明细金额 = 当年预算", _sum(i.amount.yuan for i in items),
                               a["current"], unit, len(items), f"{name}: the sum of {len(items)} line items vs 当年预算"))  # fmt: skip
        for item in items:
            if item.unit_price is None or item.unit_price.yuan is None or item.quantity is None:
                continue
            product = (item.unit_price.yuan * item.quantity).quantize(Decimal("0.01"))
            out.append(compare("R-PROJ", "P2", item.page_no,
                               f"{name}: 明细 {item.seq} {item.detail or ''} = 单价 × 数量 (line {item.line_no})",
                               item.amount.yuan, product, item_unit, 1,
                               f"{name}: 明细金额 {item.amount.raw} vs 单价 {item.unit_price.raw} × 数量 {item.quantity}"))  # fmt: skip
        scores = [decimal_or_none(r.score) for r in form.indicators if r.score]
        if form.score_total is not None and scores:
            # not money: a completeness check, every indicator row was read if the 分值 add up
            total = _sum(scores)
            ok = total == form.score_total
            out.append(Finding("R-PROJ", "PASS" if ok else "FAIL", "info" if ok else "warning", tt, page,
                               f"{name}: Σ 分值 of {len(scores)} indicators = {form.score_total}", total,
                               form.score_total, total - form.score_total, Decimal(0),
                               f"{name}: the 分值 of {len(scores)} indicators add up to {total}, the header "
                               f"announces {form.score_total}"))  # fmt: skip
    budgets = [f.amounts["current"].yuan for f in forms if "current" in f.amounts and f.amounts["current"].yuan]
    if project_expenditure is not None and budgets and forms[0].family != "EXPENSE_NOTE":
        expenditure, exp_page = project_expenditure
        f = compare("R-PROJ", "B3", exp_page, f"Σ 当年预算 of {len(budgets)} project forms = 项目支出 of the tables",
                    _sum(budgets), expenditure, forms[0].amount_unit, len(budgets),
                    f"Σ 当年预算 of {len(budgets)} project forms vs 项目支出 of the tables")  # fmt: skip
        # Forms adding up to less than 项目支出 show that not every project was published with a
        # form, not that a number is wrong: no finding then.
        if not (f.status == "FAIL" and f.diff is not None and f.diff < 0):
            out.append(f)
    return out


def project_expenditure(facts: TableFacts) -> tuple[Decimal, int | None] | None:
    """项目支出 of the document's tables: the 合计 row of 支出总表 (B3), else of the B1/B5 totals."""
    for table_type, labels in (("B3", ("合计",)), ("B1", ("支出总计", "合计")), ("B5", ("合计",))):
        for s in facts.summary:
            if (s.at.table_type == table_type and s.measure == "PROJECT" and collapse(s.label) in labels
                    and s.amount.yuan is not None):  # fmt: skip
                return s.amount.yuan, s.at.page_no
    return None


def form_findings(
    forms: list[ProjectForm], errors: list[str], facts: TableFacts, doc_kind: str | None
) -> list[Finding]:
    """R-PROJ of a document: a form recognizer that failed (the tables are loaded all the same),
    then the money of every form; against the tables' 项目支出 only in a 预算."""
    findings = [
        Finding("R-PROJ", "FAIL", "warning", None, None, "绩效目标 forms could not be read", None, None, None, None,
                f"The 绩效目标 forms of this document could not be read ({e}); its tables are loaded.")
        for e in errors
    ]  # fmt: skip
    if forms:
        findings += project_findings(forms, project_expenditure(facts) if doc_kind == "BUDGET" else None)
    return findings
