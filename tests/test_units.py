"""Units across names and years, and one document per unit, year, kind and scope, on the real corpus
(ingested once by `budgetwh ingest`, tests/conftest.py corpus_warehouse)."""

from __future__ import annotations

import re
from decimal import Decimal

from pipelines.publish.units import build_units, normalized_name, read_aliases, region_and_level
from pipelines.publish.warehouse import run_query
from tests.conftest import needs_shared


def rows(warehouse, sql: str) -> list[dict]:
    columns, values = run_query(warehouse, sql)
    return [dict(zip(columns, r, strict=True)) for r in values]


@needs_shared
def test_unit_names_carry_no_year_prefix_mark_or_table_word(corpus_warehouse):
    names = [r["unit_name"] for r in rows(corpus_warehouse, "select unit_name from documents where status = 'loaded'")]
    bad = [n for n in names if n and (re.match(r"^(20)?\d\d年|^[.．、,，:：]", n) or re.search(r"总计$|\.{2,}|…", n))]
    assert bad == []
    # the national documents whose titles print the year first, and a 部门综合预算 with a list of its units
    for name in ("泉州市人民政府办公室", "无锡市发展和改革委员会", "深圳市财政局（本级）", "中共西安市委宣传部"):
        assert name in names
    assert "拟变动情况" not in names


@needs_shared
def test_jiangsu_units_give_2017_to_2019_series_under_one_key(corpus_warehouse):
    units = rows(
        corpus_warehouse,
        "select unit_key, unit_name, first_year, last_year, region, admin_level from units "
        "where region = '江苏省' order by unit_name",
    )
    by_name = {u["unit_name"]: u for u in units}
    for name in ("中共江苏省委办公厅", "江苏省人大常委会办公厅", "江苏省政协办公厅"):
        assert (by_name[name]["first_year"], by_name[name]["last_year"], by_name[name]["admin_level"]) == (
            2017, 2019, "省",
        )  # fmt: skip
    series = rows(
        corpus_warehouse,
        "select unit_key, list(distinct fiscal_year order by fiscal_year) AS series_years, count(distinct doc_id) docs "
        "from func_canonical where measure = 'TOTAL' and func_level = 1 and fund_scope = 'ALL' "
        "and unit_key in (select unit_key from units where region = '江苏省') group by unit_key",
    )
    years = {r["unit_key"]: r["series_years"] for r in series}
    assert years[by_name["江苏省人大常委会办公厅"]["unit_key"]] == [2017, 2018, 2019]
    assert years[by_name["江苏省政协办公厅"]["unit_key"]] == [2017, 2018, 2019]
    # every fact view carries the key, and a unit's documents all share it
    docs = rows(corpus_warehouse, "select unit_name, count(distinct unit_key) n from documents "
                                  "where status = 'loaded' and unit_name is not null group by 1")  # fmt: skip
    assert all(d["n"] == 1 for d in docs)


def test_name_variants_of_the_corpus_join_by_rule_or_alias_file():
    """Spellings printed in the corpus's Jiangsu documents and file names."""
    aliases = read_aliases()
    assert normalized_name("中国共产党江苏省委员会办公厅") == normalized_name("中共江苏省委办公厅")
    assert normalized_name("中共江苏省委员会办公厅") == normalized_name("中共江苏省委办公厅")
    assert normalized_name("上海市普陀区土地发展中心（下属事业单位）") == "上海市普陀区土地发展中心"
    # the 2024 决算 of 社会工作部 prints its name with and without 中共
    assert normalized_name("上海市普陀区委社会工作部") == normalized_name("中共上海市普陀区委社会工作部")
    assert normalized_name("深圳市财政局（本级）") != normalized_name("深圳市财政局")  # 本级 is not the department
    docs = [
        {"doc_id": "a", "unit_name": "江苏省人大办公厅", "fiscal_year": 2017, "status": "loaded"},
        {"doc_id": "b", "unit_name": "江苏省人大常委会办公厅", "fiscal_year": 2019, "status": "loaded"},
        {"doc_id": "c", "unit_name": "江苏省政协办公厅", "fiscal_year": 2019, "status": "loaded"},
    ]
    units, doc_units = build_units(docs, [], aliases)
    assert doc_units["a"] == doc_units["b"] != doc_units["c"]
    merged = next(u for u in units if u["unit_key"] == doc_units["a"])
    assert merged["unit_name"] == "江苏省人大常委会办公厅" and (merged["first_year"], merged["last_year"]) == (
        2017,
        2019,
    )
    assert "江苏省人大办公厅: alias file" in merged["match_reason"]
    # without the alias file, 人大办公厅 and 人大常委会办公厅 stay two units: no rule guesses a rename
    _, plain = build_units(docs, [], {})
    assert plain["a"] != plain["b"]
    # 规划和 / 规划与自然资源局, both printed in the bureau's 2024 决算, are one unit through the alias file
    two = [{"doc_id": "x", "unit_name": "上海市普陀区规划和自然资源局", "fiscal_year": 2024, "status": "loaded"},
           {"doc_id": "y", "unit_name": "上海市普陀区规划与自然资源局", "fiscal_year": 2025, "status": "loaded"}]  # fmt: skip
    assert len(set(build_units(two, [], aliases)[1].values())) == 1


