"""F0 部门决算单位构成: the member units of a department's 决算, from their grid or from the
sentence that lists them."""

from __future__ import annotations

import re

from pipelines.normalize.facts import (
    RosterEntry,
    TableInstance,
)
from pipelines.normalize.textnorm import collapse
from pipelines.read.model import Grid, SourceDocument, TextLine

_ROSTER_HEADING = re.compile(r"决算单位构成|单位构成$")
_NEXT_HEADING = re.compile(r"^([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第[一二三四五六七八九十]+部分)")
_ROSTER_SENTENCE = re.compile(r"决算(?:反映|包括)[:：]?(?P<list>[^。；]+?)(?:的(?:经费)?收支情况|。|$)")


def _roster_from_grid(grid: Grid) -> list[RosterEntry]:
    header = [collapse(c) for c in grid.rows[0]]
    name_col = next((i for i, h in enumerate(header) if "单位名称" in h), None)
    if name_col is None:
        return []
    seq_col = next((i for i, h in enumerate(header) if h in ("序号", "编号")), None)
    remark_col = next((i for i, h in enumerate(header) if "备注" in h), None)
    entries: list[RosterEntry] = []
    for row in grid.rows[1:]:
        name = collapse(row[name_col] if name_col < len(row) else "")
        if not name:
            continue
        seq_text = collapse(row[seq_col]) if seq_col is not None and seq_col < len(row) else ""
        seq = int(seq_text) if seq_text.isdigit() else len(entries) + 1
        remark = collapse(row[remark_col]) if remark_col is not None and remark_col < len(row) else ""
        entries.append(RosterEntry(seq=seq, unit_name=name, remark=remark, page_no=grid.page_no))
    return entries


def extract_roster(doc: SourceDocument) -> tuple[list[RosterEntry], TableInstance | None]:
    """The member units under the 部门决算单位构成 heading: its 序号 | 单位名称 | 备注 grid, or, where
    the document has only a sentence (西南大学: ``决算反映西南大学本级、…附属小学的经费收支情况``),
    the units that sentence lists. The heading also stands in the table of contents, so every
    occurrence is tried."""
    armed_at: int | None = None
    text_after: list[TextLine] = []
    from_sentence: list[RosterEntry] = []

    def sentence_roster() -> list[RosterEntry]:
        joined = "".join(collapse(t.text) for t in text_after[:8])
        m = _ROSTER_SENTENCE.search(joined)
        names = [n for n in re.split(r"[、，,]", m.group("list")) if n] if m else []
        if len(names) < 2:  # "包括：本级决算、下属单位决算" style sentences do not name the units
            return []
        page = text_after[0].page_no
        return [RosterEntry(seq=i, unit_name=n, remark="", page_no=page) for i, n in enumerate(names, start=1)]

    for item in doc.items():
        if isinstance(item, TextLine):
            key = collapse(item.text)
            if _ROSTER_HEADING.search(key) and len(key) < 30 and not re.search(r"\.{3}|…", key):
                armed_at, text_after = item.page_no, []
                continue
            if armed_at is None:
                continue
            if _NEXT_HEADING.match(key):
                from_sentence = from_sentence or sentence_roster()
                armed_at, text_after = None, []
                continue
            text_after.append(item)
            continue
        if armed_at is not None and item.rows:
            entries = _roster_from_grid(item)
            if entries:
                return entries, _roster_instance(entries, armed_at)
    if armed_at is not None:
        from_sentence = from_sentence or sentence_roster()
    if not from_sentence:
        return [], None
    return from_sentence, _roster_instance(from_sentence, from_sentence[0].page_no)


def _roster_instance(entries: list[RosterEntry], page: int) -> TableInstance:
    pages = [e.page_no for e in entries]
    return TableInstance(
        table_type="F0",
        title="部门决算单位构成",
        unit=None,
        page_start=min(pages, default=page),
        page_end=max(pages, default=page),
        line_start=None,
        is_empty=not entries,
        empty_note=None,
        n_facts=len(entries),
    )
