"""经济分类 (B8) and “三公” (B9) tables of the national layouts (issue 16): values as printed on the pages
of ../shared/corpus/national (checked by hand against the pdfplumber text), and each table's verdict
in ``document_tables``."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from tests.conftest import corpus_file, doc_table_at, needs_shared

pytestmark = needs_shared

QUANZHOU = "national/quanzhou/泉州市人民政府办公室2026年部门预算.pdf"
FUZHOU = "national/fuzhou/福州市医疗保障局2026年部门预算.pdf"
GUANGZHOU = "national/guangzhou/广州市统计局2026年部门预算.pdf"
HANGZHOU = "national/hangzhou/杭州市司法局2026年部门预算_汇总.pdf"
BEIJING = "national/beijing/北京市财政局2026年部门预算_附件2报表.pdf"
HUZHOU = "national/huzhou/湖州市财政局2026年部门预算.pdf"
XIAN_FINANCE = "national/xian/西安市财政局汇总2026年部门预算.pdf"
XIAN_HR = "national/xian/西安市人力资源和社会保障局2020年部门综合预算.pdf"
JIANGSU_2018 = "jiangsu_province/江苏省人民检察院/2018年省检察院部门预算公开.pdf"


def _status(doc, table_type: str, page_start: int) -> str:
    return doc_table_at(doc, table_type, page_start)["status"]


def _econ(doc, code: str, measure: str = "TOTAL", scopes: tuple[str, ...] = ("GPB", "FISCAL_GRANT")) -> list[Decimal]:
    """The 经济分类 amounts of a code in the 一般公共预算 / 财政拨款 基本支出 tables."""
    econ = doc.frames["fact_econ_amount"].filter(
        (pl.col("table_type") == "B8")
        & (pl.col("econ_code") == code)
        & (pl.col("measure") == measure)
        & pl.col("fund_scope").is_in(scopes)
    )
    return sorted(econ["amount_yuan"].to_list())


def _three_public(doc) -> dict[str, Decimal]:
    rows = doc.frames["fact_three_public"].filter(pl.col("table_type") == "B9")
    return dict(zip(rows["item"], rows["amount_yuan"], strict=True))


def test_items_listed_as_rows_under_a_plain_total(parsed):
    """项目 | 预算数 with a plain 合计 row over 1、因公出国（境）费用 / 2、公务接待费 / …: the 合计 is the
    三公 total (it was read as an empty table)."""
    quanzhou = parsed(corpus_file(QUANZHOU))
    items = _three_public(quanzhou)
    assert items["TOTAL"] == Decimal("3127500.00")  # 合计 312.75 万元
    assert items["RECEPTION"] == Decimal("188500.00")
    assert items["VEHICLE_TOTAL"] == Decimal("2939000.00")
    assert items["VEHICLE_PURCHASE"] == Decimal("2619000.00")
    assert items["VEHICLE_OPERATION"] == Decimal("320000.00")
    assert _status(quanzhou, "B9", 22) == "verified"
    fuzhou = parsed(corpus_file(FUZHOU))
    assert _three_public(fuzhou)["TOTAL"] == Decimal("50000.00")
    assert _status(fuzhou, "B9", 21) == "verified"


def test_bracketed_codes_under_an_economic_subject_header(parsed):
    """Guangdong 表6: header 部门预算支出经济科目 | 预算, rows ``[301]工资福利支出``."""
    doc = parsed(corpus_file(GUANGZHOU))
    assert _econ(doc, "301") == [Decimal("71316600.00")]
    assert _econ(doc, "30217") == [Decimal("81600.00")]
    assert _econ(doc, "31007") == [Decimal("50000.00")]  # p15, the table's second page
    assert _status(doc, "B8", 14) == "verified"
    # 表11 部门预算基本支出预算表 (p20): all funds, one block of 类 rows per sub-unit, kept apart
    per_unit = _econ(doc, "301", scopes=("ALL",))
    assert per_unit == [Decimal("11557600.00"), Decimal("11903700.00"), Decimal("47855300.00")]


def test_economic_codes_from_names_alone(parsed):
    """杭州 表6 prints no codes: 类 and 款 by name, a 款 resolved under its 类 (医疗费 30114 under 301,
    医疗费补助 30307 under 303)."""
    doc = parsed(corpus_file(HANGZHOU))
    assert _econ(doc, "301") == [Decimal("551213000.00")]
    assert _econ(doc, "30114") == [Decimal("1513000.00")]
    assert _econ(doc, "30307") == [Decimal("92000.00")]
    assert _econ(doc, "30399", "PUBLIC") == [Decimal("5350300.00")]
    assert _status(doc, "B8", 32) == "verified"


def test_department_classification_beside_the_government_one(parsed):
    """北京 预算06 and 西安 表8 print 政府经济分类 (50101) beside 部门经济分类 (30101): the facts are
    the 部门 codes; a 款 printed only by its 7-digit sub-items (3021101 差旅费) is that 款."""
    beijing = parsed(corpus_file(BEIJING))
    econ = beijing.frames["fact_econ_amount"].filter(pl.col("table_type") == "B8")
    assert not econ.filter(pl.col("econ_code").str.starts_with("5")).height
    assert _econ(beijing, "30101") == [Decimal("17219820.00"), Decimal("19191408.00")]
    assert _econ(beijing, "30211") == [Decimal("213750.00"), Decimal("798825.00")]
    assert set(econ.filter(pl.col("econ_code") == "30101")["econ_name"]) == {"基本工资"}
    assert _status(beijing, "B8", 10) == "verified"
    xian = parsed(corpus_file(XIAN_FINANCE))
    assert _econ(xian, "30101") == [Decimal("2572088.40"), Decimal("14755885.20")]
    assert _status(xian, "B8", 35) == "verified"
    hr = parsed(corpus_file(XIAN_HR))
    assert Decimal("1324100.00") in _econ(hr, "30102")  # 3010201 津贴补贴 132.41 万元
    assert _status(hr, "B8", 39) == "verified"


def test_personnel_split_printed_per_row(parsed):
    """湖州 表06 prints 合计 | 人员经费 | 公用经费 on every row: 人员经费合计 is the sum of that column,
    not 301 + 303 (part of its 303 is 公用), so the table proves itself."""
    doc = parsed(corpus_file(HUZHOU))
    assert _econ(doc, "301") == [Decimal("46448000.00")]
    assert _status(doc, "B8", 25) == "verified"
    checks = doc.frames["fact_check"].filter((pl.col("table_type") == "B8") & (pl.col("rule") == "R-ROW"))
    assert checks.height > 10 and set(checks["status"]) <= {"PASS", "PASS_ROUNDING"}


def test_amount_printed_into_the_name_cell(parsed):
    """A badly ruled 2018 Jiangsu page puts ``基本工资2,117.68`` in the name cell, the 金额 cell merged away."""
    doc = parsed(corpus_file(JIANGSU_2018))
    assert _econ(doc, "30101") == [Decimal("21176800.00"), Decimal("21176800.00")]
    assert _status(doc, "B8", 16) == "verified"
    assert _status(doc, "B8", 18) == "verified"


SHENZHEN = "national/shenzhen/深圳市财政局本级2026年部门预算.pdf"
CHANGSHA = "national/changsha/长沙职业教育基地综合协调办公室2026年部门预算.pdf"
CHONGQING = "national/chongqing/重庆市水利局2026年部门预算.pdf"
YANTAI = "national/yantai/烟台市民政局2026年部门预算.pdf"


def test_three_public_by_fund_columns_and_year_rows(parsed):
    """深圳 表9: items × (一般公共预算 | 政府性基金预算 | 国有资本经营预算) columns, rows 2025年 / 2026年 /
    增减变化金额: the facts are the 2026年 row's 一般公共预算 cells."""
    doc = parsed(corpus_file(SHENZHEN))
    items = _three_public(doc)
    assert items["TOTAL"] == Decimal("584600.00")  # 58.46 万元 (2025年: 59.66)
    assert items["OUTBOUND"] == Decimal("416000.00")
    assert items["VEHICLE_OPERATION"] == Decimal("74000.00")
    assert _status(doc, "B9", 38) == "verified"


