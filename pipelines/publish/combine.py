"""Combine the per-document frames of the lake into one frame per fact table (Polars), written as
``<lake>/tables/<table>.parquet``. This is the step the fact assets run and validate; publishing
loads these files into DuckDB."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from pipelines.normalize.frames import SCHEMAS
from pipelines.publish.faults import checkpoint, stage
from pipelines.publish.lake import Lake, atomic_write_text, derivation_fingerprint, temp_prefix
from pipelines.publish.lake_tables import (  # noqa: F401  (their home before lake_tables.py)
    DOCUMENT_SCHEMA,
    MEMBER_UNIT_SCHEMA,
    UNIT_SCHEMA,
    _files_of,
    _fingerprint_record,
    _member_units,
    docs_with_rows,
    scan_files,
    tables_dir,
)

ALL_TABLES = ("doc_document", *SCHEMAS)
# Tables derived from the documents as a whole (units, the member units their tables print, the
# conflicts between publications), written with doc_document.
DERIVED_TABLES = ("dim_unit", "dim_member_unit", "fact_publication_check")


def document_frame(lake: Lake) -> pl.DataFrame:
    """Document rows with their current status: older versions of a re-published document are
    ``superseded`` (the rule is in ``pipelines/versions.py``), with their unit and canonical document."""
    return derived_frames(lake)["doc_document"]


def derived_frames(lake: Lake) -> dict[str, pl.DataFrame]:
    """doc_document with status, unit_key and canonical_doc_id; dim_unit (``units.py``); the
    member units; the publication conflicts (``canonical.py``), computed over every document
    (``derive.py`` recomputes only the groups a change reaches)."""
    from pipelines.publish.derive import derive

    return derive(lake).frames


def _scan_table(lake: Lake, table: str) -> pl.LazyFrame | None:
    files = lake.table_files(table)
    return scan_files(files, table) if files else None


def combine_table(lake: Lake, table: str) -> pl.DataFrame:
    """One fact table of the lake, in memory (for tests and tools; publishing streams it)."""
    scan = _scan_table(lake, table)
    return pl.DataFrame(schema=SCHEMAS[table]) if scan is None else scan.collect()


def write_combined_table(lake: Lake, table: str, path: Path) -> None:
    """One fact table of the lake written to ``path`` by Polars' streaming engine: the documents'
    files are read in batches, so memory does not grow with the number of documents."""
    scan = _scan_table(lake, table)
    if scan is None:
        pl.DataFrame(schema=SCHEMAS[table]).write_parquet(path)
    else:
        scan.sink_parquet(path)


def built_fingerprint(lake: Lake) -> str | None:
    record = _fingerprint_record(lake)
    return record["fingerprint"] if record else None


def facts_combined(lake: Lake) -> bool:
    """Whether lake/tables holds every fact table of its fingerprint. An incremental publish
    (``incremental.py``) writes only the derived tables there and loads the changed documents'
    facts straight into the warehouse, so the combined fact tables are then absent."""
    record = _fingerprint_record(lake)
    return bool(record) and record.get("facts_combined", True)


def built_states(lake: Lake) -> dict[str, str]:
    """The document states (``Lake.document_states``) the combined tables were built from."""
    p = tables_dir(lake) / "_doc_states.parquet"
    if p.exists():
        frame = pl.read_parquet(p)
        return dict(zip(frame["doc_id"].to_list(), frame["state"].to_list(), strict=True))
    p = p.with_suffix(".json")  # written by earlier code
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def _commit_fingerprint(
    lake: Lake, fingerprint: str, states: Mapping[str, str] | pl.DataFrame, *, facts_combined: bool
) -> None:
    """The states, then the fingerprint (the commit marker: written last, atomically). It names the
    code that derived the tables written with it (``derive.load_derivation``). The states are a
    Parquet file (42,000 of them as JSON took a second to encode in a run's process)."""
    out_dir = tables_dir(lake)
    tmp = out_dir / f"{temp_prefix('_doc_states')}parquet"
    if isinstance(states, pl.DataFrame):
        frame = states.select("doc_id", "state").sort("doc_id")
    else:
        frame = pl.DataFrame({"doc_id": sorted(states), "state": [states[d] for d in sorted(states)]},
                             schema={"doc_id": pl.Utf8, "state": pl.Utf8})  # fmt: skip
    frame.write_parquet(tmp)
    os.replace(tmp, out_dir / "_doc_states.parquet")
    (out_dir / "_doc_states.json").unlink(missing_ok=True)
    record = {"fingerprint": fingerprint, "facts_combined": facts_combined, "derivation": derivation_fingerprint()}
    atomic_write_text(out_dir / "_fingerprint.json", json.dumps(record))


def write_derived_tables(
    lake: Lake, frames: dict[str, pl.DataFrame], fingerprint: str, states: Mapping[str, str] | pl.DataFrame
) -> None:
    """The incremental publish's share of lake/tables (its caller holds ``lake.publish_lock()``):
    the derived tables (documents with their status, units, publication conflicts: what health
    checks and summaries read, and the next run's derivation starts from: ``derive.derivation_files``),
    the states and the fingerprint. The combined fact tables are removed: they no longer match
    (the warehouse holds the facts; a full rebuild combines them)."""
    out_dir = tables_dir(lake)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "_fingerprint.json").unlink(missing_ok=True)
    for i, (name, frame) in enumerate(frames.items()):
        if i == 1:
            checkpoint("tables.write")  # one table replaced, the fingerprint gone: not trusted until rewritten
        tmp = out_dir / f"{temp_prefix(name)}parquet"
        frame.write_parquet(tmp)
        os.replace(tmp, out_dir / f"{name}.parquet")
    for table in SCHEMAS:
        (out_dir / f"{table}.parquet").unlink(missing_ok=True)
    _commit_fingerprint(lake, fingerprint, states, facts_combined=False)


