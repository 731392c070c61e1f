"""R-TABLES: every table the document's own table of contents lists is printed."""

from __future__ import annotations

import re

from pipelines.normalize.facts import Finding, TableInstance
from pipelines.normalize.textnorm import collapse
from pipelines.read.model import SourceDocument, TextLine
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


# A 预算's required tables (DOMAIN.md §1.2): the eight of the national set, B7 (国有资本经营) in the
# newer nine-table templates only, so it is required where the document's contents list it.
BUDGET_REQUIRED = ("B1", "B2", "B3", "B4", "B5", "B6", "B8", "B9")
_NAMES = {
    "B1": "收支总表", "B2": "收入总表", "B3": "支出总表", "B4": "财政拨款收支总表", "B5": "一般公共预算支出表",
    "B6": "政府性基金预算支出表", "B7": "国有资本经营预算支出表", "B8": "一般公共预算基本支出表",
    "B9": "“三公”经费支出表",
}  # fmt: skip


def required_budget_tables(tables: list[TableInstance], doc: SourceDocument, has_text: bool = True) -> list[Finding]:
    """R-TABLES for a 预算 with its tables (a narrative-only companion file has none): each
    required table printed, and an empty one with its explanation (没有数据的表格应当列出空表并说明)."""
    present = {t.table_type: t for t in tables if t.table_type.startswith("B")}
    if len(present) < 3:
        return []
    # A required table budgetwh did not find is not reported as the publisher's: it may be printed
    # in a layout the recognizers do not read (document_tables shows what was found).
    out = []
    for kind, t in sorted(present.items()):
        explained = not t.is_empty or bool(t.empty_note) or _explained_in_text(doc, kind)
        if not explained and not has_text:
            continue  # a tables-only file: its explanations are in the companion text (Jiangsu 公开文件)
        out.append(
            Finding(
                "R-TABLES", "PASS" if explained else "FAIL", "info" if explained else "warning", kind, t.page_start,
                f"{_NAMES.get(kind, kind)} present", None, None, None, None,
                f"{kind} '{collapse(t.title)}' printed on p.{t.page_start}"
                + (f", empty: {t.empty_note}" if t.is_empty and t.empty_note else "")
                + (", empty without an explanation" if not explained else ""),
            )
        )  # fmt: skip
    return out


# What an empty table's explanation speaks of: ``(无政府性基金支出）`` printed beside the table, or
# ``本部门无国有资本经营预算`` in the text.
_EMPTY_TOPIC = {"B6": "政府性基金", "B7": "国有资本", "B9": "三公"}


def _explained_in_text(doc: SourceDocument, kind: str) -> bool:
    topic = _EMPTY_TOPIC.get(kind, "")
    pattern = re.compile(rf"(无|没有|未安排|不涉及)[^。；]{{0,12}}{topic}" if topic else r"空表|本表无数据|不涉及")
    # ``政府性基金拨款支出预算0万元``: the text states the table's amount as nil, which explains it too
    nil = re.compile(rf"{topic}[^。；，0-9]{{0,16}}(?<![\d.,])0(\.0+)?(万元|元)") if topic else None
    lines = [collapse(i.text) for i in doc.items() if isinstance(i, TextLine)]
    return any(pattern.search(line) or (nil and nil.search(line)) for line in lines)
