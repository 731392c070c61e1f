"""Every FAIL on the national documents (../shared/corpus/national, ingested once by `budgetwh
ingest`, tests/conftest.py corpus_warehouse) is a publisher's error checked on the page, or belongs
to a table that is `unread` and therefore not published."""

from __future__ import annotations

from pipelines.publish.warehouse import run_query
from tests.conftest import needs_shared

# 西安人社 2020 表2 收入总表 p.30 / 表3 支出总表 p.31: the 合计 row (182,157.13 万元) includes 上年结转
# 90.57, but the unit rows' 合计 leave theirs out (242001: 24,417.66 printed, 24,417.66 + 60.37 =
# 24,478.03 from its own columns; 242005 3.82; 242010 26.38), so Σ units = 182,066.56.
PUBLISHER_DEFECTS = {
    (
        "西安市人力资源和社会保障局2020年部门综合预算.pdf",
        "R-ROW",
        "B2",
        30,
        "西安市人力资源和社会保障局 BUDGET_INITIAL",
    ),
    ("西安市人力资源和社会保障局2020年部门综合预算.pdf", "R-ROW", "B2", 30, "西安市就业服务中心 BUDGET_INITIAL"),
    ("西安市人力资源和社会保障局2020年部门综合预算.pdf", "R-ROW", "B2", 30, "西安市职业介绍服务中心 BUDGET_INITIAL"),
    ("西安市人力资源和社会保障局2020年部门综合预算.pdf", "R-TOTAL", "B2", 30, "合计 = Σ units TOTAL BUDGET_INITIAL"),
    ("西安市人力资源和社会保障局2020年部门综合预算.pdf", "R-TOTAL", "B3", 31, "合计 = Σ units TOTAL BUDGET_INITIAL"),
    # 表1 p.29 / 表4 p.32, the same 90.57: 支出总计 182,157.13 (181,807.13) = 本年支出合计 182,066.56
    # (181,716.56) + 结转下年 0 does not hold; the 上年结转 received is spent on no row of the 支出 side
    ("西安市人力资源和社会保障局2020年部门综合预算.pdf", "R-CARRY", "B1", 29, "支出总计 BUDGET_INITIAL"),
    ("西安市人力资源和社会保障局2020年部门综合预算.pdf", "R-CARRY", "B4", 32, "支出总计 BUDGET_INITIAL"),
}


def rows(warehouse, sql: str) -> list[tuple]:
    return run_query(warehouse, sql)[1]


@needs_shared
def test_national_fails_are_the_publishers_or_of_unread_tables(corpus_warehouse):
    fails = rows(
        corpus_warehouse,
        "select regexp_replace(d.source_file, '.*/', ''), q.rule, q.table_type, q.page_no, q.subject, q.doc_id "
        "from quality_findings q join documents d using (doc_id) "
        "where d.source_file like '%/national/%' and q.status = 'FAIL'",
    )
    unread = rows(corpus_warehouse, "select doc_id, table_type, pages from document_tables where status = 'unread'")
    spans = {
        (doc, kind, int(p)) for doc, kind, pages in unread
        for p in range(int(pages.split("-")[0]), int(pages.split("-")[-1]) + 1)
    }  # fmt: skip
    ours = [f for f in fails if f[:5] not in PUBLISHER_DEFECTS]
    assert all((f[5], f[2], f[3]) in spans for f in ours), ours
    assert {f[:5] for f in fails} >= PUBLISHER_DEFECTS  # the publisher's errors are still flagged
    # an unread table's numbers are not facts: none of its pages' rows are in the published views
    for doc, kind, pages in unread:
        first, last = int(pages.split("-")[0]), int(pages.split("-")[-1])
        where = f"doc_id = '{doc}' and table_type = '{kind}' and page_no between {first} and {last}"
        for view in ("published_func_amount", "published_econ_amount", "published_three_public"):
            assert rows(corpus_warehouse, f"select count(*) from {view} where {where}") == [(0,)]


@needs_shared
def test_every_national_budget_has_its_core_tables_read(corpus_warehouse):
    # 功能分类 (B3 or B5), 经济分类 (B8) and 三公 (B9) of every national 部门/单位预算 with tables, each
    # verified, with defects or printed empty
    got = rows(
        corpus_warehouse,
        "select regexp_replace(d.source_file, '.*/', ''), t.table_type, "
        "case when t.reason like 'The table is printed empty%' then 'empty' else t.status end from document_tables t "
        "join documents d using (doc_id) where d.source_file like '%/national/%' and d.doc_kind = 'BUDGET' "
        "and t.table_type in ('B3', 'B5', 'B8', 'B9')",
    )
    by_doc: dict[str, dict[str, set[str]]] = {}
    for name, kind, status in got:
        by_doc.setdefault(name, {}).setdefault("B5" if kind == "B3" else kind, set()).add(status)
    assert len(by_doc) == 18  # the 19 national 预算 with text but 北京 附件1 (its narrative only)
    missing = {
        (name, kind)
        for name, kinds in by_doc.items()
        for kind in ("B5", "B8", "B9")
        if not kinds.get(kind, set()) & {"verified", "defects", "empty"}
    }
    assert missing == set(), missing
