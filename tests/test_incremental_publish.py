"""Incremental publishing (pipelines/publish/incremental.py) gives exactly the warehouse a full
rebuild gives: real corpus documents are added, one file is replaced by other bytes and one
document removed, each step published incrementally by the real command, and after each step a
copy of the same lake is rebuilt whole with ``budgetwh ingest --full-rebuild`` and compared row by
row (scripts/compare_warehouses.py). The gate restricted to a change still blocks on a changed
row, and decides unique keys over the whole warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.incremental import PublishScope, publish_scope
from pipelines.publish.lake import Lake
from pipelines.publish.warehouse import count_findings, count_views
from scripts.compare_warehouses import compare
from tests.conftest import CORPUS, SEEDS, needs_shared

ROOT = Path(__file__).resolve().parent.parent
JIANGSU = CORPUS / "jiangsu_province" / "江苏省委办公厅"
PUTUO = CORPUS / "shanghai_putuo"


def budgetwh(warehouse: Path, *args: str) -> str:
    env = dict(os.environ, DAGSTER_HOME=str(warehouse.parent / "dagster_home"))
    env.pop("BUDGETWH_FULL_REBUILD", None)
    cmd = [sys.executable, "-m", "pipelines.cli", "ingest", "--warehouse", str(warehouse), *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def meta(warehouse: Path, key: str) -> str | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("SELECT value FROM warehouse_meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def full_rebuild_of(warehouse: Path, inbox: Path, dest: Path) -> Path:
    """The same lake rebuilt whole, beside: a copy of the warehouse and its lake, --full-rebuild."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copy2(warehouse, dest / warehouse.name)
    shutil.copytree(warehouse.with_name(warehouse.stem + ".lake"), dest / (warehouse.stem + ".lake"))
    budgetwh(dest / warehouse.name, "--full-rebuild", str(inbox))
    assert meta(dest / warehouse.name, "publish_mode") == "full"
    return dest / warehouse.name


