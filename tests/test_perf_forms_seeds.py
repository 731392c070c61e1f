"""绩效目标 forms of the seeds: the Shanghai 申报表 (22 projects in seed 003 after its budget tables,
the 2019 form of seed 004) and the Suzhou 申报表 (seeds 000 and 002). Expected values are printed in
the seeds at the cited lines and tabulated in DOMAIN.md §2.2, §2.3 and target-values.md."""

from collections import Counter
from decimal import Decimal

import polars as pl
import pytest

from pipelines.recognize.perf_forms.rows import name_key
from pipelines.recognize.perf_forms.shanghai import parse_category
from tests.conftest import needs_shared, seed
from tests.test_targets import TARGET_VALUES

pytestmark = needs_shared
D = Decimal

# DOMAIN.md §2.2: the 22 projects of seed 003: name, P1 line, 项目类别, 当年预算, #line items, #indicators
SEED003_PROJECTS = [
    ("德育队伍建设类项目", 401, "经常性项目", "1539400", 7, 16),
    ("电子书包第一阶段、第二阶段(2020运维)", 484, "一次性项目", "400000", 2, 14),
    ("电子书包咨询费", 558, "经常性项目", "400000", 1, 11),
    ("基于电子学生证的学生体育竞赛管理系统(2020运维)", 626, "一次性项目", "19700", 1, 7),
    ("教师培训类项目", 692, "经常性项目", "2370000", 9, 37),
    ("教学质量监控项目", 834, "经常性项目", "2733700", 5, 13),
    ("教育科学研究类项目", 915, "经常性项目", "1942000", 6, 20),
    ("课程类项目", 1006, "经常性项目", "14718993.60", 5, 35),
    ("男童合唱团经费", 1112, "经常性项目", "221120", 1, 13),
    ("区骨干系列培养项目", 1181, "经常性项目", "470000", 3, 12),
    ("区学生体质健康监测类项目", 1253, "经常性项目", "590000", 5, 24),
    ("校长队伍建设类项目", 1346, "经常性项目", "1598200", 8, 10),
    ("教与学全数据分析反馈系统", 1421, "一次性项目", "1130600", 4, 10),
    ("上海市闵行区教师大数据分析项目", 1495, "一次性项目", "1802000", 7, 9),
    ("信息化项目", 1573, "经常性项目", "4281720", 2, 14),
    ("基于云录播的课堂教学评价系统(9个幼儿园+4所中小学)", 1646, "一次性项目", "690000", 1, 7),
    ("基于云录播的课堂教学评价系统(整体解决方案购买34所)区级平台(2020运维)", 1715, "一次性项目", "371300", 2, 12),
    ("基于云录播的课堂教学评价系统整体解决方案购买(89个教室)", 1789, "一次性项目", "8277970", 2, 11),
    ("基于云录播的课堂教学评价系统整体解决方案购买学前版(20个教室)", 1861, "一次性项目", "1794600", 2, 7),
    ("闵行区电子书包项目第五阶段整体解决方案第三方整体服务外包", 1930, "一次性项目", "4177600", 1, 14),
    ("闵行区教师专业发展档案系统暨闵行区教师业务支撑系统(2020运维)", 2004, "一次性项目", "243400", 2, 10),
    # L2074 prints "一次性项目 <input checked…/> 经常性项目 <input…/> 中期预算试点项目 <input…/>": the box
    # follows its label, so the checked box is 一次性项目's (DOMAIN.md §2.2 lists 经常性*; see the note in
    # test_checkbox_after_its_label)
    ("闵行区教育学院信息系统及网络安全监测运维项目", 2073, "一次性项目", "727600", 2, 9),
]  # fmt: skip


@pytest.fixture(scope="module")
def doc003(parsed):
    return parsed(seed("003"))


@pytest.fixture(scope="module")
def seeds(parsed):
    return {s: parsed(seed(s)) for s in ("000", "002", "003", "004")}


def projects(doc) -> pl.DataFrame:
    return doc.frames["fact_project"].sort("seq")


def project(doc, name: str) -> dict:
    rows = projects(doc).filter(pl.col("project_name") == name)
    assert rows.height == 1, f"{name}: {rows.height} rows"
    return rows.row(0, named=True)


def indicator_rows(doc) -> pl.DataFrame:
    """One row per printed indicator row (a split cell counts once)."""
    return doc.frames["fact_indicator"].filter(pl.col("part_no") == 1)


def findings(doc, rule: str = "R-PROJ") -> pl.DataFrame:
    fc = doc.frames["fact_check"]
    return fc.filter(pl.col("rule") == rule)


