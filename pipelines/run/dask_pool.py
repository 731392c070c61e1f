"""The per-document parse on a Dask distributed cluster, when ``BUDGETWH_DASK_SCHEDULER`` (or the
``dask_scheduler`` field of the source_documents asset's config) names a scheduler address, e.g.
``tcp://10.0.0.5:8786``.

Why a Dask client inside the parse step rather than ``dagster-dask`` (Dagster's Dask executor): the
unit of parallel work here is one document, and a run covers hundreds of documents as partitions of
one asset step. The Dask executor distributes *steps* (each op of a run), so it would spread our two
steps (parse, publish) over the cluster and still parse every document of the step in one place.
A client inside the step submits one task per document, as the local process pool does, and keeps
the rest of the run (the single DuckDB writer, the gate) on the machine that owns the warehouse.

Each task reads its source file and writes its result to the lake itself (``parse_entry``), exactly
as a local worker process does, so the workers must see the same paths: the inputs and the lake
(``<warehouse>.lake``) on a shared filesystem mounted at the same path on every worker (NFS, a
cluster filesystem, or a volume shared between pods). docs/scaling.md says what was measured.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pipelines.publish.lake import Lake, SourceEntry

SCHEDULER_ENV = "BUDGETWH_DASK_SCHEDULER"
# How long to try reaching the scheduler before parsing on this machine instead.
CONNECT_TIMEOUT_ENV = "BUDGETWH_DASK_CONNECT_TIMEOUT"


def dask_scheduler(configured: str | None = None) -> str | None:
    """The scheduler address to parse on: the given one, else ``BUDGETWH_DASK_SCHEDULER``; None
    means the local process pool."""
    address = (configured or os.environ.get(SCHEDULER_ENV) or "").strip()
    return address or None


def _parse_on_worker(lake_root: str, entry: SourceEntry) -> tuple[str | None, str | None, dict]:
    """On a worker: (status, error, document row) of bringing ``entry`` up to date in the lake."""
    from pipelines.run.sources import parse_entry  # on the worker: the client does not need the parser

    parsed, doc = parse_entry(Lake(Path(lake_root)), entry)
    return parsed.status if parsed else None, parsed.error if parsed else None, doc


def parse_on_cluster(address: str, lake: Lake, to_parse: list[SourceEntry]) -> Iterator[tuple[str, object]]:
    """Parse ``to_parse`` on the cluster at ``address``, largest files first; yields (partition
    key, (status, error, document row)) as tasks finish. A task that fails on the cluster (a worker lost, a library
    missing there) is yielded as the exception, for the caller to parse that document locally."""
    from distributed import Client, as_completed

    timeout = float(os.environ.get(CONNECT_TIMEOUT_ENV) or 30)
    with Client(address, timeout=timeout) as client:
        futures = {
            client.submit(_parse_on_worker, str(lake.root), e, key=f"parse-{e.partition_key}", pure=False): e
            for e in sorted(to_parse, key=lambda e: -e.size)
        }
        for future in as_completed(futures):
            entry = futures[future]
            try:
                yield entry.partition_key, future.result()
            except Exception as exc:  # reported, then parsed here: a document is never lost to the cluster
                yield entry.partition_key, exc
