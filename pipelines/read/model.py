"""The page model: what every reader produces and every recognizer consumes.

A document is a list of pages; a page is a list of items in reading order, each either a line of
text or a grid of cells. PDF pages come from pdfplumber (tables found by ruling lines, text lines
outside them); text extractions (the seeds) come from tab-separated rows. Recognizers never look at
which reader produced a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class TextLine:
    """One line of running text (a title, a unit line, a sentence)."""

    text: str
    page_no: int
    line_no: int | None = None  # 1-based line in a text extraction; None for PDFs
    top: float | None = None  # y position on a PDF page


@dataclass(slots=True)
class Grid:
    """A block of table rows as printed.

    ``None`` marks a cell swallowed by a merged neighbour (PDF geometry); ``""`` is an empty cell.
    Text extractions have no merge information, so their cells are never ``None``.
    """

    rows: list[list[str | None]]
    page_no: int
    row_line_nos: list[int] | None = None  # text extractions: the source line of each row
    top: float | None = None
    # PDF geometry: origins[r][c] is the (row, col) of the cell covering that position, so a
    # merged header label can be found from every column it spans. None for text extractions.
    origins: list[list[tuple[int, int]]] | None = None
    # PDF geometry: the x-range of each column, to line up a continuation page with the columns
    # of the page before it.
    col_spans: list[tuple[float, float]] | None = None
    # indents[r][c]: how far the text of cell (r, c) starts right of the cell's left edge, in character
    # widths (PDF: the first character's x position over its size; text extraction: leading full-width
    # spaces, an ASCII space counting half). A 科目 printed by name alone shows its level by it (类 /
    # 款 / 项 further and further in). None where a cell is empty, merged away, or nothing is known.
    indents: list[list[float | None]] | None = None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def line_no(self, row_index: int) -> int | None:
        return self.row_line_nos[row_index] if self.row_line_nos else None

    def covering_text(self, r: int, c: int) -> str:
        """The text of the cell that covers position (r, c), merged cells included."""
        if self.origins is not None and r < len(self.origins) and c < len(self.origins[r]):
            r0, c0 = self.origins[r][c]
        else:
            r0, c0 = r, c
        row = self.rows[r0]
        return (row[c0] or "") if c0 < len(row) else ""


Item = TextLine | Grid


@dataclass(slots=True)
class Page:
    page_no: int
    items: list[Item] = field(default_factory=list)
    char_count: int = 0  # characters in the text layer; 0 means nothing to read

    @property
    def lines(self) -> list[TextLine]:
        return [i for i in self.items if isinstance(i, TextLine)]

    @property
    def grids(self) -> list[Grid]:
        return [i for i in self.items if isinstance(i, Grid)]

    def plain_text(self) -> str:
        out: list[str] = []
        for item in self.items:
            if isinstance(item, TextLine):
                out.append(item.text)
            else:
                out.extend(" ".join(c or "" for c in row) for row in item.rows)
        return "\n".join(out)


@dataclass(slots=True)
class SourceDocument:
    """A file read into pages. ``source_format`` is ``pdf`` or ``text``."""

    path: Path
    sha256: str
    source_format: str
    pages: list[Page]
    page_count: int

    def items(self):
        """All items of all pages in reading order."""
        for page in self.pages:
            yield from page.items

    def full_text(self) -> str:
        return "\n".join(p.plain_text() for p in self.pages)
