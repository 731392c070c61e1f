"""Parsing many documents: supervised worker processes (``pipelines/run/supervised.py``), each
bringing one registered file up to date in the lake under a per-document time and memory budget."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pipelines.publish.lake import Lake, SourceEntry
from pipelines.run.dask_pool import dask_scheduler, parse_on_cluster
from pipelines.run.early import start_early_parse, take_early_parse
from pipelines.run.limits import DocBudget, current_budget
from pipelines.run.sources import parse_entry, plan_entry
from pipelines.run.supervised import parse_supervised, start_fork_server

# ---------------------------------------------------------------------------------------------
# Parsing many documents: a pool of worker processes


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


def warm_up_workers(workers: int) -> None:
    """Start the fork server now (it imports the parser, about a second), while this process still
    sets up the run; ``parse_entries`` then starts its workers from it in milliseconds."""
    if dask_scheduler() is None and (workers >= 2 or current_budget().enabled):  # a cluster parses without it
        start_fork_server()


def plan_parse(lake: Lake, entries: list[SourceEntry]) -> dict[str, SourceEntry]:
    """The entries to parse, by partition key: one per distinct content (a second path with the same
    bytes waits for the first and is then recorded as a copy, exactly as in a serial run)."""
    first_of_content: dict[str, SourceEntry] = {}
    for e in entries:
        if e.doc_id not in first_of_content and plan_entry(lake, e) in ("parse", "reparse"):
            first_of_content[e.doc_id] = e
    return {e.partition_key: e for e in first_of_content.values()}


def parses_in_workers(to_parse: dict, workers: int, budget: DocBudget) -> bool:
    """Whether these documents go to worker processes (else one is parsed in this process)."""
    return budget.enabled or (workers >= 2 and len(to_parse) >= 2)


def start_parse_before_the_run(lake: Lake, entries: list[SourceEntry], workers: int | None = None) -> bool:
    """Give the parse workers the run's documents now, before Dagster creates the run
    (``pipelines/run/early.py``); ``parse_entries`` in the run's step takes their outcomes. Only
    where the step would use the local workers with the environment's budget; True if started."""
    workers = workers or default_workers()
    budget = current_budget()
    if dask_scheduler() is not None:
        return False
    to_parse = plan_parse(lake, entries)
    if not to_parse or not parses_in_workers(to_parse, workers, budget):
        return False
    start_early_parse(lake, list(to_parse.values()), workers, budget)
    return True


def parse_entries(
    lake: Lake,
    entries: list[SourceEntry],
    workers: int | None = None,
    *,
    while_parsing: Callable[[], object] | None = None,
    budget: DocBudget | None = None,
    scheduler: str | None = None,
) -> Iterator[EntryOutcome]:
    """``parse_entry`` for every entry. Documents are parsed in supervised worker processes, each
    under the per-document ``budget`` (default: ``current_budget()``; ``pipelines/run/limits.py``);
    without limits, a single document is parsed here. When ``scheduler`` (or
    ``BUDGETWH_DASK_SCHEDULER``) names a Dask scheduler, the cluster parses them instead
    (``pipelines/run/dask_pool.py``; the cluster's own worker limits bound them there). Each document's result is written to the
    lake by whoever parsed it (atomically, per document), so the lake ends the same whatever the
    order; the outcomes come back in the order of ``entries``. The largest files start first, so
    the last one to finish is a small one."""
    workers = workers or default_workers()
    budget = budget or current_budget()
    early = take_early_parse(lake, entries, workers, budget) if dask_scheduler(scheduler) is None else None
    to_parse = early.to_parse if early is not None else plan_parse(lake, entries)
    if to_parse and while_parsing is not None:
        while_parsing()  # work for this process while the workers parse (e.g. loading the next step's libraries)
    address = dask_scheduler(scheduler)
    if address and to_parse:
        yield from _parse_on_dask(address, lake, entries, list(to_parse.values()))
        return
    if early is None and (not to_parse or not parses_in_workers(to_parse, workers, budget)):
        for e in entries:  # one document without limits: parsed here, faster than in a new process
            yield _parse_here(lake, e)
        return
    if early is not None:
        finished = early.outcomes()
    else:
        by_size = sorted(to_parse.values(), key=lambda e: -e.size)
        finished = parse_supervised(lake, by_size, workers, budget)
    results: dict[str, tuple] = {}
    try:
        for e in entries:
            if e.partition_key not in to_parse:  # nothing to parse: a copy, a move or a current file
                yield _parse_here(lake, e)
                continue
            while e.partition_key not in results:
                done, result = next(finished)
                results[done.partition_key] = result
            yield EntryOutcome(e, *results.pop(e.partition_key))
    finally:
        finished.close()


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
                # noted here too: a worker on another machine appends to the journal over the shared
                # filesystem, where appends of two clients are not guaranteed whole (lake_index.py)
                lake.note_changed(*[d for d in (outcome[2].get("doc_id"), e.doc_id) if d])
                yield EntryOutcome(e, *outcome)
    finally:
        if stream is not None:
            stream.close()
