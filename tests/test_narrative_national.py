"""The narrative rules on the national documents (../shared/corpus/national, ingested once by
`budgetwh ingest`, tests/conftest.py corpus_warehouse): every narrative FAIL there is the
publisher's, and the readings that used to be ours are read right."""

from __future__ import annotations

from decimal import Decimal as D

from pipelines.publish.warehouse import run_query
from tests.conftest import needs_shared

XIAN_HEALTH = "%西安市卫生健康委员会汇总2022年部门决算.pdf"
XIAN_HR = "%西安市人力资源和社会保障局2020年部门综合预算.pdf"


def rows(warehouse, sql: str) -> list[dict]:
    columns, values = run_query(warehouse, sql)
    return [dict(zip(columns, r, strict=True)) for r in values]


def findings(warehouse, file_like: str, where: str = "true") -> list[dict]:
    return rows(
        warehouse,
        "select q.rule, q.status, q.table_type, q.page_no, q.subject, q.lhs, q.rhs from quality_findings q "
        f"join documents d using (doc_id) where d.source_file like '{file_like}' and {where}",
    )


# Narrative and consistency FAILs of national/ that are the publisher's, checked on the page.
PUBLISHER_DEFECTS: set[tuple[str, str, int]] = set()
NARRATIVE_RULES = "(q.rule like 'R-NARR%' or q.rule in ('R-TABLES', 'R-UNIT', 'R-ORG-PUBLIC', 'R-ECON-3P'))"


@needs_shared
def test_no_narrative_fail_on_national_documents_but_the_publishers(corpus_warehouse):
    got = rows(
        corpus_warehouse,
        "select regexp_replace(d.source_file, '.*/', '') as file, q.rule, q.page_no, q.subject from "
        "quality_findings q join documents d using (doc_id) "
        f"where d.source_file like '%/national/%' and q.status = 'FAIL' and {NARRATIVE_RULES}",
    )
    assert {(r["file"], r["rule"], r["page_no"]) for r in got} <= PUBLISHER_DEFECTS, got


@needs_shared
def test_a_name_with_its_own_parenthesis_is_one_item(corpus_warehouse):
    # p.14: “15.卫生健康支出（类）公立医院（款）中医（民族）医院（项）。年初预算4379.61万元，支出决算
    # 19,028.68万元，完成年初预算的434.48%” — the （民族） no longer ends the item, so item 14 (综合医院:
    # 41225.36 → 69,978.46 万元, 169.75 %) keeps its own budget.
    rates = {
        r["subject"].split("（款）")[1]: (r["status"], r["lhs"], r["rhs"])
        for r in findings(corpus_warehouse, XIAN_HEALTH, "q.page_no = 14 and q.subject like '%完成率'")
    }
    assert rates["综合医院（项） 完成率"] == ("PASS", D("169.75"), D("169.75"))
    assert rates["中医（民族）医院（项） 完成率"] == ("PASS", D("434.48"), D("434.48"))


@needs_shared
def test_a_government_fund_item_is_checked_against_the_fund_table(corpus_warehouse):
    # p.20 七、政府性基金预算…情况说明: 2290402 本年支出决算568,051.63万元; 公开07表 (F8, p.159) prints
    # the same 568,051.63 on its 2290402 row.
    got = findings(corpus_warehouse, XIAN_HEALTH, "q.page_no = 20 and q.rule = 'R-NARR' and q.subject like '2290402%'")
    assert [(r["status"], r["table_type"], r["lhs"], r["rhs"]) for r in got] == [
        ("PASS", "F8", D("5680516300.00"), D("5680516300.00"))
    ]


@needs_shared
def test_a_total_under_a_grant_heading_is_the_grant_total(corpus_warehouse):
    # p.12 （二）财政拨款收支情况: “支出预算总计181807.13万元” is the 财政拨款 total (一般公共预算
    # 181,716.56 + 上年结转 90.57), not the all-funds 182,157.13 of 表3.
    got = rows(
        corpus_warehouse,
        "select n.measure from narrative_facts n join documents d using (doc_id) "
        f"where d.source_file like '{XIAN_HR}' and n.page_no = 12 and n.amount_yuan = 1818071300.00",
    )
    assert {r["measure"] for r in got} == {"GRANT_TOTAL"}
    assert findings(corpus_warehouse, XIAN_HR, "q.rule = 'R-NARR-TOTAL' and q.status = 'FAIL'") == []


@needs_shared
def test_an_empty_table_explained_by_a_stated_nil_amount(corpus_warehouse):
    # 上海市数据局 p.6: “政府性基金拨款支出预算0万元；国有资本经营预算拨款支出预算为0万元” explains the
    # empty B6 (p.17) and B7 (p.18).
    got = findings(
        corpus_warehouse, "%上海市数据局2026年单位预算.pdf", "q.rule = 'R-TABLES' and q.table_type in ('B6', 'B7')"
    )
    assert sorted((r["table_type"], r["status"], r["page_no"]) for r in got) == [("B6", "PASS", 17), ("B7", "PASS", 18)]
    # A tables-only 附件 (北京市财政局 附件2: its text is in 附件1) is not told to explain its empty tables.
    assert findings(corpus_warehouse, "%附件2报表.pdf", "q.rule = 'R-TABLES' and q.status = 'FAIL'") == []


@needs_shared
def test_an_evaluation_report_is_not_loaded_as_a_budget(corpus_warehouse):
    got = rows(
        corpus_warehouse,
        "select status, doc_kind, error from documents where source_file like '%绩效评价报告_非部门预算.pdf'",
    )
    assert len(got) == 1 and got[0]["status"] == "quarantined" and got[0]["doc_kind"] is None
    assert "performance-evaluation report (长沙市财政项目支出绩效评价报告)" in got[0]["error"]


@needs_shared
def test_target_table_cells_are_not_narrative(corpus_warehouse):
    # 北京市财政局 附件2 pp.17–47: 预算12表 项目支出绩效目标表; its long cells spill out of the grid as
    # loose lines (“…通过印制决算编制说明材” / “料，…”), which used to open a narrative section.
    got = rows(
        corpus_warehouse,
        "select count(*) as n from narrative_facts n join documents d using (doc_id) "
        "where d.source_file like '%附件2报表.pdf'",
    )
    assert got == [{"n": 0}]
    # the narrative-only 附件1 still gives its headline figures: 收入预算 44169.36 万元
    got = rows(
        corpus_warehouse,
        "select n.measure from narrative_facts n join documents d using (doc_id) "
        "where d.source_file like '%附件1情况说明.pdf' and n.amount_yuan = 441693600.00",
    )
    assert got
