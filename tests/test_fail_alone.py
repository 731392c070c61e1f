"""A bad document fails alone: whatever one document's rows do to a contract expectation (a null
year, a value outside a value set, a malformed code, a duplicate key), that document is quarantined
with the expectation named, and every other document of the run is published.

The good documents are the project's generated samples and a real 绩效目标 seed; the breakers are
one real tables-only file whose year cannot be found, and one crafted lake result per blocking
expectation (a good document's frames with one value changed, as a recognizer bug would leave
them)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import polars as pl
import pytest

from assets.runner import run_ingest
from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.publish.warehouse import run_query
from pipelines.run.samples import fixed_units, render_text, write_samples
from pipelines.validate.expectations import load_suite, suite_names
from tests.conftest import needs_shared, seed

# The frame of the lake each view's rows come from.
VIEW_TABLE = {
    "func_amounts": "fact_func_amount", "func_canonical": "fact_func_amount", "econ_amounts": "fact_econ_amount",
    "three_public": "fact_three_public", "quality_findings": "fact_check", "projects": "fact_project",
    "project_line_items": "fact_project_line_item", "indicators": "fact_indicator",
}  # fmt: skip
DOCUMENT_FIELDS = {"unit_name", "fiscal_year", "doc_kind", "scope"}

# Expectations no document's content can break: they are about the pipeline (a view's columns, a
# column's type, ids and hashes it computes, statuses it sets, keys unique by the view's
# construction, rows a view drops when they have no parent). They stay blocking.
PIPELINE_OWNED = {
    "documents": {"doc_id_not_null", "doc_id_unique", "sha256_is_hex", "status_in_set", "quarantine_has_reason"},
    "func_canonical": {"canonical_key_unique"},
    "project_line_items": {"project_id_not_null"},
    "indicators": {"project_id_not_null"},
}


def breakable_expectations() -> list[tuple[str, dict]]:
    out = []
    for view in suite_names():
        if view == "budget_vs_final":  # derived from func_amounts rows, whose own expectations are crafted below
            continue
        if view != "documents" and view not in VIEW_TABLE:
            # derived or reference views (document_tables, func_codes, …): the pipeline computes every row
            continue
        for e in load_suite(view)["expectations"]:
            check, kind = e["meta"]["check"], e["type"]
            if e.get("severity", "critical") != "critical" or check in PIPELINE_OWNED.get(view, set()):
                continue
            if kind in ("expect_table_columns_to_match_ordered_list", "expect_column_values_to_be_of_type"):
                continue
            if check == "doc_id_not_null":  # a fact row without a document is in no view
                continue
            out.append((view, e))
    return out


def _row_matching(df: pl.DataFrame, condition: str) -> int:
    """The first row meeting an expectation's pandas row_condition (the forms the suites use)."""
    if not condition:
        return 0
    if m := re.fullmatch(r"(\w+)\s*==\s*\"?([^\"]*)\"?", condition):
        value = m.group(2)
        mask = df[m.group(1)].cast(pl.Utf8) == value
    elif m := re.fullmatch(r"(\w+)\s+in\s+(\[.*\])", condition):
        mask = df[m.group(1)].is_in(json.loads(m.group(2)))
    elif m := re.fullmatch(r"(\w+)\.notnull\(\)", condition):
        mask = df[m.group(1)].is_not_null()
    else:
        raise AssertionError(f"untranslated row condition {condition}")
    return int(mask.arg_true()[0])


def _broken_value(e: dict, dtype: pl.DataType, current):
    kind, kwargs = e["type"], e["kwargs"]
    if kind == "expect_column_values_to_not_be_null":
        return None
    if kind == "expect_column_values_to_be_in_set":
        return 9 if dtype.is_integer() else "BROKEN"
    if kind == "expect_column_values_to_match_regex":
        return "X1"
    if kind == "expect_column_values_to_not_match_regex":
        return "金额合计（crafted）"
    if kind == "expect_column_values_to_be_between":
        return kwargs["min_value"] - 1
    if kind == "expect_column_value_lengths_to_equal":  # a code of another length that keeps its format
        return "20501" if kwargs["value"] != 5 else "205"
    raise AssertionError(f"no breaking value for {kind}")