# ---------------------------------------------------------------------------------------------
# Seed 003: 22 projects and the budget tables they add up to


def test_seed003_has_22_projects_in_order(doc003):
    p = projects(doc003)
    assert p["project_name"].to_list() == [r[0] for r in SEED003_PROJECTS]
    assert p["project_id"].n_unique() == 22
    assert set(p["fiscal_year"]) == {2020}


@pytest.mark.parametrize(("name", "line", "category", "budget", "n_items", "n_indicators"), SEED003_PROJECTS)
def test_seed003_project(doc003, name, line, category, budget, n_items, n_indicators):
    p = project(doc003, name)
    assert p["current_year_budget_yuan"] == D(budget)
    assert p["fiscal_grant_yuan"] == D(budget)  # all 22 are funded by 本级财政安排 only
    assert p["project_category"] == category
    assert p["n_line_items"] == n_items
    assert p["n_indicators"] == n_indicators
    assert p["line_no"] <= line < p["line_no"] + 10  # the 项目名称 row follows the P1 title
    items = doc003.frames["fact_project_line_item"].filter(pl.col("project_id") == p["project_id"])
    assert items.height == n_items
    assert indicator_rows(doc003).filter(pl.col("project_id") == p["project_id"]).height == n_indicators


def test_seed003_current_year_budgets_add_up_to_project_expenditure(doc003):
    """Σ 当年预算 = 50,499,903.60 元 = 项目支出 of B3 (003:L197) — all projects are published."""
    total = projects(doc003)["current_year_budget_yuan"].sum()
    assert total == D("50499903.60")
    b3 = doc003.frames["fact_summary_line"].filter(
        (pl.col("table_type") == "B3") & (pl.col("label") == "合计") & (pl.col("measure") == "PROJECT")
    )
    assert b3["amount_yuan"].to_list() == [total]
    check = findings(doc003).filter(pl.col("subject").str.starts_with("Σ 当年预算"))
    assert check.select("status", "lhs", "rhs").rows() == [("PASS", total, total)]


def test_multi_year_project_keeps_total_and_current_budget_apart(doc003):
    p = project(doc003, "信息化项目")  # 003:L1581-1582
    assert (p["total_budget_yuan"], p["current_year_budget_yuan"]) == (D("7136200"), D("4281720"))


def test_fund_block_printed_twice_is_read_once(doc003):
    """区骨干 (L1187 as an HTML table, L1188-1193 as rows) and 教师大数据 (L1503/L1504-1510)."""
    for name, amount in (("区骨干系列培养项目", "470000"), ("上海市闵行区教师大数据分析项目", "1802000")):
        p = project(doc003, name)
        assert p["total_budget_yuan"] == p["current_year_budget_yuan"] == p["own_level_yuan"] == D(amount)
        assert p["upper_grant_yuan"] == p["lower_level_yuan"] == p["other_funds_yuan"] == 0
    assert projects(doc003)["current_year_budget_yuan"].sum() == D("50499903.60")


def test_checkbox_after_its_label():
    """H9: L693/L1007 print the box after its label; bound to the label before it they give 经常性.
    L2074 (网络安全监测运维) has the checked box right after 一次性项目, so the same rule gives 一次性
    (DOMAIN.md's table says 经常性 for it: the markup does not support that)."""
    reversed_ = '一次性项目 <input type="checkbox"/> 经常性项目 <input checked="" type="checkbox"/> 中期预算试点项目 <input type="checkbox"/>'
    usual = '<input type="checkbox"/> 一次性项目 <input checked="" type="checkbox"/> 经常性项目 <input type="checkbox"/> 中期预算试点项目'
    assert parse_category(reversed_) == ("经常性项目", "box_after_label")
    assert parse_category(usual) == ("经常性项目", "box_before_label")
    assert parse_category('<input checked="" type="checkbox"/> ')[0] is None  # L1422: label lost


def test_amount_totals_are_not_line_items(doc003):
    items = doc003.frames["fact_project_line_item"]
    assert items.height == 78
    assert not items["content"].str.contains("金额合计").any()
    assert not items["detail"].str.contains("金额合计").any()
    course = project(doc003, "课程类项目")
    assert course["line_total_raw"] == "14718994"  # kept as printed, checked below
    course_items = items.filter(pl.col("project_id") == course["project_id"]).sort("seq")
    # L1087: "1937217.6 0" and "1937217. 60", numbers broken by spaces
    assert course_items["amount_yuan"].to_list() == [D(v) for v in ("2970000", "3532500", "1937217.60", "3000000",
                                                                   "3279276")]  # fmt: skip
    assert course_items["content"].to_list()[:3] == ["WAP国际理解课程", "STEM+课程", "PATHS课程"]


