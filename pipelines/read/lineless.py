"""Tables printed without ruling lines: words placed into columns by their positions.

pdfplumber finds tables from ruling lines; a publisher that sets its tables as aligned text (no frame,
no rules) leaves only lines of words. A run of lines that each print an amount is such a table's body:

- amount columns are the clusters of the amounts' right edges (figures are set right-aligned);
- left of them, code words (``201``, ``06``, ``2010601``) standing before any other word are code
  columns clustered by their left edges, and the rest is the name column;
- the lines just above the body are its header: each label goes to the column it stands over, or, when
  it stands over several, to the first of them with the others marked merged (``None``), as a ruled
  grid gives a merged header cell;
- a line without an amount inside the body, in the name zone only, continues the name above it.

The result is an ordinary ``Grid``, so the recognizers read it as any other, and its identities (合计 =
Σ 类, 类 = Σ款 …) decide whether the reading is right: a table that does not add up is ``unread``, its
numbers are not published. Pages with a ruled table are never read this way.
"""

from __future__ import annotations

import re

from pipelines.read.lines import lines_from_words
from pipelines.read.model import Grid, TextLine

_AMOUNT = re.compile(r"^[-−]?(\d{1,3}(,\d{3})+(\.\d{1,2})?|\d+\.\d{1,2})$")
_CODE = re.compile(r"^\d{2,7}$")
_TOTAL = re.compile(r"^(合计|总计|小计)")
_COLUMN_GAP = 8.0  # points between two columns' right edges
_MIN_BODY = 3  # lines with an amount
_MAX_HEADER = 4  # lines above the body that can be its header


def _lines(words: list[dict]) -> list[list[dict]]:
    """Words grouped into printed lines, top to bottom, each left to right."""
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        height = max(w["bottom"] - w["top"], 1.0)
        if lines and abs(lines[-1][0]["top"] - w["top"]) <= 0.5 * height:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


def _is_amount(word: dict) -> bool:
    return bool(_AMOUNT.match(word["text"]))


def _clusters(edges: list[tuple[float, float, float]], gap: float) -> list[tuple[float, float]]:
    """(left, right) ranges of words whose ``key`` edges (first item) lie within ``gap`` of each other;
    items are (key, x0, x1)."""
    out: list[list[float]] = []
    for key, x0, x1 in sorted(edges):
        if out and key - out[-1][2] <= gap:
            out[-1][0] = min(out[-1][0], x0)
            out[-1][1] = max(out[-1][1], x1)
            out[-1][2] = key
        else:
            out.append([x0, x1, key])
    return [(a, b) for a, b, _ in out]


_ROW_START = re.compile(
    r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|\d{3,7}$|合计|总计|小计)"
)


