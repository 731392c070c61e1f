"""The 情况说明 of a 部门决算: every number it states, with its sentence, and the 项-level
年初预算 / 全年预算 it quotes beside the 决算 (DOMAIN.md §2.5 end, hazards P1, P2, P12).

Within a 决算 document the narrative is the only place with the budget per 项::

    1、一般公共服务支出（类）财政事务（款）行政运行（项）。主要用于：…。年初预算为 1560.05 万元，
    支出决算为 1511.89 万元。决算数小于预算数的主要原因：…

Each such item is resolved to a 功能分类 code against the document's own tables (by the printed
类/款/项 names; where the narrative renames a subject, by the 决算 amount among the 项 of its 类),
its budget becomes a ``source_kind='NARRATIVE'`` fact (fund scope GPB, stage as the text says),
and the statements are checked against the tables (rule R-NARR): the quoted 决算, the stated
percentage, the stated direction (决算数小于/大于/等于预算数), the headline totals. The narrative
is the publisher's text: a wrong statement is loaded as printed and flagged, never corrected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pipelines.catalog import func_class_for_label
from pipelines.facts import Amount, Finding, FuncFact, Lineage, NarrativeNumber, SummaryFact, TableFacts
from pipelines.identities import ZERO, compare
from pipelines.model import SourceDocument, TextLine
from pipelines.tables import code_level
from pipelines.textnorm import collapse, to_yuan

# ---------------------------------------------------------------------------------------------
# The narrative as text segments under their headings

# 第三部分 …年度部门决算情况说明 (the words may wrap onto the next line), not 第二部分 …部门决算表;
# 三、决算报表说明 in the 高等学校 format.
_PART_START = re.compile(
    r"^第[一二三四五六七八九十]+部分.*决算(?!表)|^[一二三四五六七八九十]+、决算(报表)?(情况)?说明$"
)
_PART_END = re.compile(r"^(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+、)\s*名词解释$")
_HEADING = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
_PAGE_NUMBER = re.compile(r"^[-—]?\s*\d{1,3}\s*[-—]?$")
_ASCII_WORD = re.compile(r"[A-Za-z0-9.%]")


@dataclass
class Segment:
    heading: str
    text: str = ""
    pages: list[int] = field(default_factory=list)  # the page of every character of text

    def add(self, line: str, page: int) -> None:
        """Append a line: whitespace goes (line wraps and letter spacing), except between two
        Latin words or numbers, where it separates them."""
        for ch in line:
            if ch.isspace():
                if self.text and _ASCII_WORD.match(self.text[-1]) and not self.text.endswith(" "):
                    self.text += " "
                    self.pages.append(page)
                continue
            if self.text.endswith(" ") and not _ASCII_WORD.match(ch):
                self.text, self.pages = self.text[:-1], self.pages[:-1]
            self.text += ch
            self.pages.append(page)
        if self.text.endswith(" "):
            self.text, self.pages = self.text[:-1], self.pages[:-1]


def _is_heading(key: str) -> bool:
    if not _HEADING.match(key) or len(key) > 45:
        return False
    return "。" not in key or key.endswith(("说明。", "情况。"))


def narrative_segments(doc: SourceDocument) -> list[Segment]:
    """The lines of the 情况说明 part (the last heading that opens it: the first one is in the
    table of contents) up to 名词解释, grouped under their headings."""
    lines = [i for i in doc.items() if isinstance(i, TextLine)]
    last_on_page = {}
    for i, line in enumerate(lines):
        last_on_page[line.page_no] = i
    start = max((i for i, ln in enumerate(lines) if _PART_START.search(collapse(ln.text))), default=None)
    if start is None:
        return []
    segments = [Segment(heading=collapse(lines[start].text))]
    for i in range(start + 1, len(lines)):
        line = lines[i]
        key = collapse(line.text)
        if _PART_END.match(key):
            break
        if _PAGE_NUMBER.match(key) and last_on_page.get(line.page_no) == i:
            continue  # the page number in the footer
        if _is_heading(key):
            segments.append(Segment(heading=key))
            continue
        segments[-1].add(line.text, line.page_no)
    return [s for s in segments if s.text]


# ---------------------------------------------------------------------------------------------
# Numbers and what the sentence says they are

_NUMBER = re.compile(
    r"(?<![\d.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<unit>万元|亿元|元|%|万(?![元\d])|台（套）|个|辆|人次|批次|人|台|分|次|项)?"
)
_DATE_AFTER = re.compile(r"^\s*(年|月|日|部分|号)")
_ITEM = re.compile(
    r"(?:^|(?<=[。：；]))[（(]?(?P<no>\d{1,2})(?:[、.．]|[）)])\s*(?P<lei>[^（(，。；：]{2,30}?)[（(]类[）)]"
    r"(?P<kuan>[^（(，。；：]{1,30}?)[（(]款[）)](?P<xiang>[^（(，。；：]{1,40}?)[（(]项[）)]"
)
_CODED_ITEM = re.compile(
    r"(?:^|(?<=[。：；]))[（(]?(?P<no>\d{1,2})(?:[、.．]|[）)])\s*(?P<xiang>[^（(，。；：]{1,40}?)[（(](?P<code>2\d{2}(?:\d{2}){0,2})[）)]"
)
_BOUNDARY = re.compile(r"[，。；：,;:]")


@dataclass
class Quoted:
    """A number found in a segment, before it becomes a record."""

    start: int
    end: int
    raw: str
    value: Decimal
    unit: str
    prefix: str  # the clause before the number
    role: str
    basis: str | None  # for EXECUTION_RATE: the budget stage it is measured against


def _role(prefix: str, unit: str) -> tuple[str, str | None]:
    if unit == "%":
        m = re.search(r"完成(年初预算|全年预算|调整预算|预算)(数)?的$", prefix)
        if m:
            basis = {"年初预算": "BUDGET_INITIAL", "预算": None}.get(m.group(1), "BUDGET_ADJUSTED")
            return "EXECUTION_RATE", basis
        if re.search(r"占[^，。；]*?的?$", prefix):
            return "SHARE", None
    if re.search(r"(增加|减少|增长|下降|降低|持平)$", prefix):
        return "CHANGE", None
    if re.search(r"年初预算(数)?(为|是)?$", prefix):
        return "BUDGET_INITIAL", None
    if re.search(r"(全年|调整后?)预算(数)?(为|是)?$", prefix):
        return "BUDGET_ADJUSTED", None
    if re.search(r"决算(数)?(为|是)?$", prefix):
        return "FINAL", None
    if re.search(r"(?<![初年整])预算(数)?(为|是)$", prefix):
        return "BUDGET_INITIAL", None  # a bare 预算数 is the 年初预算, as in the table columns (catalog)
    return "OTHER", None


def quoted_numbers(text: str, skip: set[int]) -> list[Quoted]:
    """Numbers with a unit (or a decimal point) in ``text``; years, dates, item ordinals and codes
    (positions in ``skip``) are not quantities."""
    out: list[Quoted] = []
    for m in _NUMBER.finditer(text):
        if m.start() in skip:
            continue
        unit = m.group("unit") or ""
        raw = m.group("num")
        if not unit and ("." not in raw or _DATE_AFTER.match(text[m.end() :])):
            continue
        if not unit and _DATE_AFTER.match(text[m.end() :]):
            continue
        cut = max((b.end() for b in _BOUNDARY.finditer(text, 0, m.start())), default=0)
        prefix = text[cut : m.start()].strip()
        role, basis = _role(prefix, unit)
        value = Decimal(raw.replace(",", ""))
        out.append(Quoted(m.start(), m.end(), raw, value, unit, prefix, role, basis))
    return out


def _sentence(text: str, start: int, end: int) -> str:
    left = text.rfind("。", 0, start) + 1
    right = text.find("。", end)
    right = len(text) if right < 0 else right + 1
    return text[left:right][:400]


# ---------------------------------------------------------------------------------------------
# Resolving a narrative 项 to the code of the document's tables


@dataclass(frozen=True)
class CodeRow:
    code: str
    name: str
    final: Decimal | None  # TOTAL, stage FINAL, in 元


def final_code_rows(facts: TableFacts) -> dict[str, CodeRow]:
    """The 功能分类 rows of the 一般公共预算 table (F5), else of the 财政拨款 table (F4: the 高等学校
    format has no F5 and its narrative discusses 财政拨款支出), else of the all-funds tables, with
    their 决算 total: what the narrative's 项 are resolved against."""
    for table_type in ("F5", "F4", "F3", "F2"):
        rows: dict[str, CodeRow] = {}
        for f in facts.func:
            if f.at.table_type == table_type and f.measure == "TOTAL" and f.stage == "FINAL":
                rows.setdefault(f.func_code, CodeRow(f.func_code, f.func_name, f.amount.yuan))
        if rows:
            return rows
    return {}


