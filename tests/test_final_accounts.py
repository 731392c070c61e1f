"""部门决算 documents of the corpus: the F0–F9 tables with their columns and stages, the identities,
the F0 roster, the 情况说明 numbers (budget and 决算 per 项), the negative copy and the template.

Values are read off the PDFs (1-based pdfplumber pages, as DOMAIN.md §1.2 and §2.5 cite them); all
tables are in 万元, so 1,511.89 万元 is 15,118,900.00 元.
"""

from decimal import Decimal

import polars as pl
import pytest

from tests.conftest import corpus_file, needs_shared, parse_all

pytestmark = needs_shared
D = Decimal

CZJ = "shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf"
GH = "shanghai_putuo_final/上海市普陀区规划和自然资源局 2024 年度部门决算.pdf"
SGB = "shanghai_putuo_final/中共上海市普陀区委社会工作部 2024 年度部门决算.pdf"
SWU = "chongqing_swu/21_swu_2023_final_accounts__download.jsp.pdf"
NEG = "negative/24年普陀区财政局（测试问题版本）.pdf"
TEMPLATE = "shanghai_putuo_final/附件2：部门决算模板.pdf"
UNTOUCHED = (CZJ, GH, SGB, SWU)


@pytest.fixture(scope="module")
def docs():
    paths = {name: corpus_file(name) for name in (*UNTOUCHED, NEG, TEMPLATE)}
    parsed = parse_all(list(paths.values()))
    return {name: parsed[path] for name, path in paths.items()}


def wan(text: str) -> Decimal:
    return (D(text.replace(",", "")) * 10000).quantize(D("0.01"))


def one(df: pl.DataFrame, **where):
    rows = df.filter(pl.all_horizontal([pl.col(k) == v for k, v in where.items()]))
    assert rows.height == 1, f"expected one row for {where}, got {rows.height}"
    return rows.row(0, named=True)


def func(doc, table_type: str) -> pl.DataFrame:
    return doc.frames["fact_func_amount"].filter(pl.col("table_type") == table_type)


def summary(doc, table_type: str) -> pl.DataFrame:
    return doc.frames["fact_summary_line"].filter(pl.col("table_type") == table_type)


def findings(doc) -> pl.DataFrame:
    return doc.frames["fact_check"]


# ---------------------------------------------------------------------------------------------
# Documents and tables


@pytest.mark.parametrize(
    "name, unit, year, tables",
    [
        # DOMAIN.md §1.2: where the tables are printed (F8/F9 empty with their note)
        (CZJ, "上海市普陀区财政局", 2024,
         {"F0": (5, 5), "F1": (6, 7), "F2": (8, 9), "F3": (10, 11), "F4": (12, 13), "F5": (15, 15),
          "F6": (16, 17), "F7": (18, 18), "F8": (19, 19), "F9": (20, 20)}),
        (SGB, "中共上海市普陀区委社会工作部", 2024,
         {"F0": (4, 4), "F1": (5, 5), "F2": (6, 7), "F3": (8, 9), "F4": (10, 11), "F5": (12, 12),
          "F6": (13, 13), "F7": (14, 14), "F8": (15, 15), "F9": (16, 16)}),
        (GH, "上海市普陀区规划和自然资源局", 2024,
         {"F0": (6, 6), "F1": (7, 7), "F2": (8, 9), "F3": (10, 11), "F4": (12, 13), "F5": (14, 15),
          "F6": (16, 16), "F7": (17, 17), "F8": (18, 18), "F9": (19, 19)}),
        # 高等学校 format: 4 tables (收支决算总表, 收入, 支出, 财政拨款支出决算表), roster from a sentence
        (SWU, "西南大学", 2023, {"F0": (7, 7), "F1": (8, 9), "F2": (10, 11), "F3": (12, 13), "F4": (14, 15)}),
    ],
)  # fmt: skip
def test_final_account_tables_are_found(docs, name, unit, year, tables):
    doc = docs[name]
    assert doc.status == "loaded", doc.error
    assert (doc.info.doc_kind, doc.info.unit_name, doc.info.fiscal_year) == ("FINAL_ACCOUNT", unit, year)
    found = {r["table_type"]: (r["page_start"], r["page_end"]) for r in doc.frames["dim_table_instance"].to_dicts()}
    assert found == tables


