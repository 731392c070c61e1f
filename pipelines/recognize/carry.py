"""Codes carried across the pages of a table that runs on under its repeated title.

Where a publisher repeats the title on every page, each page is a ``LogicalTable`` of its own, and
a row at the top of a page may print only its own code segment (a 项's two digits under the 款 of
the page before: 烟台 公开表5) or a 款 by name alone under the 类 of the page before (深圳 表4). The
预算 and the 决算 families read their tables through the same rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.recognize.names_only import NameLevels
from pipelines.recognize.tables import LogicalTable


def continues(previous: LogicalTable | None, table: LogicalTable) -> bool:
    """``table`` is the next page of ``previous`` (its title repeated on the page after)."""
    return (
        previous is not None
        and (previous.table_type, previous.title) == (table.table_type, table.title)
        and previous.page_end <= table.page_start <= previous.page_end + 1
    )


@dataclass
class CodeCarry:
    """The 功能分类 类/款 (``func``, per block), the 经济分类 类 (``econ``) and the name levels (``names``)
    the rows of the open table are under; reset when a table that is no continuation starts."""

    previous: LogicalTable | None = None
    func: dict[int, str] = field(default_factory=dict)
    econ: dict[str, str] = field(default_factory=dict)
    names: NameLevels = field(default_factory=NameLevels)  # the indentation levels of a names-only table

    def enter(self, table: LogicalTable) -> None:
        if not table.grids:
            return  # a title without grids between the pages (a 公开表5 label line) changes nothing
        if not continues(self.previous, table):
            self.func = {}  # a new table: no 类/款 printed above its first row
            self.econ = {}
            self.names = NameLevels()
        self.previous = table
