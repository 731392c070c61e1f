"""The rule catalogue (pipelines/validate/rules/catalogue.py) lists every rule the validate stage
produces: real documents of every family are parsed and each rule id they yield must be listed,
with its module (the rule family) really evaluating it."""

from __future__ import annotations

from pathlib import Path

from conftest import corpus_file, needs_shared, parse_all, seed

from pipelines.validate.rules.catalogue import BY_ID, RULES

RULES_DIR = Path(__file__).resolve().parent.parent / "pipelines" / "validate" / "rules"


def test_every_listed_rule_is_evaluated_by_its_module():
    for rule in RULES:
        source = (RULES_DIR / f"{rule.module}.py").read_text(encoding="utf-8")
        assert f'"{rule.rule_id}"' in source, f"{rule.rule_id} is not produced in {rule.module}.py"
        assert rule.compares and rule.tolerance and rule.severity in ("error", "warning")
    assert len(BY_ID) == len(RULES)  # ids are unique


@needs_shared
def test_every_rule_a_document_yields_is_listed():
    paths = [
        seed("003"),  # 单位预算 with 绩效目标 forms (text)
        corpus_file("shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf"),  # 决算 with 情况说明
        corpus_file("negative/24年普陀区财政局（测试问题版本）.pdf"),  # 决算 with injected text defects
        corpus_file("jiangsu_province/江苏省委办公厅/江苏省委办公厅2019年度部门预算公开表格.pdf"),  # 部门预算 B1–B9
    ]
    seen: set[str] = set()
    for path, doc in parse_all(paths).items():
        assert doc.status == "loaded", path
        seen |= set(doc.frames["fact_check"]["rule"].to_list())
    assert seen - set(BY_ID) == set()
    # the documents exercise most of the catalogue
    assert {"R-ROW", "R-HIER", "R-TOTAL", "R-BAL", "R-XT", "R-3P-SUM", "R-PROJ", "R-NARR", "R-TEXT"} <= seen
