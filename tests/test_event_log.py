"""The Dagster home budgetwh creates keeps its event log connections (assets/event_log.py): runs
write through kept engines, another instance on the same home (as the UI is) reads every event,
and the number of open shards stays bounded."""

import time
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from assets.event_log import KEPT_SHARDS, PooledSqliteEventLogStorage
from assets.runner import _EARLIER_DAGSTER_YAML, dagster_yaml, prepare_dagster_home


@dg.op
def count_pages() -> int:
    return 661


@dg.job
def tiny() -> None:
    count_pages()


def test_a_new_home_uses_the_kept_connections_and_another_instance_reads_every_event(tmp_path):
    home = prepare_dagster_home(tmp_path / "dagster")
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == dagster_yaml(home)
    writer = dg.DagsterInstance.from_config(str(home))
    storage = writer.event_log_storage
    assert isinstance(storage, PooledSqliteEventLogStorage)

    run_ids = [tiny.execute_in_process(instance=writer).run_id for _ in range(KEPT_SHARDS + 3)]
    assert len(storage._engines) <= KEPT_SHARDS  # older runs' files are closed again
    with storage._engine("index").connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL

    reader = dg.DagsterInstance.from_config(str(home))  # a second storage object, as the UI's
    for run_id in run_ids:
        written = [e.dagster_event_type for e in writer.all_logs(run_id) if e.dagster_event]
        read = [e.dagster_event_type for e in reader.all_logs(run_id) if e.dagster_event]
        assert read == written and dg.DagsterEventType.RUN_SUCCESS in read
        assert reader.get_run_by_id(run_id).is_success

    # The reader keeps its connection: what is written after its last read is still seen.
    before = reader.get_dynamic_partitions("documents")
    writer.add_dynamic_partitions("documents", ["a-new-document"])
    assert reader.get_dynamic_partitions("documents") == [*before, "a-new-document"]
    writer.dispose()
    reader.dispose()


def test_a_home_of_an_earlier_version_is_upgraded_and_an_edited_one_left_alone(tmp_path):
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "dagster.yaml").write_text(_EARLIER_DAGSTER_YAML, encoding="utf-8")
    prepare_dagster_home(earlier)
    assert (earlier / "dagster.yaml").read_text(encoding="utf-8") == dagster_yaml(earlier)

    moved = tmp_path / "moved"
    earlier.rename(moved)  # the event log follows the home
    prepare_dagster_home(moved)
    storage = dg.DagsterInstance.from_config(str(moved)).event_log_storage
    assert Path(storage._base_dir) == (moved / "history" / "runs").resolve()

    edited = tmp_path / "edited"
    edited.mkdir()
    own = _EARLIER_DAGSTER_YAML + "run_retries:\n  enabled: true\n"
    (edited / "dagster.yaml").write_text(own, encoding="utf-8")
    prepare_dagster_home(edited)
    assert (edited / "dagster.yaml").read_text(encoding="utf-8") == own


def _schema(db: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db) as con:
        return {
            "objects": sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()),
            "alembic": con.execute("SELECT version_num FROM alembic_version").fetchall(),
            "migrations": sorted(r[0] for r in con.execute("SELECT name FROM secondary_indexes")),
            "journal": con.execute("PRAGMA journal_mode").fetchone()[0],
        }


def test_a_new_home_is_seeded_from_an_empty_instance_identical_to_one_dagster_creates(tmp_path, monkeypatch):
    from assets.instance_template import INSTANCE_FILES

    monkeypatch.setenv("BUDGETWH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BUDGETWH_DAGSTER_TEMPLATE", "0")
    created = prepare_dagster_home(tmp_path / "created")
    dg.DagsterInstance.from_config(str(created)).dispose()  # Dagster creates its files itself
    assert not (tmp_path / "cache").exists()

    monkeypatch.setenv("BUDGETWH_DAGSTER_TEMPLATE", "1")
    first, second = prepare_dagster_home(tmp_path / "first"), prepare_dagster_home(tmp_path / "second")
    (template,) = (tmp_path / "cache").iterdir()
    for name in INSTANCE_FILES:
        assert (first / name).read_bytes() == (template / name).read_bytes() == (second / name).read_bytes()
        assert _schema(first / name) == _schema(created / name)

    ids = []
    for home in (first, second):
        instance = dg.DagsterInstance.from_config(str(home))
        run_id = tiny.execute_in_process(instance=instance).run_id
        assert instance.get_run_by_id(run_id).is_success
        ids.append(instance.run_storage.get_run_storage_id())
        with instance.event_log_storage._engine(run_id).connect() as conn:  # a run's file: WAL from the start
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        instance.dispose()
    assert ids[0] != ids[1]  # the template holds no identity: each home makes its own
    assert dg.DagsterInstance.from_config(str(second)).get_runs()[0].job_name == "tiny"