def test_line_item_quantities(doc003):
    items = doc003.frames["fact_project_line_item"]
    row = items.filter(pl.col("detail") == "试卷材料费").row(0, named=True)  # L888: 180000 = 60000 × 3
    assert (row["amount_yuan"], row["unit_price_yuan"], row["quantity"]) == (D("180000"), D("60000"), D(3))
    row = items.filter(pl.col("detail") == "第四届名师工作室").row(0, named=True)  # L1229: 270000 = 30000 × 9
    assert (row["amount_yuan"], row["unit_price_yuan"], row["quantity"]) == (D("270000"), D("30000"), D(9))


def test_publisher_errors_fail_at_their_line(doc003):
    fails = findings(doc003).filter(pl.col("status") == "FAIL")
    assert fails.height == 2
    course, choir = sorted(fails.rows(named=True), key=lambda r: not r["subject"].startswith("课程类"))
    assert course["subject"] == "课程类项目: 金额合计 = Σ 明细金额 (line 1090)"
    assert (course["lhs"], course["rhs"], course["diff"]) == (D("14718994"), D("14718993.60"), D("0.40"))
    assert (course["page_no"], choir["page_no"]) == (1090, 1160)  # a text extraction's location is its line
    assert choir["subject"].startswith("男童合唱团经费: 明细 1 ") and choir["subject"].endswith("(line 1160)")
    assert (choir["lhs"], choir["rhs"]) == (D("221120"), D("221220.00"))
    assert {course["severity"], choir["severity"]} == {"error"}
    # 当年预算 = 财政拨款 + 其他 and 财政拨款 = 上级 + 本级 + 下级 hold for all 22; Σ 明细 = 当年预算 too
    for identity, n in (("当年预算 = 财政拨款 + 其他资金", 22), ("财政拨款 = 上级 + 本级 + 下级", 22),
                        ("Σ 明细金额 = 当年预算", 22), ("= 单价 × 数量", 78)):  # fmt: skip
        rows = findings(doc003).filter(pl.col("subject").str.contains(identity, literal=True))
        assert rows.height == n, identity
    assert (
        findings(doc003)
        .filter(pl.col("subject").str.contains("= 单价 × 数量", literal=True))["status"]
        .to_list()
        .count("PASS")
        == 77
    )


# ---------------------------------------------------------------------------------------------
# Indicators


