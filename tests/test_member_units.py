"""Member units printed in a department's tables (issue 16): their rows are facts of those units, not of
the department. Values as printed on the pages (read by hand from the pdfplumber text of each page):

- 广州市统计局 2026 p.20 表11 部门预算基本支出预算表: 合计 8,401.67; 广州市统计普查中心 1,373.74 over
  工资福利支出 1,155.76 / 商品和服务支出 102.93 / 对个人和家庭的补助 111.04 / 资本性支出 4.00 (万元);
- 珠海市商务局 2026 p.21 表11: 合计 7,519.44; 珠海市商务局 6,258.73 (its own block); 珠海市贸易服务中心 1,069.53
  over 工资和福利支出 703.41;
- 湖州市财政局 2026 p.28 表07 “三公”经费 by 单位名称: 合计 9.30; 湖州市财政局 7.50; 湖州市市级财政国库支付中心 0.45;
- 中共西安市委宣传部 2021 p.41 表8 “三公” by 单位编码, 2021年 columns: 合计 and 201 65,100.00; 201001 60,000.00;
  201002 5,100.00 (its name cut to ``中共西安市委`` in the cell; p.19 表2 prints 201002 中共西安市委理论讲师团).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from pipelines.publish.warehouse import run_query
from tests.conftest import corpus_file, needs_shared

pytestmark = needs_shared

GUANGZHOU = "national/guangzhou/广州市统计局2026年部门预算.pdf"
ZHUHAI = "national/zhuhai/珠海市商务局2026年部门预算.pdf"
HUZHOU = "national/huzhou/湖州市财政局2026年部门预算.pdf"
XIAN_PUBLICITY = "national/xian/中共西安市委宣传部2021年部门综合预算.pdf"


def rows(warehouse, sql: str) -> list[tuple]:
    return run_query(warehouse, sql)[1]


def _doc(warehouse, name: str) -> tuple[str, str]:
    """(doc_id, unit_key) of the loaded document with that file name."""
    [(doc_id, unit_key)] = rows(
        warehouse,
        f"select doc_id, unit_key from documents where status = 'loaded' and source_file like '%/{name.split('/')[-1]}'",
    )
    return doc_id, unit_key


def test_unit_headings_make_their_blocks_facts_of_those_units(parsed):
    """表11: the rows under a unit heading are that unit's, the heading is its total, and the 合计
    stays the department's."""
    doc = parsed(corpus_file(GUANGZHOU))
    econ = doc.frames["fact_econ_amount"].filter((pl.col("page_no") == 20) & (pl.col("measure") == "TOTAL"))
    census = econ.filter(pl.col("member_unit_name") == "广州市统计普查中心")
    assert dict(zip(census["econ_code"], census["amount_yuan"], strict=True)) == {
        "301": Decimal("11557600.00"),  # 工资福利支出 1,155.76 万元
        "302": Decimal("1029300.00"),
        "303": Decimal("1110400.00"),
        "310": Decimal("40000.00"),
    }
    summary = doc.frames["fact_summary_line"].filter((pl.col("page_no") == 20) & (pl.col("measure") == "TOTAL"))
    heading = summary.filter(pl.col("label") == "广州市统计普查中心")
    assert heading["member_unit_name"].to_list() == ["广州市统计普查中心"]
    assert heading["amount_yuan"].to_list() == [Decimal("13737400.00")]
    total = summary.filter(pl.col("label") == "合计")
    assert total["member_unit_name"].to_list() == [None]  # the department's
    assert total["amount_yuan"].to_list() == [Decimal("84016700.00")]
    # 本级 is kept as part of the name as printed
    assert "广州市统计局（本级）" in set(econ["member_unit_name"].to_list())
    checks = doc.frames["fact_check"].filter(pl.col("subject").str.starts_with("广州市统计普查中心 = Σ its rows TOTAL"))
    assert checks["status"].to_list() == ["PASS_ROUNDING"]  # 1,373.74 vs 1,373.73: rounding in the 万元 cells
    table = doc.frames["doc_table"].filter((pl.col("table_type") == "B8") & (pl.col("page_start") == 20))
    assert table["status"].to_list() == ["verified"]


def test_blocks_named_outside_the_catalogue_still_add_up(parsed):
    """珠海 表11 prints 工资和福利支出 / 其他资本性等支出, names the 经济分类 catalogue does not know: the rows
    stay summary lines of their unit, and the unit's total is the sum of its block all the same."""
    doc = parsed(corpus_file(ZHUHAI))
    summary = doc.frames["fact_summary_line"].filter((pl.col("page_no") == 21) & (pl.col("measure") == "TOTAL"))
    wages = summary.filter(pl.col("label") == "工资和福利支出")
    assert dict(zip(wages["member_unit_name"], wages["amount_yuan"], strict=True))["珠海市贸易服务中心"] == Decimal(
        "7034100.00"
    )
    own = summary.filter(pl.col("label") == "珠海市商务局")
    assert own["member_unit_name"].to_list() == ["珠海市商务局"]  # the department's own block, a member row
    assert own["amount_yuan"].to_list() == [Decimal("62587300.00")]
    table = doc.frames["doc_table"].filter((pl.col("table_type") == "B8") & (pl.col("page_start") == 21))
    assert table["status"].to_list() == ["verified"]


