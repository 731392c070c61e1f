"""R-UNIT: the unit is named the same on the cover, in the table headers and in the text
(GovBudgetChecker R006: ``封面含‘普陀区’，而总表表头为‘上海市规划和自然资源局’``)."""

from __future__ import annotations

import re

from pipelines.normalize.facts import Finding
from pipelines.normalize.textnorm import collapse
from pipelines.read.model import SourceDocument, TextLine

# 编制部门：上海市普陀区财政局 单位：元 — the label of a table header or cover naming the unit
_NAMED = re.compile(
    r"(编制部门|编制单位|预算单位|部门名称|单位名称|预算主管部门|填报单位|公开单位)[：:]\s*(?P<name>[^\s：:，,（(]{4,40})"
)
_NOT_A_NAME = re.compile(r"^(元|万元|单位|盖章)|XX|××")
_A_UNIT = re.compile(r"(局|委|办|院|部|厅|中心|会|学|所|处|站|馆|队|校|室|社|署|府|团|台|司|公司)$")


def _bare(name: str) -> str:
    """The name without a leading year and a trailing （本级） / （汇总）: the same unit."""
    name = re.sub(r"^\d{4}年度?", "", name)
    return re.sub(r"[（(](本级|汇总|本部|部门|单位)[）)]$", "", name)


def unit_name_checks(doc: SourceDocument, unit_name: str | None) -> list[Finding]:
    """One finding per distinct name printed beside a header label: PASS when it is the cover's."""
    if not unit_name:
        return []
    cover = _bare(collapse(unit_name))
    if not _A_UNIT.search(cover):
        return []  # the cover's name was not read (a heading instead): nothing to compare with
    first_page: dict[str, int] = {}
    lines = [i for i in doc.items() if isinstance(i, TextLine)]
    for k, line in enumerate(lines):
        for m in _NAMED.finditer(line.text):
            name = collapse(m.group("name"))
            name = _bare(re.sub(r"(单位|金额单位)$", "", name))
            if _NOT_A_NAME.search(name) or len(name) < 4:
                continue
            if not _A_UNIT.search(name):
                # a value cut by a wrapped header line (部门名称：江苏省人大 / 常委会办公厅): the next
                # lines of the page complete it, or it is not a name to compare
                name = _completed(name, lines[k + 1 : k + 3], line.page_no)
                if name is None:
                    continue
            first_page.setdefault(name, line.page_no)
    out = []
    for name, page in first_page.items():
        ok = name == cover
        out.append(
            Finding(
                "R-UNIT", "PASS" if ok else "FAIL", "info" if ok else "warning", None, page, f"unit name '{name}'",
                None, None, None, None,
                f"unit named '{name}' on p.{page}" + ("" if ok else f", the cover names '{cover}'"),
            )
        )  # fmt: skip
    return out


def _completed(head: str, following: list[TextLine], page: int) -> str | None:
    """``head`` joined with the short lines after it on the same page, up to the first join that
    ends like a unit's name; None when none does."""
    name = head
    for line in following:
        piece = collapse(line.text)
        if line.page_no != page or not piece or len(piece) > 12 or re.search(r"[：:\d]", piece):
            return None
        name += piece
        if _A_UNIT.search(name):
            return name
    return None