def test_income_tables_prove_themselves(parsed):
    """收入总表 rows add up across their columns: rows per unit without codes (福州), the 收入总体情况表
    by function with fund columns and no 财政拨款 column (重庆), 本级财政拨款 | 其它收入 columns (长沙)."""
    fuzhou = parsed(corpus_file(FUZHOU))
    total = fuzhou.frames["fact_summary_line"].filter(
        (pl.col("table_type") == "B2") & (pl.col("label") == "合计") & (pl.col("measure") == "TOTAL")
    )
    assert total["amount_yuan"].to_list() == [Decimal("3519049000.00")]
    assert _status(fuzhou, "B2", 11) == "verified"
    chongqing = parsed(corpus_file(CHONGQING))
    func = chongqing.frames["fact_func_amount"].filter((pl.col("table_type") == "B2") & (pl.col("func_code") == "205"))
    by_measure = dict(zip(func["measure"], func["amount_yuan"], strict=True))
    assert by_measure["TOTAL"] == Decimal("338624900.00")  # 33,862.49 万元
    assert by_measure["GRANT_GPB"] == Decimal("231689900.00")
    assert _status(chongqing, "B2", 13) == "verified"
    changsha = parsed(corpus_file(CHANGSHA))
    assert _status(changsha, "B1", 12) == "verified"
    assert _status(changsha, "B2", 13) == "verified"


def test_basic_expenditure_tables_by_fund_scope(parsed):
    """烟台 prints 一般公共预算基本支出情况表 (p17) and 基本支出预算情况表 of all funds (p23, 部门 and 政府
    经济分类 side by side in 类|款 columns): the second is fund scope ALL, and econ_amounts shows the first."""
    doc = parsed(corpus_file(YANTAI))
    econ = doc.frames["fact_econ_amount"].filter(
        (pl.col("table_type") == "B8") & (pl.col("econ_code") == "301") & (pl.col("measure") == "TOTAL")
    )
    by_scope = {s: sorted(econ.filter(pl.col("fund_scope") == s)["amount_yuan"]) for s in ("GPB", "ALL")}
    assert by_scope["GPB"] == [Decimal("7675400.00"), Decimal("17089500.00")]  # 基本支出预算/小计
    assert by_scope["ALL"] == [Decimal("7675400.00"), Decimal("19281000.00")]
    assert not doc.frames["fact_econ_amount"].filter(pl.col("econ_code").str.starts_with("5")).height
    assert _status(doc, "B8", 17) == "verified"
    assert _status(doc, "B8", 23) == "verified"


def test_income_table_with_a_unit_column_and_income_total(parsed):
    """深圳 表2: 预算单位 | 收入总计 | 本年收入 (fund columns) | 上年结余、结转, one row for the unit."""
    doc = parsed(corpus_file(SHENZHEN))
    rows = doc.frames["fact_summary_line"].filter((pl.col("table_type") == "B2") & (pl.col("page_no") == 19))
    by_measure = dict(zip(rows["measure"], rows["amount_yuan"], strict=False))
    assert by_measure["TOTAL"] == Decimal("373858800.00")  # 37,385.88 万元
    assert by_measure["GRANT_GPB"] == Decimal("369890500.00")
    assert by_measure["CARRY_IN"] == Decimal("3968300.00")
    assert _status(doc, "B2", 19) == "verified"
