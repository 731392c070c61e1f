"""Registration of source files and the per-document step the Dagster asset calls.

Kept free of Dagster imports so the CLI, the sensor and the tests share one implementation."""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest import PARSER_VERSION, ParsedDocument, doc_id_for, parse_document
from pipelines.lake import Lake, SourceEntry, partition_key_for
from pipelines.readers.dispatch import SUPPORTED_SUFFIXES, sha256_file
from pipelines.versions import duplicate_doc_id

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_INBOX = PROJECT_ROOT / "data" / "inbox"


def default_warehouse() -> Path:
    return Path(os.environ.get("BUDGETWH_WAREHOUSE") or DEFAULT_WAREHOUSE)


def default_inbox() -> Path:
    """The folder the sensor and the nightly schedule watch (``BUDGETWH_INBOX``, default data/inbox)."""
    return Path(os.environ.get("BUDGETWH_INBOX") or DEFAULT_INBOX)


def default_dagster_home(warehouse: Path) -> Path:
    """Each warehouse keeps its Dagster instance beside it unless DAGSTER_HOME says otherwise."""
    return Path(os.environ.get("DAGSTER_HOME") or Path(warehouse).resolve().parent / "dagster_home")


def iter_source_files(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths that budgetwh reads (PDF, .txt, .md), in a stable order.
    Unsupported files named explicitly are returned too, so they are quarantined, not ignored."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(
                f for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and not f.name.startswith(".")
            )  # fmt: skip
        elif p.exists():
            out.append(p)
    return out


@dataclass(frozen=True, slots=True)
class Registration:
    entries: list[SourceEntry]  # every file of this call, in order
    new_keys: list[str]  # partition keys that need work (new bytes, a new parser, a copy or a move to record)
    fresh_keys: list[str]  # the subset that is new to the lake: bytes never parsed, copies, moves (not re-parses)


def register_sources(lake: Lake, files: Iterable[Path]) -> Registration:
    """Record the files in the lake registry (hashing only files whose size or mtime changed) and
    say which need work."""
    with lake.registry_lock():
        registry = lake.registry()
        entries: list[SourceEntry] = []
        changed = False
        now = datetime.datetime.now().isoformat(timespec="microseconds")
        for f in files:
            f = Path(f).resolve()
            st = f.stat()
            key = str(f)
            known = registry.get(key)
            if known and known.size == st.st_size and known.mtime == st.st_mtime:
                entry = known
            else:
                sha = sha256_file(f)
                entry = SourceEntry(
                    source_file=key, sha256=sha, doc_id=doc_id_for(sha), partition_key=partition_key_for(f, sha),
                    size=st.st_size, mtime=st.st_mtime,
                    registered_at=known.registered_at if known and known.sha256 == sha else now,
                )  # fmt: skip
                registry[key] = entry
                changed = True
            entries.append(entry)
        if changed:
            lake.save_registry(registry)
    new_keys: list[str] = []
    fresh_keys: list[str] = []
    for e in entries:
        action = plan_entry(lake, e, registry)
        if action != "current" and e.partition_key not in new_keys:
            new_keys.append(e.partition_key)
            if action != "reparse":
                fresh_keys.append(e.partition_key)
    return Registration(entries=entries, new_keys=new_keys, fresh_keys=fresh_keys)


def _owner_alive(owner_path: str, sha256: str, registry: dict[str, SourceEntry]) -> bool:
    """The path that owns a document still holds those bytes (so another path is a copy, not a move)."""
    known = registry.get(owner_path)
    return known is not None and known.sha256 == sha256 and Path(owner_path).exists()


def plan_entry(lake: Lake, entry: SourceEntry, registry: dict[str, SourceEntry] | None = None) -> str:
    """What a registered file needs: ``current`` (nothing), ``parse`` (bytes never parsed),
    ``reparse`` (parsed by another parser version), ``duplicate`` (a byte-identical copy of a file
    loaded under another path: record it) or ``adopt`` (the owning path is gone: the file moved)."""
    registry = lake.registry() if registry is None else registry
    owner = lake.document(entry.doc_id)
    if owner is None:
        return "parse"
    if owner.get("source_file") != entry.source_file:
        if _owner_alive(owner["source_file"], entry.sha256, registry):
            record = lake.document(duplicate_doc_id(entry.sha256, entry.source_file))
            fresh = record and record.get("parser_version") == PARSER_VERSION and record.get("sha256") == entry.sha256
            return "current" if fresh else "duplicate"
        return "adopt"
    if owner.get("parser_version") != PARSER_VERSION or owner.get("sha256") != entry.sha256:
        return "reparse"
    return "current"


