"""Running the ingestion job in-process (``budgetwh ingest``), exactly as the schedule runs it:
register the files, add their document partitions, execute the job over them, summarize."""

import json
import os
import socket
import time
from pathlib import Path

import dagster as dg

from assets import alembic_heads
from assets.instance_template import seed_new_home
from assets.partitions import partition_range_tags, register_partitions
from pipelines.publish.gate_process import start_gate_process
from pipelines.publish.lake import Lake, file_lock, lake_dir_for, pid_alive
from pipelines.run.early import finish_early_parse
from pipelines.run.pool import default_workers, start_parse_before_the_run, warm_up_workers
from pipelines.run.results import IngestResult, summarize
from pipelines.run.sources import document_for

PID_TAG = "budgetwh/pid"
INSTANCE_LOCK = ".budgetwh-instance.lock"
HOST_TAG = "budgetwh/host"


def launch_plan(instance: dg.DagsterInstance, lake: Lake, paths: list[Path]) -> tuple[str, dict[str, str], list]:
    """Which job to run with which tags for these paths: ``ingest`` over the partitions that need
    parsing, or ``publish`` when every file is already current."""
    registration = register_partitions(instance, lake, paths)
    if registration.new_keys:
        return "ingest", partition_range_tags(instance, registration.new_keys), registration.entries
    return "publish", {}, registration.entries


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of ``budgetwh ingest`` whose process died (kill -9, power loss) stay STARTED forever in
    the instance; mark them failed so that the UI tells the truth. Only runs tagged with the pid of
    a local process that no longer exists are touched."""
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

    failed = []
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING]))
    for run in runs:
        pid = run.tags.get(PID_TAG)
        if run.tags.get(HOST_TAG) != socket.gethostname() or not pid or not pid.isdigit() or pid_alive(int(pid)):
            continue
        instance.report_run_failed(run, f"The process running it (pid {pid}) died; the next run redid its work.")
        failed.append(run.run_id)
    return failed


# The first line of the dagster.yaml budgetwh writes: a file that starts with it is budgetwh's to
# rewrite (the home may have moved); any other file is someone's own configuration, left alone.
DAGSTER_YAML_MARK = "# written by budgetwh (assets/runner.py); delete this line to keep your edits"
# Written by earlier versions, without the mark; it is upgraded (the event log files stay the same).
_EARLIER_DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def dagster_yaml(home: Path) -> str:
    """Telemetry off (this machine may have no internet), and Dagster's SQLite event log and run
    storage with kept connections (assets/event_log.py, assets/run_storage.py) in the places
    Dagster's defaults keep them."""
    history = Path(home).resolve() / "history"
    runs = json.dumps(str(history / "runs"), ensure_ascii=False)  # YAML reads JSON strings
    return (
        f"{DAGSTER_YAML_MARK}\n"
        "telemetry:\n  enabled: false\n"
        "event_log_storage:\n  module: assets.event_log\n  class: PooledSqliteEventLogStorage\n"
        f"  config:\n    base_dir: {runs}\n"
        "run_storage:\n  module: assets.run_storage\n  class: PooledSqliteRunStorage\n"
        f"  config:\n    base_dir: {json.dumps(str(history), ensure_ascii=False)}\n"
    )


def prepare_dagster_home(home: Path) -> Path:
    """Create a Dagster home with budgetwh's configuration. The config is written under a
    temporary name: two first runs may start at once."""
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    wanted = dagster_yaml(home)
    current = cfg.read_text(encoding="utf-8") if cfg.exists() else None
    if current != wanted and (
        current is None or current == _EARLIER_DAGSTER_YAML or current.startswith(DAGSTER_YAML_MARK)
    ):
        tmp = home / f".dagster.yaml.{os.getpid()}.tmp"
        tmp.write_text(wanted, encoding="utf-8")
        os.replace(tmp, cfg)
    if cfg.read_text(encoding="utf-8") == wanted:  # budgetwh's configuration: a new home is seeded
        with file_lock(home / INSTANCE_LOCK):
            seed_new_home(home, wanted, _write_config)
    return home


def _write_config(home: Path) -> None:
    (home / "dagster.yaml").write_text(dagster_yaml(home), encoding="utf-8")


def get_instance() -> dg.DagsterInstance:
    """The instance of $DAGSTER_HOME. Two processes creating a new instance at once race on its
    SQLite schema (a UNIQUE error from alembic); a file lock lets the first finish."""
    alembic_heads.install()  # the migration scripts' head read once per process, not per storage
    alembic_heads.install_config_schema()
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.get()
    with file_lock(Path(home) / INSTANCE_LOCK):
        return dg.DagsterInstance.get()


def _root_message(error) -> str:
    """The cause a person can act on ("no space left on device at …"), not Dagster's wrapper
    ("Error occurred while executing op …")."""
    while (error.cls_name or "").startswith("Dagster") and getattr(error, "cause", None) is not None:
        error = error.cause
    return str(error.message).strip()


def run_ingest(
    paths: list[Path], warehouse: Path, *, workers: int | None = None, log_level: str = "WARNING"
) -> IngestResult:
    from assets.definitions import defs
    from pipelines.run.sources import default_dagster_home

    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(default_dagster_home(warehouse)))
    lake = Lake(lake_dir_for(warehouse))
    instance = get_instance()
    fail_orphaned_runs(instance)
    lake.clean_stale_temp()
    job_name, tags, entries = launch_plan(instance, lake, paths)
    if job_name == "ingest":
        warm_up_workers(workers or default_workers())
        start_gate_process()  # a no-op when the command started it already
    before = {e.source_file: document_for(lake, e).get("parsed_at") for e in entries}
    tags = {**tags, PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    run_config: dict = {
        "resources": {"warehouse": {"config": {"path": str(warehouse)}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    if job_name == "ingest" and workers:
        run_config["ops"] = {"source_documents": {"config": {"workers": workers}}}
    if job_name == "ingest":
        # the workers parse while Dagster creates the run and starts its steps (~0.4 s of a small run)
        start_parse_before_the_run(lake, entries, workers)
    try:
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, run_config=run_config, tags=tags, raise_on_error=False
        )
    finally:
        finish_early_parse()  # one no step took (the run failed first) is waited for, never left running
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = "; ".join(_root_message(e.step_failure_data.error) for e in failures if e.step_failure_data)
        error = error or "run failed"
    return summarize(
        lake, warehouse, entries, before, success=result.success, job_name=job_name, run_id=result.run_id,
        seconds=time.perf_counter() - started, error=error,
    )  # fmt: skip