def resolve_item(
    rows: dict[str, CodeRow], lei: str, kuan: str, xiang: str, final_yuan: Decimal | None
) -> tuple[str | None, str | None]:
    """(code, how) for a 类/款/项 path as printed: by names under the 类 (the 款 name where it
    helps), else by the 决算 amount among the 项 of the 类. Names drift (其他国土资源事务支出 for
    2200199 其他自然资源事务支出; 住房保障支出（款） for 住房改革支出)."""
    lei_code = func_class_for_label(lei) or next(
        (r.code for r in rows.values() if len(r.code) == 3 and r.name == lei), None
    )
    under = [r for r in rows.values() if len(r.code) == 7 and (lei_code is None or r.code.startswith(lei_code))]
    kuan_codes = [
        r.code for r in rows.values() if len(r.code) == 5 and r.name == kuan and r.code in {u.code[:5] for u in under}
    ]
    by_name = [r for r in under if r.name == xiang]
    if len(by_name) > 1 and kuan_codes:
        by_name = [r for r in by_name if r.code[:5] in kuan_codes]
    if len(by_name) == 1:
        return by_name[0].code, "NAME"
    if final_yuan is not None:
        pool = [r for r in under if r.code[:5] in kuan_codes] or under
        by_amount = [r for r in pool if r.final == final_yuan]
        if len(by_amount) != 1 and pool is not under:
            by_amount = [r for r in under if r.final == final_yuan]
        if len(by_amount) == 1:
            return by_amount[0].code, "AMOUNT"
    return None, None