def _body_runs(lines: list[list[dict]]) -> list[tuple[int, int]]:
    """(first, last) line indexes of runs of lines that print amounts, allowing up to three lines
    without one inside a run (rows with blank amounts, wrapped names)."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if not any(_is_amount(w) for w in lines[i]):
            i += 1
            continue
        start = end = i
        j = i + 1
        while j < len(lines) and j - end <= 3:
            if any(_is_amount(w) for w in lines[j]):
                end = j
            j += 1
        body = [lines[k] for k in range(start, end + 1)]
        with_amounts = [ln for ln in body if any(_is_amount(w) for w in ln)]
        several = sum(1 for ln in with_amounts if sum(map(_is_amount, ln)) >= 2)
        if (len(with_amounts) >= _MIN_BODY and several >= 2) or any(sum(map(_is_amount, ln)) >= 4 for ln in body):
            runs.append((start, end))
        i = end + 1
    return runs


def _leading_codes(line: list[dict], first_amount: float) -> int:
    """How many words at the start of a line are codes (``201`` ``06`` ``01``, ``2010601``)."""
    n = 0
    for w in line:
        if w["x1"] > first_amount or not _CODE.match(w["text"]):
            break
        n += 1
    return n if n < len(line) else 0  # a line of codes only is no row of codes and names


def _columns(body: list[list[dict]]) -> list[tuple[str, float, float]] | None:
    """(role, left, right) of each column, left to right: ``code`` columns, ``name`` columns (one left
    of the amounts, one more in any gap between amount columns that holds words: a two-sided 收支总表),
    ``amount`` columns."""
    amount_cols = _clusters([(w["x1"], w["x0"], w["x1"]) for ln in body for w in ln if _is_amount(w)], _COLUMN_GAP)
    if not amount_cols:
        return None
    first_amount = amount_cols[0][0]
    codes: list[dict] = []
    names: dict[int, list[dict]] = {}
    for ln in body:
        lead = _leading_codes(ln, first_amount)
        codes += ln[:lead]
        for w in ln[lead:]:
            if not _is_amount(w):
                gap = sum(1 for _, right in amount_cols if right < (w["x0"] + w["x1"]) / 2)
                names.setdefault(gap, []).append(w)
    columns = [("code", a, b) for a, b in _clusters([(w["x0"], w["x0"], w["x1"]) for w in codes], _COLUMN_GAP)]
    for words in names.values():
        extent = [w for w in words if not _TOTAL.match(w["text"])] or words  # 合计 may stand under the codes
        columns.append(("name", min(w["x0"] for w in extent), max(w["x1"] for w in extent)))
    columns += [("amount", a, b) for a, b in amount_cols]
    columns.sort(key=lambda c: (c[1], c[2]))
    return columns


def _with_header_columns(columns, header: list[list[dict]]) -> list[tuple[str, float, float]]:
    """Columns no body row fills (事业收入 | 其他收入 printed empty) exist only in the header: a header
    label right of the names that stands over no column is an amount column of its own."""
    first_amount = min(a for r, a, _ in columns if r == "amount")
    extra: list[tuple[float, float]] = []
    for ln in header:
        for w in ln:
            if w["x0"] < first_amount - 1 or any(w["x0"] < b + 1 and w["x1"] > a - 1 for _, a, b in columns):
                continue
            if not any(w["x0"] < b and w["x1"] > a for a, b in extra):
                extra.append((w["x0"], w["x1"]))
    return sorted([*columns, *(("amount", a, b) for a, b in extra)], key=lambda c: (c[1], c[2]))


def _bounds(columns: list[tuple[str, float, float]]) -> list[float]:
    """Boundaries between adjacent columns (midpoints of their gaps), outermost open."""
    inner = [(columns[k][2] + columns[k + 1][1]) / 2 for k in range(len(columns) - 1)]
    return [float("-inf"), *inner, float("inf")]


def _column_of(word: dict, bounds: list[float]) -> int:
    center = (word["x0"] + word["x1"]) / 2
    for k in range(len(bounds) - 1):
        if center < bounds[k + 1]:
            return k
    return len(bounds) - 2


def _nearest(columns, role: str, word: dict, key: str) -> int | None:
    """The column of ``role`` whose range holds (or is nearest to) the word's ``key`` edge."""
    best = None
    for k, (r, a, b) in enumerate(columns):
        if r != role:
            continue
        x = word[key]
        d = 0.0 if a - 1 <= x <= b + 1 else min(abs(x - a), abs(x - b))
        if best is None or d < best[0]:
            best = (d, k)
    return None if best is None else best[1]


def _body_row(line: list[dict], columns, bounds) -> list[str]:
    cells = [""] * len(columns)
    first_amount = min(a for r, a, _ in columns if r == "amount")
    lead = _leading_codes(line, first_amount)
    for n, w in enumerate(line):
        if n < lead:
            k = _nearest(columns, "code", w, "x0")
        elif _is_amount(w):
            k = _nearest(columns, "amount", w, "x1")
        else:
            k = _column_of(w, bounds)
            if columns[k][0] != "name":
                k = _nearest(columns, "name", w, "x0") if columns[k][0] == "code" or w["text"] not in "-—" else k
        if k is None:
            continue
        sep = "" if columns[k][0] == "name" else " "
        cells[k] = (cells[k] + sep + w["text"]) if cells[k] else w["text"]
    return cells


