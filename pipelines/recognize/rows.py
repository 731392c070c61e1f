"""Rows of a logical table: wrapped rows merged, sliver columns collapsed, and each data row cut
into blocks (code + label + amounts). Side-by-side layouts (收支总表 income|expenditure, 基本支出
two-column economic tables) give several blocks per row; codes printed in 类|款|项 columns or in
one are made whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipelines.normalize.textnorm import collapse, looks_like_amount
from pipelines.read.model import Grid
from pipelines.recognize.columns import (
    ANY_CODE,
    CODE_PART,
    CODE_PREFIX,
    FUNC_CODE,
    Column,
    code_part_labels,
    columns_by_position,
    count_header_rows,
    infer_columns,
    realign_columns,
    resolve_columns,
)
from pipelines.recognize.tables import LogicalTable

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
    unit_code: str | None = None  # a 单位编码 column's code (西安 ``201`` / ``201001``): the row is a unit
    indent: float | None = None  # how far its name is indented (``Grid.indents``), for names printed without a code
    label_header: tuple[str, ...] = ()  # the header path of its label column (支出功能分类, 部门预算支出经济分类)


@dataclass(slots=True)
class TableRow:
    grid: Grid
    index: int
    cells: list[str | None]
    columns: list[Column]
    indents: list[float | None] | None = None  # per cell, of the piece of the printed row the cell came from

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
    indents: list[list[float | None]] | None = None,
) -> tuple[
    list[list[str | None]],
    list[list[tuple[int, int]]] | None,
    list[tuple[float, float]] | None,
    list[list[float | None]] | None,
]:
    """Badly ruled tables (Jiangsu 2018) come out with many thin columns: some hold nothing at all,
    others only a few cells while their neighbour holds the rest (a header in one, its amounts in
    the next). Drop the empty ones and fold a thin column into its neighbour when it has a real
    cell in at most a third of the rows and never holds text beside text of that neighbour.
    Well-formed tables have a real cell in every row of every column and are left alone."""
    width = max((len(r) for r in rows), default=0)
    if width < 2:
        return rows, origins, spans, indents
    grid = [list(r) + [""] * (width - len(r)) for r in rows]
    target = list(range(width))  # old column → column it ends up in (old numbering)

    def real(c: int) -> int:
        return sum(1 for row in grid if row[c] is not None)

    def filled(c: int) -> set[int]:
        return {i for i, row in enumerate(grid) if row[c] not in (None, "")}

    alive = [c for c in range(width) if filled(c)]
    if not alive:
        return rows, origins, spans, indents
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
        return rows, origins, spans, indents
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
    out_indents = None
    if indents is not None:
        # a folded column's text moved into its neighbour: so does its indentation
        out_indents = [
            [next((row[o] for o in range(len(row)) if target[o] == c and row[o] is not None), None) for c in alive]
            for row in (list(r) + [None] * (width - len(r)) for r in indents)
        ]
    return out_rows, out_origins, out_spans, out_indents


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
        indents = None
        if all(x.indents is not None for x in run):
            indents = [row for x in run for row in x.indents]
        rows, new_origins, spans, new_indents = _collapse_columns(stacked, origins, g.col_spans, indents)
        offset = 0
        for x in run:
            n = len(x.rows)
            part_origins = None
            if new_origins is not None:
                part_origins = [[(r0 - offset, c0) for r0, c0 in row] for row in new_origins[offset : offset + n]]
            out.append(
                Grid(rows=rows[offset : offset + n], page_no=x.page_no, row_line_nos=None, top=x.top,
                     origins=part_origins, col_spans=spans,
                     indents=new_indents[offset : offset + n] if new_indents is not None else None)
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
        code_parts = code_part_labels(grid, n_header, columns) if n_header else {}
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
            merged = _merge_per_block(rows, columns)
        else:
            merged = [(r, cells, [r]) for r, cells in rows]
        for r, cells, pieces in merged:
            yield TableRow(grid=grid, index=r, cells=cells, columns=columns, indents=_row_indents(grid, pieces))


def _row_indents(grid: Grid, pieces: list[int]) -> list[float | None] | None:
    """Per cell, the indentation in the first piece of the printed row that has text in it (a row
    split by a wrap takes its name from a later piece when the amounts stand on a line above it)."""
    if grid.indents is None:
        return None
    out: list[float | None] = []
    for c in range(grid.width):
        out.append(
            next((grid.indents[r][c] for r in pieces if r < len(grid.indents) and c < len(grid.indents[r])
                  and grid.indents[r][c] is not None), None)
        )  # fmt: skip
    return out


def _merge_per_block(
    rows: list[tuple[int, list[str | None]]], columns: list[Column]
) -> list[tuple[int, list[str | None], list[int]]]:
    """Merge continuation rows separately in each side-by-side block (the income and the
    expenditure halves of a 收支总表 wrap independently), then put the rows back in order. Each
    merged row comes with the grid rows it was joined from."""
    layout = _blocks_layout(columns)
    if len(layout) == 1:
        members: list[list[int]] = []
        merged = merge_continuation_rows(rows, columns, members=members)
        return [(r, cells, m) for (r, cells), m in zip(merged, members, strict=True)]
    pieces: list[tuple[int, int, list[str | None], list[int]]] = []
    for b, cols in enumerate(layout):
        keep = {c.index for c in cols}
        only = [(r, [v if i in keep else "" for i, v in enumerate(cells)]) for r, cells in rows]
        members = []
        merged = merge_continuation_rows(only, cols, adjacent_only=True, members=members)
        pieces += [(r, b, cells, m) for (r, cells), m in zip(merged, members, strict=True)]
    pieces.sort(key=lambda t: (t[0], t[1]))
    return [(r, cells, m) for r, _, cells, m in pieces]


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
        elif looks_like_amount(t) and col.role in ("line_no", "prior"):
            continue  # a row number or last year's figure: neither a label nor this year's amount
        elif ANY_CODE.match(t) or CODE_PREFIX.match(t) or (col.role == "unit_code" and t.isdigit()):
            starts = True  # a code (a 单位编码 too) begins a printed row
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
    rows: list[tuple[int, list[str | None]]],
    columns: list[Column],
    adjacent_only: bool = False,
    members: list[list[int]] | None = None,
) -> list[tuple[int, list[str | None]]]:
    """Join the pieces of one printed row that a badly ruled PDF splits over several grid rows:
    a name wrapped onto the next row (``九、医疗卫生与计划生育`` / ``支出``), or amounts and their
    label on adjacent rows. Rows are joined only where they do not compete for a cell. ``members``
    receives, per row returned, the grid rows joined into it."""
    out: list[tuple[int, list[str | None]]] = []
    joined: list[list[int]] = members if members is not None else []
    last_r: int | None = None
    for r, cells in rows:
        text, labels, amounts, starts = _row_profile(cells, columns)
        if not text:
            continue
        # one block of a side-by-side table (``adjacent_only``): a piece is joined to the row right above
        # only; rows blank in this block between them hold other blocks' rows (公开06's 合计 line)
        gap = adjacent_only and last_r is not None and r != last_r + 1
        last_r = r
        if out and not gap:
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
                joined[-1].append(r)
                continue
        out.append((r, list(cells)))
        joined.append([r])
    return out


def _blocks_layout(columns: list[Column]) -> list[list[Column]]:
    """Split the columns into blocks: a new block starts at a code/label column that follows an
    amount column."""
    blocks: list[list[Column]] = []
    current: list[Column] = []
    seen_amount = False
    for col in columns:
        if col.role in ("lei", "kuan", "xiang", "code", "unit_code", "label") and seen_amount:
            blocks.append(current)
            current, seen_amount = [], False
        current.append(col)
        if col.role == "amount":
            seen_amount = True
    if current:
        blocks.append(current)
    return blocks


# a cross-classified label (2010601-行政运行50101-工资奖金津补贴30101-基本工资) holds further codes
_ANOTHER_CODE = re.compile(r"[2-5]\d{4,6}-")


def split_code(text: str) -> tuple[str | None, str]:
    """``2013101 行政运行`` → (``2013101``, ``行政运行``); ``[201]一般公共服务`` likewise."""
    t = collapse(text)
    m = ANY_CODE.match(t)
    if m:
        return m.group(1), ""
    m = CODE_PREFIX.match(t)
    if m:
        rest = m.group(2)
        if not _ANOTHER_CODE.search(rest):  # 30101-基本工资: the hyphen joins code and name
            rest = rest.lstrip("-－—")
        return m.group(1), rest
    return None, t


_TRAILING_AMOUNT = re.compile(r"^(.*?[^\d,.\-])\s*(-?\d{1,3}(?:,\d{3})*\.\d{2})$", re.S)


def _amount_out_of_label(label_raw: str, amounts: list[AmountCell]) -> str:
    """A badly ruled PDF may put a row's only amount into its name cell (``基本工资2,117.68`` with
    the 金额 cell merged away): when the block has one amount column and it is empty, the number
    that ends the name is that amount."""
    if len(amounts) != 1 or collapse(amounts[0].raw):
        return label_raw
    m = _TRAILING_AMOUNT.match(collapse(label_raw))
    if not m:
        return label_raw
    amounts[0].raw = m.group(2)
    return m.group(1)


_SEGMENT = re.compile(r"\d{2}")


def _kuan_key(block: int) -> int:
    """Where ``last_lei`` keeps a block's last 款 code (beside its last 类 under ``block``)."""
    return -1 - block


