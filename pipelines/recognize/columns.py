"""Columns of a grid: the header rows, every column's *header path* (the labels above it, top-down,
merged cells included) and its role (code part, code, label or amount); columns inferred by
position where a continuation page repeats no header."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.normalize.textnorm import collapse, is_meta_cell, looks_like_amount
from pipelines.read.model import Grid

# ---------------------------------------------------------------------------------------------
# Columns


CODE_PART = {"类": "lei", "款": "kuan", "项": "xiang"}
_CODE_HEADER = re.compile(r"(编码|代码|编号|科目代码)$|^(科目)?编码|^代码")
# A column of unit codes (西安 表2/表3: ``201`` 中共西安市委宣传部, ``201001`` its member unit): the
# codes number the department and its units, they only look like 功能分类 codes.
_UNIT_CODE_HEADER = re.compile(r"^(预算)?单位(编码|代码|编号)$")
# 北京 预算03 支出总表: one column per classification, code and name joined (``2010601-行政运行``): the
# 功能分类 column is the row's code; the 经济分类 columns beside it cross-classify the row (a memo).
_FUNC_CLASS_HEADER = re.compile(r"^支出功能分类科目$")
_ECON_CLASS_HEADER = re.compile(r"经济分类科目$")
_LABEL_HEADER = re.compile(
    r"名称|^项目$|^科目$|经济(分类)?科目$|^项目\(|^收入项目|^支出项目|^项目名称|^单位名称|^功能分类$|^预算单位$|^年度$|^功能科目$"
    # 西安 收支总表: one block per classification (支出功能分类 | 部门预算支出经济分类 | 政府预算支出经济分类,
    # perhaps 科目（按大类）), the names of its 类 under each header
    r"|^支出功能分类(科目)?[（(]按大类[）)]$|^支出功能分类$|支出经济分类(科目)?([（(]按大类[）)])?$"
)
FUNC_CODE = re.compile(r"^\[?(2\d{2}(?:\d{2}){0,2})\]?$")
ANY_CODE = re.compile(r"^\[?([2-5]\d{2}(?:\d{2}){0,2})\]?$")
CODE_PREFIX = re.compile(r"^\[?([2-5]\d{2}(?:\d{2}){0,2})\]?\s*(?=\D)(.*)$", re.S)
_TWO_DIGITS = re.compile(r"^\d{2}$")


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    path: tuple[str, ...]  # header labels top-down, whitespace removed
    role: str  # lei | kuan | xiang | code | unit_code | label | amount | line_no | prior | cross | other

    @property
    def leaf(self) -> str:
        return self.path[-1] if self.path else ""


def _header_path(grid: Grid, n_header: int, c: int) -> tuple[str, ...]:
    path: list[str] = []
    for r in range(n_header):
        text = collapse(grid.covering_text(r, c))
        if not text or is_meta_cell(text) or _COLUMN_NUMBER_LABEL.match(text) or text.isdigit():
            continue  # 栏次 rows number the columns (1, 2, …): not a header label
        if re.fullmatch(r"\*+", text):
            continue  # the ``**`` a column-number row prints over the code and name columns
        if path and path[-1] == text:
            continue  # a label merged over several header rows
        path.append(text)
    return tuple(path)


# A prior year's column (上年预算, 上年执行数, 2025年执行数) or a change against it (增减额, 增减率,
# 比上年增减, 增减变化情况): never this year's amount. 上年结转 / 上年结余 are this year's income.
_PRIOR_LABEL = re.compile(
    r"^上年(度)?$|^上年(度)?(预算|执行|决算|实际|同期)|执行数|增减|增长|增幅|比上年|同比|变动|变化情况"
)
_HEADER_YEAR = re.compile(r"^(\d{4})年")
_LINE_NUMBER_HEADER = re.compile(r"^行次$")  # a column of row numbers (栏次 is the row numbering the columns)


def _role_for_path(path: tuple[str, ...]) -> str:
    if not path:
        return "other"
    if any(_PRIOR_LABEL.search(e) for e in path):
        return "prior"
    leaf = path[-1]
    if leaf in CODE_PART:
        return CODE_PART[leaf]
    if _UNIT_CODE_HEADER.match(leaf):
        return "unit_code"
    if _FUNC_CLASS_HEADER.search(leaf):
        return "code"
    if _CODE_HEADER.search(leaf):
        return "code"
    if _LABEL_HEADER.search(leaf):
        return "label"
    if re.search(r"备注|说明|依据", leaf):
        return "other"
    return "amount"


_ROW_LABEL = re.compile(
    r"^(合计|总计|小计|本年|收入总计|支出总计|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[、.．])"
)
# Footer labels of the 决算 total tables (F1/F4): never header words, so a row made of them alone
# is data even without amounts (a continued page may start with the blank 结余分配 pair).
_BALANCE_LABEL = re.compile(
    r"^(使用非财政拨款结余|结余分配|(年初|年末|上年)(财政拨款)?结转和?结余|总计|本年收入合计|本年支出合计|收入总计|支出总计)"
)
_COLUMN_NUMBER_LABEL = re.compile(r"^(栏次|行次)$")
_ORDINAL = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")


def is_column_number_row(texts: list[str]) -> bool:
    """``** ** 1 2 3 4 5`` or ``1 2 3 …``: the row numbering the columns, not data. Placeholders
    (``**``, ``*``) stand over the code and name columns; the numbers run 1, 2, 3 … in order."""
    numbers = [t for t in texts if not re.fullmatch(r"\*+", t)]
    placeholders = len(texts) - len(numbers)
    # a one-column table numbers its only amount column ``** ** 1`` (湖州 表09, 杭州 表9)
    if len(numbers) < (1 if placeholders else 3) or not all(t.isdigit() for t in numbers):
        return False
    if placeholders and len(numbers) < 3 and numbers[0] != "1":
        return False
    return [int(t) for t in numbers] == list(range(int(numbers[0]), int(numbers[0]) + len(numbers)))


def is_data_row(row: list[str | None]) -> bool:
    """A row carrying facts: an amount or a classification code; or a row label such as 合计 or
    ``一、…`` standing alone (an empty table still prints its 合计 row, and a continued 收支总表
    page may start with label-only rows). Header rows may contain 合计 too, but beside other
    header words. A 栏次 row numbers the columns: it is header, digits notwithstanding."""
    texts = [collapse(c) for c in row if c is not None and collapse(c)]
    if not texts:
        return False
    if _COLUMN_NUMBER_LABEL.match(texts[0]) or is_column_number_row(texts):
        return False
    for t in texts:
        if looks_like_amount(t) or ANY_CODE.match(t) or CODE_PREFIX.match(t):
            return True
    if all(_BALANCE_LABEL.match(t) for t in texts):
        return True
    if len(texts) >= 2 and all(_ORDINAL.match(t) for t in texts) and len(texts) <= len(row) - len(texts):
        return True  # the section row of side-by-side blocks (一、部门预算 | | 一、部门预算 | …): labels, amounts blank
    return bool(_ROW_LABEL.match(texts[0])) and len(texts) == 1


def _is_blank_row(row: list[str | None]) -> bool:
    return not any(collapse(c) for c in row if c is not None)


def count_header_rows(grid: Grid) -> int:
    """Rows before the first data row. Blank rows alone before the data are not a header: a table
    continued on the next page may start with an empty row (P7)."""
    n = 0
    for row in grid.rows:
        if is_data_row(row):
            break
        n += 1
    if n and all(_is_blank_row(r) for r in grid.rows[:n]) and n < len(grid.rows):
        return 0
    return n


def _column_years(path: tuple[str, ...]) -> set[int]:
    return {int(m.group(1)) for e in path if (m := _HEADER_YEAR.match(e))}


def _numbers_rows(grid: Grid, n_header: int, c: int) -> bool:
    """The column's own header cell is 行次: it numbers the rows, it holds no amount."""
    return any(_LINE_NUMBER_HEADER.match(collapse(grid.covering_text(r, c))) for r in range(n_header))


