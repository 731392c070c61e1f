"""The lake: per-document parse results (Parquet frames + a JSON document row) beside the
warehouse, plus the registry of source files. It is the source of truth the warehouse is built
from, and what makes re-runs incremental: a document whose bytes and parser version are unchanged
is never parsed again.

Layout for warehouse ``data/warehouse.duckdb``::

    data/warehouse.lake/registry.parquet      source files seen: path → sha256, doc_id, partition key
    data/warehouse.lake/registry.log          the entries registered since (``lake_registry.py``)
    data/warehouse.lake/documents_summaries.parquet  a cache: each document's summary and state by file signature
    data/warehouse.lake/documents.journal     the documents changed since (``lake_index.py``)
    data/warehouse.lake/docs/<doc_id>/document.json
    data/warehouse.lake/docs/<doc_id>/<table>.parquet

Every write goes to a temporary name that starts with a dot and carries the writer's pid, and is
renamed into place: readers (and a run that follows a killed one) see the old or the new result,
never half of one. Names starting with a dot are never read as results; ``clean_stale_temp``
removes those left behind by dead processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.parse import ParsedDocument
from pipelines.publish.lake_index import (  # noqa: F401
    INDEX_NAME,
    INDEX_VERSION,
    DocumentIndex,
    Journal,
    entry_row,
    file_signature,
    signature_of,
)
from pipelines.publish.lake_registry import EntriesByKey, Registry, SourceEntry
from pipelines.read.dispatch import doc_id_for


def lake_dir_for(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.stem + ".lake")


def partition_key_for(path: Path, sha256: str) -> str:
    """A readable, stable Dagster partition key: the file name and the start of its hash."""
    stem = re.sub(r"[\x00-\x1f,\[\]*]|\.\.\.", "", Path(path).stem).strip()
    stem = re.sub(r"\s+", "_", stem)[:60]
    return f"{stem}-{sha256[:8]}"


def temp_prefix(name: str) -> str:
    """Prefix of a temporary file or folder: hidden, and tagged with the writer's pid so that a
    later run can tell leftovers of a dead process from the work of a live one. The pid carries a
    ``pid`` marker: a bare number in a name (a run id of eight digits, a year) is not a writer."""
    return f".{name}.pid{os.getpid()}."


_TEMP_PID = re.compile(r"^\..*?\.pid(\d+)\.")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale_temp(path: Path) -> bool:
    """A hidden temporary name whose writer (the pid in its name) is no longer running."""
    m = _TEMP_PID.match(path.name)
    return bool(m) and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1)))


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> tuple[int, int, int]:
    """``text`` written to ``path`` by a rename; returns the file's signature (inode, mtime, size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path.name), suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
        signature = signature_of(os.fstat(f.fileno()))
    os.replace(tmp, path)
    return signature


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (released by the kernel if the holder dies, even by kill -9)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class Lake:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.docs = self.root / "docs"

    # -- registry of source files -------------------------------------------------------------

    @property
    def registry_path(self) -> Path:
        """The registry's base file (``lake_registry.py``: beside it, the log of its changes)."""
        return self.root / "registry.parquet"

    def registry_store(self) -> Registry:
        key = str(self.root.resolve())
        store = _known_registries.get(key)
        if store is None:
            store = _known_registries[key] = Registry(key, self.registry_lock)
        return store

    def registry_frame(self) -> pl.DataFrame:
        """Every registered file (``lake_registry.SCHEMA``), by path: what a run reads of the whole
        registry (the derivation's newness order, the fingerprint)."""
        return self.registry_store().frame()

    def registry_entries(self, paths) -> dict[str, SourceEntry]:
        """Source path → entry, for those of ``paths`` that are registered."""
        return self.registry_store().entries(str(p) for p in paths)

    def register_entries(self, entries: list[SourceEntry]) -> None:
        """These entries written (the caller holds ``registry_lock``): a line each in the registry's
        log, not the whole registry."""
        self.registry_store().write({e.source_file: e for e in entries})

    def registry(self) -> dict[str, SourceEntry]:
        """Every source path → entry, as a new dict (the entries are frozen). Proportional to the
        registry: a run uses ``registry_entries`` and ``registry_frame``; this is for tools and tests."""
        return self.registry_store().all_entries()

    def save_registry(self, entries: dict[str, SourceEntry]) -> None:
        """The registry replaced by exactly ``entries`` (the caller holds ``registry_lock``). Writes
        every entry: a run registers through ``register_entries``."""
        self.registry_store().replace_all(entries)

    @contextlib.contextmanager
    def registry_lock(self) -> Iterator[None]:
        """Held around read-modify-write of the registry (the CLI and the sensor may register at once)."""
        with file_lock(self.root / ".registry.lock"):
            yield

    @contextlib.contextmanager
    def publish_lock(self) -> Iterator[None]:
        """Held while the combined tables are written and while they are loaded into DuckDB, so a
        publish reads one complete set of tables even when two runs overlap."""
        with file_lock(self.root / ".publish.lock"):
            yield

    def by_partition_key(self) -> EntriesByKey:
        """partition key → entry, looked up as asked (``lake_registry.EntriesByKey``)."""
        return EntriesByKey(self.registry_frame())

    # -- parsed documents ---------------------------------------------------------------------

    def doc_dir(self, doc_id: str) -> Path:
        return self.docs / doc_id

    def document(self, doc_id: str) -> dict | None:
        p = self.doc_dir(doc_id) / "document.json"
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:  # never parsed, or being replaced by another run this instant
            return None
        except (ValueError, UnicodeDecodeError):  # damaged on disk: as if never parsed (it is parsed again)
            return None

    def is_intact(self, doc_id: str, doc: dict | None = None) -> bool:
        """The document's result is whole on disk: its row, and a Parquet file with both magic
        markers for every table it lists (a truncated or missing file is parsed again)."""
        doc = self.document(doc_id) if doc is None else doc
        if doc is None:
            return False
        folder = self.doc_dir(doc_id)
        for table in doc.get("row_counts") or {}:
            try:
                with open(folder / f"{table}.parquet", "rb") as f:
                    head = f.read(4)
                    f.seek(-4, os.SEEK_END)
                    if head != b"PAR1" or f.read(4) != b"PAR1":
                        return False
            except OSError:  # missing, or shorter than its markers
                return False
        return True

    def is_current(self, sha256: str, parser_version: str) -> bool:
        doc = self.document(doc_id_for(sha256))
        return bool(doc) and doc.get("sha256") == sha256 and doc.get("parser_version") == parser_version

    def write(self, parsed: ParsedDocument, *, doc_id: str | None = None, extra: dict | None = None) -> Path:
        """Replace the document's directory atomically: readers see the old or the new result.
        ``doc_id`` / ``extra`` override the id and fields of the document row (duplicate records)."""
        from pipelines.publish.faults import checkpoint, stage

        doc_id = doc_id or parsed.doc_id
        with stage(f"the lake write of {Path(parsed.source_file).name}"):
            self.docs.mkdir(parents=True, exist_ok=True)
            final = self.doc_dir(doc_id)
            staging = Path(tempfile.mkdtemp(dir=self.docs, prefix=temp_prefix(doc_id)))
            try:
                for name, df in parsed.frames.items():
                    df.write_parquet(staging / f"{name}.parquet")
                row = parsed.document_row()
                row["doc_id"] = doc_id
                row["parsed_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
                row["notes"] = parsed.notes[:200]
                row["row_counts"] = parsed.row_counts()
                row["member_units"] = parsed.member_units()
                row.update(extra or {})
                text = json.dumps(row, ensure_ascii=False, indent=1)
                (staging / "document.json").write_text(text, encoding="utf-8")
                checkpoint("lake.write")
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)  # a full disk leaves no half result behind
                raise
            self._swap_in(staging, final)
            self.note_changed(doc_id)
        return final

    def _swap_in(self, staging: Path, final: Path) -> None:
        if final.exists():
            trash = self.docs / f".trash.{final.name}.pid{os.getpid()}.{time.monotonic_ns()}"
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(staging, final)
        except OSError:
            # Another run wrote the same document in between (same bytes, same parser): keep theirs.
            shutil.rmtree(staging, ignore_errors=True)

    def update_document(self, doc_id: str, **fields) -> None:
        """Change fields of a document row in place (e.g. the path of a moved file)."""
        p = self.doc_dir(doc_id) / "document.json"
        row = json.loads(p.read_text(encoding="utf-8"))
        row.update(fields)
        atomic_write_text(p, json.dumps(row, ensure_ascii=False, indent=1))
        self.note_changed(doc_id)

    def quarantine_document(self, doc_id: str, **fields) -> None:
        """Replace a document's result by its document row alone, with ``fields`` changed (status,
        reason): its facts leave the lake, atomically, and the row says why."""
        row = self.document(doc_id)
        if row is None:
            return
        row.update(fields)
        staging = Path(tempfile.mkdtemp(dir=self.docs, prefix=temp_prefix(doc_id)))
        (staging / "document.json").write_text(json.dumps(row, ensure_ascii=False, indent=1), encoding="utf-8")
        self._swap_in(staging, self.doc_dir(doc_id))
        self.note_changed(doc_id)

    def remove(self, doc_id: str) -> None:
        final = self.doc_dir(doc_id)
        if final.exists():
            trash = self.docs / f".trash.{doc_id}.pid{os.getpid()}.{time.monotonic_ns()}"
            os.replace(final, trash)
            self.note_changed(doc_id)
            shutil.rmtree(trash, ignore_errors=True)

    def clean_stale_temp(self) -> list[Path]:
        """Remove temporary files and folders left by processes that died (kill -9, power loss)."""
        removed = []
        for folder in (self.root, self.docs, self.root / "tables"):
            if not folder.is_dir():
                continue
            with os.scandir(folder) as found:  # names first: 42,000 Paths for the docs folder cost 0.2 s
                hidden = [folder / e.name for e in found if e.name.startswith(".")]
            for p in hidden:
                if is_stale_temp(p):
                    remove_path(p)
                    removed.append(p)
        return removed

    def documents(self) -> list[dict]:
        """Every document row, by doc_id. Each ``document.json`` is read once per process and
        version (``_known_rows``: later calls look at its file's signature only). The rows returned
        are shared: callers read them and never change them."""
        if not self.docs.exists():
            return []
        known = _known_rows.setdefault(str(self.root.resolve()), {})
        out = []
        for name, signature in self._signatures():
            cached = known.get(name)
            if cached is None or cached[0] != signature:
                doc = self.document(name)
                if not doc:
                    continue
                cached = known[name] = (signature, doc)
            out.append(cached[1])
        return out

    def summaries(self) -> list[tuple[dict, str]]:
        """Every document as (its row's ``SUMMARY_FIELDS``, its state), by doc_id. Kept in
        ``documents_summaries.parquet`` beside the registry, with the journal of the documents
        changed since (``lake_index.py``), so that a call reads only the rows that changed, not the
        whole lake's (42,000 documents: ~4 s of reading, 0.3 s of ``stat``). The list is shared by
        the calls of a process until the lake changes: callers read it and never change it. A run
        of a few documents reads ``summary_frame`` and ``summaries_of`` instead (no 42,000 dicts)."""
        return self.index().summaries()

    def summary_frame(self) -> pl.DataFrame:
        """Every document's index row (``lake_index.LIGHT_SCHEMA``: doc_id, state, source_file,
        sha256 …), by doc_id."""
        return self.index().frame()

    def summaries_of(self, doc_ids) -> dict[str, dict]:
        """doc_id → summary, for these documents (those in the lake)."""
        return self.index().summaries_of(sorted(set(doc_ids)))

    def index(self) -> DocumentIndex:
        key = str(self.root.resolve())
        index = _known_summaries.get(key)
        if index is None:
            index = _known_summaries[key] = DocumentIndex(key, os.path.join(key, "docs"), self._summary_entry)
        return index

    def _summary_entry(self, doc_id: str) -> dict | None:
        signature = file_signature(os.path.join(str(self.docs), doc_id, "document.json"))
        doc = self.document(doc_id) if signature is not None else None
        if not doc:
            return None
        return entry_row(doc_id, signature, _state_of(doc), {k: doc.get(k) for k in SUMMARY_FIELDS})

    def note_changed(self, *doc_ids: str) -> None:
        """Record in the journal that these documents' folders changed (``lake_index.py``)."""
        Journal(str(self.root)).note(list(doc_ids))

    def _signatures(self) -> list[tuple[str, tuple]]:
        """(doc_id, signature of its document.json) for every document folder. A row is always
        rewritten as a new file renamed into place (``atomic_write_text``, ``_swap_in``): another
        inode, or another modification time."""
        with os.scandir(self.docs) as entries:
            names = sorted(e.name for e in entries if not e.name.startswith("."))
        out = []
        docs = str(self.docs)
        for name in names:
            signature = file_signature(os.path.join(docs, name, "document.json"))  # strings: Path joins cost 4 s
            if signature is not None:  # None: never parsed, or being replaced by another run this instant
                out.append((name, signature))
        return out

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def table_files(self, table: str) -> list[Path]:
        return sorted(self.docs.glob(f"[!.]*/{table}.parquet"))

    def document_states(self, docs: list[dict] | None = None) -> dict[str, str]:
        """doc_id → a hash of its document row as stored (parse time, status, reason, row counts,
        path): incremental publishing reloads exactly the documents whose state changed."""
        if docs is None:
            frame = self.summary_frame()
            return dict(zip(frame["doc_id"].to_list(), frame["state"].to_list(), strict=True))
        return {d["doc_id"]: _state_of(d) for d in docs}

    def fingerprint(self) -> str:
        """Changes whenever any document result changes: the warehouse records the fingerprint it
        was built from, so a run with nothing new can skip publishing. Computed once per state of
        the index and the registry (a run asks for it several times)."""
        index, registry = self.index(), self.registry_frame()
        frame = index.frame()
        key = (index.generation, derivation_fingerprint())
        cached = _known_fingerprints.get(str(self.root.resolve()))
        if cached is not None and cached[0] == key and cached[2] is frame and cached[3] is registry:
            return cached[1]
        h = hashlib.sha256()
        h.update("".join(frame["fp"].to_list()).encode())  # doc_id|parser_version|parsed_at|status|source_file
        # What derives the published tables from the documents (units, canonical documents, the
        # alias file) is part of what the warehouse was built from.
        h.update(key[1].encode())
        # The registry decides which version of a file is current; its sizes and mtimes do not.
        h.update("".join(
            registry.select(pl.concat_str(["source_file", "sha256", "registered_at"], separator="|"))
            .to_series().to_list()
        ).encode())  # fmt: skip
        _known_fingerprints[str(self.root.resolve())] = (key, h.hexdigest()[:16], frame, registry)
        return h.hexdigest()[:16]


