"""Header roles on real national documents: a 行次 column numbers rows and is never an amount;
columns of a prior year (2025年预算数, 上年, 2019年 beside 2020年) and change columns (增减变化情况)
are never this year's facts; 上年结转结余 broken down by fund is a part of the carry-over, not a grant."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import corpus_file, needs_shared

pytestmark = needs_shared

XINFANG = "national/zhongyang/国家信访局2024年部门决算.pdf"
YANTAI = "national/yantai/烟台市民政局2026年部门预算.pdf"
XIAN_HRSS = "national/xian/西安市人力资源和社会保障局2020年部门综合预算.pdf"
HUZHOU = "national/huzhou/湖州市财政局2026年部门预算.pdf"


def test_line_number_column_is_not_an_amount(parsed):
    # 公开01表 收入支出决算总表 p.7: `一、一般公共服务支出 | 32 | 10,685.56` — 32 is the 行次
    doc = parsed(corpus_file(XINFANG))
    f1 = doc.frames["fact_func_amount"].filter(table_type="F1", func_code="201").to_dicts()
    assert [r["amount_raw"] for r in f1] == ["10,685.56"]
    assert f1[0]["amount_yuan"] == Decimal("106855600.00")
    tables = {t["table_type"]: t for t in doc.frames["doc_table"].to_dicts()}
    assert tables["F1"]["status"] == "verified" and tables["F4"]["status"] == "verified"


def test_prior_year_block_of_the_three_public_table_is_left_out(parsed):
    # 公开表7 prints a 2025年预算数 block before the 2026年预算数 block: only 2026 is loaded
    items = parsed(corpus_file(YANTAI)).frames["fact_three_public"].filter(table_type="B9")
    got = {r["item"]: r["amount_raw"] for r in items.to_dicts()}
    assert items.height == len(got)  # one value per item, not one per year
    assert got["TOTAL"] == "24.62" and got["OUTBOUND"] == "5.00" and got["RECEPTION"] == "9.54"


def test_earlier_year_and_change_blocks_are_left_out(parsed):
    # FY2020 表13: 2019年 | 2020年 | 增减变化情况 blocks; 2020年 三公 29.30 万元 = 3.30 + 26.00 (the
    # department's 合计 row; its units' rows are facts of those units, tests/test_member_units.py)
    frame = parsed(corpus_file(XIAN_HRSS)).frames["fact_three_public"]
    items = frame.filter((frame["table_type"] == "B9") & frame["member_unit_name"].is_null()).to_dicts()
    got = {r["item"]: r["amount_raw"] for r in items}
    assert len(items) == len(got) == 6
    assert (got["TOTAL"], got["RECEPTION"], got["VEHICLE_OPERATION"]) == ("29.30", "3.30", "26.00")


def test_carry_over_by_fund_is_not_a_grant_and_column_numbers_are_header(parsed):
    # 表02 收入预算总表 p.19: 本年收入 / 一般公共预算 is this year's grant; 上年结转结余 / 一般公共预算 is
    # last year's balance (a part of CARRY_IN). The `** 1 2 3 …` row numbers the columns: no data.
    summary = parsed(corpus_file(HUZHOU)).frames["fact_summary_line"].filter(table_type="B2")
    assert summary.filter(label="**").height == 0
    total_row = summary.filter(label="合计")
    assert total_row.filter(measure="GRANT_GPB")["amount_raw"].to_list() == ["6838.41"]