def test_empty_tables_keep_their_note(docs):
    tables = docs[CZJ].frames["dim_table_instance"]
    f8 = one(tables, table_type="F8")
    assert f8["is_empty"] and f8["empty_note"] == "注：上海市普陀区财政局无政府性基金预算财政拨款支出，故本表无数据。"
    assert one(tables, table_type="F9")["is_empty"]
    assert one(docs[SGB].frames["dim_table_instance"], table_type="F7")["is_empty"]  # 社工部 p.14: no 三公


def test_every_fact_is_a_final_account_fact_in_wan(docs):
    for name in UNTOUCHED:
        df = docs[name].frames["fact_func_amount"].filter(pl.col("source_kind") == "TABLE")
        assert set(df["amount_unit"]) == {"万元"}
        assert set(df["stage"]) == {"FINAL"}
        assert set(df["table_type"]) <= {"F1", "F2", "F3", "F4", "F5", "F8", "F9"}


# ---------------------------------------------------------------------------------------------
# Columns and measures, with real values


def test_czj_expenditure_table_three_code_columns(docs):
    # 财政局 F3 p.10: 201 | 06 | 01 | 行政运行 | 1,511.89 | 1,503.52 | 8.37
    f3 = func(docs[CZJ], "F3")
    for measure, value in (("TOTAL", "1,511.89"), ("BASIC", "1,503.52"), ("PROJECT", "8.37")):
        row = one(f3, func_code="2010601", measure=measure)
        assert row["amount_yuan"] == wan(value) and row["func_name"] == "行政运行" and row["fund_scope"] == "ALL"
    assert one(f3, func_code="2010601", measure="EXP_TO_UPPER")["amount_yuan"] is None  # blank 上缴上级支出
    # the 类|款|项 labels share their row with 合计 (p.10): 合计 is a summary row, not a code
    assert one(summary(docs[CZJ], "F3"), label="合计", measure="BASIC")["amount_yuan"] == wan("2,336.91")


def test_czj_income_table(docs):
    # 财政局 F2 p.8: 2010602 一般行政管理事务 16.19 = 财政拨款 10.00 + 其他收入 6.19
    f2 = func(docs[CZJ], "F2")
    assert one(f2, func_code="2010602", measure="TOTAL")["amount_yuan"] == wan("16.19")
    assert one(f2, func_code="2010602", measure="GRANT_TOTAL")["amount_yuan"] == wan("10.00")
    assert one(f2, func_code="2010602", measure="INC_OTHER")["amount_yuan"] == wan("6.19")
    # p.9 continues the table without a header
    assert one(f2, func_code="2210203", measure="TOTAL")["page_no"] == 9


def test_czj_total_tables_and_their_footer_pairs(docs):
    doc = docs[CZJ]
    # F1 p.6: the 类 rows; 社会保障和就业支出 326.71 there but 326.72 in F3 (P14, a rounding tail)
    assert one(func(doc, "F1"), func_code="208")["amount_yuan"] == wan("326.71")
    assert one(func(doc, "F3"), func_code="208", measure="TOTAL")["amount_yuan"] == wan("326.72")
    # F1 p.7: the footer pairs stand alone on the next page
    f1 = summary(doc, "F1")
    assert one(f1, label="年初结转和结余")["amount_yuan"] == wan("49.14")
    assert one(f1, label="年末结转和结余")["amount_yuan"] == wan("55.34")
    assert one(f1, label="本年收入合计")["amount_yuan"] == wan("2,946.25")
    # F4 p.12-13: 财政拨款 columns by fund
    f4 = func(doc, "F4")
    assert set(f4["fund_scope"]) == {"FISCAL_GRANT"}
    assert one(f4, func_code="221", measure="GRANT_GPB")["amount_yuan"] == wan("445.69")  # p.13
    totals = summary(doc, "F4").filter((pl.col("label") == "总计") & pl.col("measure").is_in(["TOTAL", "GRANT_GPB"]))
    assert totals["amount_yuan"].to_list() == [wan("2,961.68")] * 3  # 收入 side, 支出 合计 and 一般公共预算
    assert one(summary(doc, "F4"), label="年末财政拨款结转和结余", measure="GRANT_GPB")["amount_yuan"] == wan("21.63")