# --- the events of a real run, stored by this storage and by Dagster's own


def _tables(folder: Path, run_id: str) -> dict:
    """Every row of the index and of the run's file; the write-time stamps SQLite adds left out."""
    import sqlite3

    out = {}
    for shard in ("index", run_id):
        with sqlite3.connect(folder / f"{shard}.db") as con:
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
                columns = [c[1] for c in con.execute(f"PRAGMA table_info({table})")]
                kept = [c for c in columns if c not in ("create_timestamp", "migration_completed")]
                quoted = ", ".join(f'"{c}"' for c in kept)
                rows = con.execute(f'SELECT {quoted} FROM "{table}" ORDER BY rowid').fetchall()
                out[("index" if shard == "index" else "run", table)] = rows
    return out


def test_a_runs_events_give_the_rows_dagsters_storage_writes_and_other_readers_see_them(tmp_path, monkeypatch):
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from assets.runner import run_ingest
    from pipelines.run.samples import write_samples

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    pdf = next(p for p in write_samples(tmp_path / "in") if p.suffix == ".pdf")
    result = run_ingest([pdf], tmp_path / "wh.duckdb")
    assert result.success, result.error
    with dg.DagsterInstance.get() as instance:
        events = list(instance.all_logs(result.run_id))
    kinds = {e.dagster_event_type for e in events if e.dagster_event}
    assert {"ASSET_MATERIALIZATION_PLANNED", "ASSET_CHECK_EVALUATION_PLANNED", "ASSET_MATERIALIZATION",
            "ASSET_CHECK_EVALUATION", "STEP_OUTPUT", "PIPELINE_SUCCESS"} <= {k.value for k in kinds}  # fmt: skip

    stored = {}
    for name, cls in (("dagster", SqliteEventLogStorage), ("pooled", PooledSqliteEventLogStorage)):
        folder = tmp_path / name
        storage = cls(str(folder))
        for e in events:
            storage.store_event(e)
        if name == "pooled":  # another storage object on the same files (the UI's) sees every event
            reader = SqliteEventLogStorage(str(folder))
            assert [e.dagster_event_type for e in reader.get_logs_for_run(result.run_id)] == [
                e.dagster_event_type for e in events
            ]
            check_key = dg.AssetCheckKey(dg.AssetKey("documents"), "contract_expectations")
            (execution,) = reader.get_asset_check_execution_history(check_key, limit=10)
            assert execution.run_id == result.run_id and execution.status.value == "SUCCEEDED"
            reader.dispose()
        storage.dispose()
        stored[name] = _tables(folder, result.run_id)
    assert stored["pooled"] == stored["dagster"]
    assert len(stored["pooled"][("run", "event_logs")]) == len(events)


def test_a_burst_is_committed_when_a_step_ends_or_soon_after_its_last_event(tmp_path):
    from dagster._core.events.log import EventLogEntry

    from assets.event_log import BURST_IDLE_S

    writer = PooledSqliteEventLogStorage(str(tmp_path))
    reader = PooledSqliteEventLogStorage(str(tmp_path))

    def log(message: str) -> EventLogEntry:
        return EventLogEntry(
            error_info=None, level=20, user_message=message, run_id="r1", timestamp=time.time(), step_key="s"
        )

    def seen() -> list[str]:
        return [e.user_message for e in reader.get_logs_for_run("r1")]

    writer.store_event(log("one"))
    writer.store_event(log("two"))
    assert writer._burst  # the burst's transaction is open
    deadline = time.monotonic() + 10 * BURST_IDLE_S + 5
    while seen() != ["one", "two"] and time.monotonic() < deadline:
        time.sleep(BURST_IDLE_S / 2)
    assert seen() == ["one", "two"]  # committed by the storage's thread once no event came
    assert not writer._burst

    writer.store_event(log("three"))
    writer.commit_burst()  # as the process's exit does
    assert seen() == ["one", "two", "three"]
    writer.dispose()
    reader.dispose()


@pytest.mark.timeout(120)
def test_a_check_evaluated_outside_a_run_is_stored_by_dagsters_own_code(tmp_path):
    home = prepare_dagster_home(tmp_path / "dagster")
    instance = dg.DagsterInstance.from_config(str(home))
    key = dg.AssetCheckKey(dg.AssetKey("documents"), "no_document_quarantined")
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, passed=False)
    )
    (execution,) = instance.event_log_storage.get_asset_check_execution_history(key, limit=5)
    assert execution.status.value == "FAILED" and execution.run_id == ""
    instance.dispose()
