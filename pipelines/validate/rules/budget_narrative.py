"""R-NARR-*: a 预算's own words against its tables and against themselves (DOMAIN.md §2.1 X11, X12).

Every figure of the 编制说明 / 情况说明 (``NarrativeReading.facts``) that restates a table cell is
compared with it: the headline totals and their 基本/项目 split (R-NARR-TOTAL, R-NARR-SPLIT), each
科目 the text names (R-NARR-FUNC), the “三公”经费 and its parts (R-NARR-3P), 机关运行经费
(R-NARR-ORG), and the stated percentages against the figures they are computed from (R-NARR-PCT).
A narrative figure is printed to fewer digits than the table: the tolerance is half a unit of its
printed precision (282.06 万元 → ±0.005 万元 = ±50 元; 9.6 万元 → ±500 元). The text is the
publisher's: a wrong figure is loaded as printed and flagged, with its sentence, never corrected."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from pipelines.normalize.facts import Finding, NarrativeFact, SummaryFact, TableFacts
from pipelines.recognize.narrative.reader import CodeRow, NarrativeReading
from pipelines.recognize.narrative.topics import PercentClaim
from pipelines.validate.rules.compare import ZERO

_SCALE = {"万元": Decimal(10000), "元": Decimal(1), "亿元": Decimal(100_000_000)}

# Where a headline measure of the text is printed in the tables: (table type, measure, labels).
_TOTAL_CELLS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "GRAND_TOTAL": [("B1", "TOTAL", ("收入总计", "支出总计", "总计")), ("B4", "TOTAL", ("收入总计", "支出总计"))],
    "TOTAL": [("B1", "TOTAL", ("支出总计", "本年支出合计", "总计")), ("B3", "TOTAL", ("合计", "总计"))],
    "INCOME": [("B1", "TOTAL", ("收入总计", "本年收入合计", "总计")), ("B2", "TOTAL", ("合计", "总计"))],
    "GRANT_TOTAL": [("B4", "TOTAL", ("支出总计", "收入总计")), ("B2", "GRANT_TOTAL", ("合计", "总计"))],
    "GRANT_GPB": [("B5", "TOTAL", ("合计", "总计")), ("B4", "GRANT_GPB", ("支出总计",))],
    "GRANT_GOVFUND": [("B6", "TOTAL", ("合计", "总计")), ("B4", "GRANT_GOVFUND", ("支出总计",))],
    "GRANT_SOE": [("B7", "TOTAL", ("合计", "总计")), ("B4", "GRANT_SOE", ("支出总计",))],
    "BASIC": [("B3", "BASIC", ("合计", "总计")), ("B5", "BASIC", ("合计", "总计")), ("B8", "TOTAL", ("合计",))],
    "PROJECT": [("B3", "PROJECT", ("合计", "总计")), ("B5", "PROJECT", ("合计", "总计"))],
    "PERSONNEL": [("B8", "PERSONNEL", ("合计", "人员经费")), ("B1", "PERSONNEL", ("支出总计",))],
    "PUBLIC": [("B8", "PUBLIC", ("合计", "公用经费")), ("B1", "PUBLIC", ("支出总计",))],
    "INC_BUSINESS": [("B2", "INC_BUSINESS", ("合计", "总计"))],
    "INC_OPERATING": [("B2", "INC_OPERATING", ("合计", "总计"))],
    "INC_OTHER": [("B2", "INC_OTHER", ("合计", "总计"))],
}
_INCOME_ROWS = {
    "GRANT_GPB": "一般公共预算",
    "GRANT_GOVFUND": "政府性基金",
    "GRANT_SOE": "国有资本经营",
    "GRANT_TOTAL": "财政拨款",
}
_WORDS = {
    "TOTAL": "支出总额", "INCOME": "收入总额", "GRANT_TOTAL": "财政拨款", "GRANT_GPB": "一般公共预算拨款",
    "GRANT_GOVFUND": "政府性基金拨款", "GRAND_TOTAL": "收支总计", "GRANT_SOE": "国有资本经营预算拨款", "BASIC": "基本支出",
    "PROJECT": "项目支出", "PERSONNEL": "人员经费", "PUBLIC": "公用经费", "INC_BUSINESS": "事业收入",
    "INC_OPERATING": "事业单位经营收入", "INC_OTHER": "其他收入",
}  # fmt: skip


def half_unit(printed: str | None, unit: str) -> Decimal:
    """Half a unit of the printed precision, in 元: 282.06 万元 → 50, 9.6 万元 → 500, 10 万元 → 5000."""
    places = len(printed.split(".")[1]) if printed and "." in printed else 0
    return (Decimal(5).scaleb(-places - 1) * _SCALE.get(unit, Decimal(1))).quantize(Decimal("0.01"))


def _short(sentence: str) -> str:
    return sentence if len(sentence) <= 120 else sentence[:117] + "…"


def _at(cell: Decimal, fact: NarrativeFact, rounding: str) -> Decimal:
    scale = _SCALE.get(fact.unit, Decimal(1))
    places = len(fact.printed.split(".")[1]) if fact.printed and "." in fact.printed else 0
    return (cell / scale).quantize(Decimal(1).scaleb(-places), rounding) * scale


def _truncated(cell: Decimal, fact: NarrativeFact) -> bool:
    return _at(cell, fact, ROUND_DOWN) == fact.yuan


def _rounded(cell: Decimal, fact: NarrativeFact) -> bool:
    return _at(cell, fact, ROUND_HALF_UP) == fact.yuan


def truncating_publisher(pairs: list[tuple[NarrativeFact, Decimal]]) -> bool:
    """Does the document cut digits off rather than round? More of its text figures equal the
    truncated table value (and not the rounded one) than the rounded one (and not the truncated)."""
    trunc = sum(1 for f, c in pairs if _truncated(c, f) and not _rounded(c, f))
    rnd = sum(1 for f, c in pairs if _rounded(c, f) and not _truncated(c, f))
    return trunc > rnd


def narrative_vs_table(
    rule: str,
    fact: NarrativeFact,
    cell: Decimal,
    table_type: str,
    subject: str,
    explain: str,
    truncates: bool = False,
) -> Finding:
    """Both sides, the difference and the tolerance; the message carries the sentence."""
    tol = half_unit(fact.printed, fact.unit)
    diff = fact.yuan - cell
    status = "PASS" if diff == 0 else "PASS_ROUNDING" if abs(diff) <= tol else "FAIL"
    scale = _SCALE.get(fact.unit, Decimal(1))
    places = len(fact.printed.split(".")[1]) if fact.printed and "." in fact.printed else 0
    at_precision = (cell / scale).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if status == "FAIL" and truncates and _truncated(cell, fact):
        status = "PASS_ROUNDING"  # this publisher cuts the digits off instead of rounding (87.708 → 87.70)
    message = (
        f"{explain}: text {fact.printed}{fact.unit} vs table {cell:,.2f}元 (= {at_precision}{fact.unit} at the "
        f"text's precision; difference {diff:,.2f}元, tolerance ±{tol}元). Sentence: “{_short(fact.sentence)}”"
    )
    return Finding(
        rule=rule, status=status, severity="error" if status == "FAIL" else "info", table_type=table_type,
        page_no=fact.page_no, subject=subject, lhs=fact.yuan, rhs=cell, diff=diff, tolerance=tol, message=message,
    )  # fmt: skip


def _stated(reading: NarrativeReading, fiscal_year: int | None, topic: str) -> list[NarrativeFact]:
    """This year's stated money figures of a topic, each (measure, code, amount) once."""
    seen: set[tuple] = set()
    out = []
    for f in reading.facts:
        if f.topic != topic or f.derived or f.yuan is None or (fiscal_year and f.fiscal_year != fiscal_year):
            continue
        key = (f.code, f.measure, f.yuan)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _cell(summary: list[SummaryFact], table_type: str, measure: str, labels: tuple[str, ...]) -> SummaryFact | None:
    return next(
        (s for s in summary if s.at.table_type == table_type and s.measure == measure and s.label.startswith(labels)),
        None,
    )