def test_czj_basic_expenditure_two_blocks(docs):
    # 财政局 F6 p.16-17: (code, name, 决算数) × 2 per line; p.17 starts with an empty row
    econ = docs[CZJ].frames["fact_econ_amount"]
    assert set(econ["fund_scope"]) == {"GPB"} and set(econ["stage"]) == {"FINAL"}
    assert one(econ, econ_code="30102")["amount_yuan"] == wan("1,238.58")  # left block p.16
    assert one(econ, econ_code="30201")["amount_yuan"] == wan("21.21")  # right block p.16
    assert one(econ, econ_code="30309")["amount_yuan"] == wan("0.31")  # left block p.17
    row = one(econ, econ_code="31002")
    assert (row["amount_yuan"], row["page_no"], row["econ_name"]) == (wan("13.58"), 17, "办公设备购置")
    assert one(econ, econ_code="30212")["econ_name"] == "因公出国（境）费用"  # letter-spaced (P3)
    f6 = summary(docs[CZJ], "F6")
    assert one(f6, label="人员经费合计")["amount_yuan"] == wan("2,152.26")
    assert one(f6, label="公用经费合计")["amount_yuan"] == wan("184.65")


def test_three_public_budget_and_final_columns(docs):
    # 财政局 F7 p.18: only 合计 预算数 and 公务接待费 预算数 print 0.95 (P10); 决算 all blank
    tp = docs[CZJ].frames["fact_three_public"]
    assert one(tp, stage="BUDGET_INITIAL", item="TOTAL")["amount_yuan"] == wan("0.95")
    assert one(tp, stage="BUDGET_INITIAL", item="RECEPTION")["amount_yuan"] == wan("0.95")
    assert one(tp, stage="BUDGET_INITIAL", item="OUTBOUND")["amount_yuan"] is None
    assert one(tp, stage="FINAL", item="TOTAL")["amount_yuan"] is None
    # 规划 F7 p.17: 预算 2.85 / 决算 0.39, all of it 公务接待费; 运行维护费 header variant (P11)
    tp = docs[GH].frames["fact_three_public"]
    assert one(tp, stage="BUDGET_INITIAL", item="TOTAL")["amount_yuan"] == wan("2.85")
    assert one(tp, stage="FINAL", item="TOTAL")["amount_yuan"] == wan("0.39")
    assert one(tp, stage="FINAL", item="RECEPTION")["amount_yuan"] == wan("0.39")
    assert one(tp, stage="FINAL", item="VEHICLE_OPERATION")["amount_yuan"] == D(0)


def test_seven_digit_codes_and_continuations(docs):
    # 社工部 F2 p.6-7 (new 款 20139); 事业单位医疗 on the continued page 7
    f2 = func(docs[SGB], "F2")
    assert one(f2, func_code="20139", measure="TOTAL")["func_name"] == "社会工作事务"
    row = one(f2, func_code="2101102", measure="TOTAL")
    assert (row["amount_yuan"], row["page_no"], row["func_level"]) == (wan("0.49"), 7, 3)
    assert one(func(docs[SGB], "F3"), func_code="2013999", measure="PROJECT")["amount_yuan"] == wan("202.24")
    econ = docs[SGB].frames["fact_econ_amount"]
    assert one(econ, econ_code="30239")["amount_yuan"] == wan("2.43")  # 社工部 F6 p.13
    assert one(econ, econ_code="30217")["amount_yuan"] == D(0)  # printed 0.00


