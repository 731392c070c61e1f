"""功能分类 rows printed by name alone, their level shown by indentation: codes from the catalogue under
their parent, proved by the table's own 类 = Σ款 / 款 = Σ项 (杭州市司法局 2026 表3 / 表5, no codes anywhere)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.normalize.codes import REFERENCE_DIR, catalogue, code_name_key, func_code_for_name
from pipelines.read.model import SourceDocument
from pipelines.read.pdf import read_pdf
from pipelines.read.text import leading_indent, text_to_pages
from pipelines.recognize.budget.tables import extract_budget_facts, recognize_budget_tables
from pipelines.validate.rules.table_status import table_checks
from tests.conftest import corpus_file, needs_shared

HANGZHOU = "national/hangzhou/杭州市司法局2026年部门预算_汇总.pdf"


def _totals(doc, table_type: str) -> dict[str, tuple[int, str]]:
    rows = doc.frames["fact_func_amount"].filter(table_type=table_type, measure="TOTAL")
    return {r["func_code"]: (r["page_no"], r["amount_raw"], r["func_name"]) for r in rows.iter_rows(named=True)}


@needs_shared
def test_pdf_cells_keep_the_indentation_of_their_names():
    # 表5 p.30: 公共安全支出 (类) at the cell's padding, 　司法 one full-width space further, 　　行政运行 two
    (page,), _ = read_pdf(corpus_file(HANGZHOU), [30])
    grid = page.grids[0]
    indent = {row[0]: grid.indents[r][0] for r, row in enumerate(grid.rows) if row[0]}
    assert 0.9 < indent["司法"] - indent["公共安全支出"] < 1.1
    assert 0.9 < indent["行政运行"] - indent["司法"] < 1.1
    assert indent["公共安全支出"] == indent["一般公共服务支出"] == indent["合计"]


@needs_shared
def test_hangzhou_function_tables_get_codes_from_names_under_their_parents(parsed):
    doc = parsed(corpus_file(HANGZHOU))
    b5 = _totals(doc, "B5")
    # 表5 p.30 as printed: 　监狱 53,706.39 / 　　行政运行 48,375.27 / … / 　　其他监狱支出 60.50
    assert b5["20407"] == (30, "53,706.39", "监狱")
    assert b5["2040701"] == (30, "48,375.27", "行政运行")
    assert b5["2040799"] == (30, "60.50", "其他监狱支出")
    assert b5["20408"] == (30, "4,119.77", "强制隔离戒毒")
    # the same name at two levels: 　其他一般公共服务支出 (款 20199) over 　　其他一般公共服务支出 (项 2019999)
    assert b5["20199"][1] == b5["2019999"][1] == "12,868.00"
    # 行政运行 is 2040601 under 司法 and 2040701 under 监狱: never resolved across parents
    assert b5["2040601"] == (30, "8,553.80", "行政运行")
    # p.31 runs on under 行政事业单位养老支出 of p.30
    assert b5["2080505"] == (31, "4,100.96", "机关事业单位基本养老保险缴费支出")
    # 表3 p.26 (all funds): 监狱 59,935.35, of which 行政运行 48,375.27
    b3 = _totals(doc, "B3")
    assert b3["20407"] == (26, "59,935.35", "监狱") and b3["2040701"][1] == "48,375.27"
    amount = doc.frames["fact_func_amount"].filter(table_type="B5", measure="TOTAL", func_code="20407")["amount_yuan"]
    assert amount.to_list() == [Decimal("537063900.00")]

    # the arithmetic proves the reading: 类 = Σ款 and 款 = Σ项 hold on every rebuilt code
    checks = doc.frames["fact_check"]
    hier = checks.filter(rule="R-HIER")
    assert hier.filter(pl.col("status") == "FAIL").height == 0
    assert hier.filter(table_type="B5").height >= 20 and hier.filter(table_type="B3").height >= 20
    assert checks.filter(pl.col("status") == "FAIL").height == 0
    tables = {r["table_type"]: r for r in doc.frames["doc_table"].iter_rows(named=True)}
    for table_type in ("B1", "B3", "B4", "B5"):
        assert tables[table_type]["status"] == "verified" and tables[table_type]["reason"] is None
    assert tables["B5"]["identities_passed"] + tables["B5"]["identities_rounding"] >= 70


def test_a_name_resolves_only_among_the_children_of_its_parent():
    assert func_code_for_name("行政运行", "20407", 2026) == "2040701"
    assert func_code_for_name("行政运行", "20406", 2026) == "2040601"
    assert func_code_for_name("监狱", "204", 2026) == "20407"
    assert func_code_for_name("监狱", "201", 2026) is None  # not a 款 of 201
    assert func_code_for_name("其他社会工作事务", "20139", 2026) == "2013999"  # normalized: 其他X = 其他X支出
    assert func_code_for_name("行政事业单位离退休", "208", 2018) == "20805"  # the name 20805 had until 2019
    assert func_code_for_name("监 狱 管 理", "204", 2026) is None  # no similarity


def test_leading_full_width_spaces_give_a_text_cell_its_indent():
    assert leading_indent("公共安全支出") == 0
    assert leading_indent("\u3000\u3000行政运行") == 2
    assert leading_indent("  司法") == 1
    assert leading_indent("  ") is None


# 杭州 表5 p.30-31 as a text extraction would print it, the levels by full-width spaces; the second copy
# renames one 项 (律师管理 → 律师事务) to a name the catalogue does not know under 司法
_TABLE5 = """表5：2026年市级部门一般公共预算支出预算表
单位：万元
功能分类科目名称\t合计\t基本支出\t项目支出
合计\t91842.80\t70724.29\t21118.51
一般公共服务支出\t12868.19\t\t12868.19
\u3000社会工作事务\t0.19\t\t0.19
\u3000\u3000其他社会工作事务支出\t0.19\t\t0.19
\u3000其他一般公共服务支出\t12868.00\t\t12868.00
\u3000\u3000其他一般公共服务支出\t12868.00\t\t12868.00
公共安全支出\t69081.15\t60830.83\t8250.32
\u3000司法\t11254.99\t8553.80\t2701.19
\u3000\u3000行政运行\t8553.80\t8553.80\t
\u3000\u3000一般行政管理事务\t214.07\t\t214.07
\u3000\u3000基层司法业务\t200.80\t\t200.80
\u3000\u3000普法宣传\t119.63\t\t119.63
\u3000\u3000律师管理\t25.00\t\t25.00
\u3000\u3000公共法律服务\t368.86\t\t368.86
\u3000\u3000国家统一法律职业资格考试\t340.72\t\t340.72
\u3000\u3000社区矫正\t17.00\t\t17.00
\u3000\u3000法治建设\t745.51\t\t745.51
\u3000\u3000其他司法支出\t669.61\t\t669.61
"""


def _read_text(text: str):
    pages = text_to_pages(text)
    doc = SourceDocument(path=Path("t.txt"), sha256="0", source_format="text", pages=pages, page_count=1)
    return extract_budget_facts(recognize_budget_tables(doc), year=2026)


def test_indentation_of_a_text_extraction_gives_the_levels():
    facts = _read_text(_TABLE5)
    codes = {f.func_code: f.amount.raw for f in facts.func if f.measure == "TOTAL"}
    assert codes["20139"] == "0.19" and codes["2013999"] == "0.19"
    assert codes["20406"] == "11254.99" and codes["2040606"] == "25.00" and codes["2040699"] == "669.61"
    assert codes["204"] == "69081.15"
    (table,) = facts.tables
    assert table.unresolved_names == ()


def test_a_name_the_catalogue_does_not_know_keeps_its_class_rows_summary_lines():
    facts = _read_text(_TABLE5.replace("律师管理", "律师事务"))
    codes = {f.func_code for f in facts.func}
    # 201's 款 and 项 still resolve; under 204 nothing below the 类 is a fact (a partial hierarchy
    # would fail 款 = Σ项 for a reason of ours), and the table names the row it could not place
    assert {"201", "20139", "2013999", "204"} <= codes
    assert not any(c.startswith("204") and len(c) > 3 for c in codes)
    assert "律师事务" in {s.label for s in facts.summary} and "司法" in {s.label for s in facts.summary}
    (table,) = facts.tables
    assert table.unresolved_names == ((1, "律师事务"),)
    (check,) = table_checks(facts.tables, facts, [])
    assert "律师事务 (p.1)" in check.reason and check.status == "unverified"  # no findings given: nothing proved


def test_transcribed_entries_agree_with_every_observed_entry():
    with open(REFERENCE_DIR / "func_codes.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    transcribed = [r for r in rows if r["source"].startswith("transcribed:")]
    observed = [r for r in rows if not r["source"].startswith("transcribed:")]
    assert {"20407", "2040701", "20408", "2040606"} <= {r["code"] for r in transcribed}
    func = catalogue("func")
    for t in transcribed:
        key = code_name_key(t["name"])
        # every observed name of the code is the transcribed one
        assert all(code_name_key(o["name"]) == key for o in observed if o["code"] == t["code"]), t
        # no observed sibling carries its name under another code
        siblings = [o for o in observed if o["parent_code"] == t["parent_code"] and o["code"] != t["code"]]
        assert all(code_name_key(o["name"]) != key for o in siblings), t
        assert t["parent_code"] in func and t["code"].startswith(t["parent_code"])


@needs_shared
def test_corpus_warehouse_exposes_sources_and_names_only_tables_prove_themselves(corpus_warehouse):
    import duckdb

    con = duckdb.connect(str(corpus_warehouse), read_only=True)
    try:
        source = con.execute("SELECT source FROM func_codes WHERE code = '20407'").fetchall()
        assert [s for (s,) in source] == ["transcribed: 政府收支分类科目 (财政部), 2019–2026 editions"]
        rows = con.execute(
            "SELECT t.status, t.identities_failed, count(*) FROM func_amounts f JOIN document_tables t"
            " ON t.doc_id = f.doc_id AND t.table_type = f.table_type"
            " WHERE f.unit_name = '杭州市司法局' AND f.func_code = '20407' GROUP BY ALL"
        ).fetchall()
        assert rows and all(status == "verified" and failed == 0 for status, failed, _ in rows)
        code_fails = con.execute(
            "SELECT count(*) FROM quality_findings WHERE rule = 'R-CODE' AND status = 'FAIL'"
        ).fetchone()[0]
        assert code_fails == 0
    finally:
        con.close()
