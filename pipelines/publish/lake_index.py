"""What publishing knows of every document of the lake without reading the lake: each document's
summary (``SUMMARY_FIELDS`` of its row) and state, kept in ``documents_summaries.parquet``, and
the journal that says which documents changed since. In memory the index is a Polars frame without
the summaries (read from the file when asked for): 11 MB for 42,000 documents, not 120 MB of dicts.

A run of 42,000 documents used to ``stat`` every ``document.json`` at every call of
``Lake.summaries`` (six a run, 0.3 s each) to learn which rows changed since the index was
written. Instead every change of a document folder made through ``Lake`` (``write``,
``update_document``, ``quarantine_document``, ``remove``) appends the doc_id to
``documents.journal`` after the change is in place (one ``write`` of a line to a file opened with
``O_APPEND``: whole, never interleaved with another process's line). The index records the journal
(a token written as its first line, and the offset it has read up to); a reader replays only the
lines after that offset, and a call costs one ``stat`` of the journal when nothing changed. So a
lake changed by another process during a run is seen at the next call, as before.

The index is checked against the folders themselves (a ``stat`` of every ``document.json``, as
before) when it cannot vouch for the lake: no index, an index of an older version, or a journal
other than the one it recorded (deleted, replaced). Folders added or removed without ``Lake``
(a lake copied into place, a folder deleted by hand) are found by the names of the folders, read
when the ``docs`` folder's modification time differs from the one the index recorded. A row edited
in place by hand is not seen: lake rows are changed through ``Lake`` (or the lake is re-verified
by removing ``documents_summaries.parquet``). A lake copied by hard links must copy the journal
(it is appended to in place; ``benchmarks/bench_incremental.working_copy``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable

import polars as pl

JOURNAL_NAME = "documents.journal"
_HEADER = "budgetwh-journal "
INDEX_VERSION = 5  # columnar (Parquet), with the journal's position and the docs folder's mtime
# Its own name: a lake written by earlier code keeps its documents_index.json (version 3, JSON, no
# journal), whose entries are taken once, checked against every folder, and kept here from then on.
INDEX_NAME = "documents_summaries.parquet"
LEGACY_INDEX = ("documents_index.json", 3)
# The index is rewritten once this many rows were read again since it was (rewriting the index
# of 42,000 documents at every run costs more than the next processes' reading those rows).
SAVE_AFTER_READS = 200
# The journal is compacted (``Journal.compact``) when the index is saved at its end past this size
# (17 bytes a document write: ~60,000 writes).
COMPACT_AFTER_BYTES = 1 << 20

# A document's entry, as a row: its document.json's signature, its state, what the fingerprint and the
# derivation's change detection read of it (``fp``, ``own_order``: formatted as Python formats them),
# and its summary (``SUMMARY_FIELDS`` of its row) as JSON.
FRAME_SCHEMA = {
    "doc_id": pl.Utf8, "ino": pl.Int64, "mtime_ns": pl.Int64, "size": pl.Int64, "state": pl.Utf8,
    "source_file": pl.Utf8, "sha256": pl.Utf8, "fp": pl.Utf8, "own_order": pl.Utf8, "summary": pl.Utf8,
}  # fmt: skip
LIGHT_COLUMNS = [c for c in FRAME_SCHEMA if c != "summary"]
LIGHT_SCHEMA = {c: FRAME_SCHEMA[c] for c in LIGHT_COLUMNS}
Signature = tuple


def entry_row(doc_id: str, signature: Signature, state: str, summary: dict) -> dict:
    """The index row of a document (FRAME_SCHEMA)."""
    return {
        "doc_id": doc_id, "ino": signature[0], "mtime_ns": signature[1], "size": signature[2], "state": state,
        "source_file": summary.get("source_file"), "sha256": summary.get("sha256"),
        "fp": f"{doc_id}|{summary.get('parser_version')}|{summary.get('parsed_at')}|{summary.get('status')}|"
              f"{summary.get('source_file')}",
        "own_order": order_text(summary.get("registered_at") or "", summary.get("mtime") or 0.0),
        "summary": json.dumps(summary, ensure_ascii=False),
    }  # fmt: skip


def order_text(registered_at: str, mtime: float) -> str:
    """A document's place in the newness order (``versions.py``) as text, for change detection."""
    return f"{registered_at}|{mtime!r}"


def file_signature(path: str) -> Signature | None:
    """inode, mtime and size of a file (not the ctime: a copy of the lake by hard links changes it,
    the content not); None when there is no such file."""
    try:
        return signature_of(os.stat(path))
    except OSError:
        return None


