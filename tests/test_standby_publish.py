"""The standby (pipelines/publish/standby.py), with real processes: an incremental run writes the
previous version of the warehouse file (the standby) instead of a copy of the published one, but
only when no reader holds that version: a reader in another process that opened the warehouse
before two swaps keeps reading its version, unchanged, while the next run publishes (that run
copies instead). A run killed inside the build on the standby leaves the published warehouse
intact, and the next run completes. After each step the warehouse is the full rebuild's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.publish.standby import standby_path
from pipelines.run.samples import render_pdf, sample_file_name, synthetic_units
from scripts.compare_warehouses import compare
from tests.test_incremental_publish import budgetwh, full_rebuild_of

ROOT = Path(__file__).resolve().parent.parent

# holds one read-only connection until stdin closes; answers each line with the fact rows it sees
_READER = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "SELECT count(*), sum(amount_yuan) FROM func_amounts"
print(con.execute(query).fetchone(), flush=True)
for _ in sys.stdin:
    print(con.execute(query).fetchone(), flush=True)
con.close()
"""


def inode(path: Path) -> int:
    return os.stat(path).st_ino


def facts(warehouse: Path) -> tuple:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT count(*), sum(amount_yuan) FROM func_amounts").fetchone()
    finally:
        con.close()


def test_the_standby_is_written_only_when_no_reader_holds_it(tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "warehouse.duckdb"
    inbox.mkdir()
    units = synthetic_units(6, seed=31)

    def add(i: int) -> None:
        render_pdf(units[i], inbox / sample_file_name(units[i], ".pdf"))

    def same_as_full_rebuild(step: str) -> None:
        assert compare(full_rebuild_of(warehouse, inbox, tmp_path / f"full-{step}"), warehouse) == []

    add(0), add(1)
    budgetwh(warehouse, str(inbox))  # the first publish: nothing to keep
    v1 = inode(warehouse)
    add(2)
    budgetwh(warehouse, str(inbox))  # no standby yet: a copy; the swap keeps v1 as the standby
    v2 = inode(warehouse)
    assert v2 != v1 and inode(standby_path(warehouse)) == v1

    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        seen = reader.stdout.readline()
        assert seen.strip() == str(facts(warehouse))
        add(3)
        budgetwh(warehouse, str(inbox))  # nobody holds v1: it is written and becomes the warehouse
        assert inode(warehouse) == v1 and inode(standby_path(warehouse)) == v2
        same_as_full_rebuild("standby")
        add(4)
        budgetwh(warehouse, str(inbox))  # the reader holds v2, the standby: a copy instead
        v4 = inode(warehouse)
        assert v4 not in (v1, v2)
        same_as_full_rebuild("copy")
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline() == seen  # the reader's version was never written
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    assert reader.returncode == 0

    # killed inside the build on the standby (v1): the warehouse is intact, the next run completes
    before = facts(warehouse)
    add(5)
    paused = tmp_path / "paused"
    env = dict(os.environ, DAGSTER_HOME=str(warehouse.parent / "dagster_home"), BUDGETWH_PAUSE_AT="candidate.build",
               BUDGETWH_PAUSE_FILE=str(paused), BUDGETWH_WORKERS="1")  # fmt: skip
    env.pop("BUDGETWH_FULL_REBUILD", None)
    cmd = [sys.executable, "-m", "pipelines.cli", "ingest", "--warehouse", str(warehouse), str(inbox)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not paused.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert paused.exists(), "the run never reached the candidate build"
    assert not standby_path(warehouse).exists()  # claimed: renamed to the run's temporary name
    assert int(paused.read_text()) == proc.pid
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert inode(warehouse) == v4 and facts(warehouse) == before
    budgetwh(warehouse, str(inbox))
    assert facts(warehouse) != before
    same_as_full_rebuild("after-kill")
    leftovers = [p.name for p in warehouse.parent.iterdir() if f".pid{proc.pid}." in p.name]
    assert leftovers == []
