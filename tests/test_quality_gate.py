"""The quality gate through the real Dagster job: GE suites run on the candidate warehouse,
contract violations block publishing (the previous warehouse stays), publisher defects load and
are reported precisely. Documents come from the project's own sample generator."""

import shutil
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.runner import run_ingest
from pipelines.publish.gate import validate_warehouse, view_chunks
from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.publish.warehouse import _limit, _megabytes, execute_with_headroom, run_query
from pipelines.run.samples import fixed_units, render_text, write_samples
from pipelines.validate.expectations import load_suite, suite_names

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


def test_a_document_breaking_a_contract_expectation_is_quarantined_and_the_others_publish(home):
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    assert run_ingest([home / "in"], wh).success
    lake = Lake(lake_dir_for(wh))
    doc = lake.documents()[0]
    _, others = run_query(wh, f"SELECT count(*), sum(amount_yuan) FROM func_amounts WHERE doc_id <> '{doc['doc_id']}'")

    # Corrupt one document's result in the lake the way a recognizer bug would: an unknown measure.
    f = lake.doc_dir(doc["doc_id"]) / "fact_func_amount.parquet"
    df = pl.read_parquet(f)
    df.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("BOGUS")).otherwise(pl.col("measure")).alias("measure")
    ).write_parquet(f)
    # the lake changed (as a re-parse changes it, through Lake: its journal tells the next run)
    lake.update_document(doc["doc_id"], parsed_at="2000-01-01 00:00:00")

    result = run_ingest([home / "in"], wh)
    assert result.success, result.error
    assert not result.failed_checks or not any(c.startswith("BLOCKED") for c in result.failed_checks)
    _, status = run_query(wh, f"SELECT status, error FROM documents WHERE doc_id = '{doc['doc_id']}'")
    assert status[0][0] == "quarantined"
    assert "measure_in_set of func_amounts" in status[0][1] and "BOGUS" in status[0][1]
    _, after = run_query(wh, "SELECT count(*), sum(amount_yuan) FROM func_amounts")
    assert after == others  # the other documents are published, the breaker has no facts
    _, leftovers = run_query(wh, f"SELECT count(*) FROM quality_findings WHERE doc_id = '{doc['doc_id']}'")
    assert leftovers == [(0,)]


def test_a_broken_view_blocks_publishing_and_keeps_the_previous_warehouse(home, tmp_path, monkeypatch):
    import pipelines.publish.warehouse as warehouse_module

    write_samples(home / "in")
    wh = home / "wh.duckdb"
    assert run_ingest([home / "in"], wh).success
    _, before = run_query(wh, "SELECT count(*), sum(amount_yuan) FROM func_amounts")

    # The pipeline's own fault, not a document's: a view that lost a contract column.
    sql_dir = tmp_path / "sql"
    shutil.copytree(ROOT / "sql", sql_dir)
    views = (sql_dir / "views.sql").read_text(encoding="utf-8")
    views = views.replace(
        "f.measure, f.amount_yuan, f.page_no\nFROM published_func_amount f JOIN loaded_documents d USING (doc_id);",
        "f.amount_yuan, f.page_no\nFROM published_func_amount f JOIN loaded_documents d USING (doc_id);",
        1,
    )
    assert "f.func_name, f.amount_yuan" in views  # the view really lost its column
    (sql_dir / "views.sql").write_text(views, encoding="utf-8")
    monkeypatch.setattr(warehouse_module, "SQL_DIR", sql_dir)
    (home / "in" / "again.txt").write_text(render_text(fixed_units()[1]).replace("2024", "2023"), encoding="utf-8")

    result = run_ingest([home / "in"], wh)
    assert not result.success
    assert any(c.startswith("BLOCKED PUBLISH") and "func_amounts.columns_match_contract" in c
               for c in result.failed_checks)  # fmt: skip
    _, after = run_query(wh, "SELECT count(*), sum(amount_yuan) FROM func_amounts")
    assert after == before  # analysts still see the previous warehouse

    # The failed check is recorded in the Dagster instance the UI reads.
    instance = dg.DagsterInstance.get()
    # One blocking check holds the view's contract expectations, each one's outcome in its metadata.
    key = dg.AssetCheckKey(dg.AssetKey("func_amounts"), "contract_expectations")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.asset_check_evaluation_data
    assert evaluation.passed is False
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    outcomes = {r["check"]: r for r in evaluation.metadata["results"].value}
    assert outcomes["columns_match_contract"]["passed"] is False
    critical = [
        e["meta"]["check"]
        for e in load_suite("func_amounts")["expectations"]
        if e.get("severity", "critical") == "critical"
    ]
    assert sorted(outcomes) == sorted(critical)  # every contract expectation of the suite is shown
    assert "columns_match_contract" in evaluation.metadata["failed_checks"].value