def test_gh_tables(docs):
    doc = docs[GH]
    # 城乡社区支出: 3,845.25 in F1 p.7, 3,845.24 in F3 p.11, 3,832.36 in F5 p.14 (GPB only)
    assert one(func(doc, "F1"), func_code="212")["amount_yuan"] == wan("3845.25")
    assert one(func(doc, "F3"), func_code="212", measure="TOTAL")["amount_yuan"] == wan("3845.24")
    f5 = func(doc, "F5")
    assert one(f5, func_code="212", measure="TOTAL")["amount_yuan"] == wan("3832.36")
    assert one(f5, func_code="212", measure="BASIC")["amount_yuan"] == wan("1572.70")
    # F5 p.15: the 合计 row after the continuation
    f5_total = one(summary(doc, "F5"), label="合计", measure="TOTAL")
    assert (f5_total["amount_yuan"], f5_total["page_no"]) == (wan("9746.50"), 15)
    # F1 p.7: 年初结转和结余 112.88, 年末 100.00, 总计 9,859.38
    f1 = summary(doc, "F1")
    assert one(f1, label="年初结转和结余")["amount_yuan"] == wan("112.88")
    assert set(f1.filter(pl.col("label") == "总计")["amount_yuan"]) == {wan("9859.38")}


def test_swu_university_format(docs):
    doc = docs[SWU]
    f1 = summary(doc, "F1")
    assert "栏次" not in set(f1["label"])  # the column-number row is header, not data
    assert one(f1, label="上年结转和结余")["amount_yuan"] == wan("93,660.54")
    assert one(f1, label="本年支出合计")["amount_yuan"] == wan("457,676.75")
    assert one(func(doc, "F1"), func_code="205")["amount_yuan"] == wan("425,287.27")  # p.8
    # F2 p.10: 事业收入 / 金额 is INC_BUSINESS; 其中：教育收费 is not a measure
    f2 = func(doc, "F2")
    assert one(f2, func_code="2050205", measure="INC_BUSINESS")["amount_yuan"] == wan("135,246.59")
    assert wan("72,670.34") not in set(f2["amount_yuan"])
    # 表 4 高等学校财政拨款支出决算表 p.14: 类|款|项 header with 7-digit codes in the 类 column
    f4 = func(doc, "F4")
    row = one(f4, func_code="2050202", measure="TOTAL")
    assert (row["amount_yuan"], row["fund_scope"]) == (wan("7,970.38"), "FISCAL_GRANT")
    assert one(f4, func_code="2060204", measure="PROJECT")["amount_yuan"] == wan("1,707.93")  # p.15


# ---------------------------------------------------------------------------------------------
# Identities

TABLE_RULES = ("R-ROW", "R-HIER", "R-TOTAL", "R-BAL", "R-PERS", "R-XT", "R-3P-SUM", "R-TABLES")


@pytest.mark.parametrize("name", UNTOUCHED)
def test_untouched_tables_satisfy_their_identities(docs, name):
    checks = findings(docs[name]).filter(pl.col("rule").is_in(TABLE_RULES))
    failed = checks.filter(pl.col("status") == "FAIL")
    assert failed.height == 0, failed["message"].to_list()
    rules = set(checks["rule"])
    assert {"R-ROW", "R-HIER", "R-TOTAL", "R-BAL"} <= rules
    # each table: 财政局 F1 总计(收) = 2,946.25 + 49.14 = 2,995.39 = 2,940.05 + 55.34 (DOMAIN §2.5)
    assert checks.filter(pl.col("rule") == "R-BAL").height >= 3


def test_rounding_tails_pass_with_tolerance(docs):
    # 规划 F5 p.14: 212 城乡社区支出 3,832.36 vs 1,572.70 + 2,259.65 = 3,832.35
    rows = findings(docs[GH]).filter(
        (pl.col("rule") == "R-ROW") & (pl.col("table_type") == "F5") & pl.col("subject").str.starts_with("212 ")
    )
    assert rows["status"].to_list() == ["PASS_ROUNDING"]
    assert rows["diff"][0] == D("100.00")
    # 财政局 F6 p.16: 302 = Σ款 171.09 vs 171.07 (DOMAIN §2.5)
    row = one(findings(docs[CZJ]).filter(pl.col("rule") == "R-HIER"), subject="302 商品和服务支出 TOTAL FINAL")
    assert (row["status"], row["diff"]) == ("PASS_ROUNDING", D("-200.00"))


