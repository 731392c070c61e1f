"""The quality gate through the real Dagster job: GE suites run on the candidate warehouse,
contract violations block publishing (the previous warehouse stays), publisher defects load and
are reported precisely. Documents come from the project's own sample generator."""

import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.runner import run_ingest
from pipelines.lake import Lake, lake_dir_for
from pipelines.quality import load_suite, suite_names
from pipelines.samples import fixed_units, render_text, write_samples
from pipelines.warehouse import run_query

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return tmp_path


def test_every_suite_matches_the_contract_columns_of_its_view(home):
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    assert run_ingest([home / "in"], wh).success
    for name in suite_names():
        expected = next(e for e in load_suite(name)["expectations"] if e["meta"]["check"] == "columns_match_contract")
        cols, _ = run_query(wh, f"SELECT * FROM {name} LIMIT 0")
        assert cols == expected["kwargs"]["column_list"], name


def test_publisher_defect_loads_and_is_reported_at_its_row(home):
    # The 单位预算 sample with one 行政运行-like row whose 合计 no longer equals 基本 + 项目.
    unit = fixed_units()[1]
    text = render_text(unit)
    head, b3 = text.split("支出预算总表", 1)  # break the row in B3 (支出预算总表), not in B2
    row = "205\t08\t01\t教师进修\t38451864.75\t38451864.75\t"
    assert row in b3
    broken = head + "支出预算总表" + b3.replace(row, "205\t08\t01\t教师进修\t38451864.75\t38451000.75\t", 1)
    (home / "in").mkdir()
    path = home / "in" / "defect.txt"
    path.write_text(broken, encoding="utf-8")
    wh = home / "wh.duckdb"
    result = run_ingest([path], wh)
    assert result.success, result.error
    _, rows = run_query(
        wh,
        "SELECT rule, table_type, page_no, subject, lhs, rhs, diff FROM quality_findings WHERE status = 'FAIL' "
        "AND rule = 'R-ROW' ORDER BY table_type",
    )
    line = next(
        i
        for i, ln in enumerate(broken.splitlines(), 1)
        if ln.startswith("205\t08\t01\t教师进修\t38451864.75\t38451000.75")
    )
    assert rows == [
        (
            "R-ROW",
            "B3",
            line,
            "2050801 教师进修 BUDGET_INITIAL",
            Decimal("38451864.75"),
            Decimal("38451000.75"),
            Decimal("864.00"),
        )
    ]
    # the amounts are loaded as printed, not "fixed"
    _, got = run_query(
        wh,
        "SELECT amount_yuan FROM func_amounts WHERE table_type = 'B3' AND func_code = '2050801' AND measure = 'BASIC'",
    )
    assert got == [(Decimal("38451000.75"),)]
    assert any("r_row_holds" in c and c.startswith("warning") for c in result.failed_checks)
    assert result.report is not None and "38451000.75" in result.report.read_text(encoding="utf-8")


def test_contract_violation_blocks_publishing_and_keeps_the_previous_warehouse(home):
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    assert run_ingest([home / "in"], wh).success
    _, before = run_query(wh, "SELECT count(*), sum(amount_yuan) FROM func_amounts")

    # Corrupt one document's result in the lake the way a recognizer bug would: an unknown measure.
    lake = Lake(lake_dir_for(wh))
    doc = lake.documents()[0]
    f = lake.doc_dir(doc["doc_id"]) / "fact_func_amount.parquet"
    df = pl.read_parquet(f)
    df.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("BOGUS")).otherwise(pl.col("measure")).alias("measure")
    ).write_parquet(f)
    meta = lake.doc_dir(doc["doc_id"]) / "document.json"
    row = json.loads(meta.read_text(encoding="utf-8"))
    row["parsed_at"] = "2000-01-01 00:00:00"  # the lake changed: the next run rebuilds the tables
    meta.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")

    result = run_ingest([home / "in"], wh)
    assert not result.success
    assert any(c.startswith("BLOCKED PUBLISH") and "measure_in_set" in c and "BOGUS" in c for c in result.failed_checks)
    _, after = run_query(wh, "SELECT count(*), sum(amount_yuan) FROM func_amounts")
    assert after == before  # analysts still see the previous warehouse
    _, measures = run_query(wh, "SELECT count(*) FROM func_amounts WHERE measure = 'BOGUS'")
    assert measures == [(0,)]

    # The failed check is recorded in the Dagster instance the UI reads.
    instance = dg.DagsterInstance.get()
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("func_amounts"), "measure_in_set")]
    )[dg.AssetCheckKey(dg.AssetKey("func_amounts"), "measure_in_set")]
    assert record.event.dagster_event.asset_check_evaluation_data.passed is False