# ---------------------------------------------------------------------------------------------
# The whole extraction


@dataclass
class NarrativeResult:
    numbers: list[NarrativeNumber] = field(default_factory=list)
    budget_facts: list[FuncFact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class _Item:
    subject: str
    code: str | None
    how: str | None
    quoted: list[Quoted]
    sentence_text: str
    page: int


WAN = "万元"


def _money(q: Quoted) -> Decimal | None:
    if q.unit == WAN:
        return to_yuan(q.value, WAN)
    if q.unit == "元":
        return to_yuan(q.value, "元")
    if q.unit == "亿元":
        return (q.value * Decimal(100_000_000)).quantize(Decimal("0.01"))
    return None


def extract_narrative(doc: SourceDocument, facts: TableFacts, fiscal_year: int | None) -> NarrativeResult:
    out = NarrativeResult()
    rows = final_code_rows(facts)
    seq = 0
    items: list[_Item] = []
    totals: list[tuple[Segment, Quoted, str]] = []
    for seg in narrative_segments(doc):
        text = seg.text
        spans = _item_spans(text)
        skip = {m.start("no") for _, _, m in spans}
        skip |= {m.start("code") for _, _, m in spans if "code" in m.groupdict()}
        numbers = quoted_numbers(text, skip)
        if "结构" in seg.heading:
            out.findings += structure_checks(seg, numbers, facts)
        seg_items: list[_Item] = []
        for start, end, m in spans:
            inside = [q for q in numbers if start <= q.start < end]
            if "code" in m.groupdict():
                subject = f"{m.group('xiang')}（{m.group('code')}）"
                code, how = (
                    (m.group("code"), "CODE") if m.group("code") in rows or len(m.group("code")) == 7 else (None, None)
                )
            else:
                subject = f"{m.group('lei')}（类）{m.group('kuan')}（款）{m.group('xiang')}（项）"
                final = next((_money(q) for q in inside if q.role == "FINAL"), None)
                code, how = resolve_item(rows, m.group("lei"), m.group("kuan"), m.group("xiang"), final)
            seg_items.append(_Item(subject, code, how, inside, text[start:end], seg.pages[start]))
        items += seg_items
        first_item = spans[0][0] if spans else len(text)
        for q in numbers:
            owner = next((k for k, (s, e, _) in enumerate(spans) if s <= q.start < e), None)
            if owner is not None:
                item = seg_items[owner]
                subject, code, how = item.subject, item.code, item.how
            else:
                subject, code, how = _subject_of(seg, q, first_item), None, None
                if subject == "GPB_TOTAL":
                    totals.append((seg, q, subject))
            seq += 1
            out.numbers.append(
                NarrativeNumber(
                    seq=seq, section=seg.heading, subject=subject, role=q.role, value=q.value, unit=q.unit,
                    raw=q.raw + q.unit, yuan=_money(q), func_code=code, resolved_by=how,
                    sentence=_sentence(text, q.start, q.end), page_no=seg.pages[q.start], basis=q.basis,
                )
            )  # fmt: skip
    for item in items:
        for q in item.quoted:
            if q.role in ("BUDGET_INITIAL", "BUDGET_ADJUSTED") and item.code and _money(q) is not None:
                out.budget_facts.append(_budget_fact(item, q, rows))
    out.findings += item_checks(items, rows)
    out.findings += total_checks(totals, items, facts)
    out.findings += headline_checks(doc, out.numbers, facts, fiscal_year)
    return out


def _item_spans(text: str) -> list[tuple[int, int, re.Match]]:
    matches = list(_ITEM.finditer(text)) or list(_CODED_ITEM.finditer(text))
    spans = []
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        spans.append((m.start(), end, m))
    return spans


def _subject_of(seg: Segment, q: Quoted, first_item: int) -> str:
    """GPB_TOTAL for the 一般公共预算财政拨款支出 budget/决算 sentence that opens the 具体情况
    section; otherwise the clause before the number, without its verb."""
    if "具体情况" in seg.heading and q.start < first_item and q.role != "OTHER" and "三公" not in seg.heading:
        return "GPB_TOTAL"
    subject = re.sub(r"(为|是|的|达|约)$", "", q.prefix)
    return subject[-40:] or seg.heading


def _budget_fact(item: _Item, q: Quoted, rows: dict[str, CodeRow]) -> FuncFact:
    code = item.code or ""
    row = rows.get(code)
    return FuncFact(
        fund_scope="GPB",
        stage=q.role,
        func_code=code,
        func_level=code_level(code),
        func_name=row.name if row else "",
        measure="TOTAL",
        amount=Amount(raw=q.raw, unit=WAN if q.unit == WAN else q.unit, value=q.value, yuan=_money(q)),
        at=Lineage(
            table_type=None,
            table_title="情况说明：一般公共预算财政拨款支出决算具体情况",
            page_no=item.page,
            line_no=None,
            row_label=item.subject,
        ),
        source_kind="NARRATIVE",
    )


# ---------------------------------------------------------------------------------------------
# R-NARR: the narrative against the tables and against itself

_RULE = "R-NARR"


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


def item_checks(items: list[_Item], rows: dict[str, CodeRow]) -> list[Finding]:
    out: list[Finding] = []
    for item in items:
        final_q = next((q for q in item.quoted if q.role == "FINAL"), None)
        budgets = {q.role: q for q in item.quoted if q.role in ("BUDGET_INITIAL", "BUDGET_ADJUSTED")}
        final = _money(final_q) if final_q else None
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
                    _RULE, "F5", item.page, f"{item.code} {item.subject} 决算", final, row.final, WAN, 1,
                    f"情况说明 {item.subject} 支出决算 vs table row {item.code} {row.name}",
                )
            )  # fmt: skip
        if final is None:
            continue
        for q in item.quoted:
            if q.role != "EXECUTION_RATE":
                continue
            basis = budgets.get(q.basis) if q.basis else next(iter(budgets.values()), None)
            budget = _money(basis) if basis else None
            if budget is None:
                continue
            if budget == 0:
                other = next((b for r, b in budgets.items() if r != q.basis), None)
                note = f"; it equals {_fmt_pct(final, _money(other))} of the {other.prefix}" if other else ""
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
        budget = _money(budget_q) if budget_q else None
        if relation and budget is not None:
            out.append(_relation_finding(item, relation, final, budget))
    return out


