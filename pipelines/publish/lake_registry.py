"""The registry of source files (path → ``SourceEntry``), stored so that a run reads and writes in
proportion to what it registers, not to the lake.

Two files beside the documents, both only ever replaced by a rename (a reader, a lake copied by
hard links, and a run that follows a killed one see a whole old or a whole new file):

- ``registry.parquet``: every entry as of a sequence number (its metadata), sorted by path;
- ``registry.log``: the entries changed since, one JSON line each (``{"seq", "path", "entry"}``;
  ``entry`` null: removed), in the order they were written.

A write (under the registry lock, ``Lake.registry_lock``) rewrites the log with its new lines, one
sequence number higher; once the log holds ``FOLD_AFTER`` lines it is folded: a new base with every
entry and the new sequence number, then an empty log. A reader reads the log first, then the base,
and applies the log's lines whose number is above the base's: whichever files it finds, it sees one
state the registry had (a fold between its two reads leaves lines the base already holds, and
they are skipped by their numbers). Within a process the registry is a Polars frame (42,000
entries: ~10 MB, against ~50 MB as a dict of entries), read again only when one of the two files'
signatures changed.

The JSON registry of earlier code (``registry.json``, rewritten whole by every registering run:
14 MB at 42,000 entries) is taken over once, under the lock, and removed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields

import polars as pl

from pipelines.publish.lake_index import file_signature, signature_of

BASE_NAME, LOG_NAME, LEGACY_NAME = "registry.parquet", "registry.log", "registry.json"
VERSION = 1
# Lines of the log past which it is folded into the base (a log of 2,000 entries is ~0.5 MB,
# rewritten by a registering run in a few ms; folding 42,000 entries costs ~0.1 s).
FOLD_AFTER = 2000

SCHEMA = {
    "source_file": pl.Utf8, "sha256": pl.Utf8, "doc_id": pl.Utf8, "partition_key": pl.Utf8, "size": pl.Int64,
    "mtime": pl.Float64, "registered_at": pl.Utf8,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SourceEntry:
    source_file: str
    sha256: str
    doc_id: str
    partition_key: str
    size: int
    mtime: float
    registered_at: str = ""  # when these bytes were first seen at this path (decides which version is newer)


ENTRY_FIELDS = tuple(f.name for f in fields(SourceEntry))


def entry_dict(entry: SourceEntry) -> dict:
    return {f: getattr(entry, f) for f in ENTRY_FIELDS}


@dataclass(frozen=True)
class _State:
    """The registry as read: every entry (by path) and the log's lines it includes."""

    frame: pl.DataFrame
    seq: int  # the highest sequence number it includes
    log_lines: list[dict]  # the log's lines above the base's number (what a write keeps)
    legacy: bool  # read from registry.json (not taken over yet)


