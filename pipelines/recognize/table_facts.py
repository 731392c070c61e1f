"""Turn a recognized logical table into facts: 功能分类 rows, 经济分类 rows, 三公 items and the
unclassified summary rows. Shared by the 预算 and 决算 families; they differ in titles, fund
scopes and stages, which they pass in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

from pipelines.normalize.catalog import (
    UNMAPPED,
    func_class_for_label,
    func_class_name,
    is_carry_over_part,
    is_sub_column,
    is_three_public_subtotal,
    measure_for_path,
    stage_for_path,
    strip_ordinal,
    three_public_item,
)
from pipelines.normalize.codes import econ_code_for_name
from pipelines.normalize.facts import (
    Amount,
    EconFact,
    FuncFact,
    Lineage,
    SummaryFact,
    TableFacts,
    TableInstance,
    ThreePublicFact,
)
from pipelines.normalize.textnorm import NotAnAmount, collapse, parse_amount, to_yuan
from pipelines.recognize.columns import count_header_rows, resolve_columns
from pipelines.recognize.member_units import mark_members, member_units
from pipelines.recognize.names_only import NameLevels, read_names
from pipelines.recognize.rows import (
    AmountCell,
    Block,
    TableRow,
    code_level,
    is_econ_code,
    is_func_code,
    iter_blocks,
    iter_rows,
)
from pipelines.recognize.tables import LogicalTable

TOTAL_LABEL = ("合计", "总计", "小计")
TOTAL_RE = re.compile(r"^(合计|总计|小计)$")
_ECON_SUB_ITEM = re.compile(r"^[35]\d{6}$")


def read_amount(cell: AmountCell, unit: str) -> Amount | None:
    """The amount of a cell, or None when the cell does not exist (merged away)."""
    if cell.raw is None:
        return None
    value = parse_amount(cell.raw)
    return Amount(raw=cell.raw.strip(), unit=unit, value=value, yuan=to_yuan(value, unit))


def _iter_cells(
    table: LogicalTable, unit: str, facts: TableFacts, last_lei: dict[int, str] | None = None
) -> Iterator[tuple[TableRow, Block, AmountCell, Amount]]:
    last_lei = {} if last_lei is None else last_lei
    for row in iter_rows(table):
        for block in iter_blocks(row, last_lei):
            for cell in block.amounts:
                try:
                    amount = read_amount(cell, unit)
                except NotAnAmount:
                    facts.notes.append(
                        f"{table.table_type} p.{row.page_no}: cell '{cell.raw}' under {'/'.join(cell.column.path)} "
                        f"in row '{block.label_raw or block.code}' is not a number; not loaded"
                    )
                    continue
                if amount is None:
                    continue
                yield row, block, cell, amount


def _lineage(table: LogicalTable, row: TableRow, block: Block) -> Lineage:
    return Lineage(
        table_type=table.table_type,
        table_title=collapse(table.title),
        # a text extraction has no pages: its line number is the finest location there is
        page_no=row.line_no if row.line_no is not None else row.page_no,
        line_no=row.line_no,
        row_label=(block.code + " " if block.code else "") + block.label,
        block=block.position,
        row_id=f"{row.page_no}/{row.grid.top}/{row.index}",
        unit_code=block.unit_code,
    )


def _summary(
    table: LogicalTable, row: TableRow, block: Block, fund_scope: str, stage: str, measure: str, amount: Amount
) -> SummaryFact:
    return SummaryFact(
        fund_scope=fund_scope, stage=stage, label=block.label, measure=measure, amount=amount,
        at=_lineage(table, row, block),
    )  # fmt: skip


def _names_econ(block: Block) -> bool:
    """The block's label column is headed 经济分类 (西安 收支总表's 部门/政府预算支出经济分类 blocks)."""
    return any("经济分类" in e for e in block.label_header)


def extract_func_table(
    table: LogicalTable,
    unit: str,
    fund_scope: str,
    default_stage: str,
    allowed_measures: set[str],
    measure_of: Callable[[tuple[str, ...]], str | None] = measure_for_path,
    last_codes: dict[int, str] | None = None,
    names_carry: NameLevels | None = None,
    year: int | None = None,
    unit_names: dict[str, str] | None = None,
) -> TableFacts:
    """功能分类 tables (and the 类 rows of the two-sided 收支总表): one fact per printed cell of a
    row with a function code or a recognizable 类 name; other rows become summary facts.
    ``measure_of`` maps a column's header path to its measure (a family may refine the generic
    mapping, e.g. 本年收入 of a 政府性基金 table is its grant income). ``last_codes``: the 类/款 codes
    the table's previous page ended under, where the title is repeated on each page (a new
    ``LogicalTable`` per page) and a row prints only its own code segment. Rows printed by name
    alone get their codes from their indentation and the catalogue of ``year`` (``names_only``);
    ``names_carry`` keeps that reading's levels from the table's page before."""
    facts = TableFacts()
    cross_classified = False
    row_order: dict[str, int] = {}  # row_id → its position in the table
    cells = list(_iter_cells(table, unit, facts, last_codes))
    blocks = list({id(block): (row.page_no, block) for row, block, _, _ in cells}.values())
    blocks = [(page, b) for page, b in blocks if not _names_econ(b)]  # an 经济分类 block's names are no 功能分类
    names = read_names(blocks, NameLevels() if names_carry is None else names_carry, year, TOTAL_LABEL)
    table.unresolved_names.extend(names.unresolved)
    for row, block, cell, amount in cells:
        cross_classified = cross_classified or any(c.role == "cross" for c in row.columns)
        row_order.setdefault(_lineage(table, row, block).row_id, len(row_order))
        measure = measure_of(cell.column.path)
        if measure is None or measure not in allowed_measures:
            if is_sub_column(cell.column.path) or not cell.column.path or is_carry_over_part(cell.column.path):
                continue
            # Kept for the row identities only (the 收入 total includes it); never published.
            measure = UNMAPPED
        stage = stage_for_path(cell.column.path, default_stage)
        code = block.code if is_func_code(block.code) else None
        name = block.label
        names_econ = _names_econ(block)  # 13、转移性支出 of an 经济分类 block
        if id(block) in names.codes:
            code = names.codes[id(block)]  # printed by name alone: its level decides, not a 类 name it may share
            if code is not None and len(code) == 3:
                name = strip_ordinal(block.label)
        elif (
            code is None
            and block.code is None
            and block.label
            and not block.label.startswith(TOTAL_LABEL)
            and not names_econ
        ):
            code = func_class_for_label(block.label)
            if code:
                name = strip_ordinal(block.label)
        if code is not None:
            facts.func.append(
                FuncFact(
                    fund_scope=fund_scope,
                    stage=stage,
                    func_code=code,
                    func_level=code_level(code),
                    func_name=name or (func_class_name(code) if len(code) == 3 else ""),
                    measure=measure,
                    amount=amount,
                    at=_lineage(table, row, block),
                )
            )
        elif amount.value is not None or block.label:
            facts.summary.append(_summary(table, row, block, fund_scope, stage, measure, amount))
    members, _ = member_units(table, full_names=unit_names)
    mark_members(facts, members)
    facts.func = _one_fact_per_code(facts.func, cross_classified, row_order)
    return facts


def _one_fact_per_code(func: list[FuncFact], cross_classified: bool, row_order: dict[str, int]) -> list[FuncFact]:
    """A code printed on several rows of one table is one amount of the department: the sum of its
    cells (the printed strings joined by ``+``, the lineage of its first row). Where a table crosses
    the function with the economic classification (北京 预算03: a row per 2010601 × 30101 …), every
    code; elsewhere a 项 code printed again in a later block of rows (北京 预算05: a second unit's block,
    without its name). Adjacent rows of one code (无锡 prints 21999 for a 款 and for its 项) stay apart."""
    groups: dict[tuple, list[FuncFact]] = {}
    for f in func:  # a member unit's rows are its own amounts, never joined with the department's
        groups.setdefault((f.at.member_unit, f.fund_scope, f.stage, f.func_code, f.measure), []).append(f)
    out: list[FuncFact] = []
    merged: set[tuple] = set()
    for f in func:
        key = (f.at.member_unit, f.fund_scope, f.stage, f.func_code, f.measure)
        rows = groups[key]
        positions = [row_order.get(r.at.row_id, 0) for r in rows]
        repeated = len(rows) > 1 and (
            cross_classified or (f.func_level == 3 and all(b - a > 1 for a, b in pairwise(positions)))
        )
        if not repeated:
            out.append(f)
        elif key not in merged:
            merged.add(key)
            out.append(_summed(rows))
    return out


def _summed(rows: list[FuncFact]) -> FuncFact:
    printed = [r for r in rows if r.amount.value is not None]
    first = rows[0]
    # the lineage of the first row, naming every printed row it sums (document_tables counts them;
    # the row identities pair the measures of one such group)
    at = replace(first.at, row_id="|".join(dict.fromkeys(r.at.row_id for r in rows)))
    if not printed:
        return replace(first, at=at)
    amount = Amount(
        raw="+".join(r.amount.raw or "" for r in printed),
        unit=first.amount.unit,
        value=sum((r.amount.value for r in printed), Decimal(0)),
        yuan=sum((r.amount.yuan for r in printed if r.amount.yuan is not None), Decimal(0)),
    )
    return FuncFact(
        fund_scope=first.fund_scope, stage=first.stage, func_code=first.func_code, func_level=first.func_level,
        func_name=first.func_name, measure=first.measure, amount=amount, at=at,
    )  # fmt: skip


def extract_econ_table(
    table: LogicalTable, unit: str, fund_scope: str, default_stage: str, carry: dict[str, str] | None = None
) -> TableFacts:
    """基本支出 by 部门预算支出经济分类: 类 (3 digits) and 款 (5 digits), measures TOTAL /
    PERSONNEL / PUBLIC; side-by-side blocks are separate records. ``carry`` keeps the 类 the
    rows are in from the page before, for a table that runs on under its repeated title."""
    facts = TableFacts()
    carry = {} if carry is None else carry
    current_class: str | None = carry.get("class")  # the 类 the rows are in, for 款 printed by name alone
    cells = list(_iter_cells(table, unit, facts))
    printed_codes = {block.code for _, block, _, _ in cells if block.code}
    for row, block, cell, amount in cells:
        measure = measure_for_path(cell.column.path)
        if measure == "BASIC":
            measure = "TOTAL"  # 基本支出预算 / 小计 of a table of 基本支出 is its total
        if measure not in ("TOTAL", "PERSONNEL", "PUBLIC"):
            continue
        stage = stage_for_path(cell.column.path, default_stage)
        code = block.code
        if code is None and block.label and not TOTAL_RE.match(block.label):
            code = econ_code_for_name(block.label, current_class)
        if code and _ECON_SUB_ITEM.match(code) and code[:5] not in printed_codes:
            # a 款 printed only by its sub-items (3010201 津贴补贴 / 3010202 改革性补贴, 3021101 差旅费):
            # each row is a part of that 款 (the printed code stays in the row label)
            code = code[:5]
        if is_econ_code(code):
            current_class = code[:3]
            facts.econ.append(
                EconFact(
                    fund_scope=fund_scope,
                    stage=stage,
                    econ_code=code,
                    econ_level=1 if len(code) == 3 else 2,
                    econ_name=block.label,
                    measure=measure,
                    amount=amount,
                    at=_lineage(table, row, block),
                )
            )
        elif block.label or amount.value is not None:
            facts.summary.append(_summary(table, row, block, fund_scope, stage, measure, amount))
    if current_class:
        carry["class"] = current_class
    mark_members(facts, member_units(table, econ=True)[0])
    return facts


def extract_three_public_table(
    table: LogicalTable, unit: str, default_stage: str, unit_names: dict[str, str] | None = None
) -> TableFacts:
    """“三公”经费 (and 机关运行经费) tables: columns mapped to items by header text. A table with
    several data rows contributes its 合计 row (or its only row)."""
    facts = TableFacts()
    rows: list[tuple[TableRow, Block, AmountCell, Amount]] = list(_iter_cells(table, unit, facts))
    if not rows:
        return facts
    paths = {cell.column.path for _, _, cell, _ in rows}
    has_subtotal = any(is_three_public_subtotal(p) for p in paths)
    row_ids = []
    for row, block, _, _ in rows:
        key = (row.grid.page_no, id(row.grid), row.index)
        if key not in [k for k, _ in row_ids]:
            row_ids.append((key, block))
    facts.summary += _org_running_cost_items(table, rows, default_stage)
    columns_name_items = {three_public_item(p, has_subtotal) for p in paths} & (_PARTS | {"ORG_RUNNING_COST"})
    if not columns_name_items and _items_by_row(rows):
        return _three_public_by_row(table, rows, default_stage)
    chosen = next((k for k, b in row_ids if b.label.startswith(TOTAL_LABEL)), _latest_year_row(row_ids))
    # a table by unit (单位名称 / 单位编码 column): each member unit's row is that unit's 三公 as well
    members, _ = member_units(table, full_names=unit_names)
    for row, block, cell, amount in rows:
        at = _lineage(table, row, block)
        if (row.grid.page_no, id(row.grid), row.index) != chosen and at.row_id not in members:
            continue
        item = three_public_item(cell.column.path, has_subtotal)
        if item is None:
            continue
        facts.three_public.append(
            ThreePublicFact(stage=stage_for_path(cell.column.path, default_stage), item=item, amount=amount, at=at)
        )
    mark_members(facts, members)
    return facts


def _org_running_cost_items(
    table: LogicalTable, rows: list[tuple[TableRow, Block, AmountCell, Amount]], default_stage: str
) -> list[SummaryFact]:
    """A 机关运行经费 table by 经济分类 (科目编码 | 科目名称 | 机关运行经费支出: 合计 / 302 / 30201 …): its
    coded rows are the parts of the 机关运行经费, summary lines its identities add up (合计 = Σ 类, 类 =
    Σ 款). They are no 基本支出 facts: the 经济分类 table holds those, for all of the 公用经费."""
    coded = [
        (row, block, cell, amount)
        for row, block, cell, amount in rows
        if is_econ_code(block.code) and three_public_item(cell.column.path, False) == "ORG_RUNNING_COST"
    ]
    if len({block.code for _, block, _, _ in coded}) < 2:
        return []
    fund_scope = "GPB" if "一般公共预算" in collapse(table.title) else "FISCAL_GRANT"
    return [
        _summary(table, row, block, fund_scope, stage_for_path(cell.column.path, default_stage), "ORG_RUNNING_COST",
                 amount)
        for row, block, cell, amount in coded
    ]  # fmt: skip


_ROW_YEAR = re.compile(r"(20\d{2})年")


def _latest_year_row(row_ids: list[tuple[tuple, Block]]) -> tuple:
    """The row to read when there is no 合计 row: the first, or where the rows are years (深圳 表9:
    2025年 / 2026年 / 增减变化金额), the latest year's (a 增减 row is never the budget)."""
    years = [(int(m.group(1)), k) for k, b in row_ids if (m := _ROW_YEAR.search(b.label)) and "增减" not in b.label]
    return max(years, key=lambda t: t[0])[1] if years else row_ids[0][0]


