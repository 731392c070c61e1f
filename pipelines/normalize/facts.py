"""Typed records passed from the recognizers to normalization: one per printed cell, with the
printed string, its unit and where it was printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What a document is: its kind, scope, unit and year, as the classifier read them."""

    doc_kind: str | None  # BUDGET | FINAL_ACCOUNT | PERF_FORM | None
    scope: str | None  # 部门 | 单位 | None
    unit_name: str | None
    fiscal_year: int | None
    is_template: bool
    title: str


@dataclass(slots=True)
class Amount:
    raw: str | None  # as printed ("" for a blank cell)
    unit: str  # 元 | 万元
    value: Decimal | None  # in the printed unit; None for a blank cell
    yuan: Decimal | None  # exact, in 元


@dataclass(slots=True)
class Lineage:
    table_type: str | None  # None for numbers quoted in the narrative
    table_title: str
    page_no: int
    line_no: int | None
    row_label: str
    block: int = 0  # side-by-side block of the row: 0 is the left (收入) side of a 收支总表
    row_id: str = ""  # the printed row (page/grid/row), shared by the blocks of one row
    unit_code: str | None = None  # the row's 单位编码 in a table by unit (西安 ``201`` / ``201001``)
    # the member unit the row is a fact of, as printed (a 单位名称/单位编码 row, a unit's block under its
    # heading); None: the document's unit (its 合计 and its department-code rows)
    member_unit: str | None = None


@dataclass(slots=True)
class FuncFact:
    fund_scope: str
    stage: str
    func_code: str
    func_level: int
    func_name: str
    measure: str
    amount: Amount
    at: Lineage
    source_kind: str = "TABLE"  # TABLE | NARRATIVE


@dataclass(slots=True)
class EconFact:
    fund_scope: str
    stage: str
    econ_code: str
    econ_level: int
    econ_name: str
    measure: str
    amount: Amount
    at: Lineage


@dataclass(slots=True)
class ThreePublicFact:
    stage: str
    item: str
    amount: Amount
    at: Lineage
    source_kind: str = "TABLE"


@dataclass(slots=True)
class SummaryFact:
    """A row of a total table that is not a classification row: 收入总计, 一、财政拨款收入, 合计…"""

    fund_scope: str
    stage: str
    label: str
    measure: str
    amount: Amount
    at: Lineage


@dataclass(slots=True)
class TableInstance:
    table_type: str
    title: str
    unit: str | None  # None for a table without amounts (F0 单位构成)
    page_start: int
    page_end: int
    line_start: int | None
    is_empty: bool
    empty_note: str | None
    n_facts: int = 0
    rows_by_unit: bool = False  # rows keyed by 单位编码 (the department's units), not by classification codes
    # (page, name) of rows printed by name alone (no code) that the catalogue gave no code under their parent
    unresolved_names: tuple[tuple[int, str], ...] = ()


@dataclass(slots=True)
class Finding:
    rule: str
    status: str  # PASS | PASS_ROUNDING | FAIL
    severity: str  # error | warning
    table_type: str | None
    page_no: int | None
    subject: str
    lhs: Decimal | None
    rhs: Decimal | None
    diff: Decimal | None
    tolerance: Decimal | None
    message: str


@dataclass(slots=True)
class TableCheck:
    """What one table of a document proved (``document_tables``): its identities and a verdict.

    ``status``: verified (every identity holds), defects (it holds but for a few cells: publisher
    errors, loaded and flagged), unverified (no identity could be checked), unread (most of it does
    not add up: a misreading, so its numbers are kept out of the fact views). ``page_start`` /
    ``page_end`` are lines for a text extraction, as in ``TableInstance``."""

    seq: int
    table_type: str
    title: str
    unit: str | None
    page_start: int | None
    page_end: int | None
    rows: int
    passed: int
    rounding: int
    failed: int
    status: str
    reason: str | None


@dataclass(slots=True)
class RosterEntry:
    """A member unit of a 部门 (F0 部门决算单位构成)."""

    seq: int
    unit_name: str
    remark: str
    page_no: int


@dataclass(slots=True)
class NarrativeNumber:
    """One number stated in the narrative (情况说明), with the sentence it came from.

    ``role`` says what the sentence says the number is: BUDGET_INITIAL (年初预算), BUDGET_ADJUSTED
    (全年预算/调整预算), FINAL (决算), EXECUTION_RATE (完成预算的 x%), or OTHER. ``subject`` names
    what it is about: a 功能分类 项 path as printed (``一般公共服务支出（类）…（项）``), ``GPB_TOTAL``
    for the 一般公共预算财政拨款 total, or the heading of the section for other numbers.
    """

    seq: int
    section: str
    subject: str
    role: str
    value: Decimal
    unit: str  # 万元 | 元 | % | a counter (个, 辆 …)
    raw: str
    yuan: Decimal | None  # money only
    func_code: str | None  # the 项 the sentence is about, resolved against the tables
    resolved_by: str | None  # NAME | AMOUNT | CODE (printed in the text) | None
    sentence: str
    page_no: int
    basis: str | None = None  # EXECUTION_RATE: the budget stage the sentence measures against


@dataclass(slots=True)
class NarrativeFact:
    """A figure of a document's text as a fact (view ``narrative_facts``): what it is about
    (``topic``: total, func, econ, three_public, org_running_cost, procurement, assets, project,
    other; ``code``: the 功能/经济分类 code or the 三公 item), its ``measure`` (TOTAL, BASIC, PROJECT,
    …; CHANGE_PCT, SHARE, EXECUTION_RATE for percentages; COUNT for counters) and the fiscal year it
    is about. ``derived`` rows are not printed: last year's figure computed from a stated change
    (this year − 增加额 / + 减少额, or equal where the text says 持平)."""

    seq: int
    number_seq: int | None  # the NarrativeNumber it comes from (None: a stated equality, no number)
    fiscal_year: int | None
    stage: str
    topic: str
    code: str | None
    measure: str
    yuan: Decimal | None
    printed: str | None
    unit: str
    percent: Decimal | None
    page_no: int
    sentence: str
    derived: bool = False
    # stated under a 财政拨款 / 一般公共预算 heading: its 基本/项目 split is of those funds, not of all
    fund_scoped: bool = False


@dataclass
class TableFacts:
    """Everything recognized in the tables of one document."""

    tables: list[TableInstance] = field(default_factory=list)
    func: list[FuncFact] = field(default_factory=list)
    econ: list[EconFact] = field(default_factory=list)
    three_public: list[ThreePublicFact] = field(default_factory=list)
    summary: list[SummaryFact] = field(default_factory=list)
    roster: list[RosterEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # cells that could not be read, etc.

    def extend(self, other: TableFacts) -> None:
        self.tables += other.tables
        self.func += other.func
        self.econ += other.econ
        self.three_public += other.three_public
        self.summary += other.summary
        self.roster += other.roster
        self.notes += other.notes
