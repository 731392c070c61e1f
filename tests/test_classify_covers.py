"""Cover wordings of other regions' 预算 / 决算 (unit, year, kind, scope read from the cover): a year printed in
Chinese numerals, a 省级/区级 level word before 部门预算, a title beginning 关于 … 的说明. The corpus's own covers
are checked in tests/test_units.py and tests/test_national_findings.py; these are the rules beyond them."""

from __future__ import annotations

import pytest

from pipelines.read.dispatch import read_document
from pipelines.recognize.classify import arabic_years, classify_document

COVERS = [
    ("桐乡市水利局\n二〇二四年部门预算", ("BUDGET", "部门", "桐乡市水利局", 2024)),
    ("二〇二五年度\n莆田市涵江区应急管理局\n部门预算", ("BUDGET", "部门", "莆田市涵江区应急管理局", 2025)),
    ("湖南省教育厅2025年度省级部门预算", ("BUDGET", "部门", "湖南省教育厅", 2025)),
    ("贵阳市公安局2026年区级部门预算", ("BUDGET", "部门", "贵阳市公安局", 2026)),
    ("关于淄博市自然资源局2024年度部门决算的说明", ("FINAL_ACCOUNT", "部门", "淄博市自然资源局", 2024)),
    ("2025年铜陵市义安区市场监督管理局单位预算", ("BUDGET", "单位", "铜陵市义安区市场监督管理局", 2025)),
    ("中国共产党桐庐县委员会组织部2024年部门预算", ("BUDGET", "部门", "中共桐庐县委组织部", 2024)),
]


@pytest.mark.parametrize(("cover", "expected"), COVERS, ids=[c.split("\n")[-1][:12] for c, _ in COVERS])
def test_cover_gives_kind_scope_unit_and_year(tmp_path, cover, expected):
    path = tmp_path / "document.txt"
    path.write_text(cover + "\n\n一、部门基本情况\n（一）主要职能\n本部门负责有关工作。\n", encoding="utf-8")
    info = classify_document(read_document(path))
    assert (info.doc_kind, info.scope, info.unit_name, info.fiscal_year) == expected


def test_chinese_numeral_years_only():
    assert arabic_years("二〇二四年部门预算") == "2024年部门预算"
    assert arabic_years("二○二三年度") == "2023年度"
    assert arabic_years("第二部分 三年行动") == "第二部分 三年行动"  # no year: untouched