def _header_column(word: dict, columns, bounds) -> int:
    """The column a header label belongs to: the one where it starts; a label starting in the gap
    between two columns heads the right one (labels are set left or centred, figures right-aligned,
    so a 合计 label starts left of its figures)."""
    for k, (_, a, b) in enumerate(columns):
        if a - 1 <= word["x0"] <= b + 1:
            return k
    for k, (_, a, _b) in enumerate(columns):
        if word["x0"] < a:
            return k
    return _column_of(word, bounds)


def _header_row(line: list[dict], columns, bounds) -> list[str | None]:
    cells: list[str | None] = [""] * len(columns)
    for w in line:
        covered = [k for k in range(len(columns)) if w["x0"] < bounds[k + 1] - 1 and w["x1"] > bounds[k] + 1]
        # a label stretching over several whole columns is a merged cell; over one column its own
        spanned = [k for k in covered if w["x0"] <= columns[k][1] + 1 and w["x1"] >= columns[k][2] - 1]
        target = spanned if len(spanned) > 1 else [_header_column(w, columns, bounds)]
        first = target[0]
        cells[first] = (cells[first] or "") + w["text"]
        for k in target[1:]:
            cells[k] = None
    return cells


def _is_header_line(line: list[dict]) -> bool:
    text = "".join(w["text"] for w in line)
    return not any(_is_amount(w) for w in line) and not text.endswith("表") and "单位：" not in text


_SENTENCE = re.compile(r"[。；;]|，.*，")
_TITLE_LOOKBACK = 8  # lines above a body where its title may stand (title, unit line, header rows)


def _text(line: list[dict]) -> str:
    return "".join(w["text"] for w in line)


def _titled(lines: list[list[dict]], start: int) -> bool:
    """A table has a title: a short line ending in 表 (…预算表, …情况表（续）) shortly above its body."""
    for ln in lines[max(0, start - _TITLE_LOOKBACK) : start]:
        text = _text(ln)
        if len(text) <= 60 and not _SENTENCE.search(text) and re.search(r"表([（(][^）)]*[）)])?$", text):
            return True
    return False


def page_items(words: list[dict], page_no: int) -> list[TextLine | Grid]:
    """The page's text lines and the grids of its tables printed without ruling lines, in reading order."""
    lines = _lines(words)
    items: list[tuple[float, int, TextLine | Grid]] = []
    used: set[int] = set()
    for start, end in _body_runs(lines):
        if not _titled(lines, start) or any(_SENTENCE.search(_text(ln)) for ln in lines[start : end + 1]):
            continue  # figures in prose or a chart's labels, not a table
        body = lines[start : end + 1]
        columns = _columns(body)
        if columns is None or sum(1 for c in columns if c[0] == "amount") < 1:
            continue
        head_start = start
        while head_start > 0 and start - head_start < _MAX_HEADER and _is_header_line(lines[head_start - 1]):
            head_start -= 1
        columns = _with_header_columns(columns, lines[head_start:start])
        bounds = _bounds(columns)
        rows: list[list[str | None]] = [_header_row(ln, columns, bounds) for ln in lines[head_start:start]]
        body_start = len(rows)
        for ln in body:
            own_row = any(_is_amount(w) for w in ln) or _ROW_START.match(ln[0]["text"]) or len(rows) == body_start
            if own_row:
                rows.append(_body_row(ln, columns, bounds))
            else:  # a wrapped name: joins the name cell it stands under in the row above
                for w in ln:
                    k = _column_of(w, bounds)
                    rows[-1][k] = (rows[-1][k] or "") + w["text"]
        spans = [(a, b) for _, a, b in columns]
        top = lines[head_start][0]["top"]
        items.append((top + 0.5, 1, Grid(rows=rows, page_no=page_no, top=top, col_spans=spans)))
        used.update(range(head_start, end + 1))
    rest = [w for k, ln in enumerate(lines) if k not in used for w in ln]
    for top, text in lines_from_words(rest):
        items.append((top, 0, TextLine(text=text, page_no=page_no, top=top)))
    items.sort(key=lambda t: (t[0], t[1]))
    return [it for _, _, it in items]
