"""The national tables left unverified by the last stop (issue 16), each now read and proved by its own
arithmetic: the 机关运行经费 table by 经济分类 (无锡 p.26, 苏州 p.25), the two-sided 财政拨款收支总表 that runs
on to a second page (无锡 / 苏州 pp.15–16), and the 西安 收支总表 with four blocks side by side (西安人社 2020
p.29 / p.32, 西安财政 2026 p.25 / p.28). Values as printed on the pages (pdfplumber text)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from tests.conftest import corpus_file, doc_table_at, needs_shared

pytestmark = needs_shared

WUXI = "national/wuxi/无锡市发展和改革委员会2025年部门预算.pdf"
SUZHOU = "national/suzhou/苏州市水务局2026年单位预算.pdf"
XIAN_HR = "national/xian/西安市人力资源和社会保障局2020年部门综合预算.pdf"
XIAN_FINANCE = "national/xian/西安市财政局汇总2026年部门预算.pdf"


def _checks(doc, rule: str, table_type: str, page_no: int) -> list[dict]:
    checks = doc.frames["fact_check"].filter(
        (pl.col("rule") == rule) & (pl.col("table_type") == table_type) & (pl.col("page_no") == page_no)
    )
    return checks.to_dicts()


def _summary(doc, table_type: str, page_no: int, measure: str) -> dict[str, Decimal]:
    rows = doc.frames["fact_summary_line"].filter(
        (pl.col("table_type") == table_type) & (pl.col("page_no") == page_no) & (pl.col("measure") == measure)
    )
    return dict(zip(rows["label"], rows["amount_yuan"], strict=False))


def _func(doc, table_type: str, page_no: int) -> dict[str, Decimal | None]:
    rows = doc.frames["fact_func_amount"].filter(
        (pl.col("table_type") == table_type) & (pl.col("page_no") == page_no) & (pl.col("source_kind") == "TABLE")
    )
    return dict(zip(rows["func_code"], rows["amount_yuan"], strict=True))


def test_org_running_cost_table_by_economic_code_adds_up(parsed):
    """公开12表 一般公共预算机关运行经费支出预算表: 科目编码 | 科目名称 | 机关运行经费支出, rows 合计 / 302 / 30201 ….
    Its coded rows are summary lines of the 机关运行经费 (not 基本支出 facts); 合计 = 302 = Σ its 款."""
    wuxi = parsed(corpus_file(WUXI))
    items = _summary(wuxi, "B9", 26, "ORG_RUNNING_COST")
    assert items["商品和服务支出"] == Decimal("2474500.00")  # 302 247.45 万元
    assert items["办公费"] == Decimal("675300.00")  # 30201 67.53
    assert items["其他交通费用"] == Decimal("856600.00")  # 30239 85.66
    assert len(items) == 9
    org = wuxi.frames["fact_three_public"].filter(pl.col("item") == "ORG_RUNNING_COST")
    assert org["amount_yuan"].to_list() == [Decimal("2474500.00")]  # the 合计 row stays the 三公 table's fact
    assert [c["status"] for c in _checks(wuxi, "R-TOTAL", "B9", 26)] == ["PASS"]
    assert [c["status"] for c in _checks(wuxi, "R-HIER", "B9", 26)] == ["PASS"]
    table = doc_table_at(wuxi, "B9", 26)
    assert (table["status"], table["n_rows"], table["identities_passed"]) == ("verified", 10, 2)
    # none of its rows is published as an economic fact of the 基本支出 table
    assert wuxi.frames["fact_econ_amount"].filter(pl.col("table_type") == "B9").height == 0

    suzhou = parsed(corpus_file(SUZHOU))
    items = _summary(suzhou, "B9", 25, "ORG_RUNNING_COST")
    assert items["商品和服务支出"] == Decimal("2059700.00")  # 205.97
    assert items["邮电费"] == Decimal("120000.00")  # 30207 12.00
    assert items["其他商品和服务支出"] == Decimal("629700.00")  # 30299 62.97
    assert doc_table_at(suzhou, "B9", 25)["status"] == "verified"
    # the text states the same total, its 万元 cut by the line wrap (…预算支出 205.97 万 / 元，与上年…)
    for doc, page, total in ((wuxi, 37, "2474500.00"), (suzhou, 38, "2059700.00")):
        stated = _checks(doc, "R-NARR-ORG", "B9", page)
        assert [(c["status"], c["lhs"]) for c in stated] == [("PASS", Decimal(total))]


def test_two_sided_grant_table_runs_on_to_its_totals_page(parsed):
    """公开04表 财政拨款收支总表: p.15 ends at （十八）援助其他地区支出; p.16 opens under the running page header
    (无锡市发展和改革委员会2025年度部门预算公开) with the row （十九）自然资源海洋气象等支出 standing alone and ends
    with 收入总计 | 支出总计. Both pages are one table, and its two sides balance (R-BAL)."""
    wuxi = parsed(corpus_file(WUXI))
    table = doc_table_at(wuxi, "B4", 15)
    assert (table["page_end"], table["status"]) == (16, "verified")
    totals = _summary(wuxi, "B4", 16, "TOTAL")
    assert totals["收入总计"] == totals["支出总计"] == Decimal("99478800.00")  # 9,947.88 万元
    assert _func(wuxi, "B4", 16)["221"] == Decimal("13486200.00")  # （二十）住房保障支出 1,348.62
    assert [c["status"] for c in _checks(wuxi, "R-BAL", "B4", 16)] == ["PASS"]

    suzhou = parsed(corpus_file(SUZHOU))
    assert _summary(suzhou, "B4", 16, "TOTAL")["收入总计"] == Decimal("925962400.00")  # 92,596.24
    assert _func(suzhou, "B4", 16)["221"] == Decimal("6560800.00")  # 656.08
    assert (doc_table_at(suzhou, "B4", 15)["page_end"], doc_table_at(suzhou, "B4", 15)["status"]) == (16, "verified")
    # the running page header also lets the 支出总表 and 财政拨款支出表 run on (pp.13–14, 17–18)
    assert doc_table_at(suzhou, "B3", 13)["page_end"] == 14
    assert doc_table_at(suzhou, "B4", 17)["page_end"] == 18


def test_four_blocks_side_by_side(parsed):
    """西安 收支总表: 收入 | 支出功能分类 | 部门预算支出经济分类 | 政府预算支出经济分类, each a name column and a
    预算数 column, under a row 一、部门预算 printed in every block. The 功能分类 block's 类 are function
    facts (5、教育 without its 支出 too); the 经济分类 blocks' names (13、转移性支出, 15、其他支出) are not."""
    finance = parsed(corpus_file(XIAN_FINANCE))
    func = _func(finance, "B1", 25)
    assert func["201"] == Decimal("103518755.35")  # 1、一般公共服务支出 (元)
    assert func["213"] == Decimal("66000000.00")
    assert func["222"] == Decimal("104160000.00")
    assert len(func) == 24  # the 24 类 rows of the 功能分类 block, printed blank or not
    for page in (25, 28):
        table = doc_table_at(finance, "B1" if page == 25 else "B4", page)
        assert table["status"] == "verified", table
    assert [c["status"] for c in _checks(finance, "R-TOTAL", "B1", 25)] == ["PASS"]  # 本年支出合计 = Σ 类

    hr = parsed(corpus_file(XIAN_HR))
    func = _func(hr, "B1", 29)
    assert func["205"] == Decimal("38731200.00")  # 5、教育 3873.12 万元
    assert func["208"] == Decimal("1364002100.00")  # 8、社会保障和就业 136400.21
    assert func["230"] == Decimal("0.00")  # 26、转移性支出 of the 功能分类 block, printed 0 …
    assert func["229"] == Decimal("0.00")
    rows_230 = hr.frames["fact_func_amount"].filter((pl.col("page_no") == 29) & (pl.col("func_code") == "230"))
    assert rows_230["row_label"].to_list() == ["26、转移性支出"]  # … not the 政府经济分类 block's 13、转移性支出
    names = hr.frames["fact_check"].filter((pl.col("rule") == "R-CODE") & (pl.col("page_no") == 29))
    assert set(names["status"]) == {"PASS"}  # 5、教育 is 205 教育支出 by name