def document_for(lake: Lake, entry: SourceEntry) -> dict:
    """The document row that describes this path: its duplicate record if it is a copy."""
    dup = lake.document(duplicate_doc_id(entry.sha256, entry.source_file))
    if dup and dup.get("sha256") == entry.sha256 and dup.get("source_file") == entry.source_file:
        return dup
    return lake.document(entry.doc_id) or {}


def parse_entry(lake: Lake, entry: SourceEntry, *, force: bool = False) -> tuple[ParsedDocument | None, dict]:
    """Bring one registered file up to date in the lake: parse it unless its result is current,
    record a copy as a duplicate, follow a moved file. Returns the parse (None when nothing was
    parsed) and the document row now in the lake for this path."""
    action = "parse" if force else plan_entry(lake, entry)
    if action == "current":
        return None, document_for(lake, entry)
    if action == "duplicate":
        return None, record_duplicate(lake, entry)
    if action == "adopt":
        lake.update_document(entry.doc_id, source_file=entry.source_file)
        lake.remove(duplicate_doc_id(entry.sha256, entry.source_file))
        return None, lake.document(entry.doc_id) or {}
    parsed = parse_document(Path(entry.source_file), entry.sha256)
    lake.write(parsed, extra={"registered_at": entry.registered_at, "mtime": entry.mtime})
    lake.remove(duplicate_doc_id(entry.sha256, entry.source_file))
    return parsed, lake.document(entry.doc_id) or {}


def record_duplicate(lake: Lake, entry: SourceEntry) -> dict:
    """List a byte-identical copy as quarantined, naming the original; nothing is loaded twice."""
    owner = lake.document(entry.doc_id) or {}
    original = owner.get("source_file", "?")
    reason = (
        f"Duplicate: this file has exactly the same bytes as {Path(original).name} ({original}, doc_id {entry.doc_id})"
    )
    if owner.get("status") == "quarantined":
        reason += f", which could not be loaded either: {owner.get('error')}"
    else:
        reason += ", which is already ingested; the copy is not loaded a second time."
    record = ParsedDocument(
        doc_id=entry.doc_id, source_file=entry.source_file, sha256=entry.sha256, status="quarantined",
        error=reason, info=None, page_count=owner.get("page_count"), source_format=owner.get("source_format"),
        parse_seconds=0.0,
    )  # fmt: skip
    dup_id = duplicate_doc_id(entry.sha256, entry.source_file)
    extra = {k: owner.get(k) for k in ("doc_kind", "scope", "unit_name", "fiscal_year", "title")}
    lake.write(record, doc_id=dup_id, extra={**extra, "duplicate_of": entry.doc_id})
    return lake.document(dup_id) or {}


