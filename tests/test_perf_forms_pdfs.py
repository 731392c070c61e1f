"""项目支出绩效目标表 inside real budget PDFs (../shared/corpus): 西南大学 2023 (24 tables, pages 16-40,
amounts in 万元), 普陀 万里街道 2023 (5 填报表, pages 31-35, 元), and the 项目经费情况说明 pages of the
普陀 2024/2025 budgets (a project in prose, no indicator table). Values as printed on the cited pages."""

from decimal import Decimal

import polars as pl
import pytest

from tests.conftest import corpus_file, needs_shared

pytestmark = needs_shared
D = Decimal

SWU = "chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf"
WANLI_2023 = "shanghai_putuo/tianbaoxitong_uploads_archives_1770007475548-818404804.pdf"
WANLI_2024 = "shanghai_putuo/上海市普陀区人民政府万里街道办事处24年预算.pdf"
GOV_OFFICE_2025 = "shanghai_putuo/上海市普陀区人民政府办公室25年预算.pdf"
FINANCE_2025 = "shanghai_putuo/上海市普陀区财政局部门25年预算.pdf"

# 西南大学 2023: (project, first page, 年度资金总额 万元, printed indicator rows)
SWU_PROJECTS = [
    ("236中央高校教育教学改革专项", 16, "2112.76", 19),
    ("236中央高校管理改革等绩效拨款", 17, "1111.98", 6),
    ("236中央高校捐赠配比专项", 18, "1041.00", 6),
    ("236中央高校基本科研业务费专项", 19, "4878.00", 14),
    ("236中央高校建设世界一流大学（学科）和特色发展引导专项", 20, "8060.00", 18),
    ("236-中央高校改善基本办学条件专项-设备资料购置项目", 22, "8306.85", 15),
    ("236-中央高校改善基本办学条件专项-房屋修缮项目", 23, "2426.00", 19),
    ("236-中央高校改善基本办学条件专项-基础设施改造项目（小学）", 24, "150.00", 9),
    ("236-中央高校改善基本办学条件专项-设备资料购置项目（小学）", 25, "210.00", 10),
    ("236-中央高校改善基本办学条件专项-房屋修缮项目（小学）", 27, "195.00", 9),
    ("236-中央高校改善基本办学条件专项-基础设施改造项目（中学）", 27, "425.20", 10),
    ("236-中央高校改善基本办学条件专项-设备资料购置项目（中学）", 28, "689.68", 10),
    ("236高层次人才计划专项经费", 29, "60.00", 6),
    ("236教育政策和法制工作专项", 30, "5.00", 6),
    ("236高校思想政治工作专项经费", 31, "62.00", 19),
    ("236教育振兴乡村专项", 33, "5.00", 5),
    ("236民族教育专项", 33, "65.00", 8),
    ("236基础教育管理专项经费", 34, "7.00", 5),
    ("236教师工作专项", 35, "244.78", 8),
    ("236出国留学经费（项目）", 36, "3.59", 5),
    ("236“童语同音计划”-幼儿普通话教育项目", 37, "109.50", 6),
    ("236语言文字应用与语言文化传承推广专项", 38, "64.50", 6),
    ("236语言文字信息管理与语保工程专项", 39, "0.18", 8),
    ("236教育管理与改革专项", 39, "10.00", 6),
]  # fmt: skip


@pytest.fixture(scope="module")
def docs(parsed):
    from tests.conftest import parse_all

    paths = {k: corpus_file(v) for k, v in {"swu": SWU, "wanli": WANLI_2023, "wanli24": WANLI_2024,
                                             "office25": GOV_OFFICE_2025, "finance25": FINANCE_2025}.items()}  # fmt: skip
    by_path = parse_all(list(paths.values()))
    return {k: by_path[p] for k, p in paths.items()}


def frame(doc, table: str) -> pl.DataFrame:
    return doc.frames[table]


def project(doc, name: str) -> dict:
    rows = frame(doc, "fact_project").filter(pl.col("project_name") == name)
    assert rows.height == 1, name
    return rows.row(0, named=True)


def proj_findings(doc) -> pl.DataFrame:
    return frame(doc, "fact_check").filter(pl.col("rule") == "R-PROJ")


# ---------------------------------------------------------------------------------------------
# 西南大学 2023


