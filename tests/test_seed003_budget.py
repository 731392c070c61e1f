"""Seed 003 (闵行区2020年区级单位预算, 上海市闵行区教育学院): every non-blank number of its tables
B1–B5, B8 and B9 lands with the right code, level, name, measure, stage, scope and unit (DOMAIN.md §2.1)."""

from decimal import Decimal

import polars as pl
import pytest

from tests.conftest import needs_shared, seed

pytestmark = needs_shared
D = Decimal

# DOMAIN.md §2.1, B3 支出预算总表: code, name, 合计, 基本支出, 项目支出
B3_ROWS = [
    ("205", "教育支出", "88951768.35", "38451864.75", "50499903.60"),
    ("20508", "进修及培训", "38451864.75", "38451864.75", "0.00"),
    ("2050801", "教师进修", "38451864.75", "38451864.75", "0.00"),
    ("20509", "教育费附加安排的支出", "50499903.60", "0.00", "50499903.60"),
    ("2050999", "其他教育费附加安排的支出", "50499903.60", "0.00", "50499903.60"),
    ("208", "社会保障和就业支出", "8554162.29", "8554162.29", "0.00"),
    ("20805", "行政事业单位养老支出", "8554162.29", "8554162.29", "0.00"),
    ("2080502", "事业单位离退休", "92640.00", "92640.00", "0.00"),
    ("2080505", "机关事业单位基本养老保险缴费支出", "5641014.86", "5641014.86", "0.00"),
    ("2080506", "机关事业单位职业年金缴费支出", "2820507.43", "2820507.43", "0.00"),
    ("210", "卫生健康支出", "4759606.29", "4759606.29", "0.00"),
    ("21011", "行政事业单位医疗", "4759606.29", "4759606.29", "0.00"),
    ("2101102", "事业单位医疗", "3349352.57", "3349352.57", "0.00"),
    ("2101103", "公务员医疗补助", "1410253.72", "1410253.72", "0.00"),
    ("221", "住房保障支出", "2467944.00", "2467944.00", "0.00"),
    ("22102", "住房改革支出", "2467944.00", "2467944.00", "0.00"),
    ("2210201", "住房公积金", "2467944.00", "2467944.00", "0.00"),
]

# B8: every non-blank 款 (DOMAIN.md §2.1)
B8_KUAN = {
    "30101": "9030903.40", "30102": "894556.00", "30106": "1190400.00", "30107": "19227316.00",
    "30108": "5641014.86", "30109": "2820507.43", "30110": "3349352.57", "30111": "1410253.72",
    "30112": "1181087.49", "30113": "2467944.00", "30201": "305000", "30202": "244000", "30203": "61000",
    "30205": "62000", "30206": "671000", "30207": "244000", "30209": "134200", "30211": "305000",
    "30213": "567235", "30214": "19100", "30216": "272800", "30217": "6707", "30226": "244000",
    "30228": "705126.86", "30229": "535680", "30231": "96000", "30299": "1585033", "30301": "92640",
    "30309": "9720", "30399": "6000", "31002": "427000", "31003": "427000",
}  # fmt: skip


@pytest.fixture(scope="module")
def doc(parsed):
    return parsed(seed("003"))


def func(doc) -> pl.DataFrame:
    return doc.frames["fact_func_amount"]


def amount(df: pl.DataFrame, **where) -> Decimal | None:
    rows = df.filter(pl.all_horizontal([pl.col(k) == v for k, v in where.items()]))
    assert rows.height == 1, f"expected one row for {where}, got {rows.height}"
    return rows["amount_yuan"][0]


def test_document_is_classified(doc):
    assert doc.status == "loaded"
    assert (doc.info.doc_kind, doc.info.scope, doc.info.unit_name, doc.info.fiscal_year) == (
        "BUDGET", "单位", "上海市闵行区教育学院", 2020,
    )  # fmt: skip


@pytest.mark.parametrize("table_type, fund_scope", [("B3", "ALL"), ("B5", "GPB")])
def test_b3_and_b5_rows(doc, table_type, fund_scope):
    df = func(doc).filter((pl.col("table_type") == table_type) & (pl.col("stage") == "BUDGET_INITIAL"))
    assert set(df["fund_scope"]) == {fund_scope}
    for code, name, total, basic, project in B3_ROWS:
        for measure, value in (("TOTAL", total), ("BASIC", basic), ("PROJECT", project)):
            assert amount(df, func_code=code, measure=measure) == D(value), (table_type, code, measure)
        row = df.filter(pl.col("func_code") == code).row(0, named=True)
        assert row["func_name"] == name
        assert row["func_level"] == {3: 1, 5: 2, 7: 3}[len(code)]
        assert row["amount_unit"] == "元"