def craft_breaker(lake: Lake, template: str, view: str, e: dict) -> str:
    """A copy of document ``template``'s lake result under a new id, breaking expectation ``e``."""
    check = e["meta"]["check"]
    sha = hashlib.sha256(f"crafted {view}.{check}".encode()).hexdigest()
    doc_id = "000" + sha[:13]  # sorts first: the copy's rows win func_canonical's pick
    target = lake.doc_dir(doc_id)
    shutil.copytree(lake.doc_dir(template), target)
    for f in target.glob("*.parquet"):  # ids of the copy, so that only the crafted value differs
        df = pl.read_parquet(f).with_columns(pl.lit(doc_id).alias("doc_id"))
        if "project_id" in df.columns:
            df = df.with_columns((pl.lit(doc_id + ":") + pl.col("project_id")).alias("project_id"))
        df.write_parquet(f)
    row = json.loads((target / "document.json").read_text(encoding="utf-8"))
    row.update(doc_id=doc_id, sha256=sha, source_file=f"/crafted/{view}.{check}.txt", parsed_at="2000-01-01 00:00:00")
    kwargs = e["kwargs"]
    columns = kwargs.get("column_list") or [kwargs["column"]]
    table_file = target / f"{VIEW_TABLE.get(view, '')}.parquet"
    if e["type"] in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        df = pl.read_parquet(table_file)
        pl.concat([df, df.head(1)]).write_parquet(table_file)
    elif view == "documents" or (columns[0] in DOCUMENT_FIELDS and view not in ("projects", "indicators")):
        row[columns[0]] = _broken_value(e, pl.Int32 if columns[0] == "fiscal_year" else pl.Utf8, row[columns[0]])
    else:
        table = VIEW_TABLE[view]
        table_file = target / f"{table}.parquet"
        df = pl.read_parquet(table_file)
        column = columns[0]
        if view == "indicators" and column in ("unit_name", "fiscal_year", "project_name"):
            table_file = target / "fact_project.parquet"
            df = pl.read_parquet(table_file)
        if view == "projects" and column in DOCUMENT_FIELDS:
            row[column] = None if e["type"].endswith("not_be_null") else row[column]
        i = _row_matching(df, kwargs.get("row_condition", ""))
        value = _broken_value(e, df.schema[column], df[column][i])
        df = df.with_columns(
            pl.when(pl.int_range(pl.len()) == i).then(pl.lit(value, dtype=df.schema[column])).otherwise(pl.col(column))
            .alias(column)
        )  # fmt: skip
        df.write_parquet(table_file)
    (target / "document.json").write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    return doc_id


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return tmp_path


GOOD_FACTS = (
    "SELECT (SELECT count(*) || ' ' || sum(amount_yuan) FROM func_amounts), (SELECT count(*) FROM func_canonical), "
    "(SELECT count(*) FROM econ_amounts), (SELECT count(*) FROM three_public), (SELECT count(*) FROM projects), "
    "(SELECT count(*) FROM indicators), (SELECT count(*) FROM project_line_items), "
    "(SELECT count(*) FROM quality_findings)"
)


@needs_shared
def test_a_batch_with_a_breaker_per_blocking_expectation_publishes_every_good_document(home):
    inbox = home / "in"
    write_samples(inbox)
    shutil.copy(seed("000"), inbox)
    wh = home / "wh.duckdb"
    first = run_ingest([inbox], wh)
    assert first.success, first.error
    _, good = run_query(wh, GOOD_FACTS)
    _, good_docs = run_query(wh, "SELECT doc_id, status FROM documents ORDER BY 1")
    assert [s for _, s in good_docs] == ["loaded"] * 3

    lake = Lake(lake_dir_for(wh))
    by_kind = {d["doc_kind"]: d["doc_id"] for d in lake.documents()}
    crafted = {}
    for view, e in breakable_expectations():
        template = (
            by_kind["PERF_FORM"] if view in ("projects", "indicators", "project_line_items") else by_kind["BUDGET"]
        )
        column = e["kwargs"].get("column")
        # a document's own field (its year, its unit) shows in every view: one of them names it
        # and func_canonical picks one of the copies' rows, which func_amounts holds as well
        named = f"{e['meta']['check']} of {'func_' if view == 'func_canonical' else view}"
        if column in DOCUMENT_FIELDS and view not in ("documents", "projects", "indicators"):
            named = f"{e['meta']['check']} of "
        crafted[craft_breaker(lake, template, view, e)] = (named, view)
    assert len(crafted) == 82  # every suite's document-level expectations
    # A real file: the 单位预算 sample with every year removed (its tables load without a fiscal year).
    no_year = re.sub(r"20\d\d ?年?", "", render_text(fixed_units()[1]))
    (inbox / "no_year.txt").write_text(no_year, encoding="utf-8")

    result = run_ingest([inbox], wh)
    assert result.success, result.error
    assert not [c for c in result.failed_checks if c.startswith("BLOCKED")]
    _, rows = run_query(wh, "SELECT doc_id, status, error, source_file FROM documents")
    status = {doc_id: (s, err, src) for doc_id, s, err, src in rows}
    for doc_id, (named, view) in crafted.items():
        state, reason, _ = status[doc_id]
        assert state == "quarantined", (named, view)
        assert reason.startswith("Quarantined by the quality gate: its rows broke the expectation ")
        assert named in reason, (named, view, reason)
    no_year_row = next(v for v in status.values() if v[2].endswith("no_year.txt"))
    assert no_year_row[0] == "quarantined"
    assert "fiscal_year_not_null of func_amounts" in no_year_row[1]
    for doc_id, _ in good_docs:
        assert status[doc_id][0] == "loaded"
    _, after = run_query(wh, GOOD_FACTS)
    assert after == good  # the good documents' rows, exactly; none of the breakers'

    again = run_ingest([inbox], wh)  # idempotent: the breakers stay quarantined, nothing is parsed again
    assert again.success, again.error
    _, rows_again = run_query(wh, "SELECT doc_id, status, error, source_file FROM documents")
    assert sorted(rows_again) == sorted(rows)
