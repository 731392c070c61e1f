"""Combine the per-document frames of the lake into one frame per fact table (Polars), written as
``<lake>/tables/<table>.parquet``. This is the step the fact assets run and validate; publishing
loads these files into DuckDB."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from pipelines.faults import checkpoint
from pipelines.frames import SCHEMAS
from pipelines.lake import Lake, temp_prefix
from pipelines.versions import resolve_versions

DOCUMENT_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8, "source_file": pl.Utf8, "sha256": pl.Utf8, "doc_kind": pl.Utf8, "scope": pl.Utf8,
    "unit_name": pl.Utf8, "fiscal_year": pl.Int32, "page_count": pl.Int32, "status": pl.Utf8, "error": pl.Utf8,
    "title": pl.Utf8, "source_format": pl.Utf8, "parser_version": pl.Utf8, "parsed_at": pl.Utf8,
    "parse_seconds": pl.Float64, "superseded_by": pl.Utf8,
}  # fmt: skip

ALL_TABLES = ("doc_document", *SCHEMAS)


def tables_dir(lake: Lake) -> Path:
    return lake.root / "tables"


def document_frame(lake: Lake) -> pl.DataFrame:
    """Document rows with their current status: older versions of a re-published document are
    ``superseded`` (the rule is in ``pipelines/versions.py``)."""
    registry = lake.registry()
    current_sha = {e.source_file: e.sha256 for e in registry.values()}
    docs = lake.documents()
    order = {}
    for doc in docs:
        entry = registry.get(doc["source_file"])
        if entry is not None and entry.sha256 == doc["sha256"]:
            order[doc["doc_id"]] = (entry.registered_at, entry.mtime, doc["source_file"])
        else:  # an older version: when it was registered is kept in its document row
            order[doc["doc_id"]] = (doc.get("registered_at") or "", doc.get("mtime") or 0.0, doc["source_file"])
    superseded = resolve_versions(docs, current_sha, order)
    rows = []
    for doc in docs:
        row = {k: doc.get(k) for k in DOCUMENT_SCHEMA}
        if doc["doc_id"] in superseded:
            row["status"] = "superseded"
            row["superseded_by"] = superseded[doc["doc_id"]]
        rows.append(row)
    return pl.DataFrame(rows, schema=DOCUMENT_SCHEMA, strict=False)


def combine_table(lake: Lake, table: str) -> pl.DataFrame:
    files = lake.table_files(table)
    if not files:
        return pl.DataFrame(schema=SCHEMAS[table])
    df = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore").collect()
    return df.select([pl.col(c).cast(t) for c, t in SCHEMAS[table].items()])


def built_fingerprint(lake: Lake) -> str | None:
    p = tables_dir(lake) / "_fingerprint.json"
    return json.loads(p.read_text())["fingerprint"] if p.exists() else None


def build_tables(lake: Lake, *, force: bool = False) -> tuple[bool, dict[str, pl.DataFrame] | None]:
    """Write every fact table of the lake. Returns (built, frames); nothing is rebuilt when the
    lake has not changed since the last build (frames is then None)."""
    fingerprint = lake.fingerprint()
    if not force and built_fingerprint(lake) == fingerprint:
        return False, None
    out_dir = tables_dir(lake)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Another run may replace a document while we read it: read again until the lake held still.
    for attempt in range(5):
        try:
            frames = {"doc_document": document_frame(lake)}
            for table in SCHEMAS:
                frames[table] = combine_table(lake, table)
        except (OSError, pl.exceptions.PolarsError):
            if attempt == 4:
                raise
            fingerprint = lake.fingerprint()
            continue
        now = lake.fingerprint()
        if now == fingerprint:
            break
        fingerprint = now
    else:  # the lake kept changing: publish what was read, and make the next run build again
        fingerprint = f"unsettled-{fingerprint}"
    with lake.publish_lock():
        # The fingerprint goes first: a build killed half-way leaves tables that match no fingerprint,
        # so the next run rebuilds them instead of trusting a mix.
        (out_dir / "_fingerprint.json").unlink(missing_ok=True)
        for i, (name, df) in enumerate(frames.items()):
            tmp = out_dir / f"{temp_prefix(name)}parquet"
            df.write_parquet(tmp)
            if i == 1:
                checkpoint("tables.write")  # one table replaced, the next one staged
            os.replace(tmp, out_dir / f"{name}.parquet")
        tmp = out_dir / f"{temp_prefix('_fingerprint')}json"
        tmp.write_text(json.dumps({"fingerprint": fingerprint}))
        os.replace(tmp, out_dir / "_fingerprint.json")
    return True, frames


def read_table(lake: Lake, table: str) -> pl.DataFrame:
    p = tables_dir(lake) / f"{table}.parquet"
    if p.exists():
        return pl.read_parquet(p)
    return pl.DataFrame(schema=DOCUMENT_SCHEMA if table == "doc_document" else SCHEMAS[table])
