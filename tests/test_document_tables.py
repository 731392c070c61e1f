"""document_tables: every table proves itself. Real documents of ../shared: the three families read
today stay verified or carry their known publisher errors as defects; a table read wrongly is
unread, and its numbers are kept out of the fact views (but not lost)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.publish.combine import build_tables
from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.publish.warehouse import build_candidate, run_query
from tests.conftest import corpus_file, needs_shared, seed

pytestmark = needs_shared

SWU_2023 = "chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf"
SHENZHEN = "national/shenzhen/深圳市财政局本级2026年部门预算.pdf"


def tables_of(doc) -> list[dict]:
    return doc.frames["doc_table"].to_dicts()


def test_known_publisher_error_is_a_defect_not_unread(parsed):
    # 西南大学 2023 收入预算表 p.8: 小学教育 printed 9,645.51 万元, its columns add up to 9,646.01
    tables = tables_of(parsed(corpus_file(SWU_2023)))
    b2 = [t for t in tables if t["table_type"] == "B2"]
    assert len(b2) == 1
    assert (b2[0]["page_start"], b2[0]["status"], b2[0]["identities_failed"]) == (8, "defects", 2)
    assert b2[0]["identities_passed"] > 50
    assert "2 of its" in b2[0]["reason"]
    assert {t["status"] for t in tables} <= {"verified", "defects", "unverified"}
    assert sum(t["status"] == "verified" for t in tables) >= 20  # B tables and the 绩效目标表 forms


def test_seed_form_errors_are_defects_of_their_forms(parsed):
    # seed 003: 课程类项目 金额合计 and 男童合唱团经费 单价 × 数量 are the publisher's (R-PROJ)
    tables = tables_of(parsed(seed("003")))
    defects = {t["title"] for t in tables if t["status"] == "defects"}
    assert defects == {"课程类项目", "男童合唱团经费"}
    assert not [t for t in tables if t["status"] == "unread"]
    b_tables = [t for t in tables if t["table_type"].startswith("B")]
    assert [t["table_type"] for t in b_tables] == ["B1", "B2", "B3", "B4", "B5", "B6", "B8", "B9"]
    assert all(t["status"] in ("verified", "unverified") for t in b_tables)
    b6 = next(t for t in b_tables if t["table_type"] == "B6")  # 政府性基金: printed empty
    assert b6["status"] == "unverified" and "empty" in b6["reason"]


def test_a_table_continued_over_pages_is_one_table(parsed):
    # Shenzhen 表5 一般公共预算支出表（按功能分类） runs over pp.31-33 with its header repeated
    tables = tables_of(parsed(corpus_file(SHENZHEN)))
    b5 = [t for t in tables if t["title"] == "一般公共预算支出表（按功能分类）"]
    assert [(t["page_start"], t["page_end"], t["status"]) for t in b5] == [(31, 33, "verified")]
    assert b5[0]["identities_failed"] == 0 and b5[0]["identities_passed"] >= 40


def _warehouse_of(doc, tmp_path: Path) -> Path:
    wh = tmp_path / "wh.duckdb"
    lake = Lake(lake_dir_for(wh))
    lake.write(doc)
    build_tables(lake)
    return build_candidate(lake, wh, "test")


def _seed_with_b5_header_shifted(tmp_path: Path) -> Path:
    """Seed 003 with its B5 header misaligned by one column (合计 | 基本支出 | 项目支出 printed over
    the 基本 | 项目 | 合计 values): the hazard of a column read with the wrong meaning."""
    text = seed("003").read_text(encoding="utf-8")
    title = text.index("2020年单位一般公共预算支出功能分类预算表\n\n单位")
    header = "功能分类科目名称\t合计\t基本支出\t项目支出"
    at = text.index(header, title)
    shifted = text[:at] + "功能分类科目名称\t基本支出\t项目支出\t合计" + text[at + len(header) :]
    path = tmp_path / "003_b5_header_shifted.txt"
    path.write_text(shifted, encoding="utf-8")
    return path


def test_misread_table_is_unread_and_left_out_of_the_fact_views(parsed, tmp_path: Path):
    # read under the shifted header, its 合计 column is the 项目 values: 合计 ≠ Σ类 (R-TOTAL) and
    # rows fail 合计 = 基本 + 项目 (R-ROW): the table is unread, its numbers are not published, and the same document's other tables still are
    doc = parsed(_seed_with_b5_header_shifted(tmp_path))
    b5 = next(t for t in tables_of(doc) if t["table_type"] == "B5")
    assert b5["status"] == "unread" and "its numbers are not published as facts" in b5["reason"]
    assert {t["status"] for t in tables_of(doc) if t["table_type"] in ("B3", "B8")} == {"verified"}
    db = _warehouse_of(doc, tmp_path)
    _, rows = run_query(db, "SELECT status FROM document_tables WHERE table_type = 'B5'")
    assert rows == [("unread",)]
    _, published = run_query(db, "SELECT count(*) FROM published_func_amount WHERE table_type = 'B5'")
    _, kept = run_query(db, "SELECT count(*) FROM fact_func_amount WHERE table_type = 'B5'")
    assert published == [(0,)] and kept[0][0] > 20  # nothing lost: the facts stay in the internal table
    _, b3 = run_query(db, "SELECT amount_yuan FROM func_amounts WHERE table_type = 'B3' AND func_code = '205' "
                      "AND measure = 'TOTAL'")  # fmt: skip
    assert b3 == [(Decimal("88951768.35"),)]  # the verified B3 is published: 教育支出


def test_shenzhen_basic_expenditure_runs_on_over_pages(parsed):
    # 深圳 表4 基本支出总表 (pp.24-26) prints its 经济分类 by name only; the 302 rows continue on p.25
    # (邮电费 …) under the repeated header, still of 302 商品和服务支出 1,462.93 万元
    doc = parsed(corpus_file(SHENZHEN))
    b8 = next(t for t in tables_of(doc) if t["title"] == "基本支出总表")
    assert (b8["page_start"], b8["page_end"], b8["status"]) == (24, 26, "verified")
    econ = {(r["econ_code"], r["page_no"]): r["amount_yuan"] for r in doc.frames["fact_econ_amount"].to_dicts()
            if r["measure"] == "TOTAL"}  # fmt: skip
    assert econ[("302", 24)] == Decimal("14629300.00")
    assert econ[("30207", 25)] == Decimal("650000.00")  # 邮电费 65.00
    assert econ[("30305", 26)] == Decimal("192800.00")  # 生活补助 19.28, under 303 from p.25


def test_a_table_read_right_is_published(parsed, tmp_path: Path):
    # Shenzhen 表3 支出总表 (pp.20-23) was unread while its 政府采购 memo column was taken for the total
    # (3,790.75 against 基本 6,487.76 + 项目 14,076.00 on 一般公共服务支出); read right, it is published
    doc = parsed(corpus_file(SHENZHEN))
    db = _warehouse_of(doc, tmp_path)
    _, rows = run_query(db, "SELECT pages, status FROM document_tables WHERE title = '支出总表'")
    assert rows == [("20-23", "verified")]
    _, published = run_query(
        db, "SELECT amount_yuan FROM func_amounts WHERE table_type = 'B3' AND func_code = '201' AND measure = 'TOTAL'"
    )
    assert published == [(Decimal("205637600.00"),)]  # 20,563.76 万元


@pytest.mark.parametrize("relative", [SWU_2023, "shanghai_putuo/上海市普陀区财政局部门25年预算.pdf"])
def test_tables_count_their_printed_rows(parsed, relative):
    tables = tables_of(parsed(corpus_file(relative)))
    amounts = [t for t in tables if t["table_type"] in ("B2", "B3", "B5") and t["status"] == "verified"]
    assert amounts and all(t["n_rows"] >= 5 for t in amounts)
