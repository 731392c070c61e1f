"""Document partitions: one dynamic partition per source file, registered in the lake and the
Dagster instance by the same code path for ``budgetwh ingest``, the sensor and the schedule."""

import time
from pathlib import Path

import dagster as dg

from pipelines.publish.lake import Lake
from pipelines.run.sources import Registration, iter_source_files, register_sources

PARTITIONS_NAME = "documents"


def partition_range_tags(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, str]:
    """Tags that make one run cover the given dynamic partitions: the smallest range of the
    registered order containing all of them (documents inside it that are current are skipped)."""
    ordered = list(instance.get_dynamic_partitions(PARTITIONS_NAME))
    positions = sorted(ordered.index(k) for k in keys)
    return {
        "dagster/asset_partition_range_start": ordered[positions[0]],
        "dagster/asset_partition_range_end": ordered[positions[-1]],
    }


def add_partitions(instance: dg.DagsterInstance, keys: list[str]) -> None:
    for attempt in range(5):
        existing = set(instance.get_dynamic_partitions(PARTITIONS_NAME))
        missing = [k for k in dict.fromkeys(keys) if k not in existing]
        if not missing:
            return
        try:
            instance.add_dynamic_partitions(PARTITIONS_NAME, missing)
            return
        except Exception:  # another process (the sensor, a second ingest) added some at the same moment
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def register_partitions(instance: dg.DagsterInstance, lake: Lake, paths: list[Path]) -> Registration:
    """Register the files under ``paths`` in the lake and as document partitions."""
    registration = register_sources(lake, iter_source_files(paths))
    add_partitions(instance, [e.partition_key for e in registration.entries])
    return registration


def batches(instance: dg.DagsterInstance, keys: list[str], batch_size: int) -> list[list[str]]:
    """The keys in the registered order, cut into batches of at most ``batch_size``: one run each,
    over the partition range from its first to its last key (documents inside a range that are
    current are skipped by the run)."""
    position = {k: i for i, k in enumerate(instance.get_dynamic_partitions(PARTITIONS_NAME))}
    ordered = sorted(dict.fromkeys(keys), key=lambda k: position[k])
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
