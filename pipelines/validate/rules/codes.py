"""R-CODE: a printed 功能分类 / 经济分类 code's name against the code catalogue for the document's year
(``pipelines/normalize/codes.py``). A warning: a mismatch is a misread row (a name placed on the wrong
code, a name cut by a wrap) or a publisher's slip, never a reason to change the number."""

from __future__ import annotations

import re

from pipelines.normalize.codes import code_name_key, expected_names, name_matches
from pipelines.normalize.facts import Finding, TableFacts

_SUB_ITEM_ROW = re.compile(r"^[35]\d{6}\s")


def code_name_findings(facts: TableFacts, fiscal_year: int | None) -> list[Finding]:
    """One finding per printed (classification, code, name) of the document's tables whose code the
    catalogue knows, at the first table and page that prints it."""
    # a 款 or 项 printed by name alone took its code from the catalogue (its row label prints none):
    # comparing it with the catalogue would prove nothing
    printed = [
        ("func", f.func_code, f.func_name, f.at)
        for f in facts.func
        if f.source_kind == "TABLE" and (len(f.func_code) == 3 or f.at.row_label.startswith(f.func_code))
    ]
    # a 款 read from its sub-items (row 3010201 改革性补贴 as 30102) prints another code: not checked
    printed += [
        ("econ", e.econ_code, e.econ_name, e.at)
        for e in facts.econ
        if e.econ_code.startswith("3") and not _SUB_ITEM_ROW.match(e.at.row_label)
    ]
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for kind, code, name, at in printed:
        key = (kind, code, code_name_key(name))
        if not code or not key[2] or key in seen:
            continue
        seen.add(key)
        matches = name_matches(kind, code, name, fiscal_year)
        if matches is None:
            continue
        label = "功能分类" if kind == "func" else "经济分类"
        expected = "、".join(expected_names(kind, code, fiscal_year) or ())
        message = (
            f"{label} {code} printed as {name}: the catalogue's name" + ("" if matches else f" is {expected}")
            + (f" ({fiscal_year})" if fiscal_year else "")
        )  # fmt: skip
        out.append(
            Finding("R-CODE", "PASS" if matches else "FAIL", "info" if matches else "warning", at.table_type,
                    at.page_no, f"{code} {name}", None, None, None, None, message)
        )  # fmt: skip
    return out
