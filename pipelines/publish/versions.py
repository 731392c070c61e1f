"""Which version of a document is current: the rule for re-published and duplicated files.

A publisher re-publishes a document by replacing it (a corrected PDF under the same name). The
same unit, year and kind alone do not make a re-publication: Jiangsu publishes the narrative and
the tables of one 部门预算 as two PDFs, and a 部门预算 and a 单位预算 of one organization share
unit and year. So a document is **superseded** only when a newer *loaded* document is

1. the same source path with new bytes (the file was replaced in place), or
2. a file of the same name — compared without folders, case, spaces and correction marks such as
   ``（更正）``, ``(修订版)``, ``_v2`` or a browser's `` (1)`` — with the same unit, fiscal year,
   kind and scope (all recognized).

"Newer" means registered later (the first time budgetwh saw those bytes at that path), then the
file's modification time, then the path. A quarantined new version supersedes nothing: the last
good version stays loaded and the bad one is listed with its reason. A quarantined version older
than a loaded one at the same path (a file registered while still being copied) is superseded. Superseded versions stay in
the ``documents`` view with ``status = 'superseded'``; the fact views show loaded documents only.

A **duplicate** is a byte-identical copy under another path: the first registered path is loaded,
the copy is listed with status ``duplicate``, ``duplicate_of`` the original's doc_id and a sentence
naming it (its record's id: ``duplicate_doc_id``).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

_CORRECTION = r"更正|修订|修正|订正|调整|更新|重新发布|重发|最新|新版|第?\d+版|v\d+|rev\d*|corrected|updated"
_MARK_IN_BRACKETS = re.compile(rf"[\(（\[【]\s*(?:\d+|[^)）\]】]*?(?:{_CORRECTION})[^)）\]】]*?)\s*[\)）\]】]", re.I)
_MARK_AT_END = re.compile(rf"[\s_\-—.]*(?:{_CORRECTION})版?$", re.I)


@lru_cache(maxsize=1 << 17)  # once per document on every publish
def normalized_name(source_file: str) -> str:
    """The file name that identifies a publication across re-publications."""
    stem = Path(source_file).stem
    stem = _MARK_IN_BRACKETS.sub("", stem)
    previous = None
    while previous != stem:
        previous = stem
        stem = _MARK_AT_END.sub("", stem)
    return re.sub(r"[\s_\-—]+", "", stem).lower()


def duplicate_doc_id(sha256: str, source_file: str) -> str:
    """The id of the record that lists a byte-identical copy (the original owns ``sha256[:16]``)."""
    return hashlib.sha256(f"{sha256}|{source_file}".encode()).hexdigest()[:16]


def _identity(doc: dict) -> tuple | None:
    key = (doc.get("unit_name"), doc.get("fiscal_year"), doc.get("doc_kind"), doc.get("scope"))
    return key if all(v is not None for v in key) else None


def resolve_versions(docs: list[dict], current_sha: dict[str, str], order: dict[str, tuple]) -> dict[str, str]:
    """doc_id → doc_id of the newer version that supersedes it, for every superseded document.

    ``docs`` are document rows (doc_id, source_file, sha256, status, unit_name, fiscal_year,
    doc_kind, scope); ``current_sha`` maps a source path to the bytes registered there now;
    ``order`` maps a doc_id to a sortable "newness" key (registered_at, mtime, path)."""
    loaded = [d for d in docs if d.get("status") == "loaded"]

    def newness(d: dict) -> tuple:
        return order.get(d["doc_id"], ("", 0.0, d["source_file"]))

    superseded: dict[str, str] = {}
    # 1. same path, new bytes: the version registered there now if it loaded, else the newest that
    #    did. Older versions at that path are superseded, loaded or not (a half-copied file that was
    #    quarantined and then completed is history, not a problem to report).
    by_path: dict[str, list[dict]] = {}
    for d in docs:
        if not d.get("duplicate_of") and d.get("status") in ("loaded", "quarantined"):
            by_path.setdefault(d["source_file"], []).append(d)
    for path, group in by_path.items():
        good = [d for d in group if d["status"] == "loaded"]
        if len(group) < 2 or not good:
            continue
        now = [d for d in good if d["sha256"] == current_sha.get(path)]
        winner = now[0] if now else max(good, key=newness)
        for d in group:
            if d is not winner and (d["status"] == "loaded" or newness(d) < newness(winner)):
                superseded[d["doc_id"]] = winner["doc_id"]
    # 2. same normalized file name and same identity: the newest one stands.
    groups: dict[tuple, list[dict]] = {}
    for d in loaded:
        if d["doc_id"] in superseded or d.get("duplicate_of"):
            continue
        ident = _identity(d)
        if ident is not None:
            groups.setdefault((normalized_name(d["source_file"]), *ident), []).append(d)
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=newness)
        newest = group[-1]["doc_id"]
        for d in group[:-1]:
            superseded[d["doc_id"]] = newest
    return superseded
