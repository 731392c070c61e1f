"""The 功能分类 / 经济分类 catalogue shipped as reference data, and R-CODE on real pages."""

from __future__ import annotations

from pipelines.normalize.codes import catalogue, code_name_key, expected_names, name_matches
from tests.conftest import corpus_file, needs_shared

XUANCHUANBU = "national/xian/中共西安市委宣传部2021年部门综合预算.pdf"
SWU_2023 = "chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf"


def test_catalogue_has_codes_names_years_and_sources():
    func, econ = catalogue("func"), catalogue("econ")
    assert len(func) > 300 and len(econ) > 100
    (admin,) = func["2010101"]
    assert (admin.level, admin.name, admin.parent_code) == (3, "行政运行", "20101")
    assert {e.name for e in func["20805"]} == {"行政事业单位离退休", "行政事业单位养老支出"}  # renamed over the years
    assert "observed_codes.csv" in func["201"][0].source
    assert econ["30101"][0].name == "基本工资" and econ["30101"][0].parent_code == "301"
    for entries in func.values():
        for e in entries:
            assert e.first_year <= e.last_year and e.level == {3: 1, 5: 2, 7: 3}[len(e.code)]


def test_names_are_compared_normalized():
    assert code_name_key("其他人大事务支出") == code_name_key("其他人大事务")
    assert code_name_key(" 因公出国（境）费用") == code_name_key("因公出国(境)费用")
    assert name_matches("func", "2010101", "行政 运行", 2019)
    assert name_matches("func", "2010101", "一般行政管理事务", 2019) is False
    assert name_matches("func", "2999999", "不存在", 2019) is None  # not catalogued: not checked
    assert expected_names("func", "20805", 2017) == ("行政事业单位离退休",)


@needs_shared
def test_printed_names_against_the_catalogue_of_their_year(parsed):
    # 中共西安市委宣传部 2021 表5 pp.24-25: every printed code's name is the catalogue's for 2021 (the unit
    # code 201 of 表2 p.19 is no 功能分类 code: it is not compared); the catalogue knows 207's name of 2017
    # (文化体育与传媒支出) apart from 2021's
    doc = parsed(corpus_file(XUANCHUANBU))
    checks = doc.frames["fact_check"].filter(rule="R-CODE")
    assert checks.height >= 15 and set(checks["status"]) == {"PASS"}
    assert "201 中共西安市委宣传部" not in checks["subject"].to_list()
    b5 = doc.frames["fact_func_amount"].filter(table_type="B5", func_code="207")
    assert set(b5["func_name"]) == {"文化旅游体育与传媒支出"}
    assert name_matches("func", "207", "文化旅游体育与传媒支出", 2021) is True
    assert expected_names("func", "207", 2017) == ("文化体育与传媒支出",)
    assert name_matches("func", "20799", "其他文化旅游体育与传媒支出", 2021) is True


@needs_shared
def test_names_of_a_proved_document_all_match(parsed):
    checks = parsed(corpus_file(SWU_2023)).frames["fact_check"].filter(rule="R-CODE")
    assert checks.height >= 20 and set(checks["status"]) == {"PASS"}