def assert_same_as_full_rebuild(warehouse: Path, inbox: Path, dest: Path) -> None:
    assert meta(warehouse, "publish_mode") == "incremental"
    full = full_rebuild_of(warehouse, inbox, dest)
    assert compare(full, warehouse) == []
    # the view row counts carried forward (published − the scope's rows then + now) are the counts
    assert json.loads(meta(warehouse, "view_row_counts")) == json.loads(meta(full, "view_row_counts"))
    # and so are the findings by status the run's summary prints
    assert json.loads(meta(warehouse, "finding_counts")) == json.loads(meta(full, "finding_counts"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert json.loads(meta(warehouse, "view_row_counts")) == count_views(con)
        assert json.loads(meta(warehouse, "finding_counts")) == count_findings(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    """Warehouse after add / replace / remove, each published incrementally and checked."""
    root = tmp_path_factory.mktemp("incremental")
    inbox, warehouse = root / "inbox", root / "wh" / "warehouse.duckdb"
    inbox.mkdir()
    for pdf in (JIANGSU / "江苏省委办公厅2017年部门预算.pdf", JIANGSU / "江苏省委办公厅2018年度部门预算公开表.pdf"):
        shutil.copy(pdf, inbox / pdf.name)
    for text in sorted(SEEDS.glob("*.txt")):
        shutil.copy(text, inbox / text.name)
    budgetwh(warehouse, str(inbox))
    assert meta(warehouse, "publish_mode") == "full"  # nothing to start from

    # add: a 部门 and a 单位 budget of another unit
    for name in ("上海市普陀区人民政府办公室25年预算.pdf", "上海市普陀区人民政府办公室单位25年预算.pdf"):
        shutil.copy(PUTUO / name, inbox / name)
    budgetwh(warehouse, str(inbox))
    assert_same_as_full_rebuild(warehouse, inbox, root / "full-after-add")

    # replace: the same path now holds another year's file of that unit
    shutil.copy(
        JIANGSU / "江苏省委办公厅2019年度部门预算公开表格.pdf", inbox / "江苏省委办公厅2018年度部门预算公开表.pdf"
    )
    budgetwh(warehouse, str(inbox))
    assert_same_as_full_rebuild(warehouse, inbox, root / "full-after-replace")

    # remove: a document leaves the lake (its file and its registry entry too)
    lake = Lake(warehouse.with_name("warehouse.lake"))
    removed = next(d for d in lake.documents() if d["source_file"].endswith("000_aaacc49ad8f499da.txt"))
    (inbox / "000_aaacc49ad8f499da.txt").unlink()
    with lake.registry_lock():
        lake.save_registry({k: e for k, e in lake.registry().items() if e.doc_id != removed["doc_id"]})
    lake.remove(removed["doc_id"])
    budgetwh(warehouse, "--full-run", str(inbox))
    assert_same_as_full_rebuild(warehouse, inbox, root / "full-after-remove")
    return warehouse, removed["doc_id"]


@needs_shared
def test_add_replace_remove_give_the_full_rebuild(sequence):
    warehouse, removed = sequence
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        docs = dict(con.execute("SELECT doc_id, status FROM documents").fetchall())
        states = {r[0] for r in con.execute("SELECT doc_id FROM publish_doc_state").fetchall()}
        assert removed not in docs
        assert con.execute("SELECT count(*) FROM fact_check WHERE doc_id = ?", [removed]).fetchone()[0] == 0
        assert states == set(docs)
        # the replaced path: its first version superseded by the second, both still listed
        assert sorted(docs.values()).count("superseded") == 1
        versions = con.execute(
            "SELECT DISTINCT sha256 FROM documents WHERE source_file LIKE '%2018年度部门预算公开表.pdf'"
        ).fetchall()
        assert len(versions) == 2
    finally:
        con.close()


@needs_shared
def test_scope_reaches_every_document_of_a_changed_unit(sequence):
    warehouse, _ = sequence
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        docs = con.sql("SELECT * FROM doc_document").pl()
        units = con.sql("SELECT * FROM dim_unit").pl()
    finally:
        con.close()
    jiangsu = docs.filter(docs["unit_name"].str.contains("江苏省委办公厅"))
    one = jiangsu["doc_id"][0]
    scope = publish_scope([one], docs, docs, units, units)
    assert set(jiangsu["doc_id"]) <= set(scope.documents)  # every year of the unit: canonical choices, prior years
    assert len(scope.documents) < len(docs)  # and not the other units'
    assert set(jiangsu["unit_key"]) <= set(scope.units)


@needs_shared
def test_the_scoped_gate_blocks_on_a_changed_row_and_on_a_repeated_key(sequence, tmp_path):
    from pipelines.publish.gate import validate_warehouse

    warehouse, _ = sequence
    copy = tmp_path / "candidate.duckdb"
    shutil.copy2(warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        loaded = [
            r[0] for r in con.execute("SELECT doc_id FROM loaded_documents ORDER BY unit_name, doc_id").fetchall()
        ]
        changed = loaded[0]
        total = con.execute("SELECT count(*) FROM func_amounts").fetchone()[0]
        # a changed document's row breaks a contract expectation (a 功能分类 code of letters)
        con.execute(
            "UPDATE fact_func_amount SET func_code = 'X01' WHERE rowid = (SELECT min(rowid) FROM fact_func_amount "
            "WHERE doc_id = ?)",
            [changed],
        )
        # and a document outside the scope repeats a project_id of a changed one (its owner, changed too)
        project, owner = con.execute("SELECT project_id, doc_id FROM fact_project LIMIT 1").fetchone()
        other = next(d for d in loaded if d not in (changed, owner))
        con.execute(
            "INSERT INTO fact_project BY NAME SELECT * REPLACE (?::VARCHAR AS doc_id) FROM fact_project "
            "WHERE project_id = ?",
            [other, project],
        )
    finally:
        con.close()
    reader = duckdb.connect(str(copy), read_only=True)
    units = [
        r[0]
        for r in reader.execute("SELECT unit_key FROM doc_document WHERE doc_id IN (?, ?)", [changed, owner]).fetchall()
    ]
    reader.close()
    scope = PublishScope(changed=sorted({changed, owner}), documents=sorted({changed, owner}), units=sorted(set(units)))
    outcomes = validate_warehouse(copy, scope=scope)
    func = {o.check: o for o in outcomes["func_amounts"]}
    failed_func = [o for o in func.values() if o.blocks_publish]
    assert failed_func and all(o.element_count < total for o in failed_func)  # read within the scope only
    unique = [o for o in outcomes["projects"] if "unique" in o.expectation_type]
    assert unique and not unique[0].success and unique[0].blocks_publish
    assert [project] in unique[0].unexpected_sample


@needs_shared
def test_lake_rows_read_once_are_read_again_when_their_file_changes(sequence, tmp_path):
    """``Lake.documents`` reads a document.json once per process and version (a run asks for the
    rows several times); a row rewritten in place or replaced whole is read again, a removed one
    is gone. The documents holding function rows, taken from their row counts, are those whose
    files hold rows."""
    from pipelines.publish.combine import DOCUMENT_SCHEMA, docs_with_rows
    from pipelines.publish.lake import SUMMARY_FIELDS

    warehouse, _ = sequence
    lake = Lake(tmp_path / "warehouse.lake")
    shutil.copytree(warehouse.with_name("warehouse.lake"), lake.root)
    first = lake.documents()
    assert [d["doc_id"] for d in first] == sorted(d["doc_id"] for d in first)
    states = lake.document_states()
    loaded = [d["doc_id"] for d in first if d["status"] == "loaded"]
    moved, quarantined, removed = loaded[:3]

    lake.update_document(moved, source_file="/elsewhere/moved.pdf")
    lake.quarantine_document(quarantined, status="quarantined", error="a test", row_counts={})
    lake.remove(removed)
    again = {d["doc_id"]: d for d in lake.documents()}
    assert again[moved]["source_file"] == "/elsewhere/moved.pdf"
    assert again[quarantined]["status"] == "quarantined" and again[quarantined]["row_counts"] == {}
    assert removed not in again
    changed = {d for d, s in lake.document_states().items() if states.get(d) != s}
    assert changed == {moved, quarantined}
    assert again == {d: lake.document(d) for d in again}  # as read from the files now

    import polars as pl

    with_rows = {
        p.parent.name for p in lake.table_files("fact_func_amount") if pl.read_parquet(p, columns=["doc_id"]).height
    }
    assert set(docs_with_rows(lake, list(again.values()), "fact_func_amount")) == with_rows
    assert with_rows and quarantined not in with_rows

    # the summaries publishing reads (kept in documents_index.json): the rows' fields, read again
    # from the index by another process, and again from the files once the index is stale
    assert set(DOCUMENT_SCHEMA) <= set(SUMMARY_FIELDS)
    fresh = {d: {k: lake.document(d).get(k) for k in SUMMARY_FIELDS} for d in again}
    assert {row["doc_id"]: row for row, _ in lake.summaries()} == fresh
    probe = (
        "import json, sys; from pathlib import Path; from pipelines.publish.lake import Lake; "
        "print(json.dumps(Lake(Path(sys.argv[1])).document_states(), sort_keys=True))"
    )
    index_before = lake.index_path.read_bytes()
    other = subprocess.run([sys.executable, "-c", probe, str(lake.root)], cwd=ROOT, capture_output=True, text=True)
    assert json.loads(other.stdout) == lake.document_states()
    assert lake.index_path.read_bytes() == index_before  # answered by the index and the journal, nothing saved
    lake.update_document(moved, source_file="/elsewhere/again.pdf")
    other = subprocess.run([sys.executable, "-c", probe, str(lake.root)], cwd=ROOT, capture_output=True, text=True)
    assert json.loads(other.stdout)[moved] == lake.document_states()[moved] != states[moved]


@needs_shared
def test_an_incremental_build_never_imports_pandas_and_leaves_no_scratch(sequence, tmp_path):
    """The build gives DuckDB SQL literals and Parquet files only: a bound parameter or a registered
    Arrow table makes DuckDB's Python module import pandas, numpy and pyarrow (~85 MB, ~1 s) into
    a process that otherwise never needs them. Its scratch folder is inside the lake and gone
    afterwards; one left by a killed run (a dead pid in its name) is removed by the next run."""
    warehouse, _ = sequence
    shutil.copy2(warehouse, tmp_path / warehouse.name)
    shutil.copytree(warehouse.with_name("warehouse.lake"), tmp_path / "warehouse.lake")
    lake = Lake(tmp_path / "warehouse.lake")
    moved = next(d["doc_id"] for d in lake.documents() if d["status"] == "loaded")
    lake.update_document(moved, source_file="/elsewhere/moved.pdf")  # one changed document
    leftover = lake.root / ".incremental.pid999999999.killed"
    leftover.mkdir()
    (leftover / "fact_func_amount.parquet").write_bytes(b"half a file")

    probe = (
        "import json, sys; from pathlib import Path; from pipelines.publish.lake import Lake; "
        "from pipelines.publish.incremental import build_incremental_candidate; "
        "lake = Lake(Path(sys.argv[1])); lake.clean_stale_temp(); "
        "candidate = build_incremental_candidate(lake, Path(sys.argv[2])); "
        "print(json.dumps({'candidate': candidate and candidate.scope.changed, "
        "'imported': sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules)}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, str(lake.root), str(tmp_path / warehouse.name)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found == {"candidate": [moved], "imported": []}
    assert not leftover.exists()
    assert not [p for p in lake.root.iterdir() if p.name.startswith(".incremental.")]
