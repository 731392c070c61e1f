"""功能分类 tables of the national documents (B3 支出总表, B5, B6, B7): column roles from the header labels
(unit codes, 预算单位, memo columns, 基本支出 printed only as 人员 | 公用), tables ended by titles outside the
catalogue, and codes printed twice in one table. Values are the printed ones of the pages named."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import corpus_file, needs_shared

pytestmark = needs_shared

SHENZHEN = "national/shenzhen/深圳市财政局本级2026年部门预算.pdf"
XUANCHUANBU = "national/xian/中共西安市委宣传部2021年部门综合预算.pdf"
HUZHOU = "national/huzhou/湖州市财政局2026年部门预算.pdf"
BEIJING = "national/beijing/北京市财政局2026年部门预算_附件2报表.pdf"
YANTAI = "national/yantai/烟台市民政局2026年部门预算.pdf"
GUANGZHOU = "national/guangzhou/广州市统计局2026年部门预算.pdf"
WUXI = "national/wuxi/无锡市发展和改革委员会2025年部门预算.pdf"


def _tables(doc, table_type: str) -> list[dict]:
    return [t for t in doc.frames["doc_table"].to_dicts() if t["table_type"] == table_type]


def _cells(doc, table_type: str, code: str) -> dict[str, list[str]]:
    rows = doc.frames["fact_func_amount"].filter(table_type=table_type, func_code=code).to_dicts()
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["measure"], []).append(r["amount_raw"])
    return out


def test_purchase_memo_columns_are_not_addends(parsed):
    # 深圳 表3 支出总表 p.20: 支出总计 | 基本支出 | 项目支出 | … | 2026年政府采购项目 小计 | 其中：… The 政府采购
    # columns restate part of the row (行政运行 6,487.76 of which 388.02 is bought): not its total
    doc = parsed(corpus_file(SHENZHEN))
    [b3] = _tables(doc, "B3")
    assert (b3["page_start"], b3["page_end"], b3["status"], b3["identities_failed"]) == (20, 23, "verified", 0)
    assert b3["identities_passed"] >= 100
    cells = _cells(doc, "B3", "2010601")
    assert cells["TOTAL"] == ["6,487.76"] and cells["BASIC"] == ["6,487.76"] and cells["PROJECT"] == ["0.00"]
    assert "388.02" not in [raw for values in cells.values() for raw in values]
    assert doc.frames["fact_func_amount"].filter(table_type="B3", func_code="2010601")["amount_yuan"].to_list()[
        0
    ] == Decimal("64877600.00")
    # 表8 一般公共预算支出表（按经济分类）: an economic table, not a second B5
    assert [t["title"] for t in _tables(doc, "B5")] == ["一般公共预算支出表（按功能分类）"]


def test_unit_code_column_is_not_a_function_code(parsed):
    # 西安宣传部 2021 表2/表3 pp.19-20: 单位编码 201 中共西安市委宣传部, 201001 / 201002 its units. The 201
    # is the unit's code, not 一般公共服务支出 (formerly an R-CODE FAIL and false R-ROW / R-TOTAL FAILs)
    doc = parsed(corpus_file(XUANCHUANBU))
    func = doc.frames["fact_func_amount"]
    assert func.filter(table_type="B2").height == 0 and func.filter(table_type="B3").height == 0
    checks = doc.frames["fact_check"]
    assert checks.filter(rule="R-CODE", status="FAIL").height == 0
    assert checks.filter(status="FAIL", table_type="B3").height == 0
    # the catalogue still tells the years' names apart: 207's name of 2021 is not that of 2017
    passed = checks.filter(rule="R-CODE", status="PASS")["subject"].to_list()
    assert "207 文化旅游体育与传媒支出" in passed and "20799 其他文化旅游体育与传媒支出" in passed


def test_wrapped_title_and_special_project_column(parsed):
    # 西安宣传部 表5 p.24: the title wraps (…按支出功能分类科 / 目-不含上年结转）); 专项业务经费支出 is its 项目 column
    doc = parsed(corpus_file(XUANCHUANBU))
    [b5] = _tables(doc, "B5")
    assert (b5["page_start"], b5["page_end"], b5["status"], b5["identities_failed"]) == (24, 25, "verified", 0)
    assert b5["title"].endswith("按支出功能分类科目-不含上年结转）")
    cells = _cells(doc, "B5", "2013302")
    assert cells == {
        "TOTAL": ["30,964,000.00"],
        "PERSONNEL": ["0.00"],
        "PUBLIC": ["0.00"],
        "PROJECT": ["30,964,000.00"],
    }
    assert _cells(doc, "B5", "2013301")["PERSONNEL"] == ["16,411,840.61"]


def test_basic_printed_as_personnel_and_public_only(parsed):
    # 湖州 表03 p.20: 总计 | 基本支出 (人员支出 | 公用经费) | 项目支出 | …: 总计 = 人员 + 公用 + 项目
    doc = parsed(corpus_file(HUZHOU))
    [b3] = _tables(doc, "B3")
    assert (b3["page_start"], b3["page_end"], b3["status"], b3["identities_failed"]) == (20, 21, "verified", 0)
    cells = _cells(doc, "B3", "2010601")
    assert (cells["TOTAL"], cells["PERSONNEL"], cells["PUBLIC"]) == (["3685.65"], ["3102.63"], ["583.02"])
    assert _cells(doc, "B3", "201")["PROJECT"] == ["1266.75"]


def test_codes_printed_twice_and_a_restated_project_column(parsed):
    # 北京 预算05 p.9: 7-digit codes only, a second (unlabelled) unit's block repeats 2010601…: one amount of
    # the department per code, the printed cells joined; the column 项目支出 | 扣除基建项目后预算数 restates
    # 项目支出总数. 合计 44,169.357532 = Σ of all 项 rows
    doc = parsed(corpus_file(BEIJING))
    [b5] = _tables(doc, "B5")
    assert (b5["page_start"], b5["status"], b5["identities_failed"]) == (9, "verified", 0)
    cells = _cells(doc, "B5", "2010601")
    assert cells["TOTAL"] == ["10,096.054007+7,239.974050"]
    assert cells["PERSONNEL"] == ["9,060.258260+6,350.814468"]
    assert _cells(doc, "B5", "2010602")["PROJECT"] == ["5,046.830111+1,853.100000"]
    assert _cells(doc, "B5", "2299999")["PROJECT"] == ["792.644000"]  # printed once: as printed
    total = doc.frames["fact_func_amount"].filter(table_type="B5", func_code="2010601", measure="TOTAL")
    assert total["amount_yuan"].to_list() == [Decimal("173360280.57")]  # 17,336.028057 万元
    totals = doc.frames["fact_check"].filter(rule="R-TOTAL", table_type="B5")
    assert totals.height >= 1 and set(totals["status"]) <= {"PASS", "PASS_ROUNDING"}
    assert "Σ 项 rows" in totals["message"][0]


def test_a_title_outside_the_catalogue_ends_the_open_table(parsed):
    # 烟台 公开表9 国有资本经营预算支出情况表 p.22 is printed empty; 公开表10-12 (基本支出, 项目支出, 政府采购)
    # follow: their rows are not the B7's (formerly pp.22-28, 83 rows, R-TOTAL failing)
    doc = parsed(corpus_file(YANTAI))
    [b7] = _tables(doc, "B7")
    assert (b7["page_start"], b7["page_end"], b7["status"]) == (22, 22, "unverified")
    assert "empty" in b7["reason"]
    assert doc.frames["fact_func_amount"].filter(table_type="B7").height == 0


def test_economic_tables_are_not_b5(parsed):
    # 广州 表6 p.16 一般公共预算项目支出情况表（按经济分类科目）: not a 功能分类 table
    doc = parsed(corpus_file(GUANGZHOU))
    assert [(t["page_start"], t["status"]) for t in _tables(doc, "B5")] == [(13, "verified")]


def test_one_code_printed_on_two_rows_is_two_rows(parsed):
    # 无锡 公开03 p.14 prints ``21999 其他支出 502.00`` twice (the 款 and, with the 款's code, its 项): each
    # row is its own identity (formerly summed into one: a false R-ROW FAIL in B3, B4 and B5)
    doc = parsed(corpus_file(WUXI))
    assert doc.frames["fact_check"].filter(status="FAIL").height == 0
    for table_type in ("B3", "B5"):
        [table] = _tables(doc, table_type)
        assert table["status"] == "verified"
        assert _cells(doc, table_type, "21999")["TOTAL"] == ["502.00", "502.00"]


def test_cross_classified_expenditure_table_reads_its_function_codes(parsed):
    # 北京 预算03 支出总表 pp.4-6: 支出功能分类科目 | 政府支出经济分类科目 | 部门支出经济分类科目, code and name joined
    # by a hyphen (``2010601-行政运行 | 50101-工资奖金津补贴 | 30101-基本工资 | 1,721.982000``): one row per
    # function × economic cell, one amount per function code (its cells joined by +). The 项 add up to the
    # 合计 44,169.357532 (the 附件1 说明's 44169.36 万元), and each 项 equals the 预算05 amount (all 一般公共预算)
    doc = parsed(corpus_file(BEIJING))
    [b3] = _tables(doc, "B3")
    assert (b3["page_start"], b3["page_end"], b3["status"], b3["identities_failed"]) == (4, 6, "verified", 0)
    func = doc.frames["fact_func_amount"].filter(measure="TOTAL")
    b3_total = func.filter(table_type="B3", func_code="2010601")
    assert b3_total["amount_raw"][0].startswith("1,721.982000+3,312.997000+2,165.681400+")
    assert b3_total["func_name"].to_list() == ["行政运行"]
    for code in ("2010601", "2010602", "2080505", "2299999"):
        by_table = {r["table_type"]: r["amount_yuan"] for r in func.filter(func_code=code).to_dicts()}
        assert by_table["B3"] == by_table["B5"], code
    assert all(code.startswith("2") for code in func.filter(table_type="B3")["func_code"])  # no 经济分类 code
    totals = doc.frames["fact_check"].filter(rule="R-TOTAL", table_type="B3", status="PASS")["message"].to_list()
    assert any("44,169.36万元 vs 44,169.36万元" in m for m in totals)


XIAN_HRSS = "national/xian/西安市人力资源和社会保障局2020年部门综合预算.pdf"


def test_kuan_rows_printing_only_their_own_two_digits(parsed):
    # 西安人社 2020 表5 p.33: ``201 一般公共服务支出`` / ``10 人力资源事务`` / ``2011007 博士后日常经费`` …, rows
    # not in code order: the 款 is 20110 (类 201 + its two digits), and 类 = Σ款, 款 = Σ项 hold
    doc = parsed(corpus_file(XIAN_HRSS))
    [b5] = [t for t in _tables(doc, "B5") if t["page_start"] == 33]
    assert (b5["page_end"], b5["status"], b5["identities_failed"]) == (34, "verified", 0)
    assert _cells(doc, "B5", "20110")["TOTAL"] == ["56.52"]
    assert _cells(doc, "B5", "20805")["TOTAL"] == ["71797.82"]
    assert _cells(doc, "B5", "2011007")["TOTAL"] == ["7"]
    hier = doc.frames["fact_check"].filter(rule="R-HIER", table_type="B5")
    assert hier.height >= 30 and set(hier["status"]) == {"PASS"}
    assert "款 = Σ项 for 20110 人力资源事务 (TOTAL)" in " ".join(hier["message"].to_list())


def test_tables_by_unit_prove_their_unit_rows(parsed):
    # 西安宣传部 2021 表3 p.20 支出总表 by 单位编码: 合计 258,596,001.79 = 201 中共西安市委宣传部, and 201 = 201001
    # 255,197,284.29 + 201002 3,398,717.50; no 功能分类 facts come from it
    doc = parsed(corpus_file(XUANCHUANBU))
    [b3] = _tables(doc, "B3")
    assert (b3["page_start"], b3["status"], b3["identities_failed"]) == (20, "verified", 0)
    assert doc.frames["fact_func_amount"].filter(table_type="B3").height == 0
    messages = doc.frames["fact_check"].filter(rule="R-TOTAL", table_type="B3", status="PASS")["message"].to_list()
    assert any("201 = Σ its units (TOTAL)" in m for m in messages)
    assert any("合计 = Σ units (TOTAL)" in m for m in messages)


def test_a_unit_total_leaving_out_a_column_is_a_defect(parsed):
    # 西安人社 2020 表3 p.31: 合计 182157.13 includes 上年结转 90.57, but the unit rows' 合计 leave theirs out
    # (242001 24417.66 with 60.37 上年结转 …): Σ units = 182066.56, a publisher error, loaded and flagged
    doc = parsed(corpus_file(XIAN_HRSS))
    [b3] = _tables(doc, "B3")
    assert (b3["page_start"], b3["status"], b3["identities_failed"]) == (31, "defects", 1)
    [fail] = doc.frames["fact_check"].filter(rule="R-TOTAL", table_type="B3", status="FAIL").to_dicts()
    assert (fail["lhs"], fail["rhs"]) == (Decimal("1821571300.00"), Decimal("1820665600.00"))
    assert doc.frames["fact_func_amount"].filter(table_type="B3").height == 0


def test_code_segments_rebuilt_across_a_page_break(parsed):
    # 烟台 公开表5 pp.15-16: 类 | 款 | 项 columns where each row prints only its own segment (``208``, ``02``
    # 民政管理事务, ``01`` 行政运行); ``20`` 临时救助 ends p.15 and its 项 ``02`` 流浪乞讨人员救助支出 starts p.16,
    # under a repeated title
    doc = parsed(corpus_file(YANTAI))
    [b5] = _tables(doc, "B5")
    assert (b5["page_start"], b5["page_end"], b5["status"], b5["identities_failed"]) == (15, 16, "verified", 0)
    assert _cells(doc, "B5", "2050803")["TOTAL"] == ["16.00"]
    assert _cells(doc, "B5", "2080201")["TOTAL"] == ["668.77"]
    rows = doc.frames["fact_func_amount"].filter(table_type="B5", func_code="2082002", measure="TOTAL").to_dicts()
    assert [(r["page_no"], r["func_name"], r["amount_raw"]) for r in rows] == [(16, "流浪乞讨人员救助支出", "1,093.77")]
    hier = doc.frames["fact_check"].filter(rule="R-HIER", table_type="B5")
    assert any("款 = Σ项 for 20820 临时救助 (TOTAL)" in m for m in hier.filter(status="PASS")["message"].to_list())


SUZHOU = "national/suzhou/苏州市水务局2026年单位预算.pdf"


def test_a_running_page_header_neither_ends_a_table_nor_explains_one(parsed):
    # 苏州 支出总表 p.13 runs on to p.14 under only the page header 苏州市水务局2026年度单位预算公开, which every page
    # prints: p.14's 2210201 住房公积金 160.95 belongs to the table (and 22102 = Σ项 is checked), it does not close it
    doc = parsed(corpus_file(SUZHOU))
    [b3] = _tables(doc, "B3")
    assert (b3["page_start"], b3["page_end"], b3["status"]) == (13, 14, "verified")
    assert _cells(doc, "B3", "2210201")["TOTAL"] == ["160.95"]
    hier = doc.frames["fact_check"].filter(rule="R-HIER", table_type="B3", status="PASS")["message"].to_list()
    assert any("款 = Σ项 for 22102 住房改革支出 (TOTAL)" in m for m in hier)
    # 无锡's contents page p.2 lists 十二、一般公共预算机关运行经费支出预算表; the next page's header
    # 无锡市发展和改革委员会2025年度部门预算公开 (无…预算, like an empty table's note) made it a phantom empty table
    wuxi = parsed(corpus_file(WUXI))
    assert [t["page_start"] for t in wuxi.frames["doc_table"].to_dicts() if t["table_type"] == "B9"] == [23, 26]
    assert not any("部门预算公开" in (t["reason"] or "") for t in wuxi.frames["doc_table"].to_dicts())
