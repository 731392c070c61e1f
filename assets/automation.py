"""Unattended operation: a sensor on the inbox folder and a nightly schedule.

- ``inbox_sensor`` (every few minutes while the Dagster daemon runs): registers files that are new
  to the lake (new or changed bytes, copies, moved files) as document partitions and requests
  ``ingest`` runs in batches — one run covers up to ``BUDGETWH_BATCH_SIZE`` documents through the
  partition-range tags, never one run per file.
- ``nightly_ingest`` (02:00 Asia/Shanghai): the catch-up. Everything in the inbox that is not
  current — including documents parsed by an older parser version, which the sensor leaves to the
  night — and a re-publish when the warehouse lags the lake (a run was killed before publishing).

Both register through ``assets.partitions.register_partitions``, the code path of ``budgetwh ingest``.
The inbox is ``BUDGETWH_INBOX`` (default data/inbox); the warehouse is the ``warehouse`` resource.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter

from assets.partitions import batches, partition_range_tags, register_partitions
from assets.resources import WarehouseResource
from pipelines.publish.combine import built_fingerprint
from pipelines.publish.lake import Lake
from pipelines.publish.warehouse import read_meta
from pipelines.run.sources import default_inbox, iter_source_files

NIGHTLY_CRON = os.environ.get("BUDGETWH_NIGHTLY_CRON", "0 2 * * *")
TIMEZONE = "Asia/Shanghai"
SENSOR_INTERVAL_SECONDS = int(os.environ.get("BUDGETWH_SENSOR_INTERVAL", "120"))
STALE_RUN_HOURS = 6  # a run of the sensor still "in progress" after this long is taken as dead


def settle_seconds() -> float:
    return float(os.environ.get("BUDGETWH_INBOX_SETTLE_SECONDS", "30"))


def max_new_files() -> int:
    return max(1, int(os.environ.get("BUDGETWH_REGISTER_MAX", "1000")))


def inbox_files(inbox: Path, lake: Lake) -> tuple[list[Path], int]:
    """The inbox files to register in this evaluation, and how many were left for the next one.

    Files still being copied (modified less than ``BUDGETWH_INBOX_SETTLE_SECONDS`` ago) wait. Files
    new to the registry must be hashed, so at most ``BUDGETWH_REGISTER_MAX`` of them are taken per
    evaluation: a first inbox of tens of thousands of files is registered over several ticks instead
    of exceeding the daemon's time limit for one evaluation."""
    settled_before = time.time() - settle_seconds()
    settled = []
    for f in iter_source_files([inbox]):
        st = f.stat()
        if st.st_mtime <= settled_before:
            settled.append((f, st))
    # only the inbox's entries are looked up, not the whole registry (tens of MB at 40,000 documents)
    registry = lake.registry_entries(f.resolve() for f, _ in settled)
    known, new = [], []
    for f, st in settled:
        entry = registry.get(str(f.resolve()))
        unchanged = entry is not None and entry.size == st.st_size and entry.mtime == st.st_mtime
        (known if unchanged else new).append(f)
    cap = max_new_files()
    return known + new[:cap], max(0, len(new) - cap)


def batch_size() -> int:
    return max(1, int(os.environ.get("BUDGETWH_BATCH_SIZE", "200")))


def _run_config(warehouse: WarehouseResource) -> dict:
    return {"resources": {"warehouse": {"config": {"path": str(warehouse.warehouse_path)}}}}


def _sensor_run_in_flight(instance: dg.DagsterInstance) -> bool:
    runs = instance.get_runs(
        RunsFilter(job_name="ingest", statuses=list(IN_PROGRESS_RUN_STATUSES), tags={"budgetwh/trigger": "inbox"}),
        limit=5,
    )
    horizon = time.time() - STALE_RUN_HOURS * 3600
    for run in runs:
        record = instance.get_run_record_by_id(run.run_id)
        if record and record.create_timestamp.timestamp() > horizon:
            return True
    return False


@dg.sensor(
    name="inbox_sensor",
    job_name="ingest",
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers new or changed files of the inbox (BUDGETWH_INBOX, default data/inbox) as document "
    "partitions and requests ingest runs in batches.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    inbox = default_inbox()
    if not inbox.is_dir():
        return dg.SkipReason(f"The inbox {inbox} does not exist.")
    if _sensor_run_in_flight(context.instance):
        return dg.SkipReason("An ingest run requested by this sensor is still in progress.")
    files, deferred = inbox_files(inbox, warehouse.lake)
    if deferred:
        context.log.info(f"{deferred} more new file(s) in {inbox} are left for the next tick")
    registration = register_partitions(context.instance, warehouse.lake, files)
    if not registration.fresh_keys:
        return dg.SkipReason(f"No new or changed files among the {len(registration.entries)} in {inbox}.")
    requests = []
    for keys in batches(context.instance, registration.fresh_keys, batch_size()):
        run_key = hashlib.sha256("|".join(keys).encode()).hexdigest()[:20]
        tags = {**partition_range_tags(context.instance, keys), "budgetwh/trigger": "inbox"}
        requests.append(dg.RunRequest(run_key=run_key, run_config=_run_config(warehouse), tags=tags))
    context.log.info(f"{len(registration.fresh_keys)} new file(s) in {inbox}: {len(requests)} run(s) requested")
    return requests


@dg.schedule(
    name="nightly_ingest",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    job_name="ingest",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 Beijing time: ingest everything in the inbox that is not current (new files, "
    "files parsed by an older parser) and re-publish the warehouse if it lags the lake.",
)
def nightly_ingest(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    inbox = default_inbox()
    lake = warehouse.lake
    registration = register_partitions(context.instance, lake, inbox_files(inbox, lake)[0]) if inbox.is_dir() else None
    tags = {"budgetwh/trigger": "nightly"}
    if registration and registration.new_keys:
        return [
            dg.RunRequest(
                run_config=_run_config(warehouse), tags={**partition_range_tags(context.instance, keys), **tags}
            )
            for keys in batches(context.instance, registration.new_keys, batch_size())
        ]
    published = read_meta(warehouse.warehouse_path, "lake_fingerprint")
    if published is not None and published == built_fingerprint(lake) == lake.fingerprint():
        return dg.SkipReason("Nothing new in the inbox and the warehouse is current.")
    # Nothing to parse, but the warehouse lags the lake: a run over one current document skips the
    # parse and rebuilds the fact tables and the warehouse.
    # in registration order, as the registry's entries were kept: the run is over the newest one
    known = lake.registry_frame().sort("registered_at", maintain_order=True)["partition_key"].to_list()
    existing = set(context.instance.get_dynamic_partitions("documents"))
    keys = [k for k in known if k in existing]
    if not keys:
        return dg.SkipReason(f"No document registered yet (inbox {inbox}).")
    return dg.RunRequest(
        run_config=_run_config(warehouse), tags={**partition_range_tags(context.instance, keys[-1:]), **tags}
    )
