"""Reader for text extractions (``.txt`` / ``.md``): tab-separated table rows, Markdown headings,
stray HTML. A blank line inside a table is a page break of the original PDF, so it splits the rows
into separate grids exactly as a PDF page break would."""

from __future__ import annotations

import re

from pipelines.read.model import Grid, Page, TextLine

_SEPARATOR_ROW = re.compile(r"^[\s\-|:]+$")  # Markdown table rules / dash-only rows (H11)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), falling back to GB18030 (a superset of GBK).

    Returns the text and the encoding used. Raises ``UnicodeDecodeError`` when neither fits.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def leading_indent(cell: str) -> float | None:
    """The indentation of a cell's text in character widths: a full-width space (U+3000) is one, an
    ASCII space or tab half of one. None for an empty cell."""
    if not cell.strip():
        return None
    width = 0.0
    for ch in cell:
        if ch == "\u3000":
            width += 1
        elif ch in " \t\xa0":
            width += 0.5
        else:
            break
    return width


def text_to_pages(text: str) -> list[Page]:
    """The whole extraction becomes one page (a text file has no page geometry); line numbers
    are kept on every item for lineage."""
    page = Page(page_no=1)
    rows: list[list[str | None]] = []
    row_lines: list[int] = []
    indents: list[list[float | None]] = []

    def flush() -> None:
        if rows:
            page.items.append(Grid(rows=list(rows), page_no=1, row_line_nos=list(row_lines), indents=list(indents)))
            rows.clear()
            row_lines.clear()
            indents.clear()

    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            flush()  # a blank line: page break inside a table, or paragraph break
            continue
        if "\t" in line:
            if _SEPARATOR_ROW.match(line.replace("\t", "")):
                continue
            cells = line.split("\t")
            rows.append([c.strip() for c in cells])
            row_lines.append(line_no)
            indents.append([leading_indent(c) for c in cells])
            continue
        flush()
        if _SEPARATOR_ROW.match(line) and "-" in line:
            continue
        page.items.append(TextLine(text=line.strip(), page_no=1, line_no=line_no))
    flush()
    page.char_count = len(text)
    return [page]