# Document rows already read by this process: lake root → doc_id → (signature of its
# document.json, the row). See ``Lake.documents``.
_known_rows: dict[str, dict[str, tuple[tuple, dict]]] = {}
# The registry as this process knows it: lake root → its store (``lake_registry.py``).
_known_registries: dict[str, Registry] = {}
# The same for ``Lake.summaries``: lake root → its index (``lake_index.py``).
_known_summaries: dict[str, DocumentIndex] = {}
# ``Lake.fingerprint`` as last computed: lake root → (what it was computed from, fingerprint, the
# index frame and registry frame it hashed).
_known_fingerprints: dict[str, tuple] = {}
# The fields of a document row that publishing reads of every document (``Lake.summaries``).
SUMMARY_FIELDS = (
    "doc_id", "source_file", "sha256", "doc_kind", "scope", "unit_name", "fiscal_year", "page_count", "status",
    "error", "title", "source_format", "parser_version", "parsed_at", "parse_seconds", "superseded_by", "unit_key",
    "duplicate_of", "canonical_doc_id", "registered_at", "mtime", "row_counts", "member_units",
)  # fmt: skip


def _state_of(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


_DERIVATION_SOURCES = ("combine.py", "derive.py", "units.py", "canonical.py", "versions.py")


def derivation_fingerprint() -> str:
    """A hash of the code and data that derive the combined tables (and the warehouse's SQL) from the
    documents' results: a change to any of them makes the next run publish again. Hashed again
    only when one of the files' signatures changed."""
    here = Path(__file__).resolve().parent
    root = here.parents[1]
    extra = [root / "data" / "unit_aliases.csv", root / "sql" / "tables.sql", root / "sql" / "views.sql"]
    paths = [here / name for name in _DERIVATION_SOURCES] + extra
    signatures = tuple(file_signature(str(p)) for p in paths)
    if _derivation_cache and _derivation_cache[0] == signatures:
        return _derivation_cache[1]
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes() if path.exists() else b"-")
    _derivation_cache[:] = [signatures, h.hexdigest()[:16]]
    return _derivation_cache[1]


_derivation_cache: list = []
