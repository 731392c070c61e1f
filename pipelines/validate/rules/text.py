"""R-TEXT: template residue and wrong years in a published text."""

from __future__ import annotations

import re

from pipelines.normalize.facts import Finding
from pipelines.normalize.textnorm import collapse
from pipelines.read.model import SourceDocument, TextLine
from pipelines.recognize.narrative.reader import narrative_segments

_PLACEHOLDER = re.compile(r"XX|ＸＸ|××")
_AS_OF = re.compile(r"截至(?P<y>\d{4})年12月31日")
# A part heading of the document naming its year: "第三部分 上海市普陀区财政局 2023年度部门决算情况说明"
_PART_HEADING = re.compile(r"^第[一二三四五六七八九十]+部分.*?(?P<y>20\d{2})年度?(部门|单位)(决算|预算)")


def placeholder_checks(doc: SourceDocument, fiscal_year: int | None) -> list[Finding]:
    """Template residue in a published document (``上海市普陀区XX局``), a part heading naming another
    year, and a 截至 date outside the fiscal year (assets stated for the wrong year)."""
    out: list[Finding] = []
    for line in (i for i in doc.items() if isinstance(i, TextLine)):
        key = collapse(line.text)
        heading = _PART_HEADING.match(key)
        if heading and fiscal_year and int(heading.group("y")) != fiscal_year:
            out.append(
                Finding(
                    "R-TEXT", "FAIL", "warning", None, line.page_no, "heading year", None, None, None, None,
                    f"a part heading names {heading.group('y')} in the {fiscal_year} document: '{key[:80]}'",
                )
            )  # fmt: skip
        if _PLACEHOLDER.search(key):
            out.append(
                Finding(
                    "R-TEXT", "FAIL", "warning", None, line.page_no, "template placeholder", None, None, None, None,
                    f"template placeholder left in the published text: '{key[:80]}'",
                )
            )  # fmt: skip
    if fiscal_year:
        segs = narrative_segments(doc)
        for seg in segs:
            for m in _AS_OF.finditer(seg.text):
                if int(m.group("y")) != fiscal_year:
                    out.append(
                        Finding(
                            "R-TEXT", "FAIL", "warning", None, seg.pages[m.start()], "截至 date", None, None, None,
                            None, f"情况说明 states assets '{m.group(0)}' in the {fiscal_year} 决算",
                        )
                    )  # fmt: skip
    return out
