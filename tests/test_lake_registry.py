"""The lake's registry (Parquet base + a log of changes, ``lake_registry.py``) and the compaction of
the documents journal (``lake_index.Journal.compact``): what a run reads and writes follows what it
registers, readers see one whole state, lakes copied by hard links are never changed in place."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines.publish import lake as lake_module
from pipelines.publish import lake_index, lake_registry
from pipelines.publish.lake import Lake, SourceEntry
from pipelines.publish.lake_registry import Registry


def _entry(i: int, sha: str | None = None) -> SourceEntry:
    sha = sha or f"{i:064x}"
    return SourceEntry(
        f"/inbox/部门{i:03d}.pdf", sha, sha[:16], f"部门{i:03d}-{sha[:8]}", 1000 + i, 1.7e9 + i / 7, f"t{i}"
    )


def _fresh(lake: Lake) -> Registry:
    """The registry as another process reads it (nothing cached)."""
    return Registry(str(lake.root.resolve()), lake.registry_lock)


def _register(lake: Lake, *entries: SourceEntry) -> None:
    with lake.registry_lock():
        lake.register_entries(list(entries))


def test_a_registering_run_writes_a_log_line_not_the_registry_and_folds_it_later(tmp_path, monkeypatch):
    monkeypatch.setattr(lake_registry, "FOLD_AFTER", 5)
    lake = Lake(tmp_path / "lake")
    _register(lake, *(_entry(i) for i in range(3)))
    assert not (lake.root / "registry.parquet").exists()
    assert len((lake.root / "registry.log").read_text(encoding="utf-8").splitlines()) == 3
    assert _fresh(lake).all_entries() == {e.source_file: e for e in (_entry(i) for i in range(3))}

    # a file's bytes changed: its entry replaced (the last line of a path wins), then the fold
    changed = _entry(1, sha="f" * 64)
    _register(lake, changed)
    _register(lake, _entry(3))
    assert (lake.root / "registry.parquet").exists()
    assert (lake.root / "registry.log").read_text(encoding="utf-8") == ""
    expected = {e.source_file: e for e in (_entry(0), changed, _entry(2), _entry(3))}
    assert _fresh(lake).all_entries() == expected == lake.registry()
    assert lake.registry_entries([changed.source_file, "/nowhere.pdf"]) == {changed.source_file: changed}
    assert lake.by_partition_key()[changed.partition_key] == changed
    assert _entry(1).partition_key not in lake.by_partition_key()

    # removed
    with lake.registry_lock():
        lake.registry_store().write({changed.source_file: None})
    assert changed.source_file not in _fresh(lake).all_entries()


def test_a_reader_of_the_log_before_a_fold_skips_the_lines_the_new_base_holds(tmp_path, monkeypatch):
    """A fold between a reader's read of the log and of the base: the base already holds those
    lines, and a later entry of the same path in it must not be undone by them."""
    monkeypatch.setattr(lake_registry, "FOLD_AFTER", 3)
    lake = Lake(tmp_path / "lake")
    _register(lake, _entry(0))
    old_log = (lake.root / "registry.log").read_text(encoding="utf-8")
    newer = _entry(0, sha="e" * 64)
    _register(lake, newer)
    _register(lake, _entry(1))  # the third line: folded
    assert (lake.root / "registry.log").read_text(encoding="utf-8") == ""
    (lake.root / "registry.log").write_text(old_log, encoding="utf-8")  # what that reader had read
    assert _fresh(lake).all_entries()[newer.source_file] == newer


def test_the_json_registry_of_earlier_code_is_taken_over_once(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.root.mkdir()
    old = {e.source_file: lake_registry.entry_dict(e) for e in (_entry(0), _entry(1))}
    (lake.root / "registry.json").write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    assert set(lake.registry_entries([_entry(1).source_file])) == {_entry(1).source_file}
    _register(lake, _entry(2))
    assert not (lake.root / "registry.json").exists()
    assert _fresh(lake).all_entries() == {e.source_file: e for e in (_entry(0), _entry(1), _entry(2))}


def test_a_lake_copied_by_hard_links_is_never_changed_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(lake_registry, "FOLD_AFTER", 3)
    original = Lake(tmp_path / "a")
    _register(original, _entry(0), _entry(1), _entry(2))  # folded: a base and an empty log
    _register(original, _entry(3))
    copy = Lake(tmp_path / "b")
    copy.root.mkdir()
    for name in ("registry.parquet", "registry.log"):
        os.link(original.root / name, copy.root / name)
    before = {
        n: ((original.root / n).stat().st_ino, (original.root / n).read_bytes())
        for n in ("registry.parquet", "registry.log")
    }
    for i in range(4, 9):
        _register(copy, _entry(i))
    after = {
        n: ((original.root / n).stat().st_ino, (original.root / n).read_bytes())
        for n in ("registry.parquet", "registry.log")
    }
    assert before == after
    assert len(_fresh(copy).all_entries()) == 9 and len(_fresh(original).all_entries()) == 4


def _document(lake: Lake, doc_id: str, status: str = "loaded") -> None:
    folder = lake.doc_dir(doc_id)
    folder.mkdir(parents=True, exist_ok=True)
    row = {"doc_id": doc_id, "source_file": f"/inbox/{doc_id}.pdf", "sha256": doc_id * 4, "status": status}
    lake_module.atomic_write_text(folder / "document.json", json.dumps(row))
    lake.note_changed(doc_id)


def _states(root: Path) -> dict[str, str]:
    """The document states as a new process sees them."""
    lake_module._known_summaries.pop(str(root.resolve()), None)
    return Lake(root).document_states()


def test_the_journal_is_compacted_and_readers_go_on_from_where_they_were(tmp_path, monkeypatch):
    monkeypatch.setattr(lake_index, "COMPACT_AFTER_BYTES", 200)
    monkeypatch.setattr(lake_index, "SAVE_AFTER_READS", 5)
    lake = Lake(tmp_path / "lake")
    for i in range(20):
        _document(lake, f"{i:016x}")
    lake.summaries()  # a first pass over the folders, saved
    behind = lake_index.DocumentIndex(str(lake.root.resolve()), str(lake.docs.resolve()), lake._summary_entry)
    for i in range(20):
        _document(lake, f"{i:016x}", status="quarantined")
    assert lake.document_states() == _states(lake.root)  # read the journal, saved, compacted
    journal = lake.root / lake_index.JOURNAL_NAME
    assert " after " in journal.read_text().splitlines()[0] and len(journal.read_text().splitlines()) == 1

    # a new process goes on in the new journal without checking every folder
    checked = []
    monkeypatch.setattr(lake_index.DocumentIndex, "_verify", lambda self, position: checked.append(position))
    _document(lake, f"{99:016x}")
    states = _states(lake.root)
    assert not checked and f"{99:016x}" in states and len(states) == 21
    monkeypatch.undo()

    # a reader still behind the compacted lines checks the folders, and sees every change
    frame = behind.frame()
    assert dict(zip(frame["doc_id"].to_list(), frame["state"].to_list(), strict=True)) == states


@pytest.mark.parametrize("size", [0, 3])
def test_a_write_cut_short_leaves_no_registry_file_behind(tmp_path, monkeypatch, size):
    """Every registry file is a new file renamed into place: a failing write leaves the old one whole."""
    monkeypatch.setattr(lake_registry, "FOLD_AFTER", 2)
    lake = Lake(tmp_path / "lake")
    _register(lake, *(_entry(i) for i in range(size)))
    before = _fresh(lake).all_entries()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lake_registry.os, "fsync", full_disk)
    with pytest.raises(OSError):
        _register(lake, _entry(7), _entry(8))
    monkeypatch.undo()
    assert _fresh(lake).all_entries() == before
    assert not [p for p in lake.root.iterdir() if ".pid" in p.name]
