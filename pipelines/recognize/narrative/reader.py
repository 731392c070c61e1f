"""The text of a document: the 情况说明 of a 部门决算 and the 编制说明 / 其他相关情况说明 of a
预算 (三公, 机关运行经费, 政府采购, 国有资产, 绩效): every number it states, with its sentence, and
what it is about as a fact (``topics``). One reader for both kinds: only where the text part
starts and how its numbered 科目 items are printed differ.

A 决算's narrative also quotes the 项-level 年初预算 / 全年预算 beside the 决算 (DOMAIN.md §2.5
end, hazards P1, P2, P12).

Within a 决算 document the narrative is the only place with the budget per 项::

    1、一般公共服务支出（类）财政事务（款）行政运行（项）。主要用于：…。年初预算为 1560.05 万元，
    支出决算为 1511.89 万元。决算数小于预算数的主要原因：…

Each such item is resolved to a 功能分类 code against the document's own tables (by the printed
类/款/项 names; where the narrative renames a subject, by the 决算 amount among the 项 of its 类),
its budget becomes a ``source_kind='NARRATIVE'`` fact (fund scope GPB, stage as the text says),
and the reading keeps what the rules of ``pipelines.validate.rules.narrative`` (R-NARR) compare
with the tables: the items with their quoted numbers, the headline totals, the 结构 sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pipelines.normalize.catalog import func_class_for_label
from pipelines.normalize.facts import Amount, FuncFact, Lineage, NarrativeFact, NarrativeNumber, TableFacts
from pipelines.normalize.textnorm import to_yuan
from pipelines.read.model import SourceDocument
from pipelines.recognize.narrative.sections import Segment, budget_segments, narrative_segments
from pipelines.recognize.narrative.topics import PercentClaim, SectionFacts, Subject, segment_facts
from pipelines.recognize.rows import code_level

# ---------------------------------------------------------------------------------------------
# Numbers and what the sentence says they are

_NUMBER = re.compile(
    r"(?<![\d.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<unit>万元|亿元|元|%|万(?![元\d])|台（套）|个|辆|人次|批次|人|台|分|次|项)?"
)
_DATE_AFTER = re.compile(r"^\s*(年|月|日|部分|号)")
# A 科目 name may hold a short parenthesis of its own (中医（民族）医院, 党委办公厅（室）及相关机构事务):
# any bracket that is not the （类）/（款）/（项） marker belongs to the name.
_NAME_CHAR = r"(?:[^（(，。；：]|[（(](?![类款项][）)])[^（()），。；：]{1,8}[）)])"
_ITEM = re.compile(
    r"(?:^|(?<=[。：；]))[（(]?(?P<no>\d{1,2})(?:[、.．]|[）)])\s*(?P<lei>" + _NAME_CHAR + r"{2,30}?)[（(]类[）)]"
    r"(?P<kuan>" + _NAME_CHAR + r"{1,30}?)[（(]款[）)](?P<xiang>" + _NAME_CHAR + r"{1,40}?)[（(]项[）)]"
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
    fund_scope: str = "GPB"  # the fund of the table the row is printed in


def budget_code_rows(facts: TableFacts) -> dict[str, CodeRow]:
    """The 功能分类 rows of a 预算's fund tables (一般公共预算 B5, 政府性基金 B6, 国有资本经营 B7),
    and of its 支出总表 (B3) / 收入总表 (B2) for codes they do not print, with their TOTAL: what
    the 编制说明's 科目 are resolved against."""
    rows: dict[str, CodeRow] = {}
    for table_type in ("B2", "B3", "B7", "B6", "B5"):  # the fund tables last: their amounts win
        for f in reversed(facts.func):
            printed = f.at.table_type == table_type and f.measure == "TOTAL" and f.source_kind == "TABLE"
            if printed and (f.amount.yuan is not None or f.func_code not in rows):
                rows[f.func_code] = CodeRow(f.func_code, f.func_name, f.amount.yuan)
    return rows if any(r.final is not None for r in rows.values()) else {}


