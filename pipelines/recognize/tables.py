"""Generic table recognition shared by every form family.

1. ``assemble_tables`` walks the items of a document in reading order and groups grids under the
   title that precedes them, across pages (tables continue on the next page with or without a
   repeated header; blank pages inside the table section are skipped).
2. ``resolve_columns`` reads the header rows of a grid and gives every column a *header path*
   (the labels above it, top-down, merged cells included) and a role: code part, code, label or
   amount.
3. ``iter_blocks`` cuts each data row into blocks (code + label + amounts). Side-by-side layouts
   (收支总表 income|expenditure, 基本支出 two-column economic tables) give several blocks per row.

The steps live in ``titles``, ``columns`` and ``rows``; family packages (``budget``, ``final``) decide what a title, a column path or a
label means; nothing here knows about measures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.normalize.textnorm import collapse, find_unit, is_meta_cell, title_key
from pipelines.read.model import Grid, SourceDocument, TextLine
from pipelines.recognize.titles import is_title_candidate

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
    # (page, name) of the rows printed by name alone that no code could be given (``names_only``)
    unresolved_names: list[tuple[int, str]] = field(default_factory=list)

    @property
    def page_end(self) -> int:
        return max([g.page_no for g in self.grids], default=self.page_start)


_TITLE_TAIL_MAX = 16  # characters of the wrapped tail of a title
_EMPTY_NOTE = re.compile(r"(无|没有).{0,30}(预算|收支|支出|收入|经费|数据)|空表|本表无数据|不涉及")
_PAGE_NUMBER = re.compile(r"^[-—\s]*\d+[-—\s]*$|^第\d+页")
_RUNNING_HEADER_MIN_PAGES = 3


def running_headers(items: list[TextLine | Grid]) -> set[str]:
    """Lines that open at least ``_RUNNING_HEADER_MIN_PAGES`` pages (``X局2025年度部门预算公开``): page
    furniture, neither a note of the open table nor narrative that would close it."""
    first_lines: dict[str, set[int]] = {}
    seen_pages: set[int] = set()
    for item in items:
        if item.page_no in seen_pages:
            continue
        seen_pages.add(item.page_no)
        if isinstance(item, TextLine) and collapse(item.text):
            first_lines.setdefault(collapse(item.text), set()).add(item.page_no)
    return {text for text, pages in first_lines.items() if len(pages) >= _RUNNING_HEADER_MIN_PAGES}


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
    furniture = running_headers(items)
    for i, item in enumerate(items):
        if isinstance(item, TextLine):
            text = item.text
            kind = classify(text)
            if kind is None and collapse(text) in furniture:
                if current is not None:
                    current.meta_lines.append(text)
                continue
            if kind is None and not title_key(text).endswith("表"):
                # a title wrapped onto the next line ("…会议费、培训费支出预" / "算表", "…按支出经济分类" /
                # "科目-不含上年结转）"), perhaps with detached quote marks between them (P2); the tail is
                # on the same page and is no title itself
                tail = ""
                for k in range(i + 1, min(i + 4, len(items))):
                    nxt = items[k]
                    if not isinstance(nxt, TextLine) or len(collapse(nxt.text)) > _TITLE_TAIL_MAX:
                        break
                    long_tail = len(collapse(nxt.text)) > 8  # only as the one line right after the head
                    if long_tail and (k > i + 1 or nxt.page_no != item.page_no or classify(nxt.text)):
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
            if current.grids and is_title_candidate(text):
                # the title of a table outside the family's catalogue (烟台 公开表12 政府采购预算表): its
                # grids are not a continuation of the open table
                current = None
                continue
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