class Registry:
    """One lake's registry, as this process knows it."""

    def __init__(self, root: str, lock: Callable[[], contextlib.AbstractContextManager]):
        self.root = root
        self.base_path = os.path.join(root, BASE_NAME)
        self.log_path = os.path.join(root, LOG_NAME)
        self.legacy_path = os.path.join(root, LEGACY_NAME)
        self._lock = lock
        self._key: tuple | None = None
        self._state: _State | None = None
        self._orders: pl.DataFrame | None = None

    # -- reading -------------------------------------------------------------------------------

    def frame(self) -> pl.DataFrame:
        """Every entry (``SCHEMA``), sorted by path; shared (never changed by callers)."""
        return self._read().frame

    def _files_key(self) -> tuple:
        return (file_signature(self.log_path), file_signature(self.base_path), file_signature(self.legacy_path))

    def _read(self) -> _State:
        key = self._files_key()
        if self._state is not None and key == self._key:
            return self._state
        for _attempt in range(5):  # a fold between the signatures and the reads: read again
            state = self._load()
            if self._files_key() == key:
                break
            key = self._files_key()
        self._key, self._state, self._orders = key, state, None
        return state

    def _load(self) -> _State:
        lines = self._log_lines()  # the log first, then the base (the module docstring says why)
        try:
            meta = json.loads(pl.read_parquet_metadata(self.base_path).get("budgetwh") or "{}")
            base, seq, legacy = pl.read_parquet(self.base_path).cast(SCHEMA), int(meta.get("seq", 0)), False  # type: ignore[arg-type]
        except FileNotFoundError:
            base, seq, legacy = self._legacy_frame(), 0, True
        lines = [line for line in lines if line["seq"] > seq]
        return _State(_apply(base, lines), max([seq, *(line["seq"] for line in lines)]), lines, legacy)

    def _log_lines(self) -> list[dict]:
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def _legacy_frame(self) -> pl.DataFrame:
        try:
            with open(self.legacy_path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return pl.DataFrame(schema=SCHEMA)
        return _frame(list(data.values()))

    def entries(self, paths: Iterable[str]) -> dict[str, SourceEntry]:
        """path → entry, for those of these paths that are registered (one filter of the frame)."""
        wanted = sorted(set(paths))
        if not wanted:
            return {}
        found = self.frame().filter(pl.col("source_file").is_in(wanted))
        return {row["source_file"]: SourceEntry(**row) for row in found.iter_rows(named=True)}

    def all_entries(self) -> dict[str, SourceEntry]:
        return {row["source_file"]: SourceEntry(**row) for row in self.frame().iter_rows(named=True)}

    def orders(self) -> pl.DataFrame:
        """source_file, sha256 and the place in the newness order (``lake_index.order_text``) of
        every entry, formatted as Python formats them (``repr`` of the mtime), once per state."""
        from pipelines.publish.lake_index import order_text

        frame = self.frame()
        if self._orders is None:
            order = [order_text(r, m) for r, m in zip(frame["registered_at"], frame["mtime"], strict=True)]
            self._orders = pl.DataFrame(
                {"source_file": frame["source_file"], "reg_sha": frame["sha256"], "reg_order": order},
                schema={"source_file": pl.Utf8, "reg_sha": pl.Utf8, "reg_order": pl.Utf8},
            )
        return self._orders

    # -- writing (the caller holds the registry lock) -------------------------------------------

    def write(self, changes: Mapping[str, SourceEntry | None]) -> None:
        """These paths' entries set (None: removed). Costs the log, not the registry, until a fold."""
        if not changes:
            return
        state = self._read()
        if state.legacy and os.path.exists(self.legacy_path):
            self._fold(_apply(state.frame, _lines(changes, state.seq + 1)), state.seq + 1)
            os.unlink(self.legacy_path)  # taken over
            return
        lines = [*state.log_lines, *_lines(changes, state.seq + 1)]
        if len(lines) >= FOLD_AFTER:
            self._fold(_apply(state.frame, lines[len(state.log_lines) :]), state.seq + 1)
        else:
            _replace_file(self.log_path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))

    def replace_all(self, entries: Mapping[str, SourceEntry]) -> None:
        """Exactly these entries (every other removed): a new base."""
        state = self._read()
        self._fold(_frame([entry_dict(e) for e in entries.values()]), state.seq + 1)
        if os.path.exists(self.legacy_path):
            os.unlink(self.legacy_path)

    def take_over(self, *, keep_legacy: bool = False) -> None:
        """The JSON registry of earlier code written as the base (once; the caller holds the lock).
        ``keep_legacy``: leave registry.json in place (for earlier code that reads the same lake)."""
        state = self._read()
        if state.legacy and os.path.exists(self.legacy_path):
            self._fold(state.frame, state.seq + 1)
            if not keep_legacy:
                os.unlink(self.legacy_path)

    def _fold(self, frame: pl.DataFrame, seq: int) -> None:
        tmp = os.path.join(self.root, f".{BASE_NAME}.pid{os.getpid()}.tmp")
        try:
            frame.sort("source_file").write_parquet(
                tmp, metadata={"budgetwh": json.dumps({"version": VERSION, "seq": seq})}
            )
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.base_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _replace_file(self.log_path, "")  # after the base: a reader of the old log skips its lines by number


def _lines(changes: Mapping[str, SourceEntry | None], seq: int) -> list[dict]:
    return [
        {"seq": seq, "path": path, "entry": None if e is None else entry_dict(e)} for path, e in sorted(changes.items())
    ]


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA).with_columns(pl.col("registered_at").fill_null(""))


def _apply(base: pl.DataFrame, lines: list[dict]) -> pl.DataFrame:
    """``base`` with the log's lines applied in order (the last line of a path wins)."""
    if not lines:
        return base
    last = {line["path"]: line["entry"] for line in lines}
    kept = base.filter(~pl.col("source_file").is_in(sorted(last)))
    added = _frame([e for e in last.values() if e is not None])
    return pl.concat([kept, added]).sort("source_file")


def _replace_file(path: str, text: str) -> None:
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.pid{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class EntriesByKey(Mapping):
    """partition key → entry, looked up in the registry's frame as asked (a run asks for its few
    partitions: no dict of 42,000 entries)."""

    def __init__(self, frame: pl.DataFrame):
        self._frame = frame
        self._found: dict[str, SourceEntry | None] = {}

    def _lookup(self, key: str) -> SourceEntry | None:
        if key not in self._found:
            rows = self._frame.filter(pl.col("partition_key") == key).rows(named=True)
            self._found[key] = SourceEntry(**rows[-1]) if rows else None
        return self._found[key]

    def __getitem__(self, key: str) -> SourceEntry:
        found = self._lookup(key) if isinstance(key, str) else None
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._frame["partition_key"].to_list()))

    def __len__(self) -> int:
        return self._frame["partition_key"].n_unique()


__all__ = ["ENTRY_FIELDS", "EntriesByKey", "Registry", "SourceEntry", "entry_dict", "signature_of"]
