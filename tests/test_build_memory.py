"""The incremental build's writer runs under a small DuckDB cap (``incremental.INCREMENTAL_BUILD_MEMORY_LIMIT``).
DuckDB aborts a transaction in which a statement ran out of memory, so a change that needs more
is rolled back and run again whole under the next headroom step (``incremental._apply_changes``):
here, on a copy of the corpus warehouse, under a cap too small for the change, the candidate is
still built, and equals the full rebuild of the same lake."""

from __future__ import annotations

import shutil

import pytest

from pipelines.publish import incremental
from pipelines.publish.combine import build_tables
from pipelines.publish.lake import Lake
from pipelines.publish.warehouse import _limit, _megabytes, build_candidate
from scripts.compare_warehouses import compare
from tests.conftest import needs_shared


@needs_shared
def test_a_change_beyond_the_writers_cap_is_run_again_whole_under_the_headroom(
    corpus_warehouse, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(corpus_warehouse, warehouse)
    shutil.copytree(corpus_warehouse.with_name(corpus_warehouse.stem + ".lake"), warehouse.with_name("warehouse.lake"))
    lake = Lake(warehouse.with_name("warehouse.lake"))
    loaded = sorted(
        (r for r, _ in lake.summaries() if r.get("status") == "loaded" and r.get("unit_name")),
        key=lambda r: r["doc_id"],
    )
    # a removal and a rename: rows deleted from the fact tables, and derived rows replaced
    lake.remove(loaded[0]["doc_id"])
    lake.update_document(loaded[1]["doc_id"], unit_name=f"{loaded[1]['unit_name']}（本级）")

    retried: list[str] = []
    raise_memory_limit = incremental.raise_memory_limit

    def counted(con):
        retried.append(_limit(con))
        return raise_memory_limit(con)

    monkeypatch.setattr(incremental, "raise_memory_limit", counted)  # the transaction's retries only
    monkeypatch.setitem(incremental._WRITER_CONFIG, "memory_limit", "2MB")
    built = incremental.build_incremental_candidate(lake, warehouse, "tiny")

    assert built is not None and loaded[0]["doc_id"] in built.scope.changed
    assert retried and _megabytes(retried[0]) < 2  # aborted under 2 MB, then run again under more
    full = tmp_path / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copytree(lake.root, full.with_name("warehouse.lake"))
    full_lake = Lake(full.with_name("warehouse.lake"))
    build_tables(full_lake)
    assert compare(build_candidate(full_lake, full, "full"), built.path) == []