def test_indicator_rows_per_target_string_match_target_values(seeds):
    """Every raw 目标值 occurs on as many printed rows as target-values.md counts: Shanghai (003 +
    004) 323 rows, Suzhou (000 + 002) 50 rows, each parsed as the table says."""
    for seed_ids, column in ((("003", "004"), 1), (("000", "002"), 2)):
        rows = pl.concat([indicator_rows(seeds[s]) for s in seed_ids])
        assert rows.height == (323 if column == 1 else 50)
        counted = Counter(r or "" for r in rows["target_raw"].to_list())
        expected = {r[0]: r[column] for r in TARGET_VALUES if r[column]}
        assert counted == expected
        for raw, *_, kind, op, _op_raw, value, unit, _scaled, text in (
            (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in TARGET_VALUES if r[column]
        ):
            got = rows.filter(pl.col("target_raw").fill_null("") == raw)
            assert set(got["target_kind"]) == {kind}, raw
            assert set(got["op"].to_list()) == {op}, raw
            assert set(got["target_value"].to_list()) == {D(value) if value else None}, raw
            assert set(got["target_unit"].to_list()) == {unit}, raw
            if kind in ("TEXT", "COMPOSITE"):
                assert set(got["target_text"].to_list()) == {text}, raw


def test_wan_target_keeps_value_and_scale(seeds):
    row = indicator_rows(seeds["002"]).filter(pl.col("target_raw") == "=80万").row(0, named=True)  # 002:L58
    assert (row["target_value"], row["target_unit"], row["target_value_scaled"]) == (D(80), "万", D(800000))
    assert row["indicator_name"] == "全年各考务信息系统访问人数"


def test_cell_with_several_indicators_is_split_and_flagged(seeds):
    ind = seeds["003"].frames["fact_indicator"]
    parts = ind.filter(pl.col("line_no") == 739).sort("part_no")  # 003:L739
    assert parts["indicator_name"].to_list() == ["见习教师培训参与率", "培训模块覆盖率", "区级基地年检覆盖率"]
    assert set(parts["target_raw"]) == {"=100.00%"} and parts["split_from_cell"].all()
    assert set(parts["subproject"]) == {"见习教师规范化培训"}
    assert parts["seq"].n_unique() == 1 and set(parts["parts_in_cell"]) == {3}
    assert parts["cell_name"][0] == "见习教师培训参与率；培训模块覆盖率；区级基地年检覆盖率"
    ind4 = seeds["004"].frames["fact_indicator"]
    split = ind4.filter(pl.col("split_from_cell"))
    assert split.height == 6 and set(split["line_no"]) == {46, 47, 48}  # 004:L46-48, two each
    assert ind4.filter(pl.col("line_no") == 47)["indicator_name"].to_list() == [
        "闵行区电子书包项目第四阶段运维验收合格率",
        "闵行区电子书包项目第四阶段建设验收合格率",
    ]
    assert not ind.filter(pl.col("line_no") != 739)["split_from_cell"].any()


def test_levels_are_canonical_with_raw_labels_kept(doc003):
    ind = doc003.frames["fact_indicator"]
    assert set(ind["level1"]) <= {"OUTPUT", "EFFECT", "IMPACT"}
    assert ind["level1"].null_count() == 0 and ind["level2"].null_count() == 0
    row = ind.filter(pl.col("line_no") == 523).row(0, named=True)  # 修复故障时间 ≤24.00小时 under 质量
    assert (row["level1"], row["level2"], row["level2_raw"], row["level_confidence"]) == (
        "OUTPUT", "QUALITY", "质量", "filled")  # fmt: skip
    # 满意度 under 影响力目标 (DOMAIN.md §1.4): IMPACT / SATISFACTION
    row = ind.filter(pl.col("line_no") == 449).row(0, named=True)
    assert (row["indicator_name"], row["level1"], row["level2"], row["level_confidence"]) == (
        "家长及教师满意度", "IMPACT", "SATISFACTION", "explicit")  # fmt: skip
    # 影响力 目标 with a space (L532), 绩效日 noise (L950)
    assert ind.filter(pl.col("line_no") == 532)["level1"].to_list() == ["IMPACT"]
    assert ind.filter(pl.col("line_no") == 950)["level2"].to_list() == ["QUANTITY"]


def test_merged_label_printed_mid_range_is_carried(doc003):
    """H12: 教师培训类项目 prints 数量 on the 5th of its quantity rows (L737); the rows above it
    (L732-735) have no label and still get 数量."""
    ind = doc003.frames["fact_indicator"]
    rows = ind.filter(pl.col("line_no").is_between(732, 738)).sort("line_no")
    assert set(rows["level2"]) == {"QUANTITY"} and set(rows["level1"]) == {"OUTPUT"}
    assert rows.filter(pl.col("line_no") == 737)["level_confidence"].to_list() == ["explicit"]
    assert set(rows.filter(pl.col("line_no") < 737)["level_confidence"]) <= {"filled", "inferred"}


def test_empty_targets_are_kept(doc003):
    for name in ("区骨干系列培养项目", "校长队伍建设类项目"):  # L1216-1227, L1381-1390
        pid = project(doc003, name)["project_id"]
        rows = indicator_rows(doc003).filter(pl.col("project_id") == pid)
        assert set(rows["target_kind"]) == {"EMPTY"} and rows["target_raw"].null_count() == rows.height


def test_controls_of_the_system_guarantee_part(doc003):
    ctl = doc003.frames["fact_project_control"]
    pid = project(doc003, "电子书包第一阶段、第二阶段(2020运维)")["project_id"]
    rows = ctl.filter(pl.col("project_id") == pid).sort("seq")  # L545-548
    assert rows["control_type"].to_list() == ["项目管理制度", "项目管理制度", "预算管理制度", "财务管理制度"]
    assert rows.row(3, named=True)["doc_name"] == "中小学校财务制度"
    assert rows.select("stage_plan", "stage_impl", "stage_close").row(3) == (True, False, True)  # √ × √


# ---------------------------------------------------------------------------------------------
# Seed 004 (2019) and following a project across years


def test_seed004_standalone_2019_form(seeds):
    doc = seeds["004"]
    assert doc.info.doc_kind == "PERF_FORM"
    p = projects(doc).row(0, named=True)
    assert (p["project_name"], p["fiscal_year"], p["project_category"]) == ("闵行区电子书包项目", 2019, "经常性项目")
    assert p["total_budget_yuan"] == p["current_year_budget_yuan"] == p["own_level_yuan"] == D("12070400")
    items = doc.frames["fact_project_line_item"].sort("seq")
    assert items["amount_yuan"].to_list() == [D("400000"), D("1790400"), D("2730000"), D("7150000")]
    assert indicator_rows(doc).height == 8
    assert set(findings(doc)["status"]) == {"PASS"}


def test_name_key_follows_the_e_schoolbag_project_across_years(seeds):
    key_2019 = projects(seeds["004"])["name_key"][0]
    assert key_2019 == name_key("闵行区电子书包项目") == "电子书包"
    later = projects(seeds["003"]).filter(pl.col("name_key").str.starts_with(key_2019))
    assert later["project_name"].to_list() == [
        "电子书包第一阶段、第二阶段(2020运维)",
        "电子书包咨询费",
        "闵行区电子书包项目第五阶段整体解决方案第三方整体服务外包",
    ]
    assert name_key("2021年信息化建设") == "信息化建设"
    assert name_key("基于电子学生证的学生体育竞赛管理系统(2020运维)") == "基于电子学生证的学生体育竞赛管理系统"


# ---------------------------------------------------------------------------------------------
# Suzhou (万元)


def test_suzhou_000(seeds):
    doc = seeds["000"]
    p = projects(doc).row(0, named=True)
    assert p["project_name"] == "2021年内涵专项-2021年线上教育中心劳务费"
    assert p["unit_name"] == "苏州市教师发展学院（苏州市教师书院）"  # 000:L5, the 12-digit code cut
    assert (p["fiscal_year"], p["amount_unit"]) == (2021, "万元")
    assert p["current_year_budget_yuan"] == p["total_budget_yuan"] == p["own_level_yuan"] == D("4400000")
    items = doc.frames["fact_project_line_item"].sort("seq")  # 000:L20-22: 158.00 + 276.00 + 6.00 = 440.00
    assert items["amount_yuan"].to_list() == [D("1580000"), D("2760000"), D("60000")]
    assert items["amount_raw"].to_list() == ["158.00", "276.00", "6.00"]
    ind = indicator_rows(doc).sort("seq")
    assert ind.height == 20
    assert ind["level1"].to_list()[:5] == ["INPUT"] * 5 and ind["level2"].null_count() == 20
    row = ind.filter(pl.col("line_no") == 41).row(0, named=True)  # shifted row, sub-project in column 1
    assert (row["indicator_name"], row["target_raw"]) == ("市级线上教育课时数", "1700节")
    assert row["subproject"].startswith("苏州市教育科学院相关劳务费")
    assert ind.filter(pl.col("line_no") == 55)["level1"].to_list() == ["IMPACT"]  # 影响力
    assert set(findings(doc)["status"]) == {"PASS"}


def test_suzhou_002(seeds):
    doc = seeds["002"]
    p = projects(doc).row(0, named=True)
    assert (p["project_name"], p["current_year_budget_yuan"]) == ("2021年信息化建设", D("40000000"))
    items = doc.frames["fact_project_line_item"].sort("seq")  # 002:L21-24, "2,330.50" with a separator
    assert items["amount_yuan"].to_list() == [D("23305000"), D("12010000"), D("3000000"), D("1685000")]
    ind = indicator_rows(doc)
    assert ind.height == 30
    # 002 prints no 过程 label: the two rows between 投入 and 产出 (L48-49) are 过程
    assert ind.filter(pl.col("line_no").is_in([48, 49]))["level1"].to_list() == ["PROCESS", "PROCESS"]
    row = ind.filter(pl.col("line_no") == 49).row(0, named=True)
    assert (row["indicator_name"], row["op"], row["target_value"], row["target_unit"]) == (
        "资金节约率",
        "≤",
        D(15),
        "%",
    )
    row = ind.filter(pl.col("line_no") == 56).row(0, named=True)  # several sub-projects, comma-separated
    assert row["subproject"] == "2021年信息化建设, 2021年信息化运维, 2021年信息化服务"
    assert ind.filter(pl.col("line_no") == 58)["subproject"].to_list() == ["2021年信息化服务"]  # column shift


def test_a_failing_form_recognizer_does_not_cost_the_tables(monkeypatch):
    """A bug in a form recognizer is reported as a finding; the document's budget tables still load."""
    from pipelines.parse import parse_document
    from pipelines.recognize.perf_forms import dispatch

    def broken(doc):
        raise ValueError("unexpected layout")

    monkeypatch.setattr(dispatch, "FAMILIES", [broken])
    doc = parse_document(seed("003"))
    assert doc.status == "loaded"
    assert doc.frames["fact_func_amount"].height > 500
    assert "fact_project" not in doc.frames
    warning = findings(doc).filter(pl.col("subject") == "绩效目标 forms could not be read").row(0, named=True)
    assert (warning["status"], warning["severity"]) == ("FAIL", "warning")
    assert "broken: ValueError: unexpected layout" in warning["message"]
