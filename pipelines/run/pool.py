"""Parsing many documents: a pool of worker processes, each bringing one registered file up to
date in the lake."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.publish.lake import Lake, SourceEntry
from pipelines.run.dask_pool import dask_scheduler, parse_on_cluster
from pipelines.run.sources import parse_entry, plan_entry

_log = logging.getLogger("budgetwh")


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What bringing one registered file up to date did: ``parsed_status`` is None when nothing was
    parsed (current, a copy recorded, a move followed)."""

    entry: SourceEntry
    parsed_status: str | None
    parsed_error: str | None
    document: dict


def default_workers() -> int:
    """``BUDGETWH_WORKERS``, else one parsing process per CPU."""
    configured = os.environ.get("BUDGETWH_WORKERS", "").strip()
    return max(1, int(configured)) if configured.isdigit() else max(1, os.cpu_count() or 1)


def _parse_here(lake: Lake, entry: SourceEntry) -> EntryOutcome:
    parsed, doc = parse_entry(lake, entry)
    return EntryOutcome(entry, parsed.status if parsed else None, parsed.error if parsed else None, doc)


def _parse_in_worker(lake_root: str, entry: SourceEntry) -> EntryOutcome:
    return _parse_here(Lake(Path(lake_root)), entry)


def _discard_warm_pool() -> None:
    global _warm_pool
    if _warm_pool is not None:
        _warm_pool[0].shutdown(wait=False)
        _warm_pool = None


def _worker_pool(workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _warm_pool
    if _warm_pool is not None and _warm_pool[1] == workers:
        pool, _warm_pool = _warm_pool[0], None
        return pool
    _discard_warm_pool()
    # Not fork: Polars' thread pool does not survive a fork (the child can deadlock). The fork
    # server imports the parser once; each worker then starts from that copy in milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipelines.parse", "pipelines.run.pool"])
    # No max_tasks_per_child: with it, CPython 3.11–3.14 does not replace a worker that retires
    # while tasks are queued (gh-115634) and a batch of more than workers × limit documents hangs.
    # Parsing keeps no memory between documents (300 documents in one process: flat at 112 MB).
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


_warm_pool = None


def _ready() -> None:
    """A task that only makes a worker process start."""


def warm_up_workers(workers: int) -> None:
    """Start the worker processes now (the fork server imports the parser, about a second), while
    this process still sets up the run; ``parse_entries`` then finds them ready."""
    global _warm_pool
    if workers < 2 or _warm_pool is not None:
        return
    pool = _worker_pool(workers)
    for _ in range(workers):
        pool.submit(_ready)
    _warm_pool = (pool, workers)


def parse_entries(
    lake: Lake,
    entries: list[SourceEntry],
    workers: int | None = None,
    *,
    while_parsing: Callable[[], object] | None = None,
    scheduler: str | None = None,
) -> Iterator[EntryOutcome]:
    """``parse_entry`` for every entry, in worker processes when more than one document needs
    parsing, or on a Dask cluster when ``scheduler`` (or ``BUDGETWH_DASK_SCHEDULER``) names one.
    Each document's result is written to the lake by whoever parsed it (atomically, per
    document), so the lake ends the same whatever the order; the outcomes come back in the order
    of ``entries``. The largest files start first, so the last one to finish is a small one."""
    workers = workers or default_workers()
    # One task per distinct content: a second path with the same bytes waits for the first (it is
    # then recorded as a copy), exactly as in a serial run.
    first_of_content: dict[str, SourceEntry] = {}
    for e in entries:
        if e.doc_id not in first_of_content and plan_entry(lake, e) in ("parse", "reparse"):
            first_of_content[e.doc_id] = e
    to_parse = list(first_of_content.values())
    if to_parse and while_parsing is not None:
        while_parsing()  # work for this process while the workers parse (e.g. loading the next step's libraries)
    address = dask_scheduler(scheduler)
    if address and to_parse:
        _discard_warm_pool()
        yield from _parse_on_dask(address, lake, entries, to_parse)
        return
    if workers < 2 or len(to_parse) < 2:
        _discard_warm_pool()  # started for nothing: one document is parsed here faster
        for e in entries:
            yield _parse_here(lake, e)
        return
    from concurrent.futures.process import BrokenProcessPool

    by_size = sorted(to_parse, key=lambda e: -e.size)
    with _worker_pool(min(workers, len(to_parse))) as pool:
        futures = {}
        try:
            for e in by_size:
                futures[e.partition_key] = pool.submit(_parse_in_worker, str(lake.root), e)
        except BrokenProcessPool:  # the workers could not start: what was not submitted is parsed here
            pass
        for e in entries:
            future = futures.get(e.partition_key)
            if future is None:  # nothing to parse: a copy, a move or a current file
                yield _parse_here(lake, e)
                continue
            try:
                yield future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory): parse what is left here, one by one.
                yield _parse_here(lake, e)


def _parse_on_dask(address: str, lake: Lake, entries: list[SourceEntry], to_parse: list[SourceEntry]):
    """The cluster parses ``to_parse``; outcomes are yielded in the order of ``entries`` as soon
    as each is there. A document the cluster could not parse, or all of them when the scheduler
    cannot be reached, is parsed here: the run goes on."""
    wanted = {e.partition_key for e in to_parse}
    done: dict[str, object] = {}
    stream = parse_on_cluster(address, lake, to_parse)
    try:
        for e in entries:
            if e.partition_key not in wanted:  # a copy, a move or a current file
                yield _parse_here(lake, e)
                continue
            while e.partition_key not in done and stream is not None:
                try:
                    key, outcome = next(stream)
                except (OSError, TimeoutError) as exc:  # no scheduler there: parse locally
                    _log.warning("Dask scheduler %s not reachable (%s): parsing on this machine", address, exc)
                    stream = None
                    break
                done[key] = outcome
            outcome = done.pop(e.partition_key, None)
            if outcome is None or isinstance(outcome, Exception):
                if outcome is not None:
                    _log.warning("%s failed on the Dask cluster (%s): parsed here", e.source_file, outcome)
                yield _parse_here(lake, e)
            else:
                yield outcome
    finally:
        if stream is not None:
            stream.close()