def iter_blocks(row: TableRow, last_lei: dict[int, str]) -> Iterator[Block]:
    """Blocks of one data row. ``last_lei`` carries the last 类 code per block so that a row
    printing only 款|项 still gets its full code."""
    for b, cols in enumerate(_blocks_layout(row.columns)):
        parts = {"lei": "", "kuan": "", "xiang": ""}
        code: str | None = None
        unit_code: str | None = None
        label_raw_parts: list[str] = []
        amounts: list[AmountCell] = []
        indent: float | None = None
        label_header = next((col.path for col in cols if col.role == "label"), ())
        for col in cols:
            raw = row.cells[col.index] if col.index < len(row.cells) else ""
            text = collapse(raw)
            if indent is None and text and col.role in ("code", "label") and row.indents is not None:
                indent = row.indents[col.index] if col.index < len(row.indents) else None
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
                    if len(c) == 3:
                        last_lei[b] = c
                    if rest:
                        label_raw_parts.append(rest)
                elif _SEGMENT.fullmatch(text) and last_lei.get(b):
                    # 西安 表5 prints a 款 row's own two digits only (``10`` 人力资源事务 under 201)
                    code = last_lei[b] + text
                elif text:
                    label_raw_parts.append(raw or "")
            elif col.role == "label":
                if text:
                    label_raw_parts.append(raw or "")
            elif col.role == "unit_code" and re.fullmatch(r"\d{3,}", text):
                unit_code = text
            elif col.role == "amount":
                amounts.append(AmountCell(column=col, raw=raw))
        if parts["lei"] or parts["kuan"]:
            lei = parts["lei"] or last_lei.get(b, "")
            if parts["lei"]:
                last_lei[b] = parts["lei"]
                last_lei.pop(_kuan_key(b), None)
            if lei:
                code = lei + parts["kuan"] + (parts["xiang"] if parts["kuan"] else "")
                if parts["kuan"]:
                    last_lei[_kuan_key(b)] = lei + parts["kuan"]
        elif parts["xiang"] and _kuan_key(b) in last_lei:
            # 烟台 公开表5: a 项 row prints only its own segment (``03`` 培训支出 under ``08`` under ``205``),
            # and the 款 it belongs to may stand on the previous page
            code = last_lei[_kuan_key(b)] + parts["xiang"]
        label_raw = " ".join(p for p in label_raw_parts if p)
        label_raw = _amount_out_of_label(label_raw, amounts)
        label_code, label = split_code(label_raw)
        if code is None and label_code:
            code = label_code
        if code is None and not label and not any(collapse(a.raw) for a in amounts):
            continue
        yield Block(
            code=code, label=label, label_raw=label_raw, amounts=amounts, position=b, unit_code=unit_code,
            indent=indent, label_header=label_header,
        )  # fmt: skip


def code_level(code: str) -> int:
    return {3: 1, 5: 2, 7: 3}.get(len(code), 0)


def is_func_code(code: str | None) -> bool:
    return bool(code) and bool(FUNC_CODE.match(code)) and code_level(code) > 0


def is_econ_code(code: str | None) -> bool:
    return bool(code) and bool(re.fullmatch(r"[35]\d{2}(\d{2})?", code))
