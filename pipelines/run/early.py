"""The parse of a small run's documents, started before Dagster creates the run.

Dagster's run creation and the step machinery before ``source_documents`` take ~0.4 s of a
one-document run (issue 14: a small run's fixed cost), during which the parse workers would wait.
``start_early_parse`` gives them the run's documents at once; the step then takes the outcomes
(``take_early_parse``, used by ``pool.parse_entries``) as if it had started the parse itself: the
same workers, budget, lake writes and outcomes, only earlier. The plan (which files need parsing)
is made here, before anything is written, so the step reports what the parse did, not that the
files are current. A parse nobody takes (the run failed before its step) finishes and is joined
by ``finish_early_parse``: its documents are in the lake, as after any interrupted run."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pipelines.publish.lake import Lake, SourceEntry
from pipelines.run.limits import DocBudget
from pipelines.run.supervised import parse_supervised

Outcome = tuple[str | None, str | None, dict]


class EarlyParse:
    """``parse_supervised`` of ``to_parse`` in a thread of this process (the workers are processes
    of the fork server; the thread only waits for their answers)."""

    def __init__(self, lake: Lake, to_parse: list[SourceEntry], workers: int, budget: DocBudget) -> None:
        self.lake_root = str(lake.root.resolve())
        self.to_parse = {e.partition_key: e for e in to_parse}
        self.workers, self.budget = workers, budget
        self._done: list[tuple[SourceEntry, Outcome]] = []
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._finished = False
        by_size = sorted(to_parse, key=lambda e: -e.size)
        self._thread = threading.Thread(
            target=self._run, args=(lake, by_size), name="budgetwh-early-parse", daemon=True
        )
        self._thread.start()

    def _run(self, lake: Lake, entries: list[SourceEntry]) -> None:
        try:
            for entry, outcome in parse_supervised(lake, entries, self.workers, self.budget):
                with self._changed:
                    self._done.append((entry, outcome))
                    self._changed.notify_all()
        except BaseException as exc:  # raised again where the outcomes are taken
            self._error = exc
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def outcomes(self) -> Iterator[tuple[SourceEntry, Outcome]]:
        """(entry, outcome) in the order they finish, as ``parse_supervised`` yields them."""
        given = 0
        while True:
            with self._changed:
                while len(self._done) == given and not self._finished:
                    self._changed.wait()
                ready, finished = self._done[given:], self._finished and len(self._done) == given
            if finished:
                if self._error is not None:
                    raise self._error
                return
            given += len(ready)
            yield from ready

    def join(self) -> None:
        self._thread.join()


_pending: EarlyParse | None = None


def start_early_parse(lake: Lake, to_parse: list[SourceEntry], workers: int, budget: DocBudget) -> EarlyParse:
    global _pending
    finish_early_parse()
    _pending = EarlyParse(lake, to_parse, workers, budget)
    return _pending


def take_early_parse(lake: Lake, entries: list[SourceEntry], workers: int, budget: DocBudget) -> EarlyParse | None:
    """The early parse of exactly this request (same lake, documents, workers and budget), once;
    None otherwise (the step then plans and parses as usual)."""
    global _pending
    early = _pending
    if early is None or early.lake_root != str(lake.root.resolve()):
        return None
    if (early.workers, early.budget) != (workers, budget) or not set(early.to_parse) <= {
        e.partition_key for e in entries
    }:
        return None
    _pending = None
    return early


def finish_early_parse() -> None:
    """Wait for an early parse no step took (its documents are written to the lake as it goes)."""
    global _pending
    early, _pending = _pending, None
    if early is not None:
        early.join()
