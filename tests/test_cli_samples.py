"""The main job end to end on the project's own samples (no ../shared needed): `budgetwh ingest`
through the real Dagster job into a real DuckDB file, then `budgetwh query`."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.run.samples import fixed_units, func_rows, three_public_values, write_samples

ROOT = Path(__file__).resolve().parent.parent


def budgetwh(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"budgetwh {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("samples")
    samples = tmp / "inbox"
    write_samples(samples)
    e = dict(os.environ)
    e["DAGSTER_HOME"] = str(tmp / "dagster_home")
    e["BUDGETWH_WAREHOUSE"] = str(tmp / "wh" / "warehouse.duckdb")
    e["SAMPLES"] = str(samples)
    return e


@pytest.fixture(scope="module")
def first_run(env):
    return budgetwh("ingest", env["SAMPLES"], env=env)


def query(env, sql: str):
    return json.loads(budgetwh("query", sql, "--format", "json", env=env).stdout)


def test_ingest_loads_every_sample(first_run, env):
    assert "documents: 2 loaded, 0 unchanged, 0 quarantined" in first_run.stdout
    docs = query(env, "select doc_kind, scope, unit_name, fiscal_year, status from documents order by unit_name")
    assert docs == [
        {
            "doc_kind": "BUDGET",
            "scope": "单位",
            "unit_name": "上海市示范区教育学院",
            "fiscal_year": 2024,
            "status": "loaded",
        },
        {
            "doc_kind": "BUDGET",
            "scope": "部门",
            "unit_name": "上海市示范区财政局",
            "fiscal_year": 2025,
            "status": "loaded",
        },
    ]


def test_values_match_the_facts_the_samples_were_rendered_from(first_run, env):
    for unit in fixed_units():
        expected = {code: b + p for code, _, b, p in func_rows(unit)}
        got = query(
            env,
            f"select func_code, amount_yuan from func_canonical where unit_name = '{unit.unit_name}' "
            "and fund_scope = 'ALL' and measure = 'TOTAL'",
        )
        assert {r["func_code"]: Decimal(r["amount_yuan"]) for r in got} == expected
        tp = query(env, f"select item, amount_yuan, amount_unit from three_public where unit_name = '{unit.unit_name}'")
        assert {r["item"]: Decimal(r["amount_yuan"]) for r in tp} == {
            k: v * 10000 for k, v in three_public_values(unit).items()
        }


def test_json_prints_exact_decimal_strings(first_run, env):
    rows = query(
        env, "select amount_yuan from func_amounts where func_code = '2050999' and measure = 'PROJECT' limit 1"
    )
    assert rows == [{"amount_yuan": "50499903.60"}]


def test_csv_has_a_header(first_run, env):
    out = budgetwh(
        "query", "select func_code, amount_yuan from func_canonical order by 1 limit 2", "--format", "csv", env=env
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "func_code,amount_yuan" and len(lines) == 3


def test_second_ingest_changes_nothing_and_parses_nothing(first_run, env):
    before = query(env, "select * from func_amounts order by all")
    second = budgetwh("ingest", env["SAMPLES"], env=env)
    assert "documents: 0 loaded, 2 unchanged, 0 quarantined" in second.stdout
    assert query(env, "select * from func_amounts order by all") == before


def test_no_failed_identity(first_run, env):
    assert query(env, "select count(*) as n from quality_findings where status = 'FAIL'") == [{"n": 0}]


def test_bad_sql_is_an_error_not_a_crash(first_run, env):
    proc = budgetwh("query", "select * from no_such_view", env=env, check=False)
    assert proc.returncode == 2 and "Query failed" in proc.stderr