def test_the_gate_validates_in_chunks_with_the_same_outcomes_and_finds_duplicates_across_them(home):
    """The gate hands GE a bounded number of rows at a time (its memory must not grow with the
    warehouse). Chunking may not change a single outcome, and rows sharing a unique key must meet
    in one chunk, wherever the duplicates sit in the view."""
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    assert run_ingest([home / "in"], wh).success
    copy = home / "dup.duckdb"
    shutil.copy(wh, copy)
    con = duckdb.connect(str(copy))
    n_rows = con.execute("SELECT count(*) FROM func_canonical").fetchone()[0]
    # the view's first and last rows printed a second time, at its end
    con.execute("CREATE TABLE canonical AS SELECT * FROM func_canonical ORDER BY ALL")
    con.execute("INSERT INTO canonical SELECT * FROM canonical ORDER BY ALL LIMIT 1")
    con.execute(f"INSERT INTO canonical SELECT * FROM canonical ORDER BY ALL LIMIT 1 OFFSET {n_rows}")
    con.execute("CREATE OR REPLACE VIEW func_canonical AS SELECT * FROM canonical")
    con.close()
    assert n_rows > 100

    whole = validate_warehouse(copy, rows=10**9)
    chunked = validate_warehouse(copy, rows=7)
    for view in whole:
        strip = [{k: v for k, v in asdict(o).items() if k != "unexpected_sample"} for o in whole[view]]
        assert strip == [{k: v for k, v in asdict(o).items() if k != "unexpected_sample"} for o in chunked[view]]
    dup = next(o for o in chunked["func_canonical"] if o.check == "canonical_key_unique")
    assert (dup.success, dup.element_count, dup.unexpected_count) == (False, n_rows + 2, 4)
    assert all(o.success for o in chunked["func_amounts"])


@pytest.mark.parametrize("n_rows", [200, 5000])  # 20 chunks: one band; 500 chunks: 16 bands
def test_view_chunks_keep_equal_keys_together(n_rows):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW v AS SELECT i % {n_rows // 15} AS k, i FROM range({n_rows}) t(i)")
    chunks = list(view_chunks(con, "v", ["k"], 10))
    assert sorted(i for c in chunks for i in c["i"]) == list(range(n_rows))  # every row, once
    assert len(chunks) > n_rows // 40
    owner = {}
    for n, c in enumerate(chunks):
        assert list(c.columns) == ["k", "i"]
        for k in c["k"]:
            assert owner.setdefault(k, n) == n
    con.execute("CREATE VIEW nothing AS SELECT * FROM v WHERE false")
    (empty,) = view_chunks(con, "nothing", ["k"], 10)  # an empty view: one empty frame
    assert list(empty.columns) == ["k", "i"] and len(empty) == 0


def test_a_query_that_needs_more_than_the_cap_gets_it_instead_of_failing():
    """The publish path reads under a small memory cap; a window over a large view cannot always
    spill (10.7 M func_amounts rows do not count under 64 MB), so the cap is raised, not the run failed."""
    con = duckdb.connect(config={"memory_limit": "8MB"})
    sql = (
        "SELECT count(*) FROM (SELECT i, row_number() OVER (PARTITION BY i % 7 ORDER BY i DESC) AS r "
        "FROM range(3000000) t(i)) WHERE r = 1"
    )
    with pytest.raises(duckdb.OutOfMemoryException):
        con.execute(sql)
    con.execute("SET memory_limit = '8MB'")
    assert execute_with_headroom(con, sql).fetchone() == (7,)  # the raise keeps the pending result
    assert _megabytes(_limit(con)) < 9  # and is undone: the next query starts under the small cap again
    with pytest.raises(duckdb.OutOfMemoryException):
        con.execute(sql)
