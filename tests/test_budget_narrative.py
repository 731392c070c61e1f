"""A 预算's own words (issue 12): the 编制说明 / 情况说明 of seed 003 (闵行区教育学院 2020 单位预算)
as facts, and the rules that compare them with the tables, through ``parse_document`` and through a
real ``budgetwh ingest`` (DOMAIN.md §2.1 X7, X8, X11, X12)."""

from decimal import Decimal

import pytest

from tests.conftest import corpus_file, needs_shared, seed
from tests.test_budget_vs_final import budgetwh, make_env, query

pytestmark = needs_shared
D = Decimal
PUTUO_CZJ_2025 = "shanghai_putuo/上海市普陀区财政局部门25年预算.pdf"


@pytest.fixture(scope="module")
def doc(parsed):
    return parsed(seed("003"))


def _facts(doc):
    return doc.frames["fact_narrative_fact"].to_dicts()


def _findings(doc, rule):
    return [f for f in doc.frames["fact_check"].to_dicts() if f["rule"] == rule]


def test_three_public_total_this_year_and_derived_last_year(doc):
    rows = [f for f in _facts(doc) if f["topic"] == "three_public" and f["code"] == "TOTAL"]
    by_year = {f["fiscal_year"]: f for f in rows}
    assert set(by_year) == {2019, 2020}
    assert by_year[2020]["amount_yuan"] == D("102700.00") and not by_year[2020]["derived"]
    assert by_year[2019]["amount_yuan"] == D("903500.00") and by_year[2019]["derived"]  # 10.27 + 80.08 万元
    assert "比2019年预算减少80.08万元" in by_year[2019]["sentence"]


def test_last_year_parts_add_up_to_last_year_total(doc):
    """X12: 2019 = 出国 80 + 公务用车 9.6 (持平) + 接待 0.75 = 90.35 万元."""
    last = {
        f["code"]: f["amount_yuan"] for f in _facts(doc) if f["topic"] == "three_public" and f["fiscal_year"] == 2019
    }
    assert last["OUTBOUND"] == D("800000.00")
    assert last["VEHICLE_TOTAL"] == D("96000.00")
    assert last["RECEPTION"] == D("7500.00")
    assert last["OUTBOUND"] + last["VEHICLE_TOTAL"] + last["RECEPTION"] == last["TOTAL"]


def test_basic_and_project_of_last_year(doc):
    derived = {f["measure"]: f["amount_yuan"] for f in _facts(doc) if f["topic"] == "total" and f["derived"]}
    assert derived == {"BASIC": D("54618100.00"), "PROJECT": D("59235400.00")}  # 5461.81 / 5923.54 万元


def test_every_named_subject_has_its_code(doc):
    codes = {f["code"]: f["printed"] for f in _facts(doc) if f["topic"] == "func"}
    assert codes == {
        "2050801": "3845.19", "2050999": "5049.99", "2080502": "9.26", "2080505": "564.10",
        "2080506": "282.06", "2101102": "334.94", "2101103": "141.02", "2210201": "246.79",
    }  # fmt: skip


def test_2080506_mismatch_is_a_narrative_fail(doc):
    finding = next(f for f in _findings(doc, "R-NARR-FUNC") if f["subject"].startswith("2080506"))
    assert finding["status"] == "FAIL"
    assert (finding["lhs"], finding["rhs"]) == (D("2820600.00"), D("2820507.43"))
    assert finding["diff"] == D("92.57") and finding["tolerance"] == D("50.00")
    assert "282.05万元" in finding["message"] and "282.06万元" in finding["message"]


def test_other_named_subjects_pass_at_the_narrative_precision(doc):
    status = {f["subject"].split()[0]: f["status"] for f in _findings(doc, "R-NARR-FUNC")}
    assert status["2080505"] == "PASS_ROUNDING"  # named 基本养老保险费支出, resolved by its amount
    assert status["2101103"] == "FAIL"  # 141.02 vs 1,410,253.72 = 141.03 万元 (DOMAIN X11)
    assert [c for c, s in status.items() if s == "FAIL"] == ["2080506", "2101103"]


def test_econ_table_against_three_public_table(doc):
    by_code = {f["subject"].split()[0]: f for f in _findings(doc, "R-ECON-3P")}
    assert by_code["30217"]["status"] == "PASS_ROUNDING"  # 6,707.00 元 vs 0.67 万元
    assert (by_code["30217"]["lhs"], by_code["30217"]["rhs"]) == (D("6707.00"), D("6700.00"))
    assert by_code["30231"]["status"] == "PASS"  # 96,000.00 元 vs 9.6 万元