def test_three_public_by_unit_name_column(corpus_warehouse):
    """湖州 表07: each unit's row is its own 三公; the department's total is the 合计, printed once."""
    doc_id, dept_key = _doc(corpus_warehouse, HUZHOU)
    totals = dict(
        rows(
            corpus_warehouse,
            f"select unit_name, amount_yuan from three_public where doc_id = '{doc_id}' and item = 'TOTAL'",
        )
    )
    assert totals["湖州市财政局"] == Decimal("93000.00")  # 合计 9.30 万元
    assert totals["湖州市财政局（本级）"] == Decimal("75000.00")  # the second 湖州市财政局 row, 7.50
    assert totals["湖州市市级财政国库支付中心"] == Decimal("4500.00")  # 0.45
    own = rows(
        corpus_warehouse,
        f"select amount_yuan from three_public where doc_id = '{doc_id}' and item = 'TOTAL' and unit_key = '{dept_key}'",
    )
    assert own == [(Decimal("93000.00"),)]


def test_department_amount_is_not_the_sum_of_its_units_repeated_cells(corpus_warehouse):
    """西安 表8 prints the department (合计, 201) and its units (201001, 201002) with the same items: the
    department's 公务接待费 is the printed 65,100.00, not 合计 + units; 201002's name is completed from 表2."""
    doc_id, dept_key = _doc(corpus_warehouse, XIAN_PUBLICITY)
    reception = rows(
        corpus_warehouse,
        f"select unit_name, unit_key, amount_yuan from three_public where doc_id = '{doc_id}' and item = 'RECEPTION' "
        "order by amount_yuan desc",
    )
    assert [(name, amount) for name, _, amount in reception] == [
        ("中共西安市委宣传部", Decimal("65100.00")),
        ("中共西安市委宣传部（本级）", Decimal("60000.00")),  # 201001, printed with the department's name
        ("中共西安市委理论讲师团", Decimal("5100.00")),
    ]
    assert [key for _, key, _ in reception].count(dept_key) == 1
    passed = rows(
        corpus_warehouse,
        f"select status, lhs, rhs from quality_findings where doc_id = '{doc_id}' "
        "and subject = '三公 RECEPTION = Σ member units BUDGET_INITIAL'",
    )
    assert passed == [("PASS", Decimal("65100.00"), Decimal("65100.00"))]


def test_units_lists_member_units_with_their_department(corpus_warehouse):
    _, dept_key = _doc(corpus_warehouse, ZHUHAI)
    members = dict(
        rows(
            corpus_warehouse,
            f"select unit_name, parent_unit_key from units where parent_unit_key = '{dept_key}'",
        )
    )
    assert members == {"珠海市商务局（本级）": dept_key, "珠海市贸易服务中心": dept_key, "珠海市会议展览局": dept_key}
    [(first, last, reason)] = rows(
        corpus_warehouse, "select first_year, last_year, match_reason from units where unit_name = '珠海市贸易服务中心'"
    )
    assert (first, last) == (2026, 2026)
    assert reason == "member unit in the tables of 珠海市商务局"
    # every member unit a fact row names is in units, and the department itself is not its own member
    orphans = rows(
        corpus_warehouse,
        "select count(*) from dim_member_unit m anti join units u using (unit_key)",
    )
    assert orphans == [(0,)]
    assert rows(corpus_warehouse, f"select count(*) from dim_member_unit where unit_key = '{dept_key}'") == [(0,)]


def test_unit_codes_of_one_level_under_the_total(corpus_warehouse):
    """西安人社 2020 p.30 表2 收入总表 by 单位编码 prints no department-code row: 合计 182,157.13 over 242001
    西安市人力资源和社会保障局 24,417.66, 242002 西安市社会保险管理中心 151,259.87, 242003 西安市人才服务中心
    1,011.42 …: every unit row is a member unit's (242001, printed with the department's name, its own office),
    the 合计 the department's."""
    doc_id, _ = _doc(corpus_warehouse, "national/xian/西安市人力资源和社会保障局2020年部门综合预算.pdf")
    lines = dict(
        rows(
            corpus_warehouse,
            f"select coalesce(s.member_unit_name, '(department)'), s.amount_yuan from fact_summary_line s "
            f"where s.doc_id = '{doc_id}' and s.table_type = 'B2' and s.page_no = 30 and s.measure = 'TOTAL' "
            "qualify row_number() over (partition by s.label order by s.amount_yuan desc) = 1",
        )
    )
    assert lines["(department)"] == Decimal("1821571300.00")
    assert lines["西安市社会保险管理中心"] == Decimal("1512598700.00")
    assert lines["西安市人才服务中心"] == Decimal("10114200.00")
    assert lines["西安市人力资源和社会保障局"] == Decimal("244176600.00")
    [(name,)] = rows(
        corpus_warehouse,
        f"select unit_name from dim_member_unit where doc_id = '{doc_id}' and member_unit_name = '西安市人力资源和社会保障局'",
    )
    assert name == "西安市人力资源和社会保障局（本级）"