_PARTS = {"OUTBOUND", "RECEPTION", "VEHICLE_TOTAL", "VEHICLE_PURCHASE", "VEHICLE_OPERATION"}


_ITEM_LABEL = re.compile(r"三公|因公出国|公务接待|公务用车|机关运行经费")


def _row_item(block: Block) -> str | None:
    """The item a row label names; only labels that speak of the 三公 items (an 办公设备购置 row
    of an economic table is no 公务用车购置费)."""
    return three_public_item((block.label,), False) if block.label and _ITEM_LABEL.search(block.label) else None


_OTHER_ROW_ITEM = re.compile(r"会议费|培训费|行政经费")


def _plain_total_is_three_public(rows: list[tuple[TableRow, Block, AmountCell, Amount]]) -> bool:
    """A plain 合计/总计 row is the “三公” total when the rows name the 三公 items only (项目 | 预算数:
    合计 / 1、因公出国（境）费用 / 2、公务接待费 / …): no row names the 三公 total itself, nor an item
    the 合计 would add in besides (会议费, 培训费, 行政经费)."""
    labels = {block.label for _, block, _, _ in rows if block.label}
    if any(_OTHER_ROW_ITEM.search(label) or "三公" in label for label in labels):
        return False
    return any(TOTAL_RE.match(label) for label in labels)


