"""Source files: where they are looked for, their registration in the lake, and what each needs
(parse, re-parse, record a copy, follow a move) before the per-document step runs.

Kept free of Dagster imports so the CLI, the sensor and the tests share one implementation."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.parse import PARSER_VERSION, ParsedDocument, parse_document
from pipelines.publish.lake import Lake, SourceEntry, partition_key_for
from pipelines.publish.versions import duplicate_doc_id
from pipelines.read.dispatch import SUPPORTED_SUFFIXES, doc_id_for, sha256_file
from pipelines.run.limits import current_budget
from pipelines.run.paths import (  # noqa: F401  (their home before paths.py: still importable from here)
    DEFAULT_INBOX,
    DEFAULT_WAREHOUSE,
    PROJECT_ROOT,
    default_dagster_home,
    default_inbox,
    default_warehouse,
)


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
        files = [Path(f).resolve() for f in files]
        registry = lake.registry_entries(str(f) for f in files)  # these files' entries only
        entries: list[SourceEntry] = []
        changed: dict[str, SourceEntry] = {}
        now = datetime.datetime.now().isoformat(timespec="microseconds")
        for f in files:
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
                registry[key] = changed[key] = entry
            entries.append(entry)
        if changed:
            lake.register_entries(list(changed.values()))
    new_keys: list[str] = []
    fresh_keys: list[str] = []
    for e in entries:
        action = plan_entry(lake, e, registry)
        if action != "current" and e.partition_key not in new_keys:
            new_keys.append(e.partition_key)
            if action != "reparse":
                fresh_keys.append(e.partition_key)
    return Registration(entries=entries, new_keys=new_keys, fresh_keys=fresh_keys)


def _owner_alive(lake: Lake, owner_path: str, sha256: str, registry: Mapping[str, SourceEntry]) -> bool:
    """The path that owns a document still holds those bytes (so another path is a copy, not a move).
    ``registry`` holds the entries at hand; another path is looked up in the lake's."""
    known = registry.get(owner_path) if owner_path in registry else lake.registry_entries([owner_path]).get(owner_path)
    return known is not None and known.sha256 == sha256 and Path(owner_path).exists()


def plan_entry(lake: Lake, entry: SourceEntry, registry: Mapping[str, SourceEntry] | None = None) -> str:
    """What a registered file needs: ``current`` (nothing), ``parse`` (bytes never parsed),
    ``reparse`` (parsed by another parser version), ``duplicate`` (a byte-identical copy of a file
    loaded under another path: record it) or ``adopt`` (the owning path is gone: the file moved)."""
    registry = {} if registry is None else registry
    owner = lake.document(entry.doc_id)
    if owner is None:
        return "parse"
    if owner.get("source_file") != entry.source_file:
        if _owner_alive(lake, owner["source_file"], entry.sha256, registry):
            record = lake.document(duplicate_doc_id(entry.sha256, entry.source_file))
            fresh = record and record.get("parser_version") == PARSER_VERSION and record.get("sha256") == entry.sha256
            return "current" if fresh else "duplicate"
        return "adopt"
    if owner.get("parser_version") != PARSER_VERSION or owner.get("sha256") != entry.sha256:
        return "reparse"
    if not lake.is_intact(entry.doc_id, owner):
        return "reparse"  # a damaged lake entry (a truncated or missing Parquet file): parse it again
    if owner.get("over_budget") and not current_budget().covers(owner["over_budget"]):
        return "reparse"  # stopped by a limit that has since been raised: try again
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
    """List a byte-identical copy with status ``duplicate``, naming the original (``duplicate_of``);
    nothing is loaded twice and nothing is wrong with it, so it is not quarantined."""
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
        doc_id=entry.doc_id, source_file=entry.source_file, sha256=entry.sha256, status="duplicate",
        error=reason, info=None, page_count=owner.get("page_count"), source_format=owner.get("source_format"),
        parse_seconds=0.0,
    )  # fmt: skip
    dup_id = duplicate_doc_id(entry.sha256, entry.source_file)
    extra = {k: owner.get(k) for k in ("doc_kind", "scope", "unit_name", "fiscal_year", "title")}
    lake.write(record, doc_id=dup_id, extra={**extra, "duplicate_of": entry.doc_id})
    return lake.document(dup_id) or {}
