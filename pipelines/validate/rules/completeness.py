"""R-TABLES: every table the document's own table of contents lists is printed."""

from __future__ import annotations

from pipelines.normalize.facts import (
    Finding,
)
from pipelines.normalize.textnorm import collapse
from pipelines.recognize.tables import LogicalTable


def listed_tables_printed(tables: list[LogicalTable]) -> list[Finding]:
    """R-TABLES: every table the document's own table of contents lists is printed (a title with
    nothing under it is a contents entry; one with a grid or an explanation is the table)."""
    listed: dict[str, LogicalTable] = {}
    printed: set[str] = set()
    for t in tables:
        if t.grids or t.notes:
            printed.add(t.table_type)
        else:
            listed.setdefault(t.table_type, t)
    out = []
    for kind, entry in listed.items():
        ok = kind in printed
        out.append(
            Finding(
                rule="R-TABLES", status="PASS" if ok else "FAIL", severity="info" if ok else "error",
                table_type=kind, page_no=entry.page_start, subject=collapse(entry.title), lhs=None, rhs=None,
                diff=None, tolerance=None,
                message=f"{kind} '{collapse(entry.title)}' is listed on p.{entry.page_start} "
                + ("and printed" if ok else "but not printed in the document"),
            )
        )  # fmt: skip
    return out