def total_checks(reading: NarrativeReading, facts: TableFacts, fiscal_year: int | None) -> list[Finding]:
    """R-NARR-TOTAL: each headline figure against the table cells that print it (the closest of
    them: a text may quote the all-funds or the 财政拨款 table, which agree when there is no other
    income); a blank cell of a printed (or empty) table is 0."""
    out: list[Finding] = []
    printed_types = {t.table_type for t in facts.tables}
    for f in _stated(reading, fiscal_year, "total"):
        cells = []
        fund_scoped = f.fund_scoped or bool(re.search(r"财政拨款|一般公共预算", f.sentence))
        for table_type, measure, labels in _TOTAL_CELLS.get(f.measure, []):
            if not fund_scoped and f.measure in ("BASIC", "PROJECT") and table_type in ("B5", "B8"):
                continue  # a split of all funds (支出预算5,609.33万元，其中：基本支出…) is not the 一般公共预算 table's
            for label in labels:  # each label its own candidate: 本年收入合计 and 收入总计 are both printed
                cell = _cell(facts.summary, table_type, measure, (label,))
                if cell is not None and cell.amount.yuan is not None:
                    cells.append((cell.amount.yuan, table_type, cell.label))
                elif table_type in printed_types and (cell is not None or _is_empty(facts, table_type)):
                    cells.append((ZERO, table_type, "blank"))
        fund = _INCOME_ROWS.get(f.measure)
        for s in facts.summary if fund else ():
            if s.at.table_type in ("B1", "B4") and fund in s.label and s.amount.yuan is not None:
                cells.append((s.amount.yuan, s.at.table_type, s.label))  # 一般公共预算拨款收入: an income row
        if not cells:
            continue
        value, table_type, label = min(cells, key=lambda c: abs(c[0] - f.yuan))
        words = _WORDS.get(f.measure, f.measure)
        out.append(
            narrative_vs_table(
                "R-NARR-TOTAL",
                f,
                value,
                table_type,
                f"{words} (text vs {table_type} {label})",
                f"编制说明 {words} vs {table_type} {label}",
            )
        )
    return out


