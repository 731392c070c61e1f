"""What each number of a narrative is about, as a fact: its topic, code, measure and the fiscal
year (DOMAIN.md §5.2 ``fact_narrative_number``, view ``narrative_facts``). The same for a 预算's
编制说明 and a 决算's 情况说明: the section heading says the topic (三公, 机关运行经费, 政府采购,
国有资产, 绩效); within a section, the words of the clause before a number name the subject
(``因公出国（境）费0万元``, ``基本支出预算5423.36万元``); a change (``比2019年预算减少38.45万元``,
``下降0.7%``) is about the subject stated before it and, with the year it names, gives that
year's figure as a derived row. Percentages are kept with what they are computed from, for the
rules (R-NARR-PCT) to check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.normalize.catalog import func_class_for_label
from pipelines.normalize.facts import NarrativeFact
from pipelines.normalize.textnorm import to_yuan

# (topic, code, measure): what a figure is about
Subject = tuple[str, str | None, str]

_SECTION_TOPICS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"三公"), "three_public"),
    (re.compile(r"机关运行经费"), "org_running_cost"),
    (re.compile(r"政府采购"), "procurement"),
    (re.compile(r"国有资产|资产占[用有]"), "assets"),
    (re.compile(r"绩效|项目经费|项目支出.*说明"), "project"),
]

# Words of a clause naming a 三公 item; the rightmost match wins (``购置费0万元、运行费…``).
_THREE_PUBLIC = [
    (re.compile(r"因公出国"), "OUTBOUND"),
    (re.compile(r"公务(用)?车(辆)?购置(及|和)运行(维护)?(费|经费)?"), "VEHICLE_TOTAL"),
    (re.compile(r"(公务(用)?车(用车)?|车辆)?购置(费|预算|支出)?"), "VEHICLE_PURCHASE"),
    (re.compile(r"(公务(用)?车(用车)?|车辆)?运行(维护)?(费|预算|支出)"), "VEHICLE_OPERATION"),
    (re.compile(r"公务接待"), "RECEPTION"),
    (re.compile(r"三\W{0,2}公"), "TOTAL"),
]
_NOT_THREE_PUBLIC = re.compile(r"会议费|培训费|单价|以上|以下|[（(]款[）)]")  # 公务接待费（款）: an 经济分类 款
_PROCUREMENT = [
    (re.compile(r"货物"), "GOODS"),
    (re.compile(r"工程"), "WORKS"),
    (re.compile(r"服务"), "SERVICES"),
    (re.compile(r"政府采购|采购"), "TOTAL"),
]
# Headline measures, the first that matches wins (一般公共预算 before 财政拨款 before 支出).
_TOTAL_MEASURES = [
    (re.compile(r"收支总预算|收支总计|收入支出总计"), "GRAND_TOTAL"),
    (re.compile(r"非财政拨款结余"), "USE_NON_GRANT_BALANCE"),
    (re.compile(r"基本支出"), "BASIC"),
    (re.compile(r"项目支出"), "PROJECT"),
    (re.compile(r"人员经费|人员支出"), "PERSONNEL"),
    (re.compile(r"公用经费|公用支出"), "PUBLIC"),
    (re.compile(r"上年结转|结转结余|结转和结余"), "CARRY_OVER"),
    (re.compile(r"政府性基金"), "GRANT_GOVFUND"),
    (re.compile(r"国有资本经营"), "GRANT_SOE"),
    (re.compile(r"一般公共预算"), "GRANT_GPB"),
    (re.compile(r"财政拨款"), "GRANT_TOTAL"),
    (re.compile(r"经营收入"), "INC_OPERATING"),
    (re.compile(r"事业收入"), "INC_BUSINESS"),
    (re.compile(r"上级补助收入"), "INC_UPPER"),
    (re.compile(r"附属单位上缴收入"), "INC_AFFILIATE"),
    (re.compile(r"其他收入"), "INC_OTHER"),
    # the headline total only where the clause says so: a bare “…支出” names some other subject
    (re.compile(r"收入(预算)?(总额|总计|合计)|(收入预算|预算收入)(总额|总计|合计)?(数)?(为|是)?$"), "INCOME"),
    (
        re.compile(
            r"支出(预算)?(总额|总计|合计)|预算支出(总额|总计)|预算总额|总预算|收支总|"
            r"^([^，、（(]{0,25}?(年|年度|本年))?(支出预算|预算支出)(数)?(为|是)?$"
        ),
        "TOTAL",
    ),
]
_NOT_HEADLINE = re.compile(r"专户|资金收入|安排的支出|原因|会议费|培训费|委托业务费|涉及")
_ECON_CLASSES = {"工资福利支出": "301", "商品和服务支出": "302", "对个人和家庭的补助": "303", "资本性支出": "310"}
_CLAUSE_BOUNDARY = re.compile(r"[，。；：,;:]")
_CHANGE_VERB = re.compile(r"(增加|增长|上升|提高|减少|下降|降低|减)了?$")
_DOWN = re.compile(r"(减少|下降|降低|减)了?$")
_EQUAL_AFTER = re.compile(
    r"^[，,]?\s*(比|与|较)(上年|上年度|(?P<y>\d{4})\s*年度?)[^，。；0-9]{0,12}?(持平|一致|相同|相当)"
)
_OTHER_YEAR = re.compile(r"^(?P<y>\d{4})\s*年(度)?(当年|全年)?(预算)?(执行|决算|支出)")
_COMPARED = re.compile(r"(比|与|较|同)(?P<what>上年|上年度|去年|(?P<y>\d{4})\s*年度?)")


def _rightmost(patterns: list[tuple[re.Pattern[str], str]], clause: str) -> str | None:
    best: tuple[int, str] | None = None
    for pattern, code in patterns:
        for m in pattern.finditer(clause):
            if m.group(0) and (best is None or m.end() > best[0]):
                best = (m.end(), code)
    return best[1] if best else None


def _first(patterns: list[tuple[re.Pattern[str], str]], clause: str) -> str | None:
    return next((code for pattern, code in patterns if pattern.search(clause)), None)


def section_topic(context: str) -> str | None:
    return next((topic for pattern, topic in _SECTION_TOPICS if pattern.search(context)), None)


def clause_subject(clause: str, topic: str | None) -> Subject | None:
    """The subject a clause names, within a section of ``topic`` (None: a general section)."""
    if topic in (None, "three_public") and not _NOT_THREE_PUBLIC.search(clause):
        item = _rightmost(_THREE_PUBLIC, clause)
        if item and (topic == "three_public" or item in ("OUTBOUND", "RECEPTION", "TOTAL", "VEHICLE_TOTAL")):
            return "three_public", item, "TOTAL"
    if re.search(r"机关运行经费|拨款运行经费", clause):
        return "org_running_cost", "ORG_RUNNING_COST", "TOTAL"
    if topic == "procurement" or "政府采购" in clause:
        code = _rightmost(_PROCUREMENT, clause)
        return ("procurement", code, "TOTAL") if code else None
    if topic is not None and topic != "project":
        return None
    lei = re.search(r"(?P<name>[^，。；：、“”]{2,20}?)[（(]类[）)](支出)?(预算)?(为|是)?$", clause)
    if lei and func_class_for_label(lei.group("name")):
        return "func", func_class_for_label(lei.group("name")), "TOTAL"
    # 包括一般公共服务支出12,868.19万元、公共安全支出…: a 类 named in a list
    listed = re.split(r"[、]|包括|其中|主要用于", clause)[-1]
    listed = re.sub(r"(预算数?|预算安排)?(为|是)?$", "", listed)
    if 3 <= len(listed) <= 20 and func_class_for_label(listed):
        return "func", func_class_for_label(listed), "TOTAL"
    for name, code in _ECON_CLASSES.items():
        if name in clause:
            return "econ", code, "TOTAL"
    if re.search(r"\d\s*(万元|元|%)、", clause):  # 基本支出5915.38万元、项目支出…: the list's last member
        clause = clause.rsplit("、", 1)[-1]
    measure = None if _NOT_HEADLINE.search(clause) else _first(_TOTAL_MEASURES, clause)
    if measure:
        return ("project", None, measure) if topic == "project" else ("total", None, measure)
    return None


_INLINE_ORDINAL = re.compile(r"[（(][一二三四五六七八九十\d]{1,3}[）)]")


def _clause(text: str, start: int) -> str:
    cut = max((b.end() for b in _CLAUSE_BOUNDARY.finditer(text, 0, start)), default=0)
    clause = text[cut:start].strip()
    tail = _INLINE_ORDINAL.split(clause)[-1]  # …填写）（二）公用经费: what follows the last （二）
    return tail if len(tail) >= 2 else clause


def _compared_year(text: str, start: int, fiscal_year: int | None) -> int | None:
    """The year a change is measured from: the nearest 比2019年 / 与上年 before it in its sentence."""
    left = text.rfind("。", 0, start) + 1
    found = list(_COMPARED.finditer(text, left, start))
    if not found or fiscal_year is None:
        return None
    m = found[-1]
    return int(m.group("y")) if m.group("y") else fiscal_year - 1


def _half_precision(raw: str) -> int:
    return len(raw.split(".")[1]) if "." in raw else 0


@dataclass
class PercentClaim:
    """A stated percentage and what it is computed from, for R-NARR-PCT."""

    fact: NarrativeFact
    kind: str  # CHANGE_PCT | SHARE
    subject: Subject
    numerator: Decimal | None = None  # the change (CHANGE_PCT) or the part (SHARE), in 元
    denominator: Decimal | None = None  # last year's figure (CHANGE_PCT), in 元
    base: Subject | None = None  # SHARE: the whole it is a share of
    words: str = ""
    wholes: list[Decimal] = field(default_factory=list)  # SHARE without a named whole: the candidates


@dataclass
class _State:
    subject: Subject | None = None
    amount: Decimal | None = None  # this year's figure of the subject, in 元
    raw: str = ""
    unit: str = ""
    change: Decimal | None = None  # the signed change last stated for it, in 元


@dataclass
class SectionFacts:
    facts: list[NarrativeFact] = field(default_factory=list)
    claims: list[PercentClaim] = field(default_factory=list)
    wholes: list[Decimal] = field(default_factory=list)  # headline figures so far: what a bare 占 x% may be of


_HEADLINE = {"GRAND_TOTAL", "TOTAL", "INCOME", "GRANT_TOTAL", "GRANT_GPB", "GRANT_GOVFUND", "GRANT_SOE"}


def segment_facts(
    out: SectionFacts,
    context: str,
    text: str,
    numbers: list,
    number_seqs: list[int],
    items: list[tuple[int, int, Subject | None]],
    pages: list[int],
    stage_of,
    fiscal_year: int | None,
    sentence_of,
) -> None:
    """The facts of one segment's numbers (``numbers``: Quoted, in text order). ``items`` are the
    spans of numbered 科目 items with their subject; ``stage_of(q)`` the stage of a number."""
    topic = section_topic(context)
    grant_section = bool(_GRANT_SECTION.search(context)) and not _OTHER_SCOPE.search(context)
    fund_section = bool(_FUND_SECTION.search(context))
    state = _State()
    stated_items: set[int | None] = set()
    lead: dict[str, str | None] = {}  # the topic of the first figure of each sentence
    for q, seq in zip(numbers, number_seqs, strict=True):
        clause = _clause(text, q.start)
        page = pages[q.start]
        sentence = sentence_of(text, q.start, q.end)
        owner_span, owner = next(((s, subj) for s, e, subj in items if s <= q.start < e), (None, "none"))
        value_yuan = _yuan(q)

        add = _Adder(out, q, seq, page, sentence, stage_of(q), topic, fiscal_year, fund_section)
        is_change = q.role == "CHANGE" or bool(re.search(r"(比|与|较).*(一致|持平|相同)$", clause))
        if q.unit == "%":
            subject = state.subject if is_change or q.role == "SHARE" else clause_subject(clause, topic)
            subject = subject or state.subject
            sign = -1 if _DOWN.search(clause) else 1
            if q.role == "SHARE":
                fact = add(subject, "SHARE", percent=q.value)
                base_clause = clause[clause.rfind("占") + 1 :]
                if not re.sub(r"[的比重比例为]", "", base_clause) and subject and subject[0] == "procurement":
                    base = ("procurement", "TOTAL", "TOTAL")  # 货物类…占20.40%: of the 政府采购 total
                    out.claims.append(PercentClaim(fact, "SHARE", subject, state.amount, None, base, clause))
                    continue
                if not re.sub(r"[的比重比例为]", "", base_clause) and out.wholes:
                    # 占14.0%: of a headline figure stated before it (the text does not say which)
                    claim = PercentClaim(fact, "SHARE", subject, state.amount, None, None, clause, list(out.wholes))
                    out.claims.append(claim)
                    continue
                base = clause_subject(base_clause, topic) or (subject[0], "TOTAL", "TOTAL") if subject else None
                if subject and subject[0] == "total":
                    base = clause_subject(base_clause, None) or ("total", None, "TOTAL")
                out.claims.append(PercentClaim(fact, "SHARE", subject, state.amount, None, base, clause))
            elif is_change and subject:
                fact = add(subject, "CHANGE_PCT", percent=q.value * sign)
                prior = state.amount - state.change if state.amount is not None and state.change is not None else None
                claim = PercentClaim(fact, "CHANGE_PCT", subject, state.change, prior, None, clause)
                out.claims.append(claim)
            elif q.role == "EXECUTION_RATE":
                add(subject, "EXECUTION_RATE", percent=q.value)
            else:
                add(subject, "PERCENT", percent=q.value)
            continue
        if value_yuan is None:  # counters (个, 辆, 台（套）) and bare numbers
            add(clause_subject(clause, topic) or state.subject, "COUNT" if q.unit else "NUMBER")
            continue
        if is_change and state.subject is not None and not _own_subject(clause, topic):
            sign = Decimal(-1) if _DOWN.search(clause) else Decimal(1) if _CHANGE_VERB.search(clause) else Decimal(0)
            state.change = sign * value_yuan
            year = _compared_year(text, q.start, fiscal_year)
            if year is not None and state.amount is not None and year != fiscal_year:
                _derive(add, state, state.amount - state.change, year)
            continue
        if owner != "none" and owner_span in stated_items:
            subject = None  # a breakdown inside an item (…其中：评审经费支出37万元): not the 科目's figure
        elif owner != "none":
            subject = owner or ("func", None, "TOTAL")
            stated_items.add(owner_span)
        elif re.search(
            r"原因(是|：|:|为)", text[max(text.rfind("。", 0, q.start), text.rfind("；", 0, q.start)) + 1 : q.start]
        ):
            subject = None  # 主要原因是…增加基本支出844.15万元: a reason, not the figure
        else:
            subject = _scoped(clause_subject(clause, topic), grant_section)
            if subject and subject[0] == "three_public" and lead.get(sentence) == "org_running_cost":
                subject = None  # 机关运行经费…其中：公务接待费2万元: a part of 机关运行经费, not the 三公 item
        if is_change and subject is not None:  # 财政拨款收、支总计各增加3205.79万元: the change of a named subject
            sign = Decimal(-1) if _DOWN.search(clause) else Decimal(1)
            if state.subject == subject and state.amount is not None:
                state.change = sign * value_yuan
                year = _compared_year(text, q.start, fiscal_year)
                if year is not None and year != fiscal_year:
                    _derive(add, state, state.amount - state.change, year)
            continue
        other_year = _OTHER_YEAR.search(clause)
        if other_year and fiscal_year and int(other_year.group("y")) != fiscal_year:
            # 2022年当年预算执行数为1.48万元: another year's figure, stated (its stage: 执行数 is spent money)
            add.stage = "FINAL" if "执行" in clause or "决算" in clause else add.stage
            add(subject, subject[2] if subject else "TOTAL", yuan=value_yuan, year=int(other_year.group("y")))
            continue
        add(subject, subject[2] if subject else "TOTAL", yuan=value_yuan)
        lead.setdefault(sentence, subject[0] if subject else None)
        if subject is not None and subject[0] == "total" and subject[2] in _HEADLINE and value_yuan:
            out.wholes.append(value_yuan)
        state = _State(subject or (topic or "other", None, "TOTAL"), value_yuan, q.raw, q.unit)
        equal = _EQUAL_AFTER.match(text[q.end :])
        if equal and fiscal_year is not None and subject is not None:
            year = int(equal.group("y")) if equal.group("y") else fiscal_year - 1
            if year != fiscal_year:
                _derive(add, state, value_yuan, year)


@dataclass
class _Adder:
    """Appends the facts of one number (and the derived rows it implies)."""

    out: SectionFacts
    q: object
    seq: int
    page: int
    sentence: str
    stage: str
    topic: str | None
    fiscal_year: int | None
    fund_scoped: bool = False

    def __call__(self, subject: Subject | None, measure: str, *, yuan=None, percent=None, year=None, **kw):
        t, code, _ = subject or (self.topic or "other", None, "TOTAL")
        fact = NarrativeFact(
            seq=len(self.out.facts) + 1, number_seq=self.seq, fiscal_year=year or self.fiscal_year,
            stage=self.stage, topic=t, code=code, measure=measure, yuan=yuan, printed=kw.get("printed", self.q.raw),
            unit=self.q.unit, percent=percent, page_no=self.page, sentence=self.sentence,
            derived=kw.get("derived", False), fund_scoped=self.fund_scoped,
        )  # fmt: skip
        self.out.facts.append(fact)
        return fact


# （二）财政拨款收支情况 … 支出预算总计181807.13万元: under a 财政拨款 heading a bare 总计 is the
# 财政拨款 total (B4), not the all-funds one (B1/B3).
_GRANT_SECTION = re.compile(r"财政拨款")
_OTHER_SCOPE = re.compile(r"一般公共预算|政府性基金|国有资本|非财政拨款")
_FUND_SECTION = re.compile(r"(?<!非)财政拨款|一般公共预算")


def _scoped(subject: Subject | None, grant_section: bool) -> Subject | None:
    if grant_section and subject in (("total", None, "TOTAL"), ("total", None, "INCOME")):
        return "total", None, "GRANT_TOTAL"
    return subject


def _own_subject(clause: str, topic: str | None) -> bool:
    """A change clause naming its own subject before the verb (``财政拨款收、支总计各增加``)."""
    head = _CHANGE_VERB.sub("", clause)
    head = re.sub(r"(比|与|较)(上年|上年度|\d{4}\s*年度?)[^，。；]*?(预算数?|相比|执行数)?", "", head)
    return clause_subject(head, topic) is not None and len(head) > 3


def _derive(add, state: _State, prior_yuan: Decimal, year: int) -> None:
    places = _half_precision(state.raw)
    scale = Decimal(10000) if state.unit == "万元" else Decimal(1)
    printed = f"{(prior_yuan / scale):.{places}f}"
    add(state.subject, state.subject[2], yuan=prior_yuan, year=year, printed=printed, derived=True)


def _yuan(q) -> Decimal | None:
    if q.unit in ("万元", "元"):
        return to_yuan(q.value, q.unit)
    if q.unit == "亿元":
        return (q.value * Decimal(100_000_000)).quantize(Decimal("0.01"))
    return None  # 万 alone is a threshold (单价100万（含）以上设备), not an amount