def _items_by_row(rows: list[tuple[TableRow, Block, AmountCell, Amount]]) -> bool:
    """The transposed layout (行政经费 / “三公”经费 / 其中：因公出国… as row labels, fund columns
    合计 | 一般公共预算 | …; no column names an item): at least two rows name a part of the “三公”经费,
    and one row its total (a row naming the 三公, or a plain 合计 over the items alone)."""
    items = {_row_item(block) for _, block, _, _ in rows}
    has_total = "TOTAL" in items or _plain_total_is_three_public(rows)
    return has_total and len(items & _PARTS) >= 2


def _three_public_by_row(
    table: LogicalTable, rows: list[tuple[TableRow, Block, AmountCell, Amount]], default_stage: str
) -> TableFacts:
    """Items from the row labels, each amount from the row's total column (合计, else its first
    amount column); rows that name no item (行政经费, 会议费) are not 三公 facts."""
    facts = TableFacts()
    seen: set[tuple] = set()
    plain_total = _plain_total_is_three_public(rows)
    for row, block, cell, amount in rows:
        item = "TOTAL" if plain_total and TOTAL_RE.match(block.label) else _row_item(block)
        key = (row.grid.page_no, id(row.grid), row.index)
        if item is None or key in seen:
            continue
        cells = [(c, a) for r, b, c, a in rows if (r.grid.page_no, id(r.grid), r.index) == key]
        total = next(((c, a) for c, a in cells if any(TOTAL_RE.match(e) for e in c.column.path)), cells[0])
        if total[0] is not cell:
            continue  # the row's other cells are its fund split
        seen.add(key)
        facts.three_public.append(
            ThreePublicFact(
                stage=stage_for_path(cell.column.path, default_stage), item=item, amount=amount,
                at=_lineage(table, row, block),
            )
        )  # fmt: skip
    return facts