def _is_empty(facts: TableFacts, table_type: str) -> bool:
    return any(t.table_type == table_type and t.is_empty for t in facts.tables)


def split_checks(reading: NarrativeReading, fiscal_year: int | None) -> list[Finding]:
    """R-NARR-SPLIT: the text's 基本支出 + 项目支出 = the total it splits (the last 支出 / 财政拨款 /
    一般公共预算 figure stated before them)."""
    stated = _stated(reading, fiscal_year, "total")
    basic = next((f for f in stated if f.measure == "BASIC"), None)
    project = next((f for f in stated if f.measure == "PROJECT"), None)
    if basic is None or project is None or basic.sentence != project.sentence:
        return []  # a split the text states in one sentence (a 此外，基本支出… elsewhere splits more ways)
    first = min(basic.seq, project.seq)
    whole = [
        f for f in stated
        if f.measure in ("TOTAL", "GRANT_TOTAL", "GRANT_GPB") and f.seq < first
        and (f.sentence == basic.sentence or first - f.seq <= 3)  # the total it splits is stated just before
    ]  # fmt: skip
    if not whole:
        return []
    lhs = basic.yuan + project.yuan
    total = min(whole, key=lambda f: abs(f.yuan - lhs))  # the figure it splits: the closest stated before
    tol = half_unit(basic.printed, basic.unit) + half_unit(project.printed, project.unit)
    tol += half_unit(total.printed, total.unit)
    diff = lhs - total.yuan
    status = "PASS" if diff == 0 else "PASS_ROUNDING" if abs(diff) <= tol else "FAIL"
    return [
        Finding(
            "R-NARR-SPLIT", status, "error" if status == "FAIL" else "info", None, basic.page_no,
            f"基本支出 + 项目支出 = {_WORDS.get(total.measure, total.measure)} (text)", lhs, total.yuan, diff, tol,
            f"编制说明 基本支出 {basic.printed}{basic.unit} + 项目支出 {project.printed}{project.unit} vs "
            f"{_WORDS.get(total.measure)} {total.printed}{total.unit} (difference {diff:,.2f}元). "
            f"Sentence: “{_short(basic.sentence)}”",
        )
    ]  # fmt: skip


