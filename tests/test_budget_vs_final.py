"""`budget_vs_final` through the real command: `budgetwh ingest` (Dagster job, DuckDB file) then
`budgetwh query`.

The corpus holds one 预算/决算 pair of the same unit and year: 西南大学 2023 (部门预算, 40 pages, and
部门决算 in the 高等学校 format). It is ingested in both orders into two warehouses, which must give the
same rows. The Shanghai 决算 have no 预算 of the same year in the corpus: their budget is the 年初预算
(全年预算 for 社工部) their 情况说明 quotes per 项.
"""

import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import corpus_file, needs_shared
from tests.test_final_accounts import CZJ, CZJ_ITEMS, GH, GH_ITEMS, SGB, SGB_ITEMS, SWU, TEMPLATE

pytestmark = needs_shared
ROOT = Path(__file__).resolve().parent.parent
SWU_BUDGET = "chongqing_swu/20_swu_2023_department_budget__download.jsp.pdf"
D = Decimal


def budgetwh(env: dict, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, f"budgetwh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def query(env: dict, sql: str) -> list[dict]:
    return json.loads(budgetwh(env, "query", sql, "--format", "json").stdout)


def make_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    env["BUDGETWH_WAREHOUSE"] = str(tmp / "wh" / "warehouse.duckdb")
    return env


SWU_ROWS = (
    "select fund_scope, func_code, func_level, func_name, budget_yuan, final_yuan, execution_rate "
    "from budget_vs_final where unit_name = '西南大学' and fiscal_year = 2023 order by fund_scope, func_code"
)


@pytest.fixture(scope="module")
def final_first(tmp_path_factory):
    """决算 first, then the 预算 (and the Shanghai 决算 and the template)."""
    env = make_env(tmp_path_factory.mktemp("final_first"))
    budgetwh(env, "ingest", str(corpus_file(SWU)))
    before = query(env, SWU_ROWS)
    paths = [corpus_file(p) for p in (SWU_BUDGET, CZJ, GH, SGB, TEMPLATE)]
    budgetwh(env, "ingest", *map(str, paths))
    return env, before


@pytest.fixture(scope="module")
def budget_first(tmp_path_factory):
    env = make_env(tmp_path_factory.mktemp("budget_first"))
    budgetwh(env, "ingest", str(corpus_file(SWU_BUDGET)))
    budgetwh(env, "ingest", str(corpus_file(SWU)))
    return env


def rate(final: str, budget: str) -> str:
    return str((D(final) / D(budget)).quantize(D("0.000001"), rounding=ROUND_HALF_UP))


def test_a_budget_and_a_final_meet_whichever_comes_first(final_first, budget_first):
    env, before = final_first
    # with the 决算 alone, its rows are there with no budget
    assert before and all(r["budget_yuan"] is None and r["final_yuan"] is not None for r in before)
    rows = query(env, SWU_ROWS)
    assert rows == query(budget_first, SWU_ROWS)
    by_key = {(r["fund_scope"], r["func_code"]): r for r in rows}
    # 小学教育: 预算 支出预算表 p.9 9,631.68 万元 / 决算 支出决算表 p.12 9,256.09 万元
    r = by_key[("ALL", "2050202")]
    assert (r["budget_yuan"], r["final_yuan"]) == ("96316800.00", "92560900.00")
    assert r["execution_rate"] == rate("92560900.00", "96316800.00") == "0.961005"
    # 财政拨款: 预算 财政拨款支出预算表 p.10 8,201.15 / 决算 高等学校财政拨款支出决算表 p.14 7,970.38
    r = by_key[("FISCAL_GRANT", "2050202")]
    assert (r["budget_yuan"], r["final_yuan"]) == ("82011500.00", "79703800.00")
    assert r["execution_rate"] == rate("79703800.00", "82011500.00")
    # 类 level: 教育支出 434,334.99 (预算 p.9) vs 425,287.27 (决算 p.12)
    r = by_key[("ALL", "205")]
    assert (r["func_level"], r["budget_yuan"], r["final_yuan"]) == (1, "4343349900.00", "4252872700.00")
    matched = [r for r in rows if r["budget_yuan"] is not None and r["final_yuan"] is not None]
    assert {r["fund_scope"] for r in matched} == {"ALL", "FISCAL_GRANT"} and len(matched) >= 40


@pytest.mark.parametrize(
    "unit, items",
    [
        ("上海市普陀区财政局", CZJ_ITEMS),
        ("上海市普陀区规划和自然资源局", GH_ITEMS),
        ("中共上海市普陀区委社会工作部", SGB_ITEMS),
    ],
)
def test_final_alone_gives_budget_and_final_per_item(final_first, unit, items):
    env, _ = final_first
    rows = query(
        env,
        "select func_code, func_level, func_name, budget_yuan, final_yuan, execution_rate from budget_vs_final "
        f"where unit_name = '{unit}' and fiscal_year = 2024 and fund_scope = 'GPB' and budget_yuan is not null",
    )
    by_code = {r["func_code"]: r for r in rows}
    assert set(by_code) == {code for code, *_ in items}
    for code, budget, final, printed_rate in items:
        r = by_code[code]
        assert D(r["budget_yuan"]) == D(budget) * 10000 and D(r["final_yuan"]) == D(final) * 10000, code
        assert r["func_level"] == 3 and r["func_name"]
        if printed_rate:  # printed to 0.01 %, rounded or truncated (规划 95.457 → 95.45)
            assert abs(D(r["execution_rate"]) * 100 - D(printed_rate)) < D("0.01"), (code, r["execution_rate"])


def test_execution_rate_matches_the_printed_item(final_first):
    env, _ = final_first
    # 财政局 p.22, item 1: 年初预算 1,560.05, 决算 1,511.89 (F5 p.15)
    (r,) = query(
        env,
        "select * from budget_vs_final where unit_name = '上海市普陀区财政局' and fund_scope = 'GPB' "
        "and func_code = '2010601'",
    )
    assert (r["func_name"], r["budget_yuan"], r["final_yuan"], r["execution_rate"]) == (
        "行政运行", "15600500.00", "15118900.00", "0.969129",
    )  # fmt: skip
    # 社工部 p.18, item 1: 全年预算 52.00, 决算 51.32, "完成全年预算数的 98.69%"
    (r,) = query(
        env,
        "select execution_rate from budget_vs_final where unit_name = '中共上海市普陀区委社会工作部' "
        "and fund_scope = 'GPB' and func_code = '2013901'",
    )
    assert r["execution_rate"] == "0.986923"


def test_template_is_quarantined_in_the_documents_view(final_first):
    env, _ = final_first
    (doc,) = query(env, "select status, error, doc_kind from documents where source_file like '%部门决算模板%'")
    assert doc["status"] == "quarantined" and "template" in doc["error"]
    assert query(env, "select count(*) as n from func_amounts where unit_name like '%XX%'") == [{"n": 0}]