def resolve_columns(grid: Grid, n_header: int) -> list[Column]:
    """Every column's header path and role. Where the headers name several years (2025年预算数 |
    2026年预算数, 2019年 | 2020年 blocks), the columns of the earlier years are the prior year's."""
    paths = [_header_path(grid, n_header, c) for c in range(grid.width)]
    years = set().union(*(_column_years(p) for p in paths)) if paths else set()
    cols = []
    for c, path in enumerate(paths):
        role = _role_for_path(path)
        if _numbers_rows(grid, n_header, c):
            role = "line_no"
        elif role == "amount" and len(years) > 1 and _column_years(path) and max(_column_years(path)) < max(years):
            role = "prior"
        cols.append(Column(index=c, path=path, role=role))
    cols = _second_econ_classification(cols)
    if any(c.role == "code" and c.path and _FUNC_CLASS_HEADER.search(c.leaf) for c in cols):
        cols = [
            Column(index=c.index, path=c.path, role="cross") if c.path and _ECON_CLASS_HEADER.search(c.leaf) else c
            for c in cols
        ]
    return cols


_DEPT_ECON = re.compile(r"部门.*经济")
_GOV_ECON = re.compile(r"政府.*经济")


def _second_econ_classification(cols: list[Column]) -> list[Column]:
    """A 基本支出 table printing both economic classifications (部门经济科目 30101 beside 政府经济科目
    50101, as code or code-name columns): the 部门 one is the 经济分类 the facts are about; the
    政府 one is a second key of the same row, kept out of the code and the label."""
    dept = [k for k, c in enumerate(cols) if c.role in ("code", "label") and _DEPT_ECON.search("".join(c.path))]
    if not dept or any("功能" in "".join(c.path) for c in cols):
        return cols  # a table cross-classified by function (支出总表) is read as a 功能分类 table
    out = list(cols)
    for k, c in enumerate(cols):
        if c.role not in ("code", "label") or not _GOV_ECON.search("".join(c.path)):
            continue
        between = cols[min(k, dept[0]) : max(k, dept[0])]
        if any(b.role == "amount" for b in between):
            continue  # side-by-side blocks keep their labels
        out[k] = Column(index=c.index, path=c.path, role="other")
        if dept[0] < k:  # 类 | 款 columns printed before the 政府 name are its code (烟台: 301 01 … 501 01 …)
            for j in range(k - 1, dept[0], -1):
                if cols[j].role not in ("lei", "kuan", "xiang", "code"):
                    break
                out[j] = Column(index=cols[j].index, path=cols[j].path, role="other")
    return out