def test_b3_blank_template_rows_are_null_not_zero(doc):
    df = func(doc).filter(pl.col("table_type") == "B3")
    assert amount(df, func_code="2050101", measure="TOTAL") is None  # 行政运行 printed blank
    assert amount(df, func_code="20508", measure="PROJECT") == D("0.00")  # printed 0.00


def test_b2_income_columns(doc):
    df = func(doc).filter(pl.col("table_type") == "B2")
    assert amount(df, func_code="205", measure="TOTAL") == D("88951768.35")
    assert amount(df, func_code="205", measure="GRANT_TOTAL") == D("88951768.35")
    assert amount(df, func_code="205", measure="INC_BUSINESS") == D("0.00")
    assert amount(df, func_code="2101103", measure="GRANT_TOTAL") == D("1410253.72")


def test_b1_class_rows_from_ordinal_labels(doc):
    df = func(doc).filter(pl.col("table_type") == "B1")
    assert amount(df, func_code="205", measure="TOTAL") == D("88951768.35")
    assert amount(df, func_code="205", measure="PERSONNEL") == D("31539982.89")
    assert amount(df, func_code="205", measure="PUBLIC") == D("6911881.86")
    assert amount(df, func_code="205", measure="PROJECT") == D("50499903.60")
    assert amount(df, func_code="221", measure="TOTAL") == D("2467944")
    assert df.filter(pl.col("func_code") == "221")["func_name"][0] == "住房保障支出"


def test_b4_fiscal_grant_columns(doc):
    df = func(doc).filter(pl.col("table_type") == "B4")
    assert set(df["fund_scope"]) == {"FISCAL_GRANT"}
    assert amount(df, func_code="205", measure="GRANT_GPB") == D("88951768.35")
    assert amount(df, func_code="221", measure="GRANT_GOVFUND") == D("0")


def test_b8_economic_classification(doc):
    df = doc.frames["fact_econ_amount"].filter(pl.col("measure") == "TOTAL")
    for code, value in B8_KUAN.items():
        assert amount(df, econ_code=code) == D(value), code
    assert amount(df, econ_code="301") == D("47213335.47")
    pers = doc.frames["fact_econ_amount"].filter(pl.col("measure") == "PERSONNEL")
    assert amount(pers, econ_code="303") == D("108360.00")


def test_b9_three_public_in_wan(doc):
    df = doc.frames["fact_three_public"]
    expected = {"TOTAL": ("10.27", "102700.00"), "OUTBOUND": ("0", "0.00"), "RECEPTION": ("0.67", "6700.00"),
                "VEHICLE_TOTAL": ("9.6", "96000.00"), "VEHICLE_PURCHASE": ("0", "0.00"),
                "VEHICLE_OPERATION": ("9.6", "96000.00"), "ORG_RUNNING_COST": ("0", "0.00")}  # fmt: skip
    assert df.height == len(expected)
    for row in df.iter_rows(named=True):
        raw, yuan = expected[row["item"]]
        assert (row["amount_raw"], row["amount_yuan"], row["amount_unit"], row["stage"]) == (
            raw,
            D(yuan),
            "万元",
            "BUDGET_INITIAL",
        )


def test_empty_b6_keeps_its_explanation(doc):
    tables = doc.frames["dim_table_instance"]
    b6 = tables.filter(pl.col("table_type") == "B6").row(0, named=True)
    assert b6["is_empty"] is True
    assert b6["empty_note"] == "2020年本单位无政府性基金预算"
    assert set(tables["table_type"]) == {"B1", "B2", "B3", "B4", "B5", "B6", "B8", "B9"}


def test_identities_hold(doc):
    # the tables' identities; the 绩效目标 forms' R-PROJ checks have two known publisher errors
    # (tests/test_perf_forms_seeds.py::test_publisher_errors_fail_at_their_line); the 编制说明's two
    # (282.06 and 141.02 万元) are tests/test_budget_narrative.py's
    checks = doc.frames["fact_check"].filter((pl.col("rule") != "R-PROJ") & ~pl.col("rule").str.starts_with("R-NARR"))
    assert checks.filter(pl.col("status") == "FAIL").height == 0
    assert checks.filter(pl.col("rule") == "R-ROW").height >= 50
    assert checks.filter(pl.col("rule") == "R-HIER").height >= 50
