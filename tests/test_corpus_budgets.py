"""Every 预算 PDF of ../shared/corpus: loaded with the right unit, year, kind and scope; its tables
found; values as printed; and no identity failure except where the publisher's numbers break it."""

from decimal import Decimal

import polars as pl
import pytest

from tests.conftest import CORPUS, needs_shared, parse_all

pytestmark = needs_shared
D = Decimal

SH = "shanghai_putuo/"
JS = "jiangsu_province/"
# file → (scope, unit, year, table types that must be found)
BUDGETS = {
    SH + "tianbaoxitong_uploads_archives_1770007475548-818404804.pdf":
        ("部门", "上海市普陀区人民政府万里街道办事处", 2023, "B1 B2 B3 B4 B5 B6 B7 B8 B9"),
    SH + "上海市普陀区人民政府万里街道办事处24年预算.pdf": ("部门", "上海市普陀区人民政府万里街道办事处", 2024, "B1 B2 B3 B4 B5 B6 B7 B8 B9"),
    SH + "上海市普陀区人民政府办公室25年预算.pdf": ("部门", "上海市普陀区人民政府办公室", 2025, "B1 B2 B3 B4 B5 B6 B7 B8 B9"),
    SH + "上海市普陀区人民政府办公室单位25年预算.pdf": ("单位", "上海市普陀区人民政府办公室", 2025, "B1 B2 B3 B4 B5 B6 B7 B8 B9"),
    SH + "上海市普陀区财政局部门25年预算.pdf": ("部门", "上海市普陀区财政局", 2025, "B1 B2 B3 B4 B5 B6 B7 B8 B9"),
    "chongqing_swu/04_swu_2021_department_budget.pdf": ("部门", "西南大学", 2021, "B1 B2 B3 B4"),
    "chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf": ("部门", "西南大学", 2023, "B1 B2 B3 B4"),
    JS + "江苏省人大办公厅/江苏省人大办公厅2017年度预算公开.pdf": ("部门", "江苏省人大常委会办公厅", 2017, "B1 B3 B4 B5 B8 B9"),
    JS + "江苏省人大办公厅/江苏省人大常委会2019年度部门预算公开.pdf": ("部门", "江苏省人大常委会办公厅", 2019, ""),
    JS + "江苏省人大办公厅/江苏省人大常委会办公厅2019年部门预算公开表.pdf": ("部门", "江苏省人大常委会办公厅", 2019, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省人大办公厅/省人大办公厅2018预算公开.pdf": ("部门", "江苏省人大常委会办公厅", 2018, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省人民检察院/2017年省检察院部门预算.pdf": ("部门", "江苏省人民检察院", 2017, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省人民检察院/2018年省检察院部门预算公开.pdf": ("部门", "江苏省人民检察院", 2018, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省委办公厅/江苏省委办公厅2017年部门预算.pdf": ("部门", "中共江苏省委办公厅", 2017, ""),
    JS + "江苏省委办公厅/江苏省委办公厅2017年预算公开表格.pdf": ("部门", "中共江苏省委办公厅", 2017, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省委办公厅/江苏省委办公厅2018年度部门预算公开文件.pdf": ("部门", "中共江苏省委办公厅", 2018, ""),
    JS + "江苏省委办公厅/江苏省委办公厅2018年度部门预算公开表.pdf": ("部门", "中共江苏省委办公厅", 2018, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省委办公厅/江苏省委办公厅2019年度部门预算公开文件.pdf": ("部门", "中共江苏省委办公厅", 2019, ""),
    JS + "江苏省委办公厅/江苏省委办公厅2019年度部门预算公开表格.pdf": ("部门", "中共江苏省委办公厅", 2019, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省政协办公厅/2017年度部门预算公开表.pdf": ("部门", "江苏省政协办公厅", 2017, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省政协办公厅/江苏省政协办公厅2017年度部门预算.pdf": ("部门", "江苏省政协办公厅", 2017, ""),
    JS + "江苏省政协办公厅/江苏省政协办公厅2018年度部门预算.pdf": ("部门", "江苏省政协办公厅", 2018, ""),
    JS + "江苏省政协办公厅/江苏省政协办公厅2018度部门预算公开表.pdf": ("部门", "江苏省政协办公厅", 2018, "B1 B2 B3 B4 B5 B6 B8 B9"),
    JS + "江苏省政协办公厅/江苏省政协办公厅2019年度部门预算.pdf": ("部门", "江苏省政协办公厅", 2019, ""),
    JS + "江苏省政协办公厅/江苏省政协办公厅2019年预算公开表.pdf": ("部门", "江苏省政协办公厅", 2019, "B1 B2 B3 B4 B5 B6 B8 B9"),
}  # fmt: skip

# Publisher defects, checked by hand against the printed page: (file, rule, table, page, subject prefix)
KNOWN_DEFECTS = {
    # 西南大学 2023 收入预算表 p.8: 小学教育 printed 9,645.51 but its columns add to 14.33 + 8,201.15 + 0.50
    # + 1,430.03 = 9,646.01, and 普通教育 20502 = 520,603.91 implies 9,646.01 too.
    ("chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf", "R-ROW", "B2", 8, "2050202"),
    ("chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf", "R-HIER", "B2", 8, "20502"),
    # 万里街道 2023 p.35 项目绩效目标表 公共服务设施运行经费: 年度资金申请总额 10,903,043.00 but its
    # 其中：当年财政拨款 is 11,419,043.00.
    (SH + "tianbaoxitong_uploads_archives_1770007475548-818404804.pdf", "R-PROJ", "PT", 35, "公共服务设施运行经费:"),
    # 普陀区财政局 2025 p.7 情况说明: “机关事业单位职业年金缴费支出” 887.36 万元, the table prints
    # 873,617.00 元 = 87.36 万元 (a digit too many).
    (SH + "上海市普陀区财政局部门25年预算.pdf", "R-NARR-FUNC", "B2", 7, "2080506"),
    # 江苏省人大 2017 p.28: the 三公 shares 8.75 / 7.22 / 16.81 % do not follow from the text's own
    # 222.5 / 183.6 / 427.5 万元 of 833.6 (26.69 / 22.02 / 51.28 %).
    (JS + "江苏省人大办公厅/江苏省人大办公厅2017年度预算公开.pdf", "R-NARR-PCT", None, 28, "three_public"),
    # 江苏省委办公厅 2017 p.8 (1.66 % stated, 1.69 % computed) and 江苏省政协 2017 p.6 (5.77 % vs
    # 6.12 %): the change divided by this year's amount instead of last year's.
    (JS + "江苏省委办公厅/江苏省委办公厅2017年部门预算.pdf", "R-NARR-PCT", None, 8, "func"),
    (JS + "江苏省政协办公厅/江苏省政协办公厅2017年度部门预算.pdf", "R-NARR-PCT", None, 6, "other"),
}


@pytest.fixture(scope="module")
def docs():
    paths = [CORPUS / f for f in BUDGETS]
    parsed = parse_all(paths)
    return {f: parsed[CORPUS / f] for f in BUDGETS}


@pytest.mark.parametrize("name", list(BUDGETS))
def test_budget_pdf_loads_and_is_classified(docs, name):
    doc = docs[name]
    scope, unit, year, tables = BUDGETS[name]
    assert doc.status == "loaded", doc.error
    assert (doc.info.doc_kind, doc.info.scope, doc.info.unit_name, doc.info.fiscal_year) == (
        "BUDGET",
        scope,
        unit,
        year,
    )
    found = set(doc.frames["dim_table_instance"]["table_type"])
    assert set(tables.split()) <= found, f"missing {set(tables.split()) - found}"


@pytest.mark.parametrize("name", list(BUDGETS))
def test_identities_fail_only_on_publisher_defects(docs, name):
    checks = docs[name].frames.get("fact_check", pl.DataFrame(schema={"status": pl.Utf8}))
    fails = checks.filter(pl.col("status") == "FAIL") if checks.height else checks
    got = {
        (name, r["rule"], r["table_type"], r["page_no"], r["subject"].split()[0]) for r in fails.iter_rows(named=True)
    }
    expected = {d for d in KNOWN_DEFECTS if d[0] == name}
    assert got == expected


def test_known_defect_is_reported_with_both_sides(docs):
    checks = docs["chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf"].frames["fact_check"]
    row = checks.filter((pl.col("rule") == "R-ROW") & (pl.col("status") == "FAIL")).row(0, named=True)
    assert (row["lhs"], row["rhs"], row["diff"]) == (D("96455100.00"), D("96460100.00"), D("-5000.00"))
    assert "小学教育" in row["message"] and row["page_no"] == 8


def func_value(doc, table_type, code, measure, fund_scope=None):
    df = doc.frames["fact_func_amount"].filter(
        (pl.col("table_type") == table_type) & (pl.col("func_code") == code) & (pl.col("measure") == measure)
    )
    if fund_scope:
        df = df.filter(pl.col("fund_scope") == fund_scope)
    assert df.height == 1, (table_type, code, measure, df)
    return df["amount_yuan"][0]


def test_putuo_finance_bureau_2025_values(docs):
    # 上海市普陀区财政局部门25年预算 p.12 支出预算总表 (元) and p.21 三公 (万元)
    doc = docs[SH + "上海市普陀区财政局部门25年预算.pdf"]
    assert func_value(doc, "B3", "2010601", "TOTAL") == D("16231840.80")
    assert func_value(doc, "B3", "2010601", "BASIC") == D("16093326.00")
    assert func_value(doc, "B3", "2010601", "PROJECT") == D("138514.80")
    assert func_value(doc, "B3", "2010602", "BASIC") is None  # printed blank
    assert func_value(doc, "B1", "221", "TOTAL") == D("4736957.00")
    tp = {r["item"]: (r["amount_raw"], r["amount_yuan"]) for r in doc.frames["fact_three_public"].iter_rows(named=True)}
    assert tp["TOTAL"] == ("0.95", D("9500.00"))
    assert tp["RECEPTION"] == ("0.95", D("9500.00"))
    assert tp["ORG_RUNNING_COST"] == ("229.43", D("2294300.00"))
    assert tp["OUTBOUND"] == ("", None)


def test_jiangsu_party_office_2019_in_wan(docs):
    # 江苏省委办公厅2019年度部门预算公开表格: p.5 财政拨款支出预算表（功能科目）, p.9 三公 with 会议费/培训费
    doc = docs[JS + "江苏省委办公厅/江苏省委办公厅2019年度部门预算公开表格.pdf"]
    assert func_value(doc, "B4", "2013101", "TOTAL", "FISCAL_GRANT") == D("93701200.00")  # 9,370.12 万元
    assert func_value(doc, "B5", "2210202", "TOTAL", "GPB") == D("29282200.00")  # 2,928.22 万元
    tp = {r["item"]: r["amount_yuan"] for r in doc.frames["fact_three_public"].iter_rows(named=True)}
    assert tp["TOTAL"] == D("5082000.00")  # the 三公 小计 508.20, not the 合计 1,471.70 with 会议费/培训费
    assert tp["OUTBOUND"] == D("700000.00") and tp["RECEPTION"] == D("270000.00")
    assert tp["VEHICLE_OPERATION"] == D("4112000.00") and tp["VEHICLE_PURCHASE"] is None
    assert tp["ORG_RUNNING_COST"] == D("22329100.00")  # p.11 机关运行经费 2,232.91


def test_badly_ruled_jiangsu_procuratorate_2018(docs):
    # 2018年省检察院部门预算公开 p.13–16: thin columns and split rows in the ruling
    doc = docs[JS + "江苏省人民检察院/2018年省检察院部门预算公开.pdf"]
    assert func_value(doc, "B4", "2040401", "TOTAL", "FISCAL_GRANT") == D("108833600.00")
    assert func_value(doc, "B1", "204", "TOTAL") == D("164587500.00")  # 四、公共安全支出 16,458.75
    assert func_value(doc, "B1", "221", "TOTAL") == D("36603800.00")  # continued on p.14


def test_swu_2021_university_format(docs):
    # 西南大学 2021 p.8 支出预算表 (万元), codes in one column
    doc = docs["chongqing_swu/04_swu_2021_department_budget.pdf"]
    assert func_value(doc, "B3", "2050205", "TOTAL") == D("3683112100.00")
    assert func_value(doc, "B3", "2050205", "BASIC") == D("2829199000.00")
    assert func_value(doc, "B3", "2050205", "PROJECT") == D("853913100.00")
    assert func_value(doc, "B2", "2050205", "INC_BUSINESS") == D("1228204700.00")


def test_narrative_only_pdfs_load_without_rows(docs):
    doc = docs[JS + "江苏省委办公厅/江苏省委办公厅2019年度部门预算公开文件.pdf"]
    assert doc.frames["fact_func_amount"].height == 0


def test_a_markdown_catalogue_mentioning_budgets_is_not_a_budget(parsed):
    # corpus/MANIFEST.md: a table of budget documents, full of 部门预算, but not a disclosure itself
    doc = parsed(CORPUS / "MANIFEST.md")
    assert doc.status == "quarantined"
    assert "does not look like a budget disclosure" in doc.error
