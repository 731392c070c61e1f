"""Reader for PDFs with a text layer, through pdfplumber.

Tables come from ruling lines (``find_tables``); the text outside them is rebuilt into lines from
word positions (``text_lines``). Some publishers draw the title and the unit line inside the table frame (Jiangsu); such leading rows,
which hold one cell of text and no amounts, are lifted out of the grid into text lines so that the
recognizers find titles the same way on every layout.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
from pdfplumber.utils import extract_text

from pipelines.normalize.textnorm import is_meta_cell, looks_like_amount
from pipelines.read.lineless import page_items
from pipelines.read.lines import lines_from_words
from pipelines.read.model import Grid, Page, TextLine
from pipelines.read.pdfium_objects import PdfiumPages, pdfium_objects_enabled
from pipelines.read.plumber_objects import parse_objects
from pipelines.read.progress import report
from pipelines.read.table_finder import find_tables
from pipelines.read.triage import text_page, triage_enabled

# 十四、… or （十九）…: the numbered rows of a 收支总表 side
_ORDINAL_LABEL = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")


def _lift_title_rows(rows: list[list[str | None]]) -> tuple[list[str], list[list[str | None]]]:
    lifted: list[str] = []
    while rows:
        filled = [c for c in rows[0] if c not in (None, "")]
        # A numbered label (十四、…, （十九）…) standing alone right of an empty first cell is a row of a
        # continued 收支总表 page, not a title: it stays in the grid.
        row_label = rows[0][0] == "" and len(filled) == 1 and _ORDINAL_LABEL.match(filled[0].strip())
        if len(filled) == 1 and not looks_like_amount(filled[0]) and not row_label:
            lines = [ln.strip() for ln in (filled[0] or "").split("\n") if ln.strip()]
            # Some frames swallow the whole table text into the title cell; keep the title and
            # the unit line, the rest repeats the grid below.
            meta_at = max((i for i, ln in enumerate(lines[:4]) if is_meta_cell(ln)), default=None)
            if meta_at is not None:
                n = meta_at + 1
                while n < len(lines) and all(is_meta_cell(ln) for ln in lines[:n]):
                    n += 1  # "公开09表" alone is not the title: take the line after it too
                lifted.extend(lines[:n])
            elif len(lines) <= 3:
                lifted.extend(lines)
            else:
                lifted.append(lines[0])
            rows = rows[1:]
            continue
        if filled and any(is_meta_cell(c) for c in filled) and not any(looks_like_amount(c) for c in filled):
            lifted.append(" ".join(c.replace("\n", " ") for c in filled))
            rows = rows[1:]
            continue
        if not filled:
            rows = rows[1:]
            continue
        break
    return lifted, rows


def _column_spans(table, n_cols: int) -> list[tuple[float, float]] | None:
    """The x-range of every column (distinct left edges of the cells; the last ends at the frame)."""
    lefts = sorted({round(b[0], 1) for row in table.rows for b in row.cells if b})
    if len(lefts) != n_cols:
        return None
    ends = [*lefts[1:], table.bbox[2]]
    return list(zip(lefts, ends, strict=True))


def _cell_origins(table, n_rows: int, n_cols: int) -> list[list[tuple[int, int]]] | None:
    """For every (row, column) position, the position of the cell that covers it: merged header
    cells cover several columns (a group label) or several rows (a label standing alone)."""
    try:
        # Column and row boundaries are the distinct left / top edges of all cells; the bboxes of
        # pdfplumber's Column objects are widened by merged cells and cannot be used directly.
        lefts = sorted({round(b[0], 1) for row in table.rows for b in row.cells if b})
        tops = sorted({round(b[1], 1) for row in table.rows for b in row.cells if b})
        if len(lefts) != n_cols or len(tops) != n_rows:
            return None
        x1, y1 = table.bbox[2], table.bbox[3]
        col_x = [(lefts[i] + (lefts[i + 1] if i + 1 < n_cols else x1)) / 2 for i in range(n_cols)]
        row_y = [(tops[i] + (tops[i + 1] if i + 1 < n_rows else y1)) / 2 for i in range(n_rows)]
        origins = [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
        for r, row in enumerate(table.rows):
            for c, bbox in enumerate(row.cells):
                if bbox is None:
                    continue
                x0, top, x1, bottom = bbox
                for rr in range(r, n_rows):
                    if not (top <= row_y[rr] <= bottom):
                        break
                    for cc in range(c, n_cols):
                        if not (x0 <= col_x[cc] <= x1):
                            break
                        origins[rr][cc] = (r, c)
        return origins
    except (AttributeError, IndexError):
        return None


def _cell_indents(chars: list[dict], table, n_rows: int, n_cols: int) -> list[list[float | None]]:
    """For every cell, how far its first line of text starts right of the cell's left edge, in
    character widths (the first character's distance over its size). pdfplumber drops the
    full-width spaces a publisher indents a 款 or 项 name with from the cell's text; their width
    stays in the position of the first character printed after them."""
    out: list[list[float | None]] = [[None] * n_cols for _ in range(n_rows)]
    x0, top, x1, bottom = table.bbox
    inside = sorted(
        (ch for ch in chars if ch["text"].strip() and x0 <= ch["x0"] < x1 and top <= ch["top"] < bottom),
        key=lambda ch: ch["top"],
    )
    tops = [ch["top"] for ch in inside]
    for r, row in enumerate(table.rows[:n_rows]):
        for c, bbox in enumerate(row.cells[:n_cols]):
            if bbox is None:
                continue
            cx0, ctop, cx1, cbottom = bbox
            lo, hi = bisect_left(tops, ctop - 0.5), bisect_left(tops, cbottom)
            # a character belongs to the cell its middle lies in (as pdfplumber's extract decides)
            mine = [ch for ch in inside[lo:hi] if cx0 <= (ch["x0"] + ch["x1"]) / 2 < cx1
                    and ctop <= (ch["top"] + ch["bottom"]) / 2 < cbottom]  # fmt: skip
            if not mine:
                continue
            first_top = mine[0]["top"]
            first_line = [ch for ch in mine if ch["top"] - first_top < 0.5 * (mine[0]["size"] or 1)]
            first = min(first_line, key=lambda ch: ch["x0"])
            size = first["size"] or (first["x1"] - first["x0"]) or 1
            out[r][c] = round((first["x0"] - cx0) / size, 2)
    return out


@dataclass(frozen=True, slots=True)
class _TableCells:
    """A table pdfplumber found: its rows of cell boxes (None where a merged cell covers) and its box."""

    rows: list
    bbox: tuple[float, float, float, float]


class _CharIndex:
    """A page's characters ordered by the middle of their height, so that the characters of a row
    are found by bisection rather than by testing every character of the page for every row."""

    def __init__(self, chars: list[dict]) -> None:
        self.chars = chars
        middles = [((ch["top"] + ch["bottom"]) / 2, (ch["x0"] + ch["x1"]) / 2) for ch in chars]
        self._order = sorted(range(len(chars)), key=lambda i: middles[i][0])
        self._v_mids = [middles[i][0] for i in self._order]
        self._middles = middles

    def extract(self, table: _TableCells) -> list[list[str | None]]:
        """``pdfplumber.table.Table.extract()``: the same texts (a character belongs to the cell
        its middle lies in, taken in the page's order, the text built by ``extract_text``)."""
        out: list[list[str | None]] = []
        middles, chars = self._middles, self.chars
        for row in table.rows:
            x0, top, x1, bottom = row.bbox
            lo, hi = bisect_left(self._v_mids, top), bisect_left(self._v_mids, bottom)
            in_row = sorted(i for i in self._order[lo:hi] if x0 <= middles[i][1] < x1)
            texts: list[str | None] = []
            for cell in row.cells:
                if cell is None:
                    texts.append(None)
                    continue
                cx0, ctop, cx1, cbottom = cell
                mine = [chars[i] for i in in_row if cx0 <= middles[i][1] < cx1 and ctop <= middles[i][0] < cbottom]
                texts.append(extract_text(mine) if mine else "")
            out.append(texts)
        return out


def text_lines(page: pdfplumber.page.Page) -> list[tuple[float, str]]:
    """Lines of running text as (top, text), rebuilt from word positions.

    Word and ONLYOFFICE exports print digits and quote marks in a separate text run set about 0.4
    of the font size lower than the characters around them (DOMAIN.md P1, P2); pdfplumber's own
    lines, clustered with an absolute 3 pt tolerance, put them on a line of their own. Here a word
    joins a line when its top is within half a line height of the line's first word and it does
    not overlap a word already there, so ``年初预算为 1560.05 万元`` stays one sentence. Lines whose
    words share a baseline come out exactly as ``extract_text_lines`` gives them.
    """
    return lines_from_words(page.extract_words())


def read_pdf_page(page: pdfplumber.page.Page, page_no: int) -> Page:
    out = Page(page_no=page_no, char_count=len(page.chars))
    if not page.chars:
        return out
    tables = find_tables(page)
    if not tables:  # no ruled table: any table on the page is aligned text
        out.items = page_items(page.extract_words(), page_no)
        return out
    rest = page
    for table in tables:
        try:
            rest = rest.outside_bbox(table.bbox)
        except ValueError:  # bbox partly off the page
            continue
    items: list[tuple[float, int, TextLine | Grid]] = []
    for top, text in text_lines(rest):
        items.append((top, 0, TextLine(text=text, page_no=page_no, top=top)))
    page_chars = _CharIndex(page.chars)
    for found in tables:
        table = _TableCells(found.rows, found.bbox)  # pdfplumber recomputes ``rows`` at every access
        rows = [[None if c is None else c.replace("\r", "") for c in row] for row in page_chars.extract(table)]
        width = max((len(r) for r in rows), default=0)
        origins = _cell_origins(table, len(rows), width)
        spans = _column_spans(table, width)
        indents = _cell_indents(page_chars.chars, table, len(rows), width)
        lifted, kept = _lift_title_rows(rows)
        skipped = len(rows) - len(kept)
        top = table.bbox[1]
        for k, text in enumerate(lifted):
            items.append((top + k * 0.01, 0, TextLine(text=text, page_no=page_no, top=top)))
        if kept:
            kept_origins = None
            if origins is not None:
                kept_origins = [[(max(r0 - skipped, 0), c0) for r0, c0 in row] for row in origins[skipped:]]
            grid = Grid(rows=kept, page_no=page_no, top=top, origins=kept_origins, col_spans=spans,
                        indents=indents[skipped:])  # fmt: skip
            items.append((top + 0.5, 1, grid))
    items.sort(key=lambda t: (t[0], t[1]))
    out.items = [it for _, _, it in items]
    return out


def decode_content_streams(page: pdfplumber.page.Page) -> None:
    """Decompress the page's content streams (cheap: no interpretation); raises as pdfminer
    would while reading the page if one is damaged."""
    from pdfminer.pdftypes import resolve1

    for stream in page.page_obj.contents:
        resolve1(stream).get_data()


# pdfminer keeps every object it has parsed until the document is closed, so memory grows with the
# pages read; reopening the file every so many pages bounds it (a 480-page PDF: 280 MB peak read in
# one go, 83 MB in chunks of 50, and no slower).
PAGES_PER_OPEN = 50


def read_pdf(
    path: Path, page_numbers: list[int] | None = None, *, triage: bool | None = None
) -> tuple[list[Page], int]:
    """Read the given 1-based pages (all by default). Returns the pages and the page count.

    With page triage (the default; ``BUDGETWH_PAGE_TRIAGE=0`` turns it off) pdfium reads the pages
    that hold running text only; pdfplumber reads the rest, the pages that need its geometry
    (``pipelines/read/triage.py``), from the characters and ruling lines pdfium finds on them where
    it reads them as pdfminer would (``pipelines/read/pdfium_objects.py``). pdfium loads each page
    once for both. When the triage cannot read a page, pdfplumber reads every page, as when pdfium
    cannot open the file at all."""
    report("opening the PDF")
    use_triage = triage_enabled() if triage is None else triage
    use_objects = pdfium_objects_enabled()
    with PdfiumPages(path, enabled=use_triage or use_objects) as pdfium_pages:
        if not pdfium_pages.opened:
            use_triage = False
        try:
            return _read_pages(path, page_numbers, pdfium_pages, triage=use_triage, objects=use_objects)
        except _TriageFailed:
            return _read_pages(path, page_numbers, pdfium_pages, triage=False, objects=use_objects)


class _TriageFailed(Exception):
    """pdfium could not read a page for the triage: no page of the file is triaged."""


def _triaged(pdfium_pages: PdfiumPages, page_number: int):
    """The pypdfium2 page and, when it holds running text only, its reading; raises _TriageFailed."""
    if page_number > len(pdfium_pages):  # pdfium counts fewer pages than pdfminer: pdfminer reads this one
        return None, None
    try:
        pdf_page = pdfium_pages.page(page_number)
    except Exception as exc:
        raise _TriageFailed from exc
    try:
        return pdf_page, text_page(pdf_page, page_number)
    except Exception as exc:
        pdf_page.close()
        raise _TriageFailed from exc


def _read_pages(
    path: Path, page_numbers: list[int] | None, pdfium_pages: PdfiumPages, *, triage: bool, objects: bool
) -> tuple[list[Page], int]:
    pages: list[Page] = []
    count = 0
    wanted: list[int] = []
    start = 0
    while start == 0 or start < len(wanted):
        with pdfplumber.open(path) as pdf:
            if start == 0:
                count = len(pdf.pages)
                wanted = page_numbers or list(range(1, count + 1))
            for n in wanted[start : start + PAGES_PER_OPEN]:
                report("reading pages", len(pages), len(wanted))
                page = pdf.pages[n - 1]
                pdf_page, text = _triaged(pdfium_pages, n) if triage else (None, None)
                try:
                    if text is not None:
                        # pdfium reads damaged streams leniently; pdfminer must still be able to
                        # decode them, or the file is damaged (and quarantined as such).
                        decode_content_streams(page)
                        pages.append(text)
                        continue
                    fast = pdfium_pages.objects(page, pdf_page) if objects else None
                finally:
                    if pdf_page is not None:
                        pdf_page.close()
                if fast is not None:
                    decode_content_streams(page)  # as above: a stream pdfminer cannot decode is damage
                    page._objects = fast  # pdfplumber's cache of the page's objects: it parses none
                else:
                    page._objects = parse_objects(page)  # pdfminer reads the page; the same objects, sooner
                pages.append(read_pdf_page(page, n))
                page.flush_cache()
        start += PAGES_PER_OPEN
    report("reading pages", len(pages), len(wanted))
    return pages, count