def _stage_tables(lake: Lake, out_dir: Path) -> dict[str, Path]:
    """Every table written beside its final name (pid-tagged temporary files)."""
    from pipelines.publish.derive import derivation_files, derive

    staged: dict[str, Path] = {}
    try:
        for name, frame in derivation_files(derive(lake)).items():
            tmp = out_dir / f"{temp_prefix(name)}parquet"
            staged[name] = tmp
            frame.write_parquet(tmp)
        for table in SCHEMAS:
            tmp = out_dir / f"{temp_prefix(table)}parquet"
            staged[table] = tmp
            write_combined_table(lake, table, tmp)
    except BaseException:
        _discard(staged)
        raise
    return staged


def _discard(staged: dict[str, Path]) -> None:
    for tmp in staged.values():
        tmp.unlink(missing_ok=True)


def build_tables(lake: Lake, *, force: bool = False) -> bool:
    """Write every fact table of the lake; nothing is rebuilt (False) when the lake has not
    changed since the last build."""
    with stage("combining the fact tables"):
        return _build_tables(lake, force=force)


def _build_tables(lake: Lake, *, force: bool = False) -> bool:
    fingerprint = lake.fingerprint()
    if not force and built_fingerprint(lake) == fingerprint and facts_combined(lake):
        return False
    out_dir = tables_dir(lake)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Another run may replace a document while we read it: read again until the lake held still.
    staged: dict[str, Path] = {}
    for attempt in range(5):
        _discard(staged)
        try:
            staged = _stage_tables(lake, out_dir)
        except (OSError, pl.exceptions.PolarsError) as exc:
            staged = {}
            if attempt == 4 or "No space left on device" in str(exc) or getattr(exc, "errno", None) == 28:
                raise
            fingerprint = lake.fingerprint()
            continue
        now, states = lake.fingerprint(), lake.document_states()
        if now == fingerprint:
            break
        fingerprint = now
    else:  # the lake kept changing: publish what was read, and make the next run build again
        fingerprint = f"unsettled-{fingerprint}"
        states = {}  # unknown: the next incremental publish reloads every document
    try:
        with lake.publish_lock():
            # The fingerprint goes first: a build killed half-way leaves tables that match no
            # fingerprint, so the next run rebuilds them instead of trusting a mix.
            (out_dir / "_fingerprint.json").unlink(missing_ok=True)
            for i, (name, tmp) in enumerate(staged.items()):
                if i == 1:
                    checkpoint("tables.write")  # one table replaced, the next ones staged
                os.replace(tmp, out_dir / f"{name}.parquet")
            _commit_fingerprint(lake, fingerprint, states, facts_combined=True)
    finally:
        _discard(staged)  # what was not renamed (an error part-way) is not left behind
    return True


def read_table(lake: Lake, table: str) -> pl.DataFrame:
    p = tables_dir(lake) / f"{table}.parquet"
    if p.exists():
        return pl.read_parquet(p)
    schemas = {
        "doc_document": DOCUMENT_SCHEMA,
        "dim_unit": UNIT_SCHEMA,
        "dim_member_unit": MEMBER_UNIT_SCHEMA,
        "fact_publication_check": SCHEMAS["fact_check"],
    }
    return pl.DataFrame(schema=schemas.get(table) or SCHEMAS[table])
