"""Faults of the machine: a full disk while a document's result is written to the lake, while the
fact tables are combined, while the candidate warehouse is built and at the swap. The published
warehouse stays intact and readable, the run fails naming the cause and the stage, and the next run
(space freed) completes. A damaged lake entry (a truncated Parquet file, a missing document.json)
is found on the next run and the document parsed again.

The full disk is injected at the write points (``BUDGETWH_FAIL_AT``, pipelines/publish/faults.py);
where this process may mount a size-limited tmpfs, a real full disk is tried as well."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assets.runner import run_ingest
from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.publish.warehouse import run_query
from pipelines.run.samples import render_text, sample_file_name, synthetic_units, write_samples

STATE = "SELECT (SELECT count(*) FROM documents), (SELECT count(*) || ' ' || sum(amount_yuan) FROM func_amounts)"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return tmp_path


def _night_file(inbox: Path, n: int) -> None:
    unit = synthetic_units(3 + n, seed=31)[-1]
    (inbox / sample_file_name(unit, ".txt")).write_text(render_text(unit), encoding="utf-8")


STAGES = {
    "lake.write": "no space left on device at the lake write of ",
    "tables.write": "no space left on device at combining the fact tables",
    "candidate.build": "no space left on device at the candidate build",
    "publish.swap": "no space left on device at the swap of the new warehouse",
}


@pytest.mark.parametrize("point", list(STAGES))
@pytest.mark.parametrize("supervised", [True, False], ids=["in-a-worker", "in-process"])
def test_a_full_disk_fails_the_run_by_name_and_keeps_the_published_warehouse(home, monkeypatch, point, supervised):
    if not supervised and point != "lake.write":
        pytest.skip("only the lake write happens in a parsing process")
    inbox = home / "in"
    write_samples(inbox)
    wh = home / "wh.duckdb"
    assert run_ingest([inbox], wh).success
    _, before = run_query(wh, STATE)
    _night_file(inbox, 1)

    if not supervised:
        monkeypatch.setenv("BUDGETWH_DOC_TIMEOUT", "0")
        monkeypatch.setenv("BUDGETWH_DOC_MEMORY_MB", "0")
    monkeypatch.setenv("BUDGETWH_FAIL_AT", point)
    failed = run_ingest([inbox], wh, workers=1)
    assert not failed.success
    assert STAGES[point] in failed.error, failed.error
    assert run_query(wh, STATE)[1] == before  # intact and readable
    assert not list(home.glob(".wh.duckdb.*"))  # no candidate or half-built file left beside it

    monkeypatch.delenv("BUDGETWH_FAIL_AT")  # space freed
    again = run_ingest([inbox], wh, workers=1)
    assert again.success, again.error
    _, after = run_query(wh, STATE)
    assert after[0][0] == before[0][0] + 1
    assert [d["status"] for d in again.documents] == ["loaded"] * 3


def test_a_damaged_lake_entry_is_parsed_again(home):
    inbox = home / "in"
    write_samples(inbox)
    wh = home / "wh.duckdb"
    assert run_ingest([inbox], wh).success
    _, before = run_query(wh, "SELECT * EXCLUDE (doc_id) FROM func_amounts ORDER BY ALL")
    lake = Lake(lake_dir_for(wh))
    truncated, missing = (d["doc_id"] for d in lake.documents())
    table = lake.doc_dir(truncated) / "fact_func_amount.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])  # a truncated Parquet file
    (lake.doc_dir(missing) / "document.json").unlink()  # a lost document row
    assert not lake.is_intact(truncated) and not lake.is_intact(missing)

    result = run_ingest([inbox], wh)
    assert result.success, result.error
    assert [d["parsed_now"] for d in result.documents] == [True, True]
    assert lake.is_intact(truncated) and lake.is_intact(missing)
    _, after = run_query(wh, "SELECT * EXCLUDE (doc_id) FROM func_amounts ORDER BY ALL")
    assert after == before


def _mount_small_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0  # fmt: skip


def test_a_real_full_disk(home, monkeypatch):
    """On a 40 MB tmpfs filled up but for 64 KB: the next run fails, and completes once space is freed."""
    small = home / "small"
    if not _mount_small_tmpfs(small, "40m"):
        pytest.skip("cannot mount a size-limited tmpfs here (not root): the seam tests above cover the stages")
    try:
        inbox = home / "in"  # the sources are elsewhere: only the warehouse and its lake are on the small disk
        write_samples(inbox)
        wh = small / "wh.duckdb"
        first = run_ingest([inbox], wh)
        assert first.success, first.error
        _, before = run_query(wh, STATE)
        ballast = small / "ballast"
        free = shutil.disk_usage(small).free
        ballast.write_bytes(bytes(max(0, free - 64 * 1024)))  # the disk is full but for 64 KB
        _night_file(inbox, 1)
        failed = run_ingest([inbox], wh)
        assert not failed.success
        assert "no space left on device at " in failed.error, failed.error
        assert run_query(wh, STATE)[1] == before
        ballast.unlink()  # space freed
        again = run_ingest([inbox], wh)
        assert again.success, again.error
        assert run_query(wh, STATE)[1][0][0] == before[0][0] + 1
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)