# 情况说明 statements that contradict the tables, as published (DOMAIN.md P12 and §2.5)
KNOWN_NARRATIVE_FAILS = {
    # p.21: "0.3 万元" vs F4 总计 2,961.68; 一般公共服务支出 "占 71.73%" but 2,106.66 / 2,940.05 = 71.65%
    CZJ: {"财政拨款收入支出总计 (narrative)", "一般公共服务支出（类） 占比"},
    # p.24: 5,377.64 / 4,896.98 are the all-funds F3 基本支出, not the 一般公共预算 F5/F6 figures
    GH: {"一般公共预算财政拨款基本支出 (narrative)", "人员经费 (narrative)"},
    # p.18 "完成年初预算的 95.89%": 年初预算 is 0, 95.89% is of 全年预算; p.20 住房公积金（项） "主要用于：事业单位
    # 医疗保险支出" (R-NARR-PURPOSE, GovBudgetChecker R005's own example)
    SGB: {"GPB_TOTAL 完成率", "2210201 purpose"},
    SWU: set(),
}


@pytest.mark.parametrize("name", UNTOUCHED)
def test_narrative_failures_are_the_publishers_errors(docs, name):
    failed = findings(docs[name]).filter(pl.col("status") == "FAIL")
    assert set(failed["subject"]) == KNOWN_NARRATIVE_FAILS[name], failed["message"].to_list()


def test_negative_copy_loads_and_its_injected_errors_fail(docs):
    doc = docs[NEG]
    assert doc.status == "loaded"
    assert (doc.info.doc_kind, doc.info.unit_name, doc.info.fiscal_year) == (
        "FINAL_ACCOUNT",
        "上海市普陀区财政局",
        2024,
    )
    failed = findings(doc).filter(pl.col("status") == "FAIL")
    messages = " | ".join(failed["message"])
    assert one(failed, rule="R-TABLES")["table_type"] == "F3"  # 支出决算表 listed on p.2, never printed
    assert "收入支出总计' vs 收入支出决算总表 总计: 0.00万元 vs 2,995.39万元" in messages  # p.18 "总计 0 万元"
    assert "“三公”经费 年初预算 vs F7 合计 年初预算数 (blank): 0.95万元" in messages  # F7 p.15 blanked
    wording = failed.filter(pl.col("subject").str.ends_with("增减表述"))
    assert sorted(wording["page_no"].to_list()) == [19, 20, 21]  # 大于 / 大于 / 等于 against the numbers
    assert "上海市普陀区XX局" in messages  # template residue, p.7
    assert "截至2023年12月31日" in messages  # wrong year in a 2024 决算
    assert "a part heading names 2023 in the 2024 document" in messages  # p.18 第三部分 …2023年度…情况说明
    # its tables themselves add up: only the narrative, the missing table and the text were broken
    assert failed.filter(pl.col("rule").is_in(["R-ROW", "R-HIER", "R-TOTAL", "R-BAL"])).height == 0


def test_template_is_quarantined_as_a_template(docs):
    doc = docs[TEMPLATE]
    assert doc.status == "quarantined"
    assert doc.info.is_template and doc.info.doc_kind == "FINAL_ACCOUNT"
    assert "template" in doc.error and "no data was loaded" in doc.error
    assert doc.frames == {}


# ---------------------------------------------------------------------------------------------
# F0 roster


