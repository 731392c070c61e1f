"""Generic table recognition shared by every form family.

1. ``assemble_tables`` walks the items of a document in reading order and groups grids under the
   title that precedes them, across pages (tables continue on the next page with or without a
   repeated header; blank pages inside the table section are skipped).
2. ``resolve_columns`` reads the header rows of a grid and gives every column a *header path*
   (the labels above it, top-down, merged cells included) and a role: code part, code, label or
   amount.
3. ``iter_blocks`` cuts each data row into blocks (code + label + amounts). Side-by-side layouts
   (收支总表 income|expenditure, 基本支出 two-column economic tables) give several blocks per row.

Family modules (``budget_tables``, ``final_tables``) decide what a title, a column path or a
label means; nothing here knows about measures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pipelines.model import Grid, SourceDocument, TextLine
from pipelines.textnorm import collapse, find_unit, is_meta_cell, looks_like_amount, title_key

# ---------------------------------------------------------------------------------------------
# Titles


@dataclass(frozen=True, slots=True)
class TitlePattern:
    table_type: str
    pattern: re.Pattern[str]
    exclude: re.Pattern[str] | None = None

    def matches(self, key: str) -> bool:
        return bool(self.pattern.search(key)) and not (self.exclude and self.exclude.search(key))


def title_pattern(table_type: str, pattern: str, exclude: str | None = None) -> TitlePattern:
    return TitlePattern(table_type, re.compile(pattern), re.compile(exclude) if exclude else None)


_TOC = re.compile(r"(…|\.{3,}|·{3,}|_{3,})")
_SENTENCE = re.compile(r"[。；;]|详见|见附表|如下|包括|主要|说明$|情况$")
_NUMBERING = re.compile(
    r"^(第[一二三四五六七八九十]+部分|附件\d*[:：]?|附表\d*[:：]?|公开\d*表|表[一二三四五六七八九十\d]+|"
    r"[（(]?[一二三四五六七八九十]+[）)、.．]|\d+[.．、]|[（(]\d+[）)])+"
)


def clean_title(text: str) -> str:
    key = title_key(text)
    return _NUMBERING.sub("", key)


def is_title_candidate(text: str) -> bool:
    """Short heading-like lines only: not TOC entries, not sentences."""
    key = title_key(text)
    if not key or len(key) > 60 or _TOC.search(text) or _SENTENCE.search(key):
        return False
    return key.endswith("表") or bool(re.search(r"表[（(][^）)]*[）)]$", key))


def match_title(text: str, catalogue: list[TitlePattern]) -> str | None:
    if not is_title_candidate(text):
        return None
    key = clean_title(text)
    for spec in catalogue:
        if spec.matches(key):
            return spec.table_type
    return None


# ---------------------------------------------------------------------------------------------
# Assembling logical tables


@dataclass
class LogicalTable:
    table_type: str
    title: str
    page_start: int
    line_start: int | None = None
    unit: str | None = None
    grids: list[Grid] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta_lines: list[str] = field(default_factory=list)

    @property
    def page_end(self) -> int:
        return max([g.page_no for g in self.grids], default=self.page_start)


_EMPTY_NOTE = re.compile(r"(无|没有).{0,30}(预算|收支|支出|收入|经费|数据)|空表|本表无数据|不涉及")
_PAGE_NUMBER = re.compile(r"^[-—\s]*\d+[-—\s]*$|^第\d+页")


def assemble_tables(
    doc: SourceDocument,
    classify: Callable[[str], str | None],
    continuation_ok: Callable[[LogicalTable, Grid], bool] | None = None,
) -> list[LogicalTable]:
    """Group the grids of ``doc`` under the titles ``classify`` recognizes.

    A title opens a table; following grids belong to it until the next title. Narrative text
    after a table's grids closes it, so a later untitled grid is not attached to a stale title.
    A grid that starts a page with no title before it continues the open table (P7).
    """
    tables: list[LogicalTable] = []
    current: LogicalTable | None = None
    narrative_since_title = 0
    joined_next = 0  # lines still to skip: the tail of a wrapped title
    items = list(doc.items())
    for i, item in enumerate(items):
        if isinstance(item, TextLine):
            text = item.text
            kind = classify(text)
            if kind is None and not title_key(text).endswith("表"):
                # a title wrapped onto the next line ("…会议费、培训费支出预" / "算表"), perhaps with
                # detached quote marks between them (P2)
                tail = ""
                for k in range(i + 1, min(i + 4, len(items))):
                    nxt = items[k]
                    if not isinstance(nxt, TextLine) or len(collapse(nxt.text)) > 8:
                        break
                    tail += nxt.text
                    if title_key(nxt.text) and classify(text + tail):
                        kind = classify(text + tail)
                        text = text + tail
                        joined_next = k - i
                        break
            if kind is not None:
                current = LogicalTable(
                    table_type=kind,
                    title=text.strip().lstrip("#").strip(),
                    page_start=item.page_no,
                    line_start=item.line_no,
                )
                unit = find_unit(text)
                if unit:
                    current.unit = unit
                tables.append(current)
                narrative_since_title = 0
                continue
            if current is None:
                continue
            if joined_next:
                joined_next -= 1
                continue  # the tail of a wrapped title
            key = collapse(text)
            unit = find_unit(text)
            if unit and (current.unit is None or not current.grids):
                current.unit = unit
                current.meta_lines.append(text)
                continue
            if is_meta_cell(key) or _PAGE_NUMBER.match(key):
                current.meta_lines.append(text)
                continue
            if _EMPTY_NOTE.search(key) and len(key) < 120:
                current.notes.append(key)
                continue
            if len(key) < 12 and not re.search(r"[。，,；]", key):
                continue  # stray labels and numbers, not narrative
            narrative_since_title += 1
            if current.grids or narrative_since_title > 2:
                if key.startswith("注") and len(key) < 200:
                    current.notes.append(key)
                    continue
                current = None
            continue
        grid: Grid = item
        if current is None:
            continue
        if continuation_ok is not None and current.grids and not continuation_ok(current, grid):
            current = None
            continue
        current.grids.append(grid)
    return tables


# ---------------------------------------------------------------------------------------------
# Columns


CODE_PART = {"类": "lei", "款": "kuan", "项": "xiang"}
_CODE_HEADER = re.compile(r"(编码|代码|编号|科目代码)$|^(科目)?编码|^代码")
_LABEL_HEADER = re.compile(r"名称|^项目$|^科目$|^项目\(|^收入项目|^支出项目|^项目名称|^单位名称|^功能分类$")
_FUNC_CODE = re.compile(r"^\[?(2\d{2}(?:\d{2}){0,2})\]?$")
_ANY_CODE = re.compile(r"^\[?([2-5]\d{2}(?:\d{2}){0,2})\]?$")
_CODE_PREFIX = re.compile(r"^\[?([2-5]\d{2}(?:\d{2}){0,2})\]?\s*(?=\D)(.*)$", re.S)
_TWO_DIGITS = re.compile(r"^\d{2}$")


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    path: tuple[str, ...]  # header labels top-down, whitespace removed
    role: str  # lei | kuan | xiang | code | label | amount | other

    @property
    def leaf(self) -> str:
        return self.path[-1] if self.path else ""


def _header_path(grid: Grid, n_header: int, c: int) -> tuple[str, ...]:
    path: list[str] = []
    for r in range(n_header):
        text = collapse(grid.covering_text(r, c))
        if not text or is_meta_cell(text) or _COLUMN_NUMBER_LABEL.match(text) or text.isdigit():
            continue  # 栏次 rows number the columns (1, 2, …): not a header label
        if path and path[-1] == text:
            continue  # a label merged over several header rows
        path.append(text)
    return tuple(path)


def _role_for_path(path: tuple[str, ...]) -> str:
    if not path:
        return "other"
    leaf = path[-1]
    if leaf in CODE_PART:
        return CODE_PART[leaf]
    if _CODE_HEADER.search(leaf):
        return "code"
    if _LABEL_HEADER.search(leaf):
        return "label"
    if re.search(r"备注|说明|依据", leaf):
        return "other"
    return "amount"


_ROW_LABEL = re.compile(r"^(合计|总计|小计|本年|收入总计|支出总计|[一二三四五六七八九十]+、|\d+[、.．])")
# Footer labels of the 决算 total tables (F1/F4): never header words, so a row made of them alone
# is data even without amounts (a continued page may start with the blank 结余分配 pair).
_BALANCE_LABEL = re.compile(
    r"^(使用非财政拨款结余|结余分配|(年初|年末|上年)(财政拨款)?结转和?结余|总计|本年收入合计|本年支出合计|收入总计|支出总计)"
)
_COLUMN_NUMBER_LABEL = re.compile(r"^(栏次|行次)$")


def is_data_row(row: list[str | None]) -> bool:
    """A row carrying facts: an amount or a classification code; or a row label such as 合计 or
    ``一、…`` standing alone (an empty table still prints its 合计 row, and a continued 收支总表
    page may start with label-only rows). Header rows may contain 合计 too, but beside other
    header words. A 栏次 row numbers the columns: it is header, digits notwithstanding."""
    texts = [collapse(c) for c in row if c is not None and collapse(c)]
    if not texts:
        return False
    if _COLUMN_NUMBER_LABEL.match(texts[0]):
        return False
    for t in texts:
        if looks_like_amount(t) or _ANY_CODE.match(t) or _CODE_PREFIX.match(t):
            return True
    if all(_BALANCE_LABEL.match(t) for t in texts):
        return True
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


def resolve_columns(grid: Grid, n_header: int) -> list[Column]:
    cols = []
    for c in range(grid.width):
        path = _header_path(grid, n_header, c)
        cols.append(Column(index=c, path=path, role=_role_for_path(path)))
    return cols


# ---------------------------------------------------------------------------------------------
# Rows and blocks


@dataclass(slots=True)
class AmountCell:
    column: Column
    raw: str | None  # None: the cell does not exist (merged away); "": printed blank


@dataclass(slots=True)
class Block:
    """One (code, label, amounts) group of a data row."""

    code: str | None
    label: str  # whitespace removed, code prefix removed
    label_raw: str
    amounts: list[AmountCell]
    position: int = 0  # which block of the row, left to right (收入 side 0, 支出 side 1)


@dataclass(slots=True)
class TableRow:
    grid: Grid
    index: int
    cells: list[str | None]
    columns: list[Column]

    @property
    def page_no(self) -> int:
        return self.grid.page_no

    @property
    def line_no(self) -> int | None:
        return self.grid.line_no(self.index)


def _collapse_columns(
    rows: list[list[str | None]],
    origins: list[list[tuple[int, int]]] | None,
    spans: list[tuple[float, float]] | None = None,
) -> tuple[list[list[str | None]], list[list[tuple[int, int]]] | None, list[tuple[float, float]] | None]:
    """Badly ruled tables (Jiangsu 2018) come out with many thin columns: some hold nothing at all,
    others only a few cells while their neighbour holds the rest (a header in one, its amounts in
    the next). Drop the empty ones and fold a thin column into its neighbour when it has a real
    cell in at most a third of the rows and never holds text beside text of that neighbour.
    Well-formed tables have a real cell in every row of every column and are left alone."""
    width = max((len(r) for r in rows), default=0)
    if width < 2:
        return rows, origins, spans
    grid = [list(r) + [""] * (width - len(r)) for r in rows]
    target = list(range(width))  # old column → column it ends up in (old numbering)

    def real(c: int) -> int:
        return sum(1 for row in grid if row[c] is not None)

    def filled(c: int) -> set[int]:
        return {i for i, row in enumerate(grid) if row[c] not in (None, "")}

    alive = [c for c in range(width) if filled(c)]
    if not alive:
        return rows, origins, spans
    for c in range(width):
        if c not in alive:  # nothing printed in it: belongs to the nearest live column
            target[c] = min(alive, key=lambda a: (abs(a - c), a))
    changed = len(alive) < width
    for c in list(alive):
        if len(alive) < 2 or real(c) * 3 > len(grid):
            continue
        i = alive.index(c)
        for nb in [alive[j] for j in (i + 1, i - 1) if 0 <= j < len(alive)]:
            if not (filled(c) & filled(nb)) and real(nb) >= real(c):
                for row in grid:
                    if row[c] not in (None, "") or (row[nb] is None and row[c] is not None):
                        row[nb] = row[c]
                target = [nb if t == c else t for t in target]
                alive.remove(c)
                changed = True
                break
    if not changed:
        return rows, origins, spans
    new_index = {c: k for k, c in enumerate(alive)}
    out_rows = [[row[c] for c in alive] for row in grid]
    out_origins = None
    if origins is not None:
        out_origins = [
            [(r0, new_index[target[c0]]) for r0, c0 in (origins[r][c] for c in alive)] for r in range(len(grid))
        ]
    out_spans = None
    if spans is not None and len(spans) == width:
        out_spans = []
        for c in alive:
            members = [spans[o] for o in range(width) if target[o] == c]
            out_spans.append((min(a for a, _ in members), max(b for _, b in members)))
    return out_rows, out_origins, out_spans


def collapse_sliver_columns(grids: list[Grid]) -> list[Grid]:
    """Apply ``_collapse_columns`` jointly to consecutive PDF grids printed with the same ruling
    (a table and its continuation pages), so that every page ends with the same columns."""
    out: list[Grid] = []
    i = 0
    while i < len(grids):
        g = grids[i]
        if g.row_line_nos is not None:  # text extraction: no geometry artefacts
            out.append(g)
            i += 1
            continue
        j = i + 1
        while j < len(grids) and grids[j].row_line_nos is None and _same_ruling(g, grids[j]):
            j += 1
        run = grids[i:j]
        stacked = [list(r) + [""] * (g.width - len(r)) for x in run for r in x.rows]
        origins = None
        if all(x.origins is not None for x in run):
            origins, offset = [], 0
            for x in run:
                origins += [[(r0 + offset, c0) for r0, c0 in row] for row in x.origins]
                offset += len(x.rows)
        rows, new_origins, spans = _collapse_columns(stacked, origins, g.col_spans)
        offset = 0
        for x in run:
            n = len(x.rows)
            part_origins = None
            if new_origins is not None:
                part_origins = [[(r0 - offset, c0) for r0, c0 in row] for row in new_origins[offset : offset + n]]
            out.append(
                Grid(rows=rows[offset : offset + n], page_no=x.page_no, row_line_nos=None, top=x.top,
                     origins=part_origins, col_spans=spans)
            )  # fmt: skip
            offset += n
        i = j
    return out


def _same_ruling(a: Grid, b: Grid) -> bool:
    if a.width != b.width:
        return False
    if a.col_spans and b.col_spans:
        return all(
            abs(x0 - y0) < 3 and abs(x1 - y1) < 3 for (x0, x1), (y0, y1) in zip(a.col_spans, b.col_spans, strict=True)
        )
    return True


def iter_rows(table: LogicalTable) -> Iterator[TableRow]:
    """Data rows of a logical table. Every grid with a header of its own resolves its columns;
    a header-less continuation grid reuses the previous columns when the width matches, else
    aligns the amount columns from the right."""
    columns: list[Column] | None = None
    previous: Grid | None = None  # the grid the current columns were read from
    for grid in collapse_sliver_columns(table.grids):
        n_header = count_header_rows(grid)
        if n_header:
            columns = resolve_columns(grid, n_header)
        elif columns is None:
            columns = infer_columns(grid)
        elif previous is not None and previous.col_spans and grid.col_spans:
            columns = columns_by_position(columns, previous.col_spans, grid)
        elif len(columns) != grid.width:
            columns = realign_columns(columns, grid)
        code_parts = _code_part_labels(grid, n_header, columns) if n_header else {}
        if code_parts:
            columns = [
                Column(index=c.index, path=(*c.path, code_parts[c.index]), role=CODE_PART[code_parts[c.index]])
                if c.index in code_parts
                else c
                for c in columns
            ]
        if n_header or previous is None:
            previous = grid
        rows = [
            (r, list(grid.rows[r]) + [""] * (len(columns) - len(grid.rows[r]))) for r in range(n_header, len(grid.rows))
        ]
        if rows and code_parts:  # the 类|款|项 labels row is not data
            r0, cells0 = rows[0]
            rows[0] = (r0, ["" if i in code_parts else cell for i, cell in enumerate(cells0)])
        if grid.row_line_nos is None:  # PDF geometry: rows may be split, block by block
            rows = _merge_per_block(rows, columns)
        for r, cells in rows:
            yield TableRow(grid=grid, index=r, cells=cells, columns=columns)


def _merge_per_block(
    rows: list[tuple[int, list[str | None]]], columns: list[Column]
) -> list[tuple[int, list[str | None]]]:
    """Merge continuation rows separately in each side-by-side block (the income and the
    expenditure halves of a 收支总表 wrap independently), then put the rows back in order."""
    layout = _blocks_layout(columns)
    if len(layout) == 1:
        return merge_continuation_rows(rows, columns)
    pieces: list[tuple[int, int, list[str | None]]] = []
    for b, cols in enumerate(layout):
        keep = {c.index for c in cols}
        only = [(r, [v if i in keep else "" for i, v in enumerate(cells)]) for r, cells in rows]
        pieces += [(r, b, cells) for r, cells in merge_continuation_rows(only, cols)]
    pieces.sort(key=lambda t: (t[0], t[1]))
    return [(r, cells) for r, _, cells in pieces]


_LABEL_START = re.compile(
    r"^([一二三四五六七八九十]+、|\d+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|合\s*计|总\s*计|小\s*计|本年|其中)"
)


def _row_profile(cells: list[str | None], columns: list[Column]) -> tuple[set[int], set[int], set[int], bool]:
    """Columns holding text, label text, amounts; and whether a label starts a new row."""
    text, labels, amounts = set(), set(), set()
    starts = False
    for col in columns:
        t = collapse(cells[col.index]) if col.index < len(cells) else ""
        if not t:
            continue
        text.add(col.index)
        if looks_like_amount(t) and col.role == "amount":
            amounts.add(col.index)
        elif _ANY_CODE.match(t) or _CODE_PREFIX.match(t):
            starts = True
        else:
            labels.add(col.index)
            if _LABEL_START.match(t):
                starts = True
    return text, labels, amounts, starts


_COMPLETE_LABEL = re.compile(r"(支出|收入|资金|经费|预算|合计|小计|总计|结余|结转|费|款|金|额|数|计)$")


def _incomplete(cells: list[str | None], label_columns: set[int]) -> bool:
    """A label cut by a line wrap: it does not end the way row labels end (…支出, …资金, …合计)."""
    return any(not _COMPLETE_LABEL.search(collapse(cells[c])) for c in label_columns if collapse(cells[c]))


def merge_continuation_rows(
    rows: list[tuple[int, list[str | None]]], columns: list[Column]
) -> list[tuple[int, list[str | None]]]:
    """Join the pieces of one printed row that a badly ruled PDF splits over several grid rows:
    a name wrapped onto the next row (``九、医疗卫生与计划生育`` / ``支出``), or amounts and their
    label on adjacent rows. Rows are joined only where they do not compete for a cell."""
    out: list[tuple[int, list[str | None]]] = []
    for r, cells in rows:
        text, labels, amounts, starts = _row_profile(cells, columns)
        if not text:
            continue
        if out:
            pr, prev = out[-1]
            p_text, p_labels, p_amounts, _ = _row_profile(prev, columns)
            wrap = not amounts and not starts and labels and labels <= p_labels and _incomplete(prev, labels)
            complement = not (text & p_text) and (not amounts or not p_amounts) and (not labels or not p_labels)
            if wrap or complement:
                merged = list(prev)
                for c in text:
                    piece = cells[c] or ""
                    merged[c] = (merged[c] or "") + piece if c in p_text else piece
                out[-1] = (pr, merged)
                continue
        out.append((r, list(cells)))
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


def _code_part_labels(grid: Grid, n_header: int, columns: list[Column]) -> dict[int, str]:
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
        if values and all(_ANY_CODE.match(v) for v in values):
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


def _blocks_layout(columns: list[Column]) -> list[list[Column]]:
    """Split the columns into blocks: a new block starts at a code/label column that follows an
    amount column."""
    blocks: list[list[Column]] = []
    current: list[Column] = []
    seen_amount = False
    for col in columns:
        if col.role in ("lei", "kuan", "xiang", "code", "label") and seen_amount:
            blocks.append(current)
            current, seen_amount = [], False
        current.append(col)
        if col.role == "amount":
            seen_amount = True
    if current:
        blocks.append(current)
    return blocks


def split_code(text: str) -> tuple[str | None, str]:
    """``2013101 行政运行`` → (``2013101``, ``行政运行``); ``[201]一般公共服务`` likewise."""
    t = collapse(text)
    m = _ANY_CODE.match(t)
    if m:
        return m.group(1), ""
    m = _CODE_PREFIX.match(t)
    if m:
        return m.group(1), m.group(2)
    return None, t


def iter_blocks(row: TableRow, last_lei: dict[int, str]) -> Iterator[Block]:
    """Blocks of one data row. ``last_lei`` carries the last 类 code per block so that a row
    printing only 款|项 still gets its full code."""
    for b, cols in enumerate(_blocks_layout(row.columns)):
        parts = {"lei": "", "kuan": "", "xiang": ""}
        code: str | None = None
        label_raw_parts: list[str] = []
        amounts: list[AmountCell] = []
        for col in cols:
            raw = row.cells[col.index] if col.index < len(row.cells) else ""
            text = collapse(raw)
            if col.role in parts:
                if col.role == "lei" and re.fullmatch(r"\d{3}", text):
                    parts["lei"] = text
                elif col.role != "lei" and re.fullmatch(r"\d{1,2}", text):
                    parts[col.role] = text.zfill(2)  # spreadsheets drop the leading zero: "2" is 款 02
                elif text:
                    label_raw_parts.append(raw or "")
            elif col.role == "code":
                c, rest = split_code(raw or "")
                if c:
                    code = c
                    if rest:
                        label_raw_parts.append(rest)
                elif text:
                    label_raw_parts.append(raw or "")
            elif col.role == "label":
                if text:
                    label_raw_parts.append(raw or "")
            elif col.role == "amount":
                amounts.append(AmountCell(column=col, raw=raw))
        if parts["lei"] or parts["kuan"]:
            lei = parts["lei"] or last_lei.get(b, "")
            if parts["lei"]:
                last_lei[b] = parts["lei"]
            if lei:
                code = lei + parts["kuan"] + (parts["xiang"] if parts["kuan"] else "")
        label_raw = " ".join(p for p in label_raw_parts if p)
        label_code, label = split_code(label_raw)
        if code is None and label_code:
            code = label_code
        if code is None and not label and not any(collapse(a.raw) for a in amounts):
            continue
        yield Block(code=code, label=label, label_raw=label_raw, amounts=amounts, position=b)


def code_level(code: str) -> int:
    return {3: 1, 5: 2, 7: 3}.get(len(code), 0)


def is_func_code(code: str | None) -> bool:
    return bool(code) and bool(_FUNC_CODE.match(code)) and code_level(code) > 0


def is_econ_code(code: str | None) -> bool:
    return bool(code) and bool(re.fullmatch(r"[35]\d{2}(\d{2})?", code))