def _fmt_pct(final: Decimal, budget: Decimal | None) -> str:
    if not budget:
        return "n/a"
    return f"{(final / budget * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _relation_finding(item: _Item, relation: str, final: Decimal, budget: Decimal) -> Finding:
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


def total_checks(totals: list[tuple[Segment, Quoted, str]], items: list[_Item], facts: TableFacts) -> list[Finding]:
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
                _RULE, "F5", page, "GPB_TOTAL 决算", _money(final_q), table_total.amount.yuan, WAN, 1,
                "情况说明 一般公共预算财政拨款支出决算 vs 一般公共预算财政拨款支出决算表 合计",
            )
        )  # fmt: skip
    rate = by_role.get("EXECUTION_RATE")
    if rate is not None and final_q is not None:
        basis = by_role.get(rate.basis) if rate.basis else by_role.get("BUDGET_INITIAL")
        budget = _money(basis) if basis else None
        if budget == 0:
            other = by_role.get("BUDGET_ADJUSTED")
            note = f"; it equals {_fmt_pct(_money(final_q), _money(other))} of the 全年预算" if other else ""
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
                    _money(final_q),
                    budget,
                    "情况说明 一般公共预算财政拨款支出 完成率",
                )
            )
    for stage in ("BUDGET_INITIAL", "BUDGET_ADJUSTED"):
        total_q = by_role.get(stage)
        parts = [q for i in items for q in i.quoted if q.role == stage]
        if total_q is None or not parts or _money(total_q) == 0:
            continue
        out.append(
            compare(
                _RULE, None, page, f"GPB_TOTAL {stage} = Σ 项", _money(total_q), sum((_money(q) for q in parts), ZERO),
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
    total = _money(money[0])
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
        amount = _money(q)
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


def headline_checks(
    doc: SourceDocument, numbers: list[NarrativeNumber], facts: TableFacts, fiscal_year: int | None
) -> list[Finding]:
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
    out += placeholder_checks(doc, fiscal_year)
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


_PLACEHOLDER = re.compile(r"XX|ＸＸ|××")
_AS_OF = re.compile(r"截至(?P<y>\d{4})年12月31日")
# A part heading of the document naming its year: "第三部分 上海市普陀区财政局 2023年度部门决算情况说明"
_PART_HEADING = re.compile(r"^第[一二三四五六七八九十]+部分.*?(?P<y>20\d{2})年度?(部门|单位)(决算|预算)")


def placeholder_checks(doc: SourceDocument, fiscal_year: int | None) -> list[Finding]:
    """Template residue in a published document (``上海市普陀区XX局``), a part heading naming another
    year, and a 截至 date outside the fiscal year (assets stated for the wrong year)."""
    out: list[Finding] = []
    for line in (i for i in doc.items() if isinstance(i, TextLine)):
        key = collapse(line.text)
        heading = _PART_HEADING.match(key)
        if heading and fiscal_year and int(heading.group("y")) != fiscal_year:
            out.append(
                Finding(
                    "R-TEXT", "FAIL", "warning", None, line.page_no, "heading year", None, None, None, None,
                    f"a part heading names {heading.group('y')} in the {fiscal_year} document: '{key[:80]}'",
                )
            )  # fmt: skip
        if _PLACEHOLDER.search(key):
            out.append(
                Finding(
                    "R-TEXT", "FAIL", "warning", None, line.page_no, "template placeholder", None, None, None, None,
                    f"template placeholder left in the published text: '{key[:80]}'",
                )
            )  # fmt: skip
    if fiscal_year:
        segs = narrative_segments(doc)
        for seg in segs:
            for m in _AS_OF.finditer(seg.text):
                if int(m.group("y")) != fiscal_year:
                    out.append(
                        Finding(
                            "R-TEXT", "FAIL", "warning", None, seg.pages[m.start()], "截至 date", None, None, None,
                            None, f"情况说明 states assets '{m.group(0)}' in the {fiscal_year} 决算",
                        )
                    )  # fmt: skip
    return out