def table_instance(table: LogicalTable, unit: str, facts: TableFacts) -> TableInstance:
    n = len(facts.func) + len(facts.econ) + len(facts.three_public)
    printed = [f for f in facts.func if f.amount.value is not None] + [
        f for f in facts.econ if f.amount.value is not None
    ]
    printed_3p = [f for f in facts.three_public if f.amount.value is not None]
    printed_sum = [f for f in facts.summary if f.amount.value not in (None, Decimal(0))]
    is_empty = not printed and not printed_3p and not printed_sum
    note = "；".join(table.notes) if table.notes else None
    if table.line_start is not None:  # text extraction: locate by line numbers
        last = max((g.row_line_nos[-1] for g in table.grids if g.row_line_nos), default=table.line_start)
        start, end = table.line_start, last
    else:
        start, end = table.page_start, table.page_end
    first = table.grids[0] if table.grids else None
    rows_by_unit = first is not None and any(
        c.role == "unit_code" for c in resolve_columns(first, count_header_rows(first))
    )
    return TableInstance(
        table_type=table.table_type,
        title=collapse(table.title),
        unit=unit,
        page_start=start,
        page_end=end,
        line_start=table.line_start,
        is_empty=is_empty,
        empty_note=note,
        n_facts=n,
        rows_by_unit=rows_by_unit,
        unresolved_names=tuple(table.unresolved_names),
    )
