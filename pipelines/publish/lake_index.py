"""What publishing knows of every document of the lake without reading the lake: each document's
summary (``SUMMARY_FIELDS`` of its row) and state, kept in ``documents_index.json``, and the
journal that says which documents changed since.

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
by removing ``documents_index.json``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

INDEX_VERSION = 4  # 3 + the journal's position and the docs folder's mtime
_OLDER_INDEX_VERSIONS = (3,)  # entries of the same shape, no journal position: checked by the folders
JOURNAL_NAME = "documents.journal"
_HEADER = "budgetwh-journal "
# The index is rewritten once this many journal lines have been replayed past its own position
# (rewriting the 40 MB index of 42,000 documents at every run costs more than replaying a few lines).
SAVE_AFTER_LINES = 500

Signature = tuple
Entry = tuple  # (signature of the document.json, state, summary row)


def file_signature(path: str) -> Signature | None:
    """inode, mtime and size of a file (not the ctime: a copy of the lake by hard links changes it,
    the content not); None when there is no such file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Journal:
    """``<lake>/documents.journal``: a token line, then one doc_id a line, appended."""

    def __init__(self, root: str):
        self.path = os.path.join(root, JOURNAL_NAME)

    def note(self, doc_ids: list[str]) -> None:
        if not doc_ids:
            return
        line = "".join(f"{d}\n" for d in doc_ids).encode()
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            except FileNotFoundError:
                self._create()
                continue
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
            return

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
        """(token, size) of the journal now, or None when there is none."""
        try:
            with open(self.path, "rb") as f:
                header = f.readline()
                size = os.fstat(f.fileno()).st_size
        except FileNotFoundError:
            return None
        text = header.decode(errors="replace")
        if not text.startswith(_HEADER) or not text.endswith("\n"):
            return ("damaged", size)
        return (text[len(_HEADER) :].strip(), size)

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
    """The summaries of one lake's documents, as this process knows them (see the module docstring)."""

    def __init__(self, root: str, docs: str, read_entry: Callable[[str], Entry | None]):
        self.root, self.docs = root, docs
        self.path = os.path.join(root, "documents_index.json")
        self.journal = Journal(root)
        self._read_entry = read_entry  # doc_id → (signature, state, summary) from its folder, or None
        self.entries: dict[str, Entry] = {}
        self.journal_at: tuple[str, int] | None = None  # the journal position the entries include
        self.docs_mtime: int | None = None
        self.verified = False  # False: the entries must be checked against the folders
        self.saved_at = 0  # the journal offset of the index file as last read or written
        self.generation = 0  # changes whenever the entries do (for the callers' caches)
        self._summaries: list | None = None
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
            version = data.get("version")
            if version != INDEX_VERSION and version not in _OLDER_INDEX_VERSIONS:
                return
            self.entries = {d: (tuple(sig), state, row) for d, (sig, state, row) in data["documents"].items()}
            if version == INDEX_VERSION:
                journal = data.get("journal")
                self.journal_at = tuple(journal) if journal else None
                self.docs_mtime = data.get("docs_mtime")
                self.verified = True
                self.saved_at = self.journal_at[1] if self.journal_at else 0
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.entries = {}  # none yet, or damaged: rebuilt from the folders

    def summaries(self) -> list[tuple[dict, str]]:
        """Every document as (summary, state), by doc_id; the list is shared (never change it)."""
        if not os.path.isdir(self.docs):
            return []
        dirty = False
        position = self.journal.position()
        if not self.verified or not self._same_journal(position):
            self._verify(position)
            dirty = True
        else:
            dirty |= self._replay(position)
            dirty |= self._check_names()
        if self._summaries is None:
            self._summaries = [(e[2], e[1]) for _d, e in sorted(self.entries.items())]
        if dirty or (self.journal_at and self.journal_at[1] - self.saved_at > SAVE_AFTER_LINES * 17):
            self._save()
        return self._summaries

    def _same_journal(self, position: tuple[str, int] | None) -> bool:
        if self.journal_at is None:
            return True  # none when the index was written: whatever is there now is newer
        return position is not None and position[0] == self.journal_at[0] and position[1] >= self.journal_at[1]

    def _changed(self) -> None:
        self.generation += 1
        self._summaries = None

    def _verify(self, position: tuple[str, int] | None) -> None:
        """Every folder's document.json checked against its entry (the position and the folder's
        mtime taken first: what changes during the check is replayed at the next call)."""
        self.docs_mtime = _mtime(self.docs)
        with os.scandir(self.docs) as found:
            names = sorted(e.name for e in found if not e.name.startswith("."))
        entries: dict[str, Entry] = {}
        for name in names:
            signature = file_signature(os.path.join(self.docs, name, "document.json"))
            if signature is None:  # never parsed, or being replaced by another run this instant
                continue
            cached = self.entries.get(name)
            if cached is None or cached[0] != signature:
                cached = self._read_entry(name)
            if cached is not None:
                entries[name] = cached
        self.entries, self.journal_at, self.verified = entries, position, True
        self._changed()

    def _replay(self, position: tuple[str, int] | None) -> bool:
        if position is None or (self.journal_at is not None and position[1] == self.journal_at[1]):
            return False
        ids, offset = self.journal.read_from(self.journal_at[1] if self.journal_at else 0)
        self.journal_at = (position[0], offset)
        changed = False
        for doc_id in dict.fromkeys(ids):
            changed |= self._refresh(doc_id)
        return changed

    def _refresh(self, doc_id: str) -> bool:
        """One document's entry brought up to date from its folder; whether it changed."""
        signature = file_signature(os.path.join(self.docs, doc_id, "document.json"))
        cached = self.entries.get(doc_id)
        if cached is not None and cached[0] == signature:
            return False
        entry = self._read_entry(doc_id) if signature is not None else None
        if entry is None:
            if cached is None:
                return False
            del self.entries[doc_id]
        else:
            self.entries[doc_id] = entry
        self._changed()
        return True

    def _check_names(self) -> bool:
        """Folders added or removed without ``Lake`` (the ``docs`` folder's mtime moved on)."""
        mtime = _mtime(self.docs)
        if mtime == self.docs_mtime:
            return False
        self.docs_mtime = mtime
        with os.scandir(self.docs) as found:
            names = {e.name for e in found if not e.name.startswith(".")}
        changed = False
        for doc_id in sorted(names ^ self.entries.keys()):
            changed |= self._refresh(doc_id)
        return changed

    def _save(self) -> None:
        from pipelines.publish.lake import atomic_write_text

        data = {
            "version": INDEX_VERSION,
            "journal": list(self.journal_at) if self.journal_at else None,
            "docs_mtime": self.docs_mtime,
            "documents": {d: list(v) for d, v in sorted(self.entries.items())},
        }
        with contextlib.suppress(OSError):  # a full disk: the index is a cache, the next run checks the folders
            atomic_write_text(Path(self.path), json.dumps(data, ensure_ascii=False, separators=(",", ":")))
            self.saved_at = self.journal_at[1] if self.journal_at else 0


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