def final_code_rows(facts: TableFacts) -> dict[str, CodeRow]:
    """The 功能分类 rows of the 一般公共预算 table (F5), else of the 财政拨款 table (F4: the 高等学校
    format has no F5 and its narrative discusses 财政拨款支出), else of the all-funds tables, with
    their 决算 total: what the narrative's 项 are resolved against."""
    rows: dict[str, CodeRow] = {}
    for table_type in ("F5", "F4", "F3", "F2"):
        rows = _final_rows(facts, table_type)
        if rows:
            break
    # the 政府性基金 / 国有资本经营 sections of the text discuss the 项 of F8 / F9
    for table_type, scope in (("F8", "GOVFUND"), ("F9", "SOE")):
        for code, row in _final_rows(facts, table_type, scope).items():
            rows.setdefault(code, row)
    return rows


def _final_rows(facts: TableFacts, table_type: str, scope: str = "GPB") -> dict[str, CodeRow]:
    rows: dict[str, CodeRow] = {}
    for f in facts.func:
        if f.at.table_type == table_type and f.measure == "TOTAL" and f.stage == "FINAL":
            rows.setdefault(f.func_code, CodeRow(f.func_code, f.func_name, f.amount.yuan, scope))
    return rows


def resolve_item(
    rows: dict[str, CodeRow],
    lei: str,
    kuan: str,
    xiang: str,
    final_yuan: Decimal | None,
    precision: Decimal | None = None,
    strict_kuan: bool = False,
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
    if strict_kuan and kuan and not kuan_codes:
        by_name = []  # 人大事务（款）一般行政管理事务（项） is not 2010402 because that name is printed elsewhere
    if len(by_name) > 1 and kuan_codes:
        by_name = [r for r in by_name if r.code[:5] in kuan_codes]
    if len(by_name) == 1:
        return by_name[0].code, "NAME"

    def same(r: CodeRow) -> bool:  # at the narrative's printed precision, when it is not the table's
        if precision is None or r.final is None:
            return r.final == final_yuan
        return (r.final / precision).quantize(Decimal(1), ROUND_HALF_UP) * precision == final_yuan

    if final_yuan is not None:
        pool = [r for r in under if r.code[:5] in kuan_codes] or under
        by_amount = [r for r in pool if same(r)]
        if len(by_amount) != 1 and pool is not under:
            by_amount = [r for r in under if same(r)]
        if len(by_amount) == 1:
            return by_amount[0].code, "AMOUNT"
    return None, None


# ---------------------------------------------------------------------------------------------
# The whole extraction


@dataclass
class NarrativeReading:
    """What the 情况说明 of a 决算 says: every number (``numbers``), the 项 budgets it quotes as facts
    (``budget_facts``), and, for the R-NARR rules, the items, the headline totals and the 结构
    sections with their numbers, and the table rows the items were resolved against."""

    numbers: list[NarrativeNumber] = field(default_factory=list)
    budget_facts: list[FuncFact] = field(default_factory=list)
    items: list[NarrativeItem] = field(default_factory=list)
    totals: list[tuple[Segment, Quoted, str]] = field(default_factory=list)
    structure: list[tuple[Segment, list[Quoted]]] = field(default_factory=list)
    rows: dict[str, CodeRow] = field(default_factory=dict)
    kind: str = "FINAL_ACCOUNT"
    facts: list[NarrativeFact] = field(default_factory=list)  # every figure as a fact (narrative_facts)
    claims: list[PercentClaim] = field(default_factory=list)  # stated percentages, for R-NARR-PCT


@dataclass
class NarrativeItem:
    subject: str
    code: str | None
    how: str | None
    quoted: list[Quoted]
    sentence_text: str
    page: int


WAN = "万元"


def quoted_yuan(q: Quoted) -> Decimal | None:
    if q.unit == WAN:
        return to_yuan(q.value, WAN)
    if q.unit == "元":
        return to_yuan(q.value, "元")
    if q.unit == "亿元":
        return (q.value * Decimal(100_000_000)).quantize(Decimal("0.01"))
    return None


def read_narrative(
    doc: SourceDocument, facts: TableFacts, kind: str = "FINAL_ACCOUNT", fiscal_year: int | None = None
) -> NarrativeReading:
    """Every number of the document's text with its sentence and what it is about. A 决算's
    情况说明 (``kind`` FINAL_ACCOUNT) also yields the 项 budgets it quotes; a 预算's 科目 items are
    resolved against its B5/B3/B2 rows."""
    budget = kind == "BUDGET"
    rows = budget_code_rows(facts) if budget else final_code_rows(facts)
    out = NarrativeReading(rows=rows, kind=kind)
    seq = 0
    items = out.items
    totals = out.totals
    found = SectionFacts()
    for seg in budget_segments(doc) if budget else narrative_segments(doc):
        text = seg.text
        spans = _budget_item_spans(text) if budget else _item_spans(text)
        skip = {m.start("no") for _, _, m in spans}
        skip |= {m.start("code") for _, _, m in spans if "code" in m.groupdict()}
        numbers = quoted_numbers(text, skip)
        if "结构" in seg.heading and not budget:
            out.structure.append((seg, numbers))
        seg_items: list[NarrativeItem] = []
        for start, end, m in spans:
            inside = [q for q in numbers if start <= q.start < end]
            if budget:
                subject, code, how = _budget_item(m, inside, rows, seg.heading)
            elif "code" in m.groupdict():
                subject = f"{m.group('xiang')}（{m.group('code')}）"
                code, how = (
                    (m.group("code"), "CODE") if m.group("code") in rows or len(m.group("code")) == 7 else (None, None)
                )
            else:
                subject = f"{m.group('lei')}（类）{m.group('kuan')}（款）{m.group('xiang')}（项）"
                final = next((quoted_yuan(q) for q in inside if q.role == "FINAL"), None)
                code, how = resolve_item(rows, m.group("lei"), m.group("kuan"), m.group("xiang"), final)
            seg_items.append(NarrativeItem(subject, code, how, inside, text[start:end], seg.pages[start]))
        items += seg_items
        first_item = spans[0][0] if spans else len(text)
        seqs: list[int] = []
        for q in numbers:
            owner = next((k for k, (s, e, _) in enumerate(spans) if s <= q.start < e), None)
            if owner is not None:
                item = seg_items[owner]
                subject, code, how = item.subject, item.code, item.how
            else:
                subject, code, how = _subject_of(seg, q, first_item), None, None
                if subject == "GPB_TOTAL" and not budget:
                    totals.append((seg, q, subject))
            seq += 1
            seqs.append(seq)
            out.numbers.append(
                NarrativeNumber(
                    seq=seq, section=seg.heading, subject=subject, role=q.role, value=q.value, unit=q.unit,
                    raw=q.raw + q.unit, yuan=quoted_yuan(q), func_code=code, resolved_by=how,
                    sentence=_sentence(text, q.start, q.end), page_no=seg.pages[q.start], basis=q.basis,
                )
            )  # fmt: skip
        item_subjects: list[tuple[int, int, Subject | None]] = [
            (s, e, ("func", it.code, "TOTAL")) for (s, e, _), it in zip(spans, seg_items, strict=True)
        ]
        segment_facts(
            found, f"{seg.part} {seg.heading}", text, numbers, seqs, item_subjects, seg.pages,
            _budget_stage if budget else _final_stage, fiscal_year, _sentence,
        )  # fmt: skip
    out.facts, out.claims = found.facts, found.claims
    if not budget:
        for item in items:
            for q in item.quoted:
                if q.role in ("BUDGET_INITIAL", "BUDGET_ADJUSTED") and item.code and quoted_yuan(q) is not None:
                    out.budget_facts.append(_budget_fact(item, q, rows))
    return out


def _budget_stage(q: Quoted) -> str:
    return "BUDGET_INITIAL"


def _final_stage(q: Quoted) -> str:
    return q.role if q.role in ("BUDGET_INITIAL", "BUDGET_ADJUSTED", "FINAL") else "FINAL"


# A 预算's numbered 科目 items: ``1、“教师进修”科目3845.19万元`` (a 项 name in quotes),
# ``1.“一般公共服务支出（类）财政事务（款）行政运行（项）”1,623.18万元`` or, under a （一）…（类）
# heading, ``1．党委办公厅（室）及相关机构事务（款）行政运行（项）支出9370.12万元``.
_BUDGET_ITEM = re.compile(
    r"(?:^|(?<=[。：；]))[（(]?(?P<no>\d{1,2})(?:[、.．]|[）)])\s*(?P<body>“[^”]{2,80}”(?:科目)?|"
    r"(?:[^，。；：“”]{2,30}?[（(]类[）)])?[^，。；：“”]{1,40}?[（(]款[）)][^，。；：“”]{1,40}?[（(]项[）)])"
)
_PATH = re.compile(
    r"^(?:(?P<lei>.{2,30}?)[（(]类[）)])?(?:(?P<kuan>.{1,40}?)[（(]款[）)])?(?P<xiang>.{1,40}?)(?:[（(]项[）)])?$"
)


def _budget_item_spans(text: str) -> list[tuple[int, int, re.Match]]:
    """An item runs to its next one, but not past the sentence of its first amount: text printed
    after a list (a page printed twice) is not the last item's."""
    matches = list(_BUDGET_ITEM.finditer(text))
    spans = []
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        amount = _NUMBER.search(text, m.end(), end)
        stop = text.find("。", amount.end() if amount else m.end(), end)
        spans.append((m.start(), end if stop < 0 else stop + 1, m))
    return spans


def _budget_item(
    m: re.Match, inside: list[Quoted], rows: dict[str, CodeRow], heading: str
) -> tuple[str, str | None, str | None]:
    """(subject as printed, code, how) of a 预算 科目 item: by its names (the 类 may be the
    heading's), else by its amount at the narrative's printed precision among the 项 rows."""
    body = m.group("body").strip("“”").removesuffix("科目").strip("“”")
    parts = body.split("-")
    path = _PATH.match("（类）".join(parts[:1]) + "（类）" + "（款）".join(parts[1:]) if len(parts) == 3 else body)
    money = next((q for q in inside if q.unit in (WAN, "元")), None)
    amount = quoted_yuan(money) if money else None
    precision = None
    if money is not None:
        places = len(money.raw.split(".")[1]) if "." in money.raw else 0
        precision = Decimal(1).scaleb(-places) * (Decimal(10000) if money.unit == WAN else Decimal(1))
    if not rows or path is None:
        return body, None, None
    lei = path.group("lei") or re.sub(r"^[（(][一二三四五六七八九十]+[）)]|[（(]类[）)]$", "", heading)
    xiang = path.group("xiang")
    if path.group("kuan") is None and path.group("lei") is None:
        named = [r for r in rows.values() if r.name == xiang]
        if len(named) > 1:
            named = [r for r in named if len(r.code) == 7] or named
        if len(named) == 1:
            return body, named[0].code, "NAME"
        lei = ""
    code, how = resolve_item(rows, lei, path.group("kuan") or "", xiang, amount, precision, strict_kuan=True)
    return body, code, how


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


_NARRATIVE_TITLES = {
    "GPB": "情况说明：一般公共预算财政拨款支出决算具体情况",
    "GOVFUND": "情况说明：政府性基金预算财政拨款支出决算情况",
    "SOE": "情况说明：国有资本经营预算财政拨款支出决算情况",
}


def _budget_fact(item: NarrativeItem, q: Quoted, rows: dict[str, CodeRow]) -> FuncFact:
    code = item.code or ""
    row = rows.get(code)
    return FuncFact(
        fund_scope=row.fund_scope if row else "GPB",
        stage=q.role,
        func_code=code,
        func_level=code_level(code),
        func_name=row.name if row else "",
        measure="TOTAL",
        amount=Amount(raw=q.raw, unit=WAN if q.unit == WAN else q.unit, value=q.value, yuan=quoted_yuan(q)),
        at=Lineage(
            table_type=None,
            table_title=_NARRATIVE_TITLES.get(row.fund_scope if row else "GPB", _NARRATIVE_TITLES["GPB"]),
            page_no=item.page,
            line_no=None,
            row_label=item.subject,
        ),
        source_kind="NARRATIVE",
    )
