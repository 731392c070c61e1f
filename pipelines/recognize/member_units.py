"""Member units of a department in its tables: which rows are facts of a member unit, not of the
department that publishes the document. Three layouts, each recognised by its shape:

- a 单位编码 column (西安 ``201`` the department over ``201001`` / ``201002`` its units): a row whose
  code is longer than the table's shortest one is a member unit's;
- a 单位名称 / 预算单位 column (泉州, 湖州, 杭州 收入总表, “三公” tables by unit): every row but the
  合计 is a unit; a row printing the 合计's very amounts right under it is the department's own line
  (湖州 ``湖州市财政局`` 6838.41 = 合计) and stays the department's;
- unit headings over blocks that restart the classification (广州/珠海 表11 部门预算基本支出预算表:
  ``广州市统计普查中心`` over 工资福利支出 / 商品和服务支出 …, the same rows again under the next unit):
  the rows of a block are the heading's unit's, the heading row is that unit's total.

The member unit is named as printed (whitespace removed; ``X局（本级）`` keeps its 本级). A member
printed with the department's own name is its own office; publishing decides its key (``units.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.normalize.codes import econ_code_for_name
from pipelines.normalize.facts import Lineage, TableFacts
from pipelines.normalize.textnorm import collapse
from pipelines.recognize.columns import count_header_rows, resolve_columns
from pipelines.recognize.rows import iter_blocks, iter_rows
from pipelines.recognize.tables import LogicalTable

_UNIT_NAME_HEADER = re.compile(r"^(单位名称|预算单位(名称)?|单位)$")
_TOTAL = re.compile(r"^(合计|总计|小计)")
_NOT_A_UNIT = re.compile(r"^(其中|[一二三四五六七八九十]+、|\d+[、.．]|[（(][一二三四五六七八九十\d]+[）)])")


@dataclass(slots=True)
class PrintedRow:
    row_id: str
    position: int  # the row's place in the table
    unit_code: str | None
    code: str | None
    label: str
    amounts: tuple[str, ...]  # the printed cells, blank ones as ""


def unit_column_kind(table: LogicalTable) -> str | None:
    """``code`` for a table keyed by a 单位编码 column, ``name`` for one keyed by a 单位名称 column."""
    if not table.grids:
        return None
    first = table.grids[0]
    columns = resolve_columns(first, count_header_rows(first))
    if any(c.role == "unit_code" for c in columns):
        return "code"
    labels = [c for c in columns if c.role == "label"]
    if len(labels) == 1 and labels[0].path and _UNIT_NAME_HEADER.match(collapse(labels[0].path[-1])):
        return "name"
    return None


def printed_rows(table: LogicalTable) -> list[PrintedRow]:
    """The table's data rows (first block of each), in order."""
    out: list[PrintedRow] = []
    for row in iter_rows(table):
        for block in iter_blocks(row, {}):
            if block.position:
                continue
            row_id = f"{row.page_no}/{row.grid.top}/{row.index}"
            amounts = tuple(collapse(a.raw) for a in block.amounts)
            out.append(PrintedRow(row_id, len(out), block.unit_code, block.code, block.label, amounts))
    return out


def names_by_code(tables: Iterable[LogicalTable]) -> dict[str, str]:
    """单位编码 → the unit's name as the document prints it in full: the longest of the names printed
    beside that code in its tables (a narrow cell of one table cuts it: 西安 表8 ``中共西安市委`` for
    201002, which 表2 prints as ``中共西安市委理论讲师团``)."""
    out: dict[str, str] = {}
    for table in tables:
        if unit_column_kind(table) != "code":
            continue
        for r in printed_rows(table):
            if r.unit_code and r.label and len(r.label) > len(out.get(r.unit_code, "")):
                out[r.unit_code] = r.label
    return out


