"""Tables printed without ruling lines (aligned text, no frame): words placed into columns by position
(pipelines/read/lineless.py). The project's sample 部门预算, rendered once ruled and once with no line at
all, must give the same facts, and every table of the lineless one proves itself by its identities."""

from __future__ import annotations

import pdfplumber

from pipelines.parse import parse_document
from pipelines.run.samples import fixed_units, func_rows, render_pdf, three_public_values

FACTS = ("fact_func_amount", "fact_econ_amount", "fact_three_public", "fact_check")
LAYOUT_ONLY = {"doc_id", "line_no", "row_label", "table_title", "title", "amount_raw", "message", "subject", "check_id"}


def test_a_lineless_budget_reads_as_its_ruled_twin(tmp_path):
    unit = fixed_units()[0]
    ruled = render_pdf(unit, tmp_path / "ruled.pdf")
    lineless = render_pdf(unit, tmp_path / "lineless.pdf", ruled=False)
    with pdfplumber.open(lineless) as pdf:
        assert all(not page.lines and not page.rects and not page.find_tables() for page in pdf.pages)
    a, b = parse_document(ruled).frames, parse_document(lineless).frames
    for table in FACTS:
        cols = [c for c in a[table].columns if c not in LAYOUT_ONLY]
        assert a[table].height > 0
        assert a[table].select(cols).sort(cols).equals(b[table].select(cols).sort(cols)), table
    tables = b["doc_table"].to_dicts()
    assert {t["table_type"]: t["status"] for t in tables if t["table_type"] != "B6"} == dict.fromkeys(
        ("B1", "B2", "B3", "B4", "B5", "B8", "B9"), "verified"
    )
    # the generator's own facts: 项 2010601's 基本 + 项目, and 三公 合计 in 万元
    expected = {code: basic + project for code, _, basic, project in func_rows(unit)}
    b3 = b["fact_func_amount"].filter(table_type="B3", func_code="2010601", measure="TOTAL")
    assert b3["amount_yuan"].to_list() == [expected["2010601"]]
    total = b["fact_three_public"].filter(item="TOTAL")["amount_yuan"].to_list()
    assert total == [three_public_values(unit)["TOTAL"] * 10000]