def signature_of(st: os.stat_result) -> Signature:
    """``file_signature`` of a file already stat-ed (or fstat-ed: a file being written)."""
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Journal:
    """``<lake>/documents.journal``: a token line, then one doc_id a line, appended. Once it has
    grown past ``COMPACT_AFTER_BYTES`` and the index has been saved at its end, it is replaced by
    an empty journal whose token line names the one it continues (``compact``): a reader at the
    end of the old journal goes on in the new one; a reader behind it checks every folder."""

    def __init__(self, root: str):
        self.path = os.path.join(root, JOURNAL_NAME)
        self.continues: tuple[str, int] | None = None  # (token, size) of the journal the one read continues

    def note(self, doc_ids: list[str]) -> None:
        if not doc_ids:
            return
        line = "".join(f"{d}\n" for d in doc_ids).encode()
        for _attempt in range(5):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            except FileNotFoundError:
                self._create()
                continue
            try:
                # shared: a compaction (exclusive) waits for the lines being written, and a line is
                # never written to a journal already replaced (its inode is no longer the path's)
                fcntl.flock(fd, fcntl.LOCK_SH)
                if os.fstat(fd).st_ino != _inode(self.path):
                    continue
                os.write(fd, line)
                return
            finally:
                os.close(fd)

    def _create(self) -> None:
        """A new journal with its token, linked into place (another process may create it first)."""
        tmp = f"{self.path}.pid{os.getpid()}.{secrets.token_hex(4)}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{_HEADER}{secrets.token_hex(8)}\n")
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)

    def position(self) -> tuple[str, int] | None:
        """(token, size) of the journal now, or None when there is none (``continues``: the journal
        it continues, if it was compacted)."""
        try:
            with open(self.path, "rb") as f:
                header = f.readline()
                size = os.fstat(f.fileno()).st_size
        except FileNotFoundError:
            return None
        text = header.decode(errors="replace")
        if not text.startswith(_HEADER) or not text.endswith("\n"):
            return ("damaged", size)
        token, *after = text[len(_HEADER) :].split()
        self.continues = (after[1], int(after[2])) if len(after) == 3 and after[0] == "after" else None
        return (token, size)

    def compact(self, token: str, size: int) -> tuple[str, int] | None:
        """The journal replaced by an empty one continuing it, if it is still ``token`` and ``size``
        long (nothing was noted since the index was saved at its end); returns the new position."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # no line being written meanwhile
            if os.fstat(fd).st_size != size or os.fstat(fd).st_ino != _inode(self.path):
                return None
            with os.fdopen(os.dup(fd), "rb") as f:
                if f.readline().decode(errors="replace")[len(_HEADER) :].split()[:1] != [token]:
                    return None
            new_token = secrets.token_hex(8)
            header = f"{_HEADER}{new_token} after {token} {size}\n"
            tmp = os.path.join(os.path.dirname(self.path), f".{JOURNAL_NAME}.pid{os.getpid()}.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(header)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            return (new_token, len(header.encode()))
        finally:
            os.close(fd)

    def read_from(self, offset: int) -> tuple[list[str], int]:
        """The doc_ids noted at or after ``offset`` (0: after the token line), and the offset read
        up to (a line still being written is left for the next call)."""
        with open(self.path, "rb") as f:
            if offset <= 0:
                f.readline()
            else:
                f.seek(offset)
            data = f.read()
            start = f.tell() - len(data)
        end = data.rfind(b"\n") + 1
        return data[:end].decode(errors="replace").split(), start + end


class DocumentIndex:
    """The summaries of one lake's documents, as this process knows them (see the module docstring):
    a frame of every document as the index file held it, and the rows read again since."""

    def __init__(self, root: str, docs: str, read_entry: Callable[[str], dict | None]):
        self.root, self.docs = root, docs
        self.path = os.path.join(root, INDEX_NAME)
        self.journal = Journal(root)
        self._read_entry = read_entry  # doc_id → its row (``entry_row``) from its folder, or None
        self._base = pl.DataFrame(schema=FRAME_SCHEMA)  # LIGHT_SCHEMA once read from or written to a file
        self._base_file = None  # that file, open: where the base rows' summaries are read from
        self._base_signatures: dict[str, Signature] | None = None
        self._lookups = 0  # base signatures looked up one by one (past 64: a dict of them all)
        self._overlay: dict[str, dict | None] = {}  # rows read since (None: the document is gone)
        self.journal_at: tuple[str, int] | None = None  # the journal position the entries include
        self.docs_mtime: int | None = None
        self.verified = False  # False: the entries must be checked against the folders
        self.generation = 0  # changes whenever the entries do (for the callers' caches)
        self.unsaved = 0  # rows read from their folders since the index file was read or written
        self._frame: pl.DataFrame | None = None
        self._summaries: list | None = None
        self._load()

    def _load(self) -> None:
        try:
            meta = json.loads(pl.read_parquet_metadata(self.path).get("budgetwh") or "{}")
            if meta.get("version") == INDEX_VERSION:
                self._base_file = open(self.path, "rb")  # noqa: SIM115  (the version read: its summaries, later)
                self._base = pl.read_parquet(self._base_file, columns=LIGHT_COLUMNS).cast(LIGHT_SCHEMA)
                self.journal_at = tuple(meta["journal"]) if meta.get("journal") else None
                self.docs_mtime = meta.get("docs_mtime")
                self.verified = True
                return
        except (OSError, ValueError, TypeError, KeyError, pl.exceptions.PolarsError):
            self._base = pl.DataFrame(schema=FRAME_SCHEMA)
        name, version = LEGACY_INDEX  # entries of earlier code: taken, then checked against every folder
        try:
            with open(os.path.join(self.root, name), encoding="utf-8") as f:
                data = json.load(f)
            if data.get("version") == version:
                rows = [entry_row(d, tuple(sig), state, row) for d, (sig, state, row) in data["documents"].items()]
                self._base = pl.DataFrame(rows, schema=FRAME_SCHEMA).sort("doc_id")
        except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
            self._base = pl.DataFrame(schema=FRAME_SCHEMA)  # none yet, or damaged: rebuilt from the folders

    def frame(self) -> pl.DataFrame:
        """Every document's row (LIGHT_SCHEMA: FRAME_SCHEMA without the summaries, which are read
        when asked for: ``summaries_of``), by doc_id, brought up to date with the journal."""
        self._update()
        if self.unsaved >= SAVE_AFTER_READS:
            self._save()
        if self._frame is None:
            kept = self._base.select(LIGHT_COLUMNS)
            if self._overlay:
                kept = kept.filter(~pl.col("doc_id").is_in(sorted(self._overlay)))
                rows = [r for r in self._overlay.values() if r is not None]
                kept = pl.concat([kept, pl.DataFrame(rows, schema=FRAME_SCHEMA).select(LIGHT_COLUMNS)]).sort("doc_id")
            self._frame = kept
        return self._frame

    def summaries_of(self, doc_ids: list[str]) -> dict[str, dict]:
        """doc_id → summary, for those of these documents the lake holds."""
        self._update()
        out = {d: json.loads(r["summary"]) for d in doc_ids if (r := self._overlay.get(d)) is not None}
        rest = sorted(d for d in doc_ids if d not in self._overlay)
        if rest:
            found = self._base_summaries(rest)
            out |= {d: json.loads(text) for d, text in found.iter_rows()}
        return out

    def summaries(self) -> list[tuple[dict, str]]:
        """Every document as (summary, state), by doc_id; the list is shared (never change it)."""
        frame = self.frame()
        if self._summaries is None:
            summaries = self.summaries_of(frame["doc_id"].to_list())
            self._summaries = [(summaries[d], state) for d, state in frame.select("doc_id", "state").iter_rows()]
        return self._summaries

    def _base_summaries(self, doc_ids: list[str] | None = None) -> pl.DataFrame:
        """doc_id and summary of the base rows (all, or these), from the index file they were read
        from: by its name while it is still that file (a scan reads only what it needs), else
        through the handle kept open."""
        wanted = pl.col("doc_id").is_in(doc_ids) if doc_ids is not None else pl.lit(True)
        if "summary" in self._base.columns:
            return self._base.select("doc_id", "summary").filter(wanted)
        if file_signature(self.path) == signature_of(os.fstat(self._base_file.fileno())):
            return pl.scan_parquet(self.path).select("doc_id", "summary").filter(wanted).collect()
        self._base_file.seek(0)
        return pl.read_parquet(self._base_file, columns=["doc_id", "summary"]).filter(wanted)

    def _update(self) -> None:
        if not os.path.isdir(self.docs):
            if self._base.height or self._overlay:
                self._base, self._overlay, self._base_signatures = pl.DataFrame(schema=FRAME_SCHEMA), {}, None
                self._changed()
            return
        position = self.journal.position()
        at = self.journal_at
        if position is not None and at is not None and position[0] != at[0] and self.journal.continues == tuple(at):
            self.journal_at = (position[0], 0)  # compacted at the point this index had read: go on in the new one
        if not self.verified or not self._same_journal(position):
            self._verify(position)
            self.unsaved += SAVE_AFTER_READS
        else:
            self._replay(position)
            self._check_names()

    def _same_journal(self, position: tuple[str, int] | None) -> bool:
        if self.journal_at is None:
            return True  # none when the index was written: whatever is there now is newer
        return position is not None and position[0] == self.journal_at[0] and position[1] >= self.journal_at[1]

    def _changed(self) -> None:
        self.generation += 1
        self.unsaved += 1
        self._frame = self._summaries = None

    def _signature(self, doc_id: str) -> Signature | None:
        if doc_id in self._overlay:
            row = self._overlay[doc_id]
            return None if row is None else (row["ino"], row["mtime_ns"], row["size"])
        if self._base_signatures is None and self._lookups < 64:  # a few replayed lines: no dict of 42,000
            self._lookups += 1
            found = self._base.filter(pl.col("doc_id") == doc_id).select("ino", "mtime_ns", "size").rows()
            return found[0] if found else None
        if self._base_signatures is None:
            b = self._base
            self._base_signatures = {
                d: (i, m, z)
                for d, i, m, z in zip(b["doc_id"], b["ino"], b["mtime_ns"], b["size"], strict=True)
            }  # fmt: skip
        return self._base_signatures.get(doc_id)

    def _ids(self) -> set[str]:
        ids = set(self._base["doc_id"].to_list())
        for doc_id, row in self._overlay.items():
            (ids.add if row is not None else ids.discard)(doc_id)
        return ids

    def _verify(self, position: tuple[str, int] | None) -> None:
        """Every folder's document.json checked against its entry (the position and the folder's
        mtime taken first: what changes during the check is replayed at the next call)."""
        self.docs_mtime = _mtime(self.docs)
        with os.scandir(self.docs) as found:
            names = sorted(e.name for e in found if not e.name.startswith("."))
        for name in sorted(set(names) | self._ids()):
            self._refresh(name)
        self.journal_at, self.verified = position, True
        self._changed()

    def _replay(self, position: tuple[str, int] | None) -> None:
        if position is None or (self.journal_at is not None and position[1] == self.journal_at[1]):
            return
        ids, offset = self.journal.read_from(self.journal_at[1] if self.journal_at else 0)
        self.journal_at = (position[0], offset)
        for doc_id in dict.fromkeys(ids):
            self._refresh(doc_id)

    def _refresh(self, doc_id: str) -> None:
        """One document's entry brought up to date from its folder."""
        signature = file_signature(os.path.join(self.docs, doc_id, "document.json"))
        known = self._signature(doc_id)
        if known == signature:
            return
        row = self._read_entry(doc_id) if signature is not None else None
        if row is None and known is None:
            return
        self._overlay[doc_id] = row
        self._changed()

    def _check_names(self) -> None:
        """Folders added or removed without ``Lake`` (the ``docs`` folder's mtime moved on)."""
        mtime = _mtime(self.docs)
        if mtime == self.docs_mtime:
            return
        self.docs_mtime = mtime
        with os.scandir(self.docs) as found:
            names = {e.name for e in found if not e.name.startswith(".")}
        for doc_id in sorted(names ^ self._ids()):
            self._refresh(doc_id)

    def _save(self) -> None:
        base = self._base.join(self._base_summaries(), on="doc_id", how="left") if self._base_file else self._base
        frame = base.select(list(FRAME_SCHEMA))
        if self._overlay:
            rows = [r for r in self._overlay.values() if r is not None]
            frame = frame.filter(~pl.col("doc_id").is_in(sorted(self._overlay)))
            frame = pl.concat([frame, pl.DataFrame(rows, schema=FRAME_SCHEMA)]).sort("doc_id")
        meta = {"version": INDEX_VERSION, "journal": self.journal_at, "docs_mtime": self.docs_mtime}
        tmp = os.path.join(self.root, f".{INDEX_NAME}.pid{os.getpid()}.tmp")
        try:  # a full disk: the index is a cache, the next run checks the folders
            frame.write_parquet(tmp, metadata={"budgetwh": json.dumps(meta)}, row_group_size=4096)
            handle = open(tmp, "rb")  # noqa: SIM115  (kept open: the summaries are read from it)
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return
        if self._base_file is not None:
            self._base_file.close()
        self._base_file, self._base = handle, frame.select(LIGHT_COLUMNS)
        self._overlay, self._base_signatures, self.unsaved = {}, None, 0
        if self.journal_at is not None and self.journal_at[1] > COMPACT_AFTER_BYTES:
            moved = self.journal.compact(*self.journal_at)  # the saved index names the old journal's end
            if moved is not None:
                self.journal_at = moved


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
