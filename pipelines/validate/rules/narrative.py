"""R-NARR: the 情况说明 against the document's tables and against itself: the quoted 决算 of each
项, the stated percentages (完成率, 占比), the stated direction (决算数小于/大于/等于预算数), the
headline totals and the “三公”经费. The narrative is the publisher's text: a wrong statement is
loaded as printed and flagged here, never corrected."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from pipelines.normalize.catalog import func_class_for_label
from pipelines.normalize.facts import Finding, NarrativeNumber, SummaryFact, TableFacts
from pipelines.recognize.narrative.reader import (
    WAN,
    CodeRow,
    NarrativeItem,
    NarrativeReading,
    Quoted,
    Segment,
    quoted_yuan,
)
from pipelines.validate.rules.compare import ZERO, compare

# ---------------------------------------------------------------------------------------------
# R-NARR: the narrative against the tables and against itself

_RULE = "R-NARR"


_FUND_TABLE = {"GPB": "F5", "GOVFUND": "F8", "SOE": "F9"}  # where a narrative 项 row is printed


def _pct_finding(subject: str, page: int, printed: Decimal, final: Decimal, budget: Decimal, explain: str) -> Finding:
    """Stated percentage vs final / budget. Publishers round or truncate to the printed digits."""
    exponent = printed.as_tuple().exponent
    step = Decimal(1).scaleb(exponent if isinstance(exponent, int) else -2)
    computed = final / budget * 100
    rounded = computed.quantize(step, rounding=ROUND_HALF_UP)
    if rounded == printed:
        status = "PASS"
    elif abs(computed - printed) < step:
        status = "PASS_ROUNDING"  # truncated instead of rounded (规划局 95.457 → 95.45)
    else:
        status = "FAIL"
    diff = (printed - rounded).quantize(Decimal("0.01"))
    return Finding(
        rule=_RULE, status=status, severity="error" if status == "FAIL" else "info", table_type=None,
        page_no=page, subject=subject, lhs=printed, rhs=rounded, diff=diff, tolerance=step,
        message=f"{explain}: printed {printed}% vs {rounded}% computed ({final / 10000:,.2f} / {budget / 10000:,.2f} 万元)",
    )  # fmt: skip


def _stated_relation(text: str) -> str | None:
    m = re.search(r"决算数?(小于|大于|等于|高于|低于|同|与)(年初|全年)?预算数?(基本)?(持平|相等)?", text)
    if not m:
        return None
    if m.group(1) in ("小于", "低于"):
        return "<"
    if m.group(1) in ("大于", "高于"):
        return ">"
    return "≈" if m.group(3) else "="


def item_checks(items: list[NarrativeItem], rows: dict[str, CodeRow]) -> list[Finding]:
    out: list[Finding] = []
    for item in items:
        final_q = next((q for q in item.quoted if q.role == "FINAL"), None)
        budgets = {q.role: q for q in item.quoted if q.role in ("BUDGET_INITIAL", "BUDGET_ADJUSTED")}
        final = quoted_yuan(final_q) if final_q else None
        row = rows.get(item.code) if item.code else None
        if item.code is None:
            out.append(
                Finding(
                    _RULE, "FAIL", "warning", None, item.page, item.subject, None, None, None, None,
                    f"情况说明 item '{item.subject}' names no 项 of the document's tables (by name or by its 决算 "
                    f"amount); its numbers are kept in the narrative only",
                )
            )  # fmt: skip
        elif row is not None and final is not None and item.how != "AMOUNT" and row.final is not None:
            out.append(
                compare(
                    _RULE, _FUND_TABLE.get(row.fund_scope, "F5"), item.page, f"{item.code} {item.subject} 决算",
                    final, row.final, WAN, 1,
                    f"情况说明 {item.subject} 支出决算 vs table row {item.code} {row.name}",
                )
            )  # fmt: skip
        if final is None:
            continue
        for q in item.quoted:
            if q.role != "EXECUTION_RATE":
                continue
            basis = budgets.get(q.basis) if q.basis else next(iter(budgets.values()), None)
            budget = quoted_yuan(basis) if basis else None
            if budget is None:
                continue
            if budget == 0:
                other = next((b for r, b in budgets.items() if r != q.basis), None)
                note = f"; it equals {_fmt_pct(final, quoted_yuan(other))} of the {other.prefix}" if other else ""
                out.append(
                    Finding(
                        _RULE, "FAIL", "error", None, item.page, f"{item.subject} 完成率", q.value, None, None, None,
                        f"情况说明 {item.subject}: {q.value}% stated against {basis.prefix} 0 万元{note}",
                    )
                )  # fmt: skip
                continue
            out.append(
                _pct_finding(
                    f"{item.subject} 完成率", item.page, q.value, final, budget, f"情况说明 {item.subject} 完成率"
                )
            )
        relation = _stated_relation(item.sentence_text)
        budget_q = budgets.get("BUDGET_ADJUSTED") or budgets.get("BUDGET_INITIAL")
        budget = quoted_yuan(budget_q) if budget_q else None
        if relation and budget is not None:
            out.append(_relation_finding(item, relation, final, budget))
    return out


def _fmt_pct(final: Decimal, budget: Decimal | None) -> str:
    if not budget:
        return "n/a"
    return f"{(final / budget * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _relation_finding(item: NarrativeItem, relation: str, final: Decimal, budget: Decimal) -> Finding:
    diff = final - budget
    if relation == "<":
        ok = diff < 0
    elif relation == ">":
        ok = diff > 0
    elif relation == "=":
        ok = abs(diff) <= Decimal(50)
    else:  # 基本持平: within 1 %
        ok = abs(diff) <= abs(budget) / 100
    words = {"<": "决算数小于预算数", ">": "决算数大于预算数", "=": "决算数等于预算数", "≈": "决算数与预算数基本持平"}
    return Finding(
        _RULE, "PASS" if ok else "FAIL", "info" if ok else "warning", None, item.page, f"{item.subject} 增减表述",
        final, budget, diff, None,
        f"情况说明 {item.subject} says '{words[relation]}': 决算 {final / 10000:,.2f} vs 预算 {budget / 10000:,.2f} 万元",
    )  # fmt: skip


def total_checks(
    totals: list[tuple[Segment, Quoted, str]], items: list[NarrativeItem], facts: TableFacts
) -> list[Finding]:
    """The 一般公共预算财政拨款支出 total: its 决算 against F5 合计, its rate, and Σ of the items'
    budgets against it."""
    out: list[Finding] = []
    if not totals:
        return out
    by_role = {}
    for _seg, q, _ in totals:
        by_role.setdefault(q.role, q)
    page = totals[0][0].pages[totals[0][1].start]
    final_q = by_role.get("FINAL")
    table_total = _summary(facts.summary, "F5", "TOTAL")
    if final_q is not None and table_total is not None:
        out.append(
            compare(
                _RULE, "F5", page, "GPB_TOTAL 决算", quoted_yuan(final_q), table_total.amount.yuan, WAN, 1,
                "情况说明 一般公共预算财政拨款支出决算 vs 一般公共预算财政拨款支出决算表 合计",
            )
        )  # fmt: skip
    rate = by_role.get("EXECUTION_RATE")
    if rate is not None and final_q is not None:
        basis = by_role.get(rate.basis) if rate.basis else by_role.get("BUDGET_INITIAL")
        budget = quoted_yuan(basis) if basis else None
        if budget == 0:
            other = by_role.get("BUDGET_ADJUSTED")
            note = f"; it equals {_fmt_pct(quoted_yuan(final_q), quoted_yuan(other))} of the 全年预算" if other else ""
            out.append(
                Finding(
                    _RULE, "FAIL", "error", None, page, "GPB_TOTAL 完成率", rate.value, None, None, None,
                    f"情况说明 一般公共预算财政拨款支出: {rate.value}% stated against {basis.prefix} 0 万元{note}",
                )
            )  # fmt: skip
        elif budget is not None:
            out.append(
                _pct_finding(
                    "GPB_TOTAL 完成率",
                    page,
                    rate.value,
                    quoted_yuan(final_q),
                    budget,
                    "情况说明 一般公共预算财政拨款支出 完成率",
                )
            )
    for stage in ("BUDGET_INITIAL", "BUDGET_ADJUSTED"):
        total_q = by_role.get(stage)
        parts = [q for i in items for q in i.quoted if q.role == stage]
        if total_q is None or not parts or quoted_yuan(total_q) == 0:
            continue
        out.append(
            compare(
                _RULE, None, page, f"GPB_TOTAL {stage} = Σ 项", quoted_yuan(total_q), sum((quoted_yuan(q) for q in parts), ZERO),
                WAN, len(parts), f"情况说明 {total_q.prefix} = Σ of the {len(parts)} items' budgets",
            )
        )  # fmt: skip
    return out


def structure_checks(seg: Segment, numbers: list[Quoted], facts: TableFacts) -> list[Finding]:
    """一般公共预算财政拨款支出决算结构情况: ``…支出 2940.05 万元，主要用于：一般公共服务支出（类）
    2106.66 万元，占 71.73%；…``. Each 类 amount vs its row in F5 (or the 一般公共预算 column of F4,
    which may carry the other rounding tail), each share vs amount / total."""
    money = [q for q in numbers if q.unit == WAN]
    if not money:
        return []
    total = quoted_yuan(money[0])
    out: list[Finding] = []
    printed: dict[str, list[Decimal]] = {}
    for f in facts.func:
        in_f5 = f.at.table_type == "F5" and f.measure == "TOTAL"
        in_f4 = f.at.table_type == "F4" and f.measure == "GRANT_GPB"
        if f.func_level == 1 and f.stage == "FINAL" and f.amount.yuan is not None and (in_f5 or in_f4):
            printed.setdefault(f.func_code, []).append(f.amount.yuan)
    for k, q in enumerate(numbers):
        name = re.sub(r"[（(]类[）)]$", "", q.prefix)
        if q.unit != WAN or name == q.prefix:
            continue
        page = seg.pages[q.start]
        code = func_class_for_label(name)
        amount = quoted_yuan(q)
        if printed.get(code or ""):
            closest = min(printed[code], key=lambda v: abs(v - amount))
            out.append(
                compare(
                    _RULE, "F5", page, f"{code} {name} 决算 (narrative)", amount, closest, WAN, 1,
                    f"情况说明 {name}（类） vs 一般公共预算财政拨款 table row {code}",
                )
            )  # fmt: skip
        share = numbers[k + 1] if k + 1 < len(numbers) and numbers[k + 1].role == "SHARE" else None
        if share is not None and total:
            out.append(
                _pct_finding(f"{name}（类） 占比", page, share.value, amount, total, f"情况说明 {name}（类） 占比")
            )
    return out


def _summary(
    summary: Iterable[SummaryFact], table_type: str, measure: str, labels=("合计", "总计")
) -> SummaryFact | None:
    for s in summary:
        if (
            s.at.table_type == table_type
            and s.measure == measure
            and s.label.startswith(labels)
            and s.amount.yuan is not None
        ):
            return s
    return None


# Headline statements of the 情况说明 and the table cell they restate.
_HEADLINES: list[tuple[re.Pattern[str], str, str, tuple[str, ...]]] = [
    (re.compile(r"(?<!财政拨款)收入支出总计$"), "F1", "TOTAL", ("总计",)),
    (re.compile(r"财政拨款收入支出总计$"), "F4", "TOTAL", ("总计",)),
    (re.compile(r"^本年收入合计$"), "F1", "TOTAL", ("本年收入合计",)),
    (re.compile(r"^本年支出合计$"), "F1", "TOTAL", ("本年支出合计",)),
    (re.compile(r"^一般公共预算财政拨款基本支出$"), "F5", "BASIC", ("合计",)),
    (re.compile(r"^(其中)?人员经费$"), "F6", "TOTAL", ("人员经费合计", "人员经费")),
    (re.compile(r"^公用经费$"), "F6", "TOTAL", ("公用经费合计", "公用经费")),
]


def headline_checks(numbers: list[NarrativeNumber], facts: TableFacts) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for n in numbers:
        if n.unit != WAN or n.role not in ("OTHER", "FINAL") or n.func_code:
            continue
        subject = re.sub(r"^.*?(\d{4}年度)", "", n.subject)
        for pattern, table_type, measure, labels in _HEADLINES:
            if not pattern.search(subject) or (pattern.pattern + n.section) in seen:
                continue
            target = _summary(facts.summary, table_type, measure, labels)
            if target is None:
                continue
            seen.add(pattern.pattern + n.section)
            out.append(
                compare(
                    _RULE, table_type, n.page_no, f"{subject} (narrative)", n.yuan, target.amount.yuan, WAN, 1,
                    f"情况说明 '{subject}' vs {target.at.table_title} {target.label}",
                )
            )  # fmt: skip
    out += three_public_checks(numbers, facts)
    return out


def three_public_checks(numbers: list[NarrativeNumber], facts: TableFacts) -> list[Finding]:
    """The “三公”经费 年初预算 and 决算 of the narrative (``“三公”经费财政拨款支出年初预算为 0.95 万元，
    支出决算为 0.00 万元``) vs the F7 合计 columns; a blank cell counts as 0."""
    if not any(t.table_type == "F7" for t in facts.tables):
        return []
    table = {f.stage: f for f in facts.three_public if f.at.table_type == "F7" and f.item == "TOTAL"}
    out: list[Finding] = []
    budget_sentence: str | None = None
    for n in numbers:
        if n.unit != WAN or "三公" not in n.section:
            continue
        if n.role == "BUDGET_INITIAL" and "三公" in n.subject and budget_sentence is None:
            stage, budget_sentence = "BUDGET_INITIAL", n.sentence
        elif n.role == "FINAL" and n.sentence == budget_sentence and len(out) == 1:
            stage = "FINAL"
        else:
            continue
        cell = table.get(stage)
        printed = cell.amount.yuan if cell is not None else None
        words = "年初预算" if stage == "BUDGET_INITIAL" else "决算"
        out.append(
            compare(
                _RULE, "F7", n.page_no, f"三公 TOTAL {stage} (narrative)", n.yuan, printed or ZERO, WAN, 1,
                f"情况说明 “三公”经费 {words} vs F7 合计 {words}数" + ("" if printed is not None else " (blank)"),
            )
        )  # fmt: skip
        if len(out) == 2:
            break
    return out


def narrative_findings(reading: NarrativeReading, facts: TableFacts) -> list[Finding]:
    """Every R-NARR check of a 决算's 情况说明 against its tables."""
    out: list[Finding] = []
    for seg, numbers in reading.structure:
        out += structure_checks(seg, numbers, facts)
    out += item_checks(reading.items, reading.rows)
    out += total_checks(reading.totals, reading.items, facts)
    out += headline_checks(reading.numbers, facts)
    return out