def test_roster_of_member_units(docs):
    roster = docs[GH].frames["bridge_dept_unit"]  # 规划 p.6: 5 consolidated units
    assert roster["seq"].to_list() == [1, 2, 3, 4, 5]
    assert roster["member_unit_name"][1] == "上海市普陀区规划和自然资源局执法大队（下属参公事业单位）"
    czj = docs[CZJ].frames["bridge_dept_unit"]  # 财政局 p.5
    assert czj["member_unit_name"].to_list() == [
        "上海市普陀区财政局（本级）", "上海市普陀区财政局财政所", "上海市普陀区国库收付中心",
    ]  # fmt: skip
    assert czj["remark"].to_list() == ["", "预算不单列，并入本级", "预算不单列，并入本级"]
    swu = docs[SWU].frames["bridge_dept_unit"]  # p.7: a sentence, no table
    assert swu["member_unit_name"].to_list() == ["西南大学本级", "西南大学附属中学", "西南大学附属小学"]


# ---------------------------------------------------------------------------------------------
# 情况说明: budget and final per 项

# (code, budget, final, printed rate or None), 万元
CZJ_ITEMS = [  # 财政局 p.22, 年初预算
    ("2010601", "1560.05", "1511.89", None), ("2010602", "10.00", "10.00", None),
    ("2010607", "135.90", "135.25", None), ("2010608", "450.52", "449.52", None),
    ("2080501", "85.55", "84.65", None), ("2080505", "161.62", "160.75", None),
    ("2080506", "80.81", "80.38", None), ("2080599", "0.94", "0.94", None),
    ("2101101", "62.29", "60.99", None), ("2210201", "187.75", "187.19", None),
    ("2210203", "258.50", "258.50", None),
]  # fmt: skip
GH_ITEMS = [  # 规划局 p.21-24, 年初预算
    ("2080501", "54.53", "54.53", "100.00"), ("2080502", "28.11", "28.11", "100.00"),
    ("2080505", "452.40", "446.11", "98.61"), ("2080506", "226.25", "225.12", "99.50"),
    ("2080599", "0.88", "0.88", "100.00"), ("2101101", "42.73", "40.35", "94.43"),
    ("2101102", "196.40", "196.29", "99.94"), ("2120101", "1115.48", "1092.80", "97.97"),
    ("2120201", "3110.14", "2739.56", "88.08"), ("2200150", "4477.33", "4416.67", "98.65"),
    ("2200199", "45.00", "45.00", "100.00"), ("2210201", "289.59", "289.59", "100.00"),
    ("2210203", "171.49", "171.49", "100.00"),
]  # fmt: skip
SGB_ITEMS = [  # 社工部 p.18-20, 全年预算
    ("2013901", "52.00", "51.32", "98.69"), ("2013950", "17.68", "11.31", None),
    ("2013999", "202.24", "202.24", None), ("2080505", "9.00", "6.18", None),
    ("2080506", "5.74", "4.64", None), ("2101101", "2.23", "2.22", "99.55"),
    ("2101102", "2.29", "0.49", None), ("2210201", "18.12", "17.70", "97.68"),
    ("2210203", "11.72", "11.72", None),
]  # fmt: skip
ITEMS = {CZJ: ("BUDGET_INITIAL", CZJ_ITEMS), GH: ("BUDGET_INITIAL", GH_ITEMS), SGB: ("BUDGET_ADJUSTED", SGB_ITEMS)}


@pytest.mark.parametrize("name", [CZJ, GH, SGB])
def test_narrative_items_give_budget_and_final(docs, name):
    stage, items = ITEMS[name]
    numbers = docs[name].frames["fact_narrative_number"]
    budgets = docs[name].frames["fact_func_amount"].filter(pl.col("source_kind") == "NARRATIVE")
    assert budgets.height == len(items)
    assert set(budgets["fund_scope"]) == {"GPB"} and set(budgets["stage"]) == {stage}
    for code, budget, final, rate in items:
        b = one(budgets, func_code=code)
        assert b["amount_yuan"] == wan(budget) and b["amount_raw"] == budget and b["func_level"] == 3
        quoted = numbers.filter(pl.col("func_code") == code)
        assert one(quoted, role=stage)["value"] == D(budget)
        f = one(quoted, role="FINAL")
        assert f["value"] == D(final) and f["unit"] == "万元"
        assert f"{final}万元" in f["sentence"].replace(" ", "") or final in f["sentence"]
        if rate:
            assert one(quoted, role="EXECUTION_RATE")["value"] == D(rate)


