"""Parsing under per-document budgets: worker processes supervised by a watchdog.

Each worker (started from a fork server that has imported the parser) parses one document at a
time and reports how far it got (``pipelines/read/progress.py``) through its pipe. The supervisor
polls every worker's elapsed time and resident memory; a worker over its document's time or memory
budget is killed, the document is quarantined with a sentence saying which limit and how far it
got, a new worker takes its place and the run goes on. A worker that dies by itself (a crash in a
native library, the kernel's OOM killer) costs its document likewise, and nothing else.

A ``MemoryError`` inside the worker (its address space is capped a little above the budget, so a
sudden allocation cannot take the machine's memory before the next poll) ends the same way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from pipelines.publish.lake import Lake, SourceEntry
from pipelines.publish.versions import duplicate_doc_id
from pipelines.run.limits import DocBudget

POLL_SECONDS = 0.1
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# Address space allowed beyond the worker's size at start plus its memory budget: thread stacks
# and allocator arenas reserve address space they never touch.
ADDRESS_SPACE_SLACK_MB = 1024


def _megabytes_of(pid: int, field_index: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[field_index]) * _PAGE_SIZE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def resident_mb(pid: int) -> float:
    return _megabytes_of(pid, 1)


def _cap_address_space(memory_mb: int) -> None:
    if memory_mb <= 0:
        return
    size = int((_megabytes_of(os.getpid(), 0) + memory_mb + ADDRESS_SPACE_SLACK_MB) * 2**20)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    resource.setrlimit(resource.RLIMIT_AS, (size, hard))


def worker_main(conn: Connection, memory_mb: int) -> None:
    """A worker: parse the (lake root, entry) tasks it is sent until it is sent None."""
    from pipelines.read import progress
    from pipelines.run.sources import parse_entry

    _cap_address_space(memory_mb)
    progress.set_listener(lambda stage, done, total: conn.send(("progress", stage, done, total)))
    while True:
        task = conn.recv()
        if task is None:
            return
        lake_root, entry, settings = task
        # The fork server's environment is as old as the fork server: the run's settings come along.
        for key in [k for k in os.environ if k.startswith("BUDGETWH_") and k not in settings]:
            del os.environ[key]
        os.environ.update(settings)
        try:
            parsed, doc = parse_entry(Lake(Path(lake_root)), entry)
        except MemoryError:
            conn.send(("memory", None))
            os._exit(1)  # the heap may be in any state: this worker is replaced
        except Exception as exc:  # not the document's fault (a full disk, a broken lake): the run fails
            conn.send(("error", WorkerError(f"{type(exc).__name__}: {exc}")))
            continue
        conn.send(("done", (parsed.status if parsed else None, parsed.error if parsed else None, doc)))


class WorkerError(RuntimeError):
    """What stopped a worker that is not its document's doing, raised again in the supervisor."""


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    entry: SourceEntry | None = None
    started: float = 0.0
    progress: tuple[str, int, int] = ("starting", 0, 0)
    peak_mb: float = 0.0
    pending: list = field(default_factory=list)