def test_a_publishers_unbalanced_expenditure_side_is_a_defect(parsed):
    """西安人社 2020 表1 p.29 / 表4 p.32: 支出总计 182,157.13 (181,807.13) = 本年支出合计 182,066.56 (181,716.56) +
    结转下年 0 does not hold: the 上年结转 90.57 on the income side is spent nowhere on the other. The
    same 90.57 the publisher leaves out of its unit rows on p.30 / p.31. Flagged, loaded as printed."""
    hr = parsed(corpus_file(XIAN_HR))
    for table_type, page, total, year in (
        ("B1", 29, "1821571300.00", "1820665600.00"),
        ("B4", 32, "1818071300.00", "1817165600.00"),
    ):
        carry = [c for c in _checks(hr, "R-CARRY", table_type, page) if c["subject"].startswith("支出总计")]
        assert [(c["status"], c["lhs"], c["rhs"]) for c in carry] == [("FAIL", Decimal(total), Decimal(year))]
        assert [c["status"] for c in _checks(hr, "R-BAL", table_type, page)] == ["PASS"]
        table = doc_table_at(hr, table_type, page)
        assert (table["status"], table["identities_failed"]) == ("defects", 1)


def test_final_accounts_carry_codes_across_repeated_titles_as_budgets_do():
    """The 决算 family reads a table that runs on under its repeated title by the same rule as the 预算
    family (``recognize/carry.py``). No 决算 of ../shared repeats its title per page, so the layout is
    taken from 深圳 表4 基本支出总表 (pp.24–26: title on every page, 经济分类 by name only) read as an F6:
    邮电费 at the top of p.25 is still 30207 under the 302 of p.24, 生活补助 on p.26 30305 under 303."""
    from dataclasses import replace

    from pipelines.read.dispatch import read_document, sha256_file
    from pipelines.recognize.budget.tables import recognize_budget_tables
    from pipelines.recognize.final.tables import extract_final_facts

    path = corpus_file("national/shenzhen/深圳市财政局本级2026年部门预算.pdf")
    tables = recognize_budget_tables(read_document(path, sha256_file(path)))
    pages = [replace(t, table_type="F6") for t in tables if t.table_type == "B8" and t.page_start >= 23]
    assert len([t for t in pages if t.grids]) == 3  # one logical table per printed page
    reading = extract_final_facts(pages)
    # the amounts as printed (万元; these pieces alone do not carry the document's unit line)
    econ = {(e.econ_code, e.at.page_no): e.amount.value for e in reading.facts.econ if e.measure == "TOTAL"}
    assert econ[("302", 24)] == Decimal("1462.93")
    assert econ[("30207", 25)] == Decimal("65.00")  # 邮电费
    assert econ[("30305", 26)] == Decimal("19.28")  # 生活补助