def test_region_and_level_from_the_name():
    assert region_and_level("上海市普陀区人民政府万里街道办事处") == ("上海市普陀区", "街道")
    assert region_and_level("上海市普陀区财政局") == ("上海市普陀区", "区县")
    assert region_and_level("中共江苏省委办公厅") == ("江苏省", "省")
    assert region_and_level("无锡市发展和改革委员会") == ("无锡市", "市")
    assert region_and_level("国家信访局") == ("全国", "中央")
    assert region_and_level("上海市数据局") == ("上海市", "省")


@needs_shared
def test_departments_and_their_member_units(corpus_warehouse):
    units = rows(corpus_warehouse, "select * from units")
    by_name = {u["unit_name"]: u for u in units}
    dept = by_name["上海市普陀区财政局"]
    assert (dept["first_year"], dept["last_year"], dept["admin_level"]) == (2024, 2025, "区县")
    members = sorted(u["unit_name"] for u in units if u["parent_unit_key"] == dept["unit_key"])
    assert "上海市普陀区财政局（本级）" in members and "上海市普陀区国库收付中心" in members
    swu = by_name["西南大学"]
    assert (swu["region"], swu["admin_level"]) == ("重庆市", "中央")  # by the alias file
    assert by_name["西南大学附属中学"]["parent_unit_key"] == swu["unit_key"]


@needs_shared
def test_two_copies_of_one_final_account_are_never_mixed(corpus_warehouse):
    docs = rows(
        corpus_warehouse,
        "select doc_id, source_file, canonical_doc_id from documents where unit_name = '上海市普陀区财政局' "
        "and fiscal_year = 2024 and doc_kind = 'FINAL_ACCOUNT' and status = 'loaded'",
    )
    assert len(docs) == 2
    (winner,) = {d["canonical_doc_id"] for d in docs}
    genuine = next(d for d in docs if "shanghai_putuo_final" in d["source_file"])
    edited = next(d for d in docs if "negative" in d["source_file"])
    assert winner == genuine["doc_id"]  # the later publication (file modification time)
    used = rows(corpus_warehouse, "select distinct doc_id from func_canonical where unit_name = '上海市普陀区财政局' "
                                  "and fiscal_year = 2024")  # fmt: skip
    assert used == [{"doc_id": winner}]
    findings = rows(
        corpus_warehouse,
        f"select subject, lhs, rhs, table_type, message from quality_findings where rule = 'R-PUB-CONFLICT' "
        f"and doc_id = '{edited['doc_id']}'",
    )
    summary = next(f for f in findings if f["subject"] == "document")
    assert winner in summary["message"] and "上海市普陀区财政局2024年度部门决算.pdf" in summary["message"]
    cells = [f for f in findings if f["subject"] != "document"]
    assert cells and f"differ in {len(cells)} of" in summary["message"]
    # one of the cells where the edited copy's F3 differs: 201 一般公共服务支出, blank there, printed in the genuine one
    cell = next(f for f in cells if f["subject"] == "201 TOTAL FINAL ALL")
    assert (cell["table_type"], cell["lhs"], cell["rhs"]) == ("F3", None, Decimal("21066600.00"))