def members_by_column(rows: list[PrintedRow], kind: str, full_names: dict[str, str] | None = None) -> dict[str, str]:
    """row_id → member unit name, for a table keyed by a 单位编码 or 单位名称 column. ``full_names``:
    the document's names by 单位编码 (``names_by_code``)."""
    out: dict[str, str] = {}
    if kind == "code":
        codes = [r.unit_code for r in rows if r.unit_code]
        if not codes:
            return out
        shortest = min(len(c) for c in codes)
        nested = any(a != b and b.startswith(a) for a in codes for b in codes)
        total = next((r for r in rows if _TOTAL.match(r.label) and not r.unit_code), None)
        members: list[tuple[PrintedRow, str]] = []
        for i, r in enumerate(rows):
            if not r.unit_code or not r.label:
                continue
            if nested and len(r.unit_code) == shortest:
                continue  # the department's code (201 over 201001 …)
            if not nested and total is not None and i == total.position + 1 and _same_amounts(r.amounts, total.amounts):
                continue  # units of one level: a first row repeating the 合计 is the department's (苏州 105001)
            if not nested and total is None:
                continue  # one unit's rows without a 合计 over them: the document's own
            full = (full_names or {}).get(r.unit_code, r.label)
            members.append((r, full if full.startswith(r.label) else r.label))
        codes_named: dict[str, set[str]] = {}
        for r, name in members:
            codes_named.setdefault(name, set()).add(r.unit_code or "")
        for r, name in members:
            # a name still printed for two codes is cut short by its cell and printed whole nowhere: it
            # names no unit, and the row is left unmarked
            if len(codes_named[name]) == 1:
                out[r.row_id] = name
        return out
    total = next((r for r in rows if _TOTAL.match(r.label)), None)
    if total is None:  # units listed without the department's 合计: no such layout, nothing to mark
        return out
    for i, r in enumerate(rows):
        if not r.label or _TOTAL.match(r.label) or _NOT_A_UNIT.match(r.label) or r.code:
            continue
        if i == total.position + 1 and _same_amounts(r.amounts, total.amounts):
            continue  # the department's own line, repeating the 合计
        out[r.row_id] = r.label
    return out


def _same_amounts(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    def norm(cells: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(re.sub(r"^(0|0\.0+|-)$", "", c.replace(",", "")) for c in cells)

    return any(a) and norm(a) == norm(b)


def members_by_heading(rows: list[PrintedRow]) -> dict[str, str]:
    """row_id → member unit name, for a 经济分类 table whose blocks of rows each stand under a unit
    heading and restart the classification. A heading is a row named neither by a code, nor by a
    catalogued 经济分类 name, nor as a total, whose name is printed once; the rows named alike under
    several headings are the classification. At least two headings, and a row name repeated in a
    later block: otherwise the table is no such layout and nothing is marked."""
    names = [r.label for r in rows]
    repeated = {n for n in names if n and names.count(n) > 1}
    headings = [
        r
        for r in rows
        if r.label and not r.code and r.label not in repeated and not _TOTAL.match(r.label)
        and not _NOT_A_UNIT.match(r.label) and econ_code_for_name(r.label, None) is None and any(r.amounts)
    ]  # fmt: skip
    if len(headings) < 2:
        return {}
    out: dict[str, str] = {}
    blocks: list[list[PrintedRow]] = []
    current: str | None = None
    for r in rows:
        if r in headings:
            current = r.label
            out[r.row_id] = current
            blocks.append([])
        elif current is not None and not _TOTAL.match(r.label):
            out[r.row_id] = current
            blocks[-1].append(r)
    keys = [{r.code or r.label for r in block} for block in blocks]
    restarts = any(keys[i] & keys[j] for i in range(len(keys)) for j in range(i + 1, len(keys)))
    return out if restarts and all(blocks) else {}


def mark_members(facts: TableFacts, members: dict[str, str]) -> None:
    """Name the member unit on each fact printed on a member unit's row."""
    if not members:
        return
    lineages: Iterable[Lineage] = (
        [f.at for f in facts.func] + [f.at for f in facts.econ] + [f.at for f in facts.summary]
        + [f.at for f in facts.three_public]
    )  # fmt: skip
    for at in lineages:
        name = members.get(at.row_id.split("|")[0])
        if name is not None:
            at.member_unit = name


def member_units(
    table: LogicalTable, econ: bool = False, full_names: dict[str, str] | None = None
) -> tuple[dict[str, str], list[PrintedRow]]:
    """(row_id → member unit, the printed rows) of one table: by its unit column, or for a 经济分类
    table by unit headings."""
    kind = unit_column_kind(table)
    if kind is None and not econ:
        return {}, []
    rows = printed_rows(table)
    if kind is not None:
        return members_by_column(rows, kind, full_names), rows
    return members_by_heading(rows), rows