# What the fork server imports once for all its workers: the parser, and what a parse imports
# lazily (the PDF readers with pdfplumber, pdfminer and pypdfium2; numpy, which Polars imports
# when it builds a frame from rows). Without the lazy ones every worker imported them for its
# first document: ~250 modules, 0.3–0.6 s, most of a small document's parse.
FORK_SERVER_PRELOAD = [
    "pipelines.parse",
    "pipelines.read.pdf",
    "pipelines.read.triage",
    "pipelines.read.lineless",
    "pypdfium2",
    "numpy",
    "pipelines.run.supervised",
]


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(FORK_SERVER_PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the fork server now (it imports the parser, about a second): workers then start in
    milliseconds."""
    _context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _spawn(context, budget: DocBudget) -> _Worker:
    parent, child = context.Pipe(duplex=True)
    process = context.Process(target=worker_main, args=(child, budget.memory_mb), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent)


def _how_far(progress: tuple[str, int, int]) -> str:
    stage, done, total = progress
    if stage == "reading pages":
        return f"after reading {done:,} of {total:,} pages" if total else "before its first page was read"
    if stage == "recognizing tables":
        return f"while recognizing the tables of its {total:,} pages (every page had been read)"
    return "before its first page was read"


def over_budget_reason(limit: str, budget: DocBudget, worker: _Worker, elapsed: float) -> str:
    if limit == "time":
        what = (
            f"the time limit of {budget.timeout_s:g} s per document (--doc-timeout, BUDGETWH_DOC_TIMEOUT): "
            f"parsing was stopped after {elapsed:.0f} s"
        )
    elif limit == "memory":
        what = (
            f"the memory limit of {budget.memory_mb:,} MB per document (--doc-memory, BUDGETWH_DOC_MEMORY_MB): "
            f"its parsing process held {worker.peak_mb:,.0f} MB when it was stopped"
        )
    else:
        code = worker.process.exitcode
        how = f"by signal {-code}" if code is not None and code < 0 else f"with exit code {code}"
        return (
            f"The parsing process died {how} {_how_far(worker.progress)} ({elapsed:.0f} s, {worker.peak_mb:,.0f} MB "
            "at the last look); the document is not loaded, the run went on with a new process."
        )
    return f"The document exceeded {what}, {_how_far(worker.progress)}. It is not loaded; the run went on."


def quarantine_over_budget(lake: Lake, entry: SourceEntry, reason: str, limit: str, budget: DocBudget) -> dict:
    """Record the document as quarantined in the lake (as its worker would have recorded a result)."""
    from pipelines.parse import ParsedDocument

    record = ParsedDocument(
        doc_id=entry.doc_id, source_file=entry.source_file, sha256=entry.sha256, status="quarantined",
        error=reason, info=None, page_count=None, source_format="pdf" if entry.source_file.lower().endswith(".pdf")
        else "text", parse_seconds=0.0,
    )  # fmt: skip
    stopped_by = {"limit": limit, "timeout_s": budget.timeout_s, "memory_mb": budget.memory_mb}
    lake.write(record, extra={"registered_at": entry.registered_at, "mtime": entry.mtime, "over_budget": stopped_by})
    lake.remove(duplicate_doc_id(entry.sha256, entry.source_file))
    return lake.document(entry.doc_id) or {}


def parse_supervised(
    lake: Lake, entries: list[SourceEntry], workers: int, budget: DocBudget
) -> Iterator[tuple[SourceEntry, tuple[str | None, str | None, dict]]]:
    """(entry, (parsed status, error, document row)) for every entry, in the order they finish."""
    context = _context()
    settings = {k: v for k, v in os.environ.items() if k.startswith("BUDGETWH_")}
    queue = deque(entries)
    pool = [_spawn(context, budget) for _ in range(max(1, min(workers, len(entries))))]
    try:
        while queue or any(w.entry is not None for w in pool):
            for w in pool:
                if w.entry is None and queue:
                    w.entry, w.started, w.progress, w.peak_mb = queue.popleft(), time.monotonic(), ("starting", 0, 0), 0
                    w.conn.send((str(lake.root), w.entry, settings))
            busy = [w for w in pool if w.entry is not None]
            ready = set(wait([w.conn for w in busy], timeout=POLL_SECONDS))
            for i, w in enumerate(pool):
                if w.entry is None:
                    continue
                limit, result = None, None
                if w.conn in ready:
                    try:
                        while w.conn.poll():
                            message = w.conn.recv()
                            if message[0] == "progress":
                                w.progress = message[1:]
                            elif message[0] == "done":
                                result = message[1]
                                break
                            elif message[0] == "error":
                                raise message[1]
                            elif message[0] == "memory":
                                limit = "memory"
                                break
                    except (EOFError, OSError):
                        limit = "died"
                if result is None and limit is None:
                    w.peak_mb = max(w.peak_mb, resident_mb(w.process.pid))
                    elapsed = time.monotonic() - w.started
                    if budget.timeout_s and elapsed > budget.timeout_s:
                        limit = "time"
                    elif budget.memory_mb and w.peak_mb > budget.memory_mb:
                        limit = "memory"
                    elif not w.process.is_alive():
                        limit = "died"
                entry = w.entry
                if result is not None:
                    w.entry = None
                    yield entry, result
                elif limit is not None:
                    w.process.kill()
                    w.process.join(5)
                    w.conn.close()
                    reason = over_budget_reason(limit, budget, w, time.monotonic() - w.started)
                    pool[i] = _spawn(context, budget)
                    doc = quarantine_over_budget(lake, entry, reason, limit, budget)
                    yield entry, ("quarantined", reason, doc)
    finally:
        for w in pool:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in pool:
            w.process.join(2)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2)
            w.conn.close()