def func_checks(reading: NarrativeReading, facts: TableFacts, fiscal_year: int | None) -> list[Finding]:
    """R-NARR-FUNC: each 科目 the text names against its row (B5, else B3, else B2: the table its
    code was resolved in)."""
    out: list[Finding] = []
    if not reading.rows:
        return out
    table_of = {}
    for f in facts.func:
        if f.measure == "TOTAL" and f.source_kind == "TABLE" and f.at.table_type in ("B5", "B3", "B2"):
            table_of.setdefault(f.func_code, f.at.table_type)
    classes: dict[str, list[tuple[Decimal, str]]] = {}
    for f in facts.func:
        if f.func_level == 1 and f.measure == "TOTAL" and f.source_kind == "TABLE" and f.amount.yuan is not None:
            classes.setdefault(f.func_code, []).append((f.amount.yuan, f.at.table_type))
    items = {n.seq: n for n in reading.numbers}
    seen: set[tuple] = set()
    pending = []
    for f in reading.facts:
        if (
            f.topic != "func"
            or f.derived
            or (fiscal_year and f.fiscal_year != fiscal_year)
            or f.yuan is None
            or f.measure != "TOTAL"
        ):
            continue
        number = items.get(f.number_seq)
        row = reading.rows.get(f.code or "")
        if f.code and len(f.code) == 3 and classes.get(f.code):
            # a 类 named in a list: the all-funds or the 一般公共预算 table, whichever it quotes
            value, table_type = min(classes[f.code], key=lambda c: abs(c[0] - f.yuan))
            row = CodeRow(f.code, row.name if row else "", value)
            table_of[f.code] = table_type
        if number is None or (f.code, f.yuan) in seen:
            continue
        seen.add((f.code, f.yuan))
        if row is None or row.final is None:
            if not f.yuan or not any(len(code) == 7 for code in reading.rows):
                continue  # the tables were read to their 类 only: nothing to resolve a 项 against
            out.append(
                Finding(
                    "R-NARR-FUNC", "FAIL", "warning", None, f.page_no, number.subject, f.yuan, None, None, None,
                    f"编制说明 names “{number.subject}” {f.printed}{f.unit}, which matches no 功能分类 row of the "
                    f"tables by name or amount. Sentence: “{_short(f.sentence)}”",
                )
            )  # fmt: skip
            continue
        how = "" if number.resolved_by == "NAME" else f" (resolved by {(number.resolved_by or '').lower()})"
        pending.append((f, row, number, how))
    truncates = truncating_publisher([(f, row.final) for f, row, _, _ in pending])
    for f, row, number, how in pending:
        out.append(
            narrative_vs_table(
                "R-NARR-FUNC", f, row.final, table_of.get(row.code, "B5"), f"{row.code} {row.name}",
                f"编制说明 “{number.subject}”{how} vs table row {row.code} {row.name}", truncates,
            )
        )  # fmt: skip
    return out