# ---------------------------------------------------------------------------------------------
# Parsing many documents: a pool of worker processes


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
    context.set_forkserver_preload(["pipelines.ingest", "pipelines.jobs"])
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
) -> Iterator[EntryOutcome]:
    """``parse_entry`` for every entry, in worker processes when more than one document needs
    parsing. Each document's result is written to the lake by whoever parsed it (atomically, per
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


# ---------------------------------------------------------------------------------------------
# What a run did, for the person who started it


@dataclass
class IngestResult:
    success: bool
    warehouse: Path
    job_name: str
    run_id: str
    seconds: float
    documents: list[dict] = field(default_factory=list)  # this call's files, with their state
    views: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)  # expectations that did not pass
    report: Path | None = None
    error: str | None = None

    @property
    def quarantined(self) -> list[dict]:
        return [d for d in self.documents if d["status"] == "quarantined"]

    def summary(self) -> str:
        loaded = [d for d in self.documents if d["status"] == "loaded" and d["parsed_now"]]
        unchanged = [d for d in self.documents if d["status"] == "loaded" and not d["parsed_now"]]
        superseded = [d for d in self.documents if d["status"] == "superseded"]
        counts = f"{len(loaded)} loaded, {len(unchanged)} unchanged, {len(self.quarantined)} quarantined"
        if self.job_name == NOTHING_NEW:
            head = (
                f"budgetwh ingest: nothing new — every file is current and the warehouse is up to date "
                f"(checked in {self.seconds:.1f}s, no run launched) → {self.warehouse}"
            )
        else:
            head = (
                f"budgetwh ingest: run {self.run_id[:8]} ({self.job_name}) "
                f"{'succeeded' if self.success else 'FAILED'} in {self.seconds:.1f}s → {self.warehouse}"
            )
        lines = [
            head,
            f"documents: {counts}" + (f", {len(superseded)} superseded" if superseded else ""),
        ]
        for d in self.quarantined:
            lines.append(f"  quarantined {Path(d['source_file']).name}: {d['error']}")
        for d in superseded:
            lines.append(f"  superseded {Path(d['source_file']).name}: a newer version of it is loaded")
        if self.views:
            lines.append("rows: " + ", ".join(f"{k} {v}" for k, v in self.views.items()))
        if self.findings:
            lines.append("quality findings: " + ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())))
        for check in self.failed_checks:
            lines.append(f"  check {check}")
        if self.report:
            lines.append(f"quality report: {self.report}")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


def _current_statuses(warehouse: Path) -> dict[str, str]:
    """doc_id → status as published (a loaded version may since have been superseded)."""
    from pipelines.warehouse import run_query

    if not warehouse.exists():
        return {}
    try:
        return dict(run_query(warehouse, "SELECT doc_id, status FROM documents")[1])
    except Exception:  # an old warehouse without the view: fall back to the lake's statuses
        return {}


def summarize(
    lake: Lake,
    warehouse: Path,
    entries: list[SourceEntry],
    parsed_before: dict[str, str | None],
    *,
    success: bool,
    job_name: str,
    run_id: str,
    seconds: float,
    error: str | None = None,
) -> IngestResult:
    """The state of this call's files, the published views and the checks after a run."""
    from pipelines.combine import tables_dir
    from pipelines.quality import load_outcomes
    from pipelines.warehouse import row_counts, run_query

    docs = []
    statuses = _current_statuses(warehouse)
    for e in entries:
        doc = document_for(lake, e)
        doc_id = doc.get("doc_id", e.doc_id)
        docs.append(
            {
                "source_file": e.source_file,
                "doc_id": doc_id,
                "status": statuses.get(doc_id) or doc.get("status", "not parsed"),
                "error": doc.get("error"),
                "parsed_now": parsed_before.get(e.source_file) != doc.get("parsed_at"),
            }
        )
    outcomes = load_outcomes(tables_dir(lake) / "_validation.json")
    failed_checks = [
        f"{'BLOCKED PUBLISH' if o.blocks_publish else 'warning'}: {o.summary()}"
        for results in outcomes.values()
        for o in results
        if not o.success
    ]
    report = warehouse.parent / "reports" / "latest.html"
    views: dict[str, int] = {}
    findings: dict[str, int] = {}
    if warehouse.exists():
        views = row_counts(warehouse)
        _, rows = run_query(
            warehouse, "SELECT status || CASE WHEN status = 'FAIL' THEN ' (' || severity || ')' ELSE '' END, count(*) "
            "FROM quality_findings GROUP BY ALL"
        )  # fmt: skip
        findings = {k: v for k, v in rows}
    return IngestResult(
        success=success, warehouse=warehouse, job_name=job_name, run_id=run_id, seconds=seconds, documents=docs,
        views=views, findings=findings, error=error, failed_checks=failed_checks,
        report=report if report.exists() else None,
    )  # fmt: skip


NOTHING_NEW = "nothing new"


def ingest_if_nothing_new(paths: list[Path], warehouse: Path) -> IngestResult | None:
    """The no-op night, without starting Dagster: when every file is registered with bytes and
    parser version already in the lake, and the warehouse was built from exactly this lake, there
    is nothing to parse and nothing to publish. Returns the summary, or None when there is work
    (then the job runs)."""
    from pipelines.combine import built_fingerprint
    from pipelines.lake import lake_dir_for
    from pipelines.warehouse import read_meta

    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    lake_root = lake_dir_for(warehouse)
    if not warehouse.exists() or not lake_root.exists():
        return None
    lake = Lake(lake_root)
    registration = register_sources(lake, iter_source_files(paths))
    if registration.new_keys:
        return None
    built = built_fingerprint(lake)
    if not built or built != lake.fingerprint() or read_meta(warehouse, "lake_fingerprint") != built:
        return None
    entries = registration.entries
    before = {e.source_file: document_for(lake, e).get("parsed_at") for e in entries}
    return summarize(
        lake, warehouse, entries, before, success=True, job_name=NOTHING_NEW, run_id="",
        seconds=time.perf_counter() - started,
    )  # fmt: skip