def test_narrative_sentence_is_rebuilt_around_detached_digits(docs):
    # 财政局 p.22 prints the digits in a separate text run (P1); the sentence carries them again
    row = one(docs[CZJ].frames["fact_narrative_number"], func_code="2010601", role="BUDGET_INITIAL")
    assert row["page_no"] == 22 and row["resolved_by"] == "NAME"
    assert row["subject"] == "一般公共服务支出（类）财政事务（款）行政运行（项）"
    assert row["sentence"] == "年初预算为1560.05万元，支出决算为1511.89万元。"


def test_renamed_subjects_resolve_by_their_final_amount(docs):
    numbers = docs[GH].frames["fact_narrative_number"].filter(pl.col("role") == "BUDGET_INITIAL")
    # p.22: 机关事业单位退休人员活动费支出（项） is 2080599 其他行政事业单位养老支出 in the tables
    row = one(numbers, func_code="2080599")
    assert row["resolved_by"] == "AMOUNT" and "退休人员活动费" in row["subject"]
    # p.24: 其他国土资源事务支出 (narrative) is 2200199 其他自然资源事务支出 (DOMAIN P13)
    assert one(numbers, func_code="2200199")["resolved_by"] == "AMOUNT"
    # p.24: 住房保障支出（款） names the wrong 款; the 项 name under the 类 is unique
    assert one(numbers, func_code="2210201")["resolved_by"] == "NAME"


@pytest.mark.parametrize(
    "name, stage, total_budget, total_final, rate, items_sum",
    [
        (CZJ, "BUDGET_INITIAL", "2993.92", "2940.05", "98.20", "2993.93"),  # p.21
        (GH, "BUDGET_INITIAL", "10210.34", "9746.50", "95.45", "10210.33"),  # p.21: 13 项 sum to 10,210.33
        (SGB, "BUDGET_ADJUSTED", "321.02", "307.82", "95.89", "321.02"),  # p.18: 年初预算 0, 全年预算 321.02
    ],
)
def test_narrative_totals(docs, name, stage, total_budget, total_final, rate, items_sum):
    numbers = docs[name].frames["fact_narrative_number"]
    total = numbers.filter(pl.col("subject") == "GPB_TOTAL")
    assert one(total, role=stage)["value"] == D(total_budget)
    assert one(total, role="FINAL")["value"] == D(total_final)
    assert one(total, role="EXECUTION_RATE")["value"] == D(rate)
    check = one(findings(docs[name]), subject=f"GPB_TOTAL {stage} = Σ 项")
    assert check["rhs"] == wan(items_sum) and check["status"] in ("PASS", "PASS_ROUNDING")
    if name == SGB:
        assert one(total, role="BUDGET_INITIAL")["value"] == D(0)


def test_university_narrative_quotes_finals_with_codes(docs):
    # 西南大学 p.17-18: "1.小学教育（2050202），2023 年度决算数为 7,970.38 万元" — checked against 表 4
    numbers = docs[SWU].frames["fact_narrative_number"].filter(pl.col("role") == "FINAL")
    row = one(numbers, func_code="2050202")
    assert (row["value"], row["resolved_by"], row["page_no"]) == (D("7970.38"), "CODE", 17)
    assert numbers.filter(pl.col("resolved_by") == "CODE").height == 12
    narr = findings(docs[SWU]).filter(pl.col("rule") == "R-NARR")
    assert narr.height == 12 and set(narr["status"]) == {"PASS"}


def test_structure_shares(docs):
    # DOMAIN §2.5: 社工部 p.18 住房保障 9.55% vs 9.557% (shares adjusted to sum to 100.00) is rounding
    row = one(findings(docs[SGB]), subject="住房保障支出（类） 占比")
    assert (row["status"], row["lhs"], row["rhs"]) == ("PASS_ROUNDING", D("9.55"), D("9.56"))
    row = one(findings(docs[CZJ]), subject="一般公共服务支出（类） 占比")
    assert (row["status"], row["lhs"], row["rhs"]) == ("FAIL", D("71.73"), D("71.65"))
