"""The derived tables recomputed for the changed documents' groups only (pipelines/publish/derive.py)
equal the whole recomputation: changes that move documents between groups (a unit renamed into
another, a re-published version, a second publication of one unit and year, a removed document)
published incrementally by the real command equal ``budgetwh ingest --full-rebuild`` of the same
lake; and on the corpus lake, every kind of change made through ``Lake`` gives the same derived
tables whether recomputed by groups or whole."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.publish.derive import Derivation, derive
from pipelines.publish.incremental import DERIVED_KEYS, _changed_keys
from pipelines.publish.lake import Lake
from scripts.compare_warehouses import compare
from tests.conftest import SEEDS, needs_shared
from tests.test_incremental_publish import budgetwh, full_rebuild_of, meta

MINHANG = "003_c2baf747aff8c518.txt"  # 上海市闵行区教育学院 2020 单位预算 (function tables)
TEACHERS = "000_aaacc49ad8f499da.txt"  # 苏州市教师发展学院 绩效目标
MEDIA = "002_de2f80f6743f2f71.txt"  # 苏州市电化教育馆 绩效目标


def _same_frames(whole: Derivation, groups: Derivation) -> None:
    for name, frame in whole.frames.items():
        other = groups.frames[name].select(frame.columns)
        assert frame.sort(frame.columns, nulls_last=True).equals(other.sort(frame.columns, nulls_last=True)), name
    columns = whole.entries.columns
    assert whole.entries.sort(columns, nulls_last=True).equals(groups.entries.sort(columns, nulls_last=True))


@needs_shared
def test_group_changes_published_incrementally_equal_the_full_rebuild(tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "warehouse.duckdb"
    inbox.mkdir()
    for name in (MINHANG, TEACHERS, MEDIA):
        shutil.copy(SEEDS / name, inbox / name)
    budgetwh(warehouse, str(inbox))
    lake = Lake(warehouse.with_name("warehouse.lake"))
    media = next(r for r, _ in lake.summaries() if r["source_file"].endswith(MEDIA))

    text = (SEEDS / MINHANG).read_text(encoding="utf-8")
    # a unit renamed into another: the teachers' college's form now names the media centre
    teachers = (
        (SEEDS / TEACHERS)
        .read_text(encoding="utf-8")
        .replace("苏州市教师发展学院（苏州市教师书院）", "苏州市电化教育馆")
    )
    (inbox / TEACHERS).write_text(teachers, encoding="utf-8")
    # a re-published version (same name but a correction mark): the original is superseded
    corrected = text.replace("“住房公积金”科目246.79万元", "“住房公积金”科目246.80万元")
    (inbox / MINHANG.replace(".txt", "（更正）.txt")).write_text(corrected, encoding="utf-8")
    # a second publication of the same unit, year and kind under another name: a canonical choice
    (inbox / "闵行区教育学院2020年单位预算_复核稿.txt").write_text(text + "\n复核稿。\n", encoding="utf-8")
    # a removed document: the media centre's own form leaves the lake (its unit keeps the renamed one)
    (inbox / MEDIA).unlink()
    with lake.registry_lock():
        lake.save_registry({k: e for k, e in lake.registry().items() if e.doc_id != media["doc_id"]})
    lake.remove(media["doc_id"])
    budgetwh(warehouse, "--full-run", str(inbox))
    assert meta(warehouse, "derived_by") == "groups"  # recomputed for the changed documents' groups, not whole
    _assert_full_rebuild_equal(warehouse, inbox, tmp_path / "full")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        status = dict(con.execute("SELECT source_file, status FROM documents").fetchall())
        sql = "SELECT count(DISTINCT canonical_doc_id) FROM documents WHERE unit_name LIKE '%闵行区教育学院'"
        canonical = con.execute(sql).fetchone()[0]
        units = {r[0] for r in con.execute("SELECT unit_name FROM units").fetchall()}
        held = {r[0] for r in con.execute("SELECT doc_id FROM publish_doc_state").fetchall()}
    assert media["doc_id"] not in held
    assert status[str((inbox / MINHANG).resolve())] == "superseded"  # the corrected version stands
    assert canonical == 1  # the corrected version and the second publication: one chosen for both
    assert "苏州市电化教育馆" in units and "苏州市教师发展学院（苏州市教师书院）" not in units


def _assert_full_rebuild_equal(warehouse: Path, inbox: Path, dest: Path) -> None:
    assert meta(warehouse, "publish_mode") == "incremental"
    full = full_rebuild_of(warehouse, inbox, dest)
    assert compare(full, warehouse) == []
    record = json.loads((warehouse.with_name("warehouse.lake") / "tables" / "_fingerprint.json").read_text())
    assert record["derivation"]  # the run kept its derivation for the next one
    assert meta(warehouse, "derivation_token")


@pytest.fixture
def corpus_lake(corpus_warehouse, tmp_path) -> Lake:
    lake = Lake(tmp_path / "warehouse.lake")
    shutil.copytree(corpus_warehouse.with_name(corpus_warehouse.stem + ".lake"), lake.root)
    return lake


def _copy_document(lake: Lake, doc: dict, doc_id: str, **fields) -> None:
    """Another document made of ``doc``'s result (its rows under ``doc_id``), with ``fields`` changed."""
    shutil.copytree(lake.doc_dir(doc["doc_id"]), lake.doc_dir(doc_id))
    for f in lake.doc_dir(doc_id).glob("*.parquet"):
        frame = pl.read_parquet(f)
        if "doc_id" in frame.columns:
            frame.with_columns(pl.lit(doc_id).alias("doc_id")).write_parquet(f)
    row = json.loads((lake.doc_dir(doc_id) / "document.json").read_text(encoding="utf-8"))
    row.update(doc_id=doc_id, sha256=doc_id * 4, **fields)
    (lake.doc_dir(doc_id) / "document.json").write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    lake.note_changed(doc_id)