def test_totals_split_three_public_and_percentages_hold(doc):
    for rule in ("R-NARR-TOTAL", "R-NARR-SPLIT", "R-NARR-3P", "R-NARR-PCT"):
        found = _findings(doc, rule)
        assert found, rule
        assert all(f["status"] != "FAIL" for f in found), (rule, [f["message"] for f in found if f["status"] == "FAIL"])
    pct = {f["lhs"] for f in _findings(doc, "R-NARR-PCT")}
    assert pct == {D("-0.70"), D("-14.75")}


def test_putuo_budget_flags_the_publishers_887_36(parsed):
    """财政局 2025 p.7 prints 职业年金 887.36 万元; its tables 873,617.00 元 (87.36 万元); the page it
    prints twice (p.8) is read, and the figures it truncates (87.708 → 87.70) are not failures."""
    doc = parsed(corpus_file(PUTUO_CZJ_2025))
    fails = [f for f in doc.frames["fact_check"].to_dicts() if f["rule"].startswith("R-NARR") and f["status"] == "FAIL"]
    assert [(f["rule"], f["page_no"], f["lhs"], f["rhs"]) for f in fails] == [
        ("R-NARR-FUNC", 7, D("8873600.00"), D("873617.00"))
    ]
    three_public = {
        (f["fiscal_year"], f["code"]): f["amount_yuan"] for f in _facts(doc) if f["topic"] == "three_public"
    }
    assert three_public[(2025, "TOTAL")] == three_public[(2024, "TOTAL")] == D("9500.00")  # 与2024年预算持平


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    env = make_env(tmp_path_factory.mktemp("narrative"))
    budgetwh(env, "ingest", str(seed("003")))
    return env


def test_narrative_facts_view(warehouse):
    rows = query(
        warehouse,
        "select n.fiscal_year, n.amount_yuan, n.derived, u.unit_name, n.stage from narrative_facts n "
        "join units u using (unit_key) where n.topic = 'three_public' and n.code = 'TOTAL' order by n.fiscal_year",
    )
    assert rows == [
        {"fiscal_year": 2019, "amount_yuan": "903500.00", "derived": True, "unit_name": "上海市闵行区教育学院",
         "stage": "BUDGET_INITIAL"},
        {"fiscal_year": 2020, "amount_yuan": "102700.00", "derived": False, "unit_name": "上海市闵行区教育学院",
         "stage": "BUDGET_INITIAL"},
    ]  # fmt: skip


def test_report_shows_the_sentence_beside_the_finding(warehouse):
    out = budgetwh(warehouse, "report").stdout
    line = next(ln for ln in out.splitlines() if "R-NARR-FUNC" in ln and "282.06" in ln)
    assert "“5、“机关事业单位职业年金缴费支出”科目282.06万元" in line
    assert "2,820,507.43元" in line


WANLI_2023 = "shanghai_putuo/tianbaoxitong_uploads_archives_1770007475548-818404804.pdf"
WANLI_2024 = "shanghai_putuo/上海市普陀区人民政府万里街道办事处24年预算.pdf"


def test_stated_change_against_last_years_document(tmp_path):
    """万里街道 2024: “三公”经费预算数为47.91万元，比2023年预算增加25万元 → 2023 = 22.91 万元, which
    its 2023 预算 states (p.29): R-NARR-PRIOR, evaluated once both years are loaded."""
    env = make_env(tmp_path)
    budgetwh(env, "ingest", str(corpus_file(WANLI_2023)), str(corpus_file(WANLI_2024)))
    rows = query(
        env,
        "select status, lhs, rhs, page_no, table_type from quality_findings "
        "where rule = 'R-NARR-PRIOR' and subject like 'three_public TOTAL TOTAL 2023%' order by table_type nulls first",
    )
    # against the 2023 text, and against the 合计 of the 2023 三公 table (B9 p.28: 22.91)
    assert rows == [
        {"status": "PASS", "lhs": "229100.00", "rhs": "229100.00", "page_no": 32, "table_type": None},
        {"status": "PASS", "lhs": "229100.00", "rhs": "229100.00", "page_no": 32, "table_type": "B9"},
    ]
    parts = query(
        env,
        "select subject, status from quality_findings where rule = 'R-NARR-PRIOR' and table_type = 'B9' "
        "and subject like 'three_public VEHICLE%' order by subject",
    )
    assert [p["status"] for p in parts] == ["PASS", "PASS", "PASS"]  # 购置 0, 运行 21.56, 购置及运行 21.56
    fails = query(env, "select message from quality_findings where rule = 'R-NARR-PRIOR' and status = 'FAIL'")
    assert fails == []