def test_swu_24_target_tables(docs):
    doc = docs["swu"]
    assert doc.status == "loaded"
    p = frame(doc, "fact_project").sort("seq")
    assert p.select("project_name", "page_no").rows() == [(n, page) for n, page, _, _ in SWU_PROJECTS]
    assert p["current_year_budget_yuan"].to_list() == [D(wan) * 10000 for _, _, wan, _ in SWU_PROJECTS]
    assert set(p["amount_unit"]) == {"万元"} and set(p["fiscal_year"]) == {2023}
    rows = frame(doc, "fact_indicator").filter(pl.col("part_no") == 1)
    counts = rows.group_by("project_id").len().sort("project_id")["len"].to_list()
    assert counts == [n for *_, n in SWU_PROJECTS] and rows.height == 233


def test_swu_fund_rows(docs):
    p = project(docs["swu"], "236中央高校教育教学改革专项")  # p.16: 2112.76 = 2112.00 + 0.76 + 0
    assert (p["current_year_budget_yuan"], p["fiscal_grant_yuan"], p["carryover_yuan"], p["other_funds_yuan"]) == (
        D("21127600"), D("21120000"), D("7600"), D(0))  # fmt: skip
    assert p["unit_name"] == "西南大学本级"
    p = project(docs["swu"], "236-中央高校改善基本办学条件专项-基础设施改造项目（中学）")  # head split over p.27-28
    assert (p["fiscal_grant_yuan"], p["carryover_yuan"], p["unit_name"]) == (
        D("2233200"),
        D("2018800"),
        "西南大学附属中学校",
    )


def test_swu_every_indicator_row_read(docs):
    """Each table announces 分值（90）: the scores of the rows read add up to 90 for all 24."""
    scores = proj_findings(docs["swu"]).filter(pl.col("subject").str.contains("Σ 分值", literal=True))
    assert scores.height == 24 and set(scores["status"]) == {"PASS"} and set(scores["lhs"]) == {D(90)}
    funds = proj_findings(docs["swu"]).filter(pl.col("subject").str.contains("当年预算 = 财政拨款", literal=True))
    assert funds.height == 24 and set(funds["status"]) == {"PASS"}


def test_swu_labels_continue_over_the_page_break(docs):
    """p.16 ends inside 产出指标/数量指标; p.17 continues without the header and without those labels."""
    ind = frame(docs["swu"], "fact_indicator")
    row = ind.filter(pl.col("indicator_name") == "设备更新数量").row(0, named=True)
    assert (row["page_no"], row["level1"], row["level2"], row["level2_raw"]) == (17, "OUTPUT", "QUANTITY", "数量指标")
    assert (row["target_value"], row["target_unit"], row["score"]) == (D(27), "台、件、套", "5")
    row = ind.filter(pl.col("indicator_name") == "学生参加竞赛获奖数量").row(0, named=True)
    assert (row["level1"], row["level2"], row["target_value"], row["target_unit"]) == (
        "OUTPUT",
        "QUALITY",
        D(20),
        "人次",
    )
    sat = ind.filter((pl.col("level1") == "SATISFACTION") & (pl.col("indicator_name") == "学生满意度"))
    assert sat.height >= 5 and set(sat["level2"]) == {"SATISFACTION"}
    # 成本指标: one row in each of the 7 改善基本办学条件 tables, two in 设备资料购置项目 (p.22-23)
    assert ind.filter(pl.col("level1") == "COST").height == 8


def test_swu_forms_cover_part_of_project_expenditure(docs):
    """The 24 published tables cover 302,430,200 元 of the 927,591,900 元 项目支出 (B3 p.9): not every
    project is published with a table, which is no arithmetic defect, so nothing is reported."""
    budgets = frame(docs["swu"], "fact_project")["current_year_budget_yuan"]
    assert budgets.sum() == D("302430200")
    project_spending = (
        docs["swu"]
        .frames["fact_func_amount"]
        .filter((pl.col("table_type") == "B3") & (pl.col("measure") == "PROJECT") & (pl.col("func_level") == 1))[
            "amount_yuan"
        ]
        .sum()
    )
    assert project_spending == D("927591900")
    assert proj_findings(docs["swu"]).filter(pl.col("subject").str.starts_with("Σ 当年预算")).height == 0