def three_public_checks(reading: NarrativeReading, facts: TableFacts, fiscal_year: int | None) -> list[Finding]:
    """R-NARR-3P (“三公”经费 and its parts) and R-NARR-ORG (机关运行经费) against the 三公 table."""
    cells: dict[str, list] = {}
    for t in facts.three_public:
        # the text states the department's figures, not those of a member unit's row
        if t.source_kind == "TABLE" and (t.stage or "").startswith("BUDGET") and t.at.member_unit is None:
            cells.setdefault(t.item, []).append(t)
    out: list[Finding] = []
    for topic, rule in (("three_public", "R-NARR-3P"), ("org_running_cost", "R-NARR-ORG")):
        for f in _stated(reading, fiscal_year, topic):
            found = cells.get(f.code or "")
            if not found:
                continue
            # a table may print an item twice (this year and last, or the 增减): the cell the text restates
            cell = min(found, key=lambda t: abs((t.amount.yuan or ZERO) - f.yuan))
            value = cell.amount.yuan if cell.amount.yuan is not None else ZERO
            out.append(
                narrative_vs_table(
                    rule,
                    f,
                    value,
                    cell.at.table_type,
                    f"三公 {f.code}" if topic == "three_public" else f.code,
                    f"情况说明 {f.code} vs {cell.at.table_title} {cell.amount.raw or 'blank'}{cell.amount.unit}",
                )
            )
    return out


def _base_amount(claim: PercentClaim, reading: NarrativeReading, facts: TableFacts, year: int | None):
    """The whole a share is of: stated in the text, else printed in a table, else (三公) Σ parts."""
    topic, code, measure = claim.base
    stated = [f for f in _stated(reading, year, topic) if f.code == code and f.measure == measure and f.yuan]
    if stated:  # 占总收入的: of which stated 收入 (本年收入 or 收入总计) the text does not say; the closest
        best = min(stated, key=lambda f: abs(claim.numerator / f.yuan * 100 - claim.fact.percent))
        return best.yuan, best.printed, best.unit
    if topic == "three_public":
        cell = next(
            (t for t in facts.three_public if t.item == code and t.source_kind == "TABLE" and t.at.member_unit is None),
            None,
        )
        if cell is not None and cell.amount.yuan is not None:
            return cell.amount.yuan, None, "元"
        parts = {f.code: f for f in _stated(reading, year, "three_public")}
        if code == "TOTAL" and all(p in parts for p in ("OUTBOUND", "VEHICLE_TOTAL", "RECEPTION")):
            picked = [parts[p] for p in ("OUTBOUND", "VEHICLE_TOTAL", "RECEPTION")]
            return sum((p.yuan for p in picked), ZERO), None, "元"
    if topic == "procurement" and code == "TOTAL":
        parts = {f.code: f.yuan for f in _stated(reading, year, "procurement") if f.code != "TOTAL"}
        if parts:
            return sum(parts.values(), ZERO), None, "元"
    if topic == "total":
        for table_type, m, labels in _TOTAL_CELLS.get(measure, []):
            cell = _cell(facts.summary, table_type, m, labels)
            if cell is not None and cell.amount.yuan:
                return cell.amount.yuan, None, "元"
    return None, None, None