def columns_by_position(columns: list[Column], spans: list[tuple[float, float]], grid: Grid) -> list[Column]:
    """Columns of a header-less continuation grid, each taken from the previous page's column it
    overlaps most (pages of one table share their ruling, even when empty columns were dropped)."""
    out = []
    for c, (x0, x1) in enumerate(grid.col_spans or []):
        overlaps = [(min(x1, b) - max(x0, a), k) for k, (a, b) in enumerate(spans)]
        best, k = max(overlaps)
        if best > 0 and k < len(columns):
            out.append(Column(index=c, path=columns[k].path, role=columns[k].role))
        else:
            out.append(Column(index=c, path=(), role="other"))
    return out


def code_part_labels(grid: Grid, n_header: int, columns: list[Column]) -> dict[int, str]:
    """The 类|款|项 labels printed in the first data row instead of a header row of their own
    (决算 tables print ``类 | 款 | 项 | 合计 | 2,946.25 …``): {column index: label}."""
    if n_header >= len(grid.rows):
        return {}
    row = grid.rows[n_header]
    found = {}
    for c, cell in enumerate(row):
        text = collapse(cell)
        if text in CODE_PART and c < len(columns) and columns[c].role in ("code", "other", "lei", "kuan", "xiang"):
            found[c] = text
    return found if "类" in found.values() else {}


def infer_columns(grid: Grid) -> list[Column]:
    """Roles from the cell contents when a grid has no header at all."""
    cols = []
    for c in range(grid.width):
        values = [collapse(row[c]) for row in grid.rows if c < len(row) and row[c]]
        if values and all(ANY_CODE.match(v) for v in values):
            role = "code"
        elif values and all(looks_like_amount(v) or v in {"-"} for v in values):
            role = "amount"
        elif values:
            role = "label"
        else:
            role = "other"
        cols.append(Column(index=c, path=(), role=role))
    return cols


def realign_columns(previous: list[Column], grid: Grid) -> list[Column]:
    inferred = infer_columns(grid)
    prev_amounts = [c for c in previous if c.role == "amount"]
    new_amounts = [c for c in inferred if c.role == "amount"]
    mapping = dict(zip(reversed([c.index for c in new_amounts]), reversed(prev_amounts), strict=False))
    out = []
    for col in inferred:
        if col.index in mapping:
            out.append(Column(index=col.index, path=mapping[col.index].path, role="amount"))
        else:
            out.append(col)
    return out