@needs_shared
def test_every_kind_of_change_derives_by_groups_as_whole(corpus_lake):
    lake = corpus_lake
    previous = derive(lake)
    docs = {r["doc_id"]: r for r, _ in lake.summaries()}
    frames = previous.frames
    with_members = frames["dim_member_unit"]["doc_id"].unique().sort().to_list()
    canonical = frames["doc_document"].filter(pl.col("canonical_doc_id").is_not_null())["doc_id"].sort().to_list()
    rosters = previous.entries.filter(pl.col("kind") == 0)["doc_id"].unique().sort().to_list()
    assert with_members and canonical and rosters, "the corpus has member units, canonical choices and rosters"
    named = sorted({r["unit_name"] for r in docs.values() if r.get("unit_name")})
    department = docs[with_members[0]]
    winner = docs[canonical[-1]]
    p = Path(winner["source_file"])

    changes = [
        # a department's member units change (its units and its members' parents)
        lambda: lake.update_document(department["doc_id"], member_units=[*department["member_units"][1:], named[0]]),
        # a unit renamed into another unit (two units merge)
        lambda: lake.update_document(docs[rosters[0]]["doc_id"], unit_name=named[1]),
        # a unit renamed to its own office, X（本级）
        lambda: lake.update_document(canonical[0], unit_name=f"{docs[canonical[0]]['unit_name']}（本级）"),
        # a corrected version of a canonical document, registered later (supersedes it)
        lambda: _copy_document(
            lake,
            winner,
            "c0ffee0000000001",
            source_file=str(p.with_name(f"{p.stem}（更正）{p.suffix}")),
            registered_at="2099-01-01T00:00:00",
            parsed_at="2099-01-01 00:00:00",
        ),
        # another publication of the same unit, year, kind and scope (a canonical conflict)
        lambda: _copy_document(
            lake,
            winner,
            "c0ffee0000000002",
            source_file=str(p.with_name(f"审阅稿{p.name}")),
            registered_at="2099-01-02T00:00:00",
        ),
        # the file touched: its place in the newness order changes, its row not
        lambda: _touch(lake, docs[canonical[1]]["source_file"]),
        # quarantined, then removed
        lambda: lake.update_document(canonical[2], status="quarantined", error="a test"),
        lambda: lake.remove(canonical[3]),
        lambda: lake.remove("c0ffee0000000001"),
    ]
    for change in changes:
        change()
        groups, whole = derive(lake, previous), derive(lake)
        assert groups.how == "groups"
        _same_frames(whole, groups)
        _differences_within_replaced(previous, groups)
        previous = groups


def _differences_within_replaced(previous: Derivation, groups: Derivation) -> None:
    """Every derived row that differs from the previous derivation's is among the keys it says it
    replaced (the publish scope compares only those: ``incremental.publish_scope``)."""
    assert groups.replaced is not None
    for table, key in DERIVED_KEYS.items():
        differing = _changed_keys(previous.frames[table], groups.frames[table], key)
        assert differing <= groups.replaced[table], (table, sorted(differing - groups.replaced[table]))


def _touch(lake: Lake, source_file: str) -> None:
    with lake.registry_lock():
        registry = lake.registry()
        registry[source_file] = replace(registry[source_file], mtime=registry[source_file].mtime + 60)
        lake.save_registry(registry)