# ---------------------------------------------------------------------------------------------
# 普陀 万里街道 2023 财政项目支出绩效目标填报表


def test_wanli_2023_target_forms(docs):
    doc = docs["wanli"]
    p = frame(doc, "fact_project").sort("seq")
    assert p.select("project_name", "page_no", "current_year_budget_yuan").rows() == [
        ("新建万里街道社区公共服务中心", 31, D("4100000")),
        ("就业援助基地补贴", 32, D("6351000")),
        ("社区环境整治和建设经费", 33, D("4563800")),
        ("各类工作经费", 34, D("7595500")),
        ("公共服务设施运行经费", 35, D("10903043")),
    ]
    assert p["project_category"].to_list() == [None] + ["经常性项目"] * 4
    assert p["category_raw"][0] == "阶段性项目" and p["project_type"][4] == "其他运转类"
    assert frame(doc, "fact_indicator").group_by("project_id").len().sort("project_id")["len"].to_list() == [
        5,
        4,
        4,
        43,
        9,
    ]


def test_wanli_2023_targets(docs):
    ind = frame(docs["wanli"], "fact_indicator")

    def target(name):
        r = ind.filter(pl.col("indicator_name") == name).row(0, named=True)
        return r["target_kind"], r["op"], r["target_value"], r["target_unit"]

    assert target("规划建筑面积") == ("NUMERIC", "≥", D("13459.00"), "平方米")  # p.31
    assert target("补贴对象满意度") == ("NUMERIC", "≥", D("80.00"), "%")  # p.32 "≥80.00(%)"
    assert target("市容环境满意度") == ("NUMERIC", "≥", D(50), "%")  # p.33 "不低于50%"
    assert target("日常走访企业") == ("NUMERIC", ">", D("150.00"), "家")  # p.34
    assert target("居民满意度")[0] == "TEXT"  # p.31 prints "满意度" as the target
    assert ind.filter(pl.col("indicator_name") == "按计划数量完成")["target_kind"].to_list() == ["COMPOSITE"]


def test_wanli_2023_inconsistent_fund_rows_fail(docs):
    """p.35 公共服务设施运行经费: 年度资金申请总额 10,903,043.00 but 其中：当年财政拨款 11,419,043.00."""
    fails = proj_findings(docs["wanli"]).filter(pl.col("status") == "FAIL")
    row = fails.filter(pl.col("subject").str.starts_with("公共服务设施运行经费")).row(0, named=True)
    assert (row["page_no"], row["lhs"], row["rhs"], row["diff"], row["severity"]) == (
        35, D("10903043"), D("11419043"), D("-516000"), "error")  # fmt: skip
    others = proj_findings(docs["wanli"]).filter(pl.col("subject").str.contains("当年预算 = 财政拨款", literal=True))
    assert others["status"].to_list().count("PASS") == 4


# ---------------------------------------------------------------------------------------------
# 项目经费情况说明 (普陀 2024 / 2025): projects described in prose, indicators "详见单位的项目绩效目标表"


def test_project_expense_notes(docs):
    p = frame(docs["wanli24"], "fact_project").row(0, named=True)  # 2024 p.33
    assert (p["form_family"], p["page_no"], p["n_indicators"]) == ("EXPENSE_NOTE", 33, 0)
    assert p["project_name"] == "万里街道社区公共服务中心新建工程"  # named in its 项目概况
    items = frame(docs["wanli24"], "fact_project_line_item").sort("seq")
    assert items["content"].to_list() == [f"第{q}季度用款计划" for q in "一二三四"]
    assert set(items["amount_yuan"]) == {D("1580500")}  # 158.05万元 each
    p = frame(docs["office25"], "fact_project").row(0, named=True)  # 2025 p.22
    assert (p["project_name"], p["n_line_items"]) == ("区政府督查及建议提案工作业务经费", 0)
    items = frame(docs["finance25"], "fact_project_line_item").sort("seq")  # 2025 p.24 六、年度预算安排
    assert items.select("content", "amount_yuan").rows() == [
        ("信息化系统日常维护费", D("1666600")), ("中介机构服务费", D("4188000")), ("财政业务费", D("100000"))]  # fmt: skip
    for key in ("wanli24", "office25", "finance25"):
        assert frame(docs[key], "fact_indicator").height == 0