def percent_checks(reading: NarrativeReading, facts: TableFacts, fiscal_year: int | None) -> list[Finding]:
    """R-NARR-PCT: a stated 增长/下降 x% against change / last year's figure, a stated 占 x% against
    part / whole. The figures are rounded too: the percentage may lie anywhere their half units
    allow (PASS_ROUNDING), outside that it is a FAIL."""
    out: list[Finding] = []
    for claim in reading.claims:
        fact = claim.fact
        if claim.kind == "CHANGE_PCT":
            num, den = claim.numerator, claim.denominator
            if num is None or den in (None, ZERO):
                continue
            printed = fact.percent
            words = "增减幅度"
        else:
            if claim.numerator is None or (claim.base is None and claim.denominator is None and not claim.wholes):
                continue
            den = claim.denominator
            if den is None and claim.wholes:
                larger = [w for w in claim.wholes if w >= claim.numerator] or claim.wholes
                den = min(larger, key=lambda w: abs(claim.numerator / w * 100 - fact.percent))
            elif den is None:
                den, _, _ = _base_amount(claim, reading, facts, fiscal_year)
            num = claim.numerator
            if not den:
                continue
            printed = fact.percent
            words = "占比"
        computed = num / den * 100
        exponent = printed.normalize().as_tuple().exponent
        places = max(-exponent, 0) if isinstance(exponent, int) else 2
        step = Decimal(1).scaleb(-places)
        rounded = computed.quantize(step, ROUND_HALF_UP)
        slack = abs(computed) * Decimal("0.0005") + step / 2  # the amounts' own rounding
        if claim.kind == "SHARE":
            slack = max(slack, Decimal("0.1"))  # shares adjusted to add up to 100 % (GovBudgetChecker: 0.1)
        if rounded == printed:
            status = "PASS"
        elif abs(computed - printed) <= slack + step / 2:
            status = "PASS_ROUNDING"
        else:
            status = "FAIL"
        subject = f"{fact.topic} {fact.code or ''} {fact.measure} {words}".replace("  ", " ")
        out.append(
            Finding(
                "R-NARR-PCT", status, "error" if status == "FAIL" else "info", None, fact.page_no, subject, printed,
                rounded, (printed - rounded).quantize(Decimal("0.01")), step,
                f"{words}: printed {printed}% vs computed {computed:.4f}% ({num:,.2f} / {den:,.2f}元). "
                f"Sentence: “{_short(fact.sentence)}”",
            )
        )  # fmt: skip
    return out


def budget_narrative_findings(reading: NarrativeReading, facts: TableFacts, fiscal_year: int | None) -> list[Finding]:
    """Every R-NARR check of a 预算's text against its tables and itself."""
    return (
        total_checks(reading, facts, fiscal_year)
        + split_checks(reading, fiscal_year)
        + func_checks(reading, facts, fiscal_year)
        + three_public_checks(reading, facts, fiscal_year)
        + percent_checks(reading, facts, fiscal_year)
        + purpose_checks(reading.items)
    )


# What a 科目 pays for, and words that belong to another one (GovBudgetChecker R005: 住房公积金
# described as 医疗保险). Keyed by 款 code, so the check follows the code, not the printed name.
_PURPOSE_CLASH = {
    "22102": ("住房改革支出", re.compile(r"医疗|医保|养老保险|职业年金")),
    "21011": ("行政事业单位医疗", re.compile(r"住房公积金|住房补贴|养老保险|职业年金")),
    "20805": ("行政事业单位养老支出", re.compile(r"医疗|医保|住房公积金")),
}
_PURPOSE = re.compile(r"主要用于[：:]?(?P<what>[^。]{2,200})")


def purpose_checks(items) -> list[Finding]:
    """R-NARR-PURPOSE: a 科目 explained with the purpose of another (住房公积金（项）。主要用于：事业单位
    医疗保险支出). Only items resolved to a code and stating a purpose are evaluated."""
    out: list[Finding] = []
    for item in items:
        clash = _PURPOSE_CLASH.get((item.code or "")[:5])
        purpose = _PURPOSE.search(item.sentence_text)
        if clash is None or purpose is None:
            continue
        name, wrong = clash
        found = wrong.search(purpose.group("what"))
        out.append(
            Finding(
                "R-NARR-PURPOSE", "FAIL" if found else "PASS", "warning" if found else "info", None, item.page,
                f"{item.code} purpose", None, None, None, None,
                f"“{item.subject}” ({item.code}, {name}) is explained as “{_short(purpose.group('what'))}”"
                + (f": '{found.group(0)}' is the purpose of another 科目" if found else ""),
            )
        )  # fmt: skip
    return out
