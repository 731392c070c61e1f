"""Combine the per-document frames of the lake into one frame per fact table (Polars), written as
``<lake>/tables/<table>.parquet``. This is the step the fact assets run and validate; publishing
loads these files into DuckDB."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from pipelines.normalize.frames import SCHEMAS
from pipelines.parse import MEMBER_FACT_TABLES
from pipelines.publish.faults import checkpoint, stage
from pipelines.publish.lake import Lake, atomic_write_text, derivation_fingerprint, temp_prefix
from pipelines.publish.units import member_name

DOCUMENT_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8, "source_file": pl.Utf8, "sha256": pl.Utf8, "doc_kind": pl.Utf8, "scope": pl.Utf8,
    "unit_name": pl.Utf8, "fiscal_year": pl.Int32, "page_count": pl.Int32, "status": pl.Utf8, "error": pl.Utf8,
    "title": pl.Utf8, "source_format": pl.Utf8, "parser_version": pl.Utf8, "parsed_at": pl.Utf8,
    "parse_seconds": pl.Float64, "superseded_by": pl.Utf8, "unit_key": pl.Utf8, "duplicate_of": pl.Utf8,
    "canonical_doc_id": pl.Utf8,
}  # fmt: skip

UNIT_SCHEMA: dict[str, pl.DataType] = {
    "unit_key": pl.Utf8, "unit_name": pl.Utf8, "names": pl.Utf8, "first_year": pl.Int32, "last_year": pl.Int32,
    "parent_unit_key": pl.Utf8, "region": pl.Utf8, "admin_level": pl.Utf8, "match_reason": pl.Utf8,
}  # fmt: skip

ALL_TABLES = ("doc_document", *SCHEMAS)
MEMBER_UNIT_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8, "member_unit_name": pl.Utf8, "unit_key": pl.Utf8, "unit_name": pl.Utf8,
}  # fmt: skip

# Tables derived from the documents as a whole (units, the member units their tables print, the
# conflicts between publications), written with doc_document.
DERIVED_TABLES = ("dim_unit", "dim_member_unit", "fact_publication_check")


def tables_dir(lake: Lake) -> Path:
    return lake.root / "tables"


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


def _member_units(lake: Lake, docs: list[dict], documents: list[dict]) -> list[dict]:
    """The member units the tables of loaded documents print rows of: doc_id, the name as printed
    (``printed``) and as published (``member_unit_name``, ``units.member_name``), the year. Each
    document row lists its members (``member_units``, written with its result), so a run opens no
    fact file for it; a row written before that is answered by its files."""
    by_doc = {d["doc_id"]: d for d in documents if d.get("status") == "loaded"}
    pairs: set[tuple[str, str]] = set()
    for doc in docs:
        if doc["doc_id"] not in by_doc:
            continue
        listed = doc.get("member_units")
        if listed is not None:
            pairs |= {(doc["doc_id"], name) for name in listed}
            continue
        for table in MEMBER_FACT_TABLES:
            path = lake.doc_dir(doc["doc_id"]) / f"{table}.parquet"
            if path.exists() and "member_unit_name" in pl.read_parquet_schema(path):
                found = pl.scan_parquet(path).select("doc_id", "member_unit_name")
                found = found.filter(pl.col("member_unit_name").is_not_null()).unique().collect()
                pairs |= set(found.iter_rows())
    return [
        {"doc_id": doc_id, "printed": printed, "member_unit_name": member_name(printed, by_doc[doc_id].get("unit_name")),
         "fiscal_year": by_doc[doc_id].get("fiscal_year"), "source": "tables"}
        for doc_id, printed in sorted(pairs)
    ]  # fmt: skip


def docs_with_rows(lake: Lake, docs: list[dict], table: str) -> list[str]:
    """The documents holding rows of ``table``, from the row counts each document row records
    (what a run reads anyway), so that a run does not open every document's file to learn it. A
    row written before row counts were recorded is answered by its file."""
    found = []
    for doc in docs:
        counts = doc.get("row_counts")
        if counts is None:
            path = lake.doc_dir(doc["doc_id"]) / f"{table}.parquet"
            if path.exists() and pl.scan_parquet(path).select(pl.len()).collect().item():
                found.append(doc["doc_id"])
        elif counts.get(table):
            found.append(doc["doc_id"])
    return found


def _files_of(lake: Lake, doc_ids: list[str], table: str) -> list[Path]:
    return [lake.doc_dir(d) / f"{table}.parquet" for d in doc_ids]


def _scan_table(lake: Lake, table: str) -> pl.LazyFrame | None:
    files = lake.table_files(table)
    return scan_files(files, table) if files else None


def scan_files(files: list[Path], table: str) -> pl.LazyFrame:
    """Per-document Parquet files of one table, with the table's columns and types (files written
    by an older parser may lack a column)."""
    scan = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore")
    return scan.select([pl.col(c).cast(t) for c, t in SCHEMAS[table].items()])


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


def _fingerprint_record(lake: Lake) -> dict | None:
    p = tables_dir(lake) / "_fingerprint.json"
    return json.loads(p.read_text()) if p.exists() else None


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


def _commit_fingerprint(lake: Lake, fingerprint: str, states: dict[str, str], *, facts_combined: bool) -> None:
    """The states, then the fingerprint (the commit marker: written last, atomically). It names the
    code that derived the tables written with it (``derive.load_derivation``). The states are a
    Parquet file (42,000 of them as JSON took a second to encode in a run's process)."""
    out_dir = tables_dir(lake)
    tmp = out_dir / f"{temp_prefix('_doc_states')}parquet"
    frame = pl.DataFrame({"doc_id": sorted(states), "state": [states[d] for d in sorted(states)]},
                         schema={"doc_id": pl.Utf8, "state": pl.Utf8})  # fmt: skip
    frame.write_parquet(tmp)
    os.replace(tmp, out_dir / "_doc_states.parquet")
    (out_dir / "_doc_states.json").unlink(missing_ok=True)
    record = {"fingerprint": fingerprint, "facts_combined": facts_combined, "derivation": derivation_fingerprint()}
    atomic_write_text(out_dir / "_fingerprint.json", json.dumps(record))


def write_derived_tables(lake: Lake, frames: dict[str, pl.DataFrame], fingerprint: str, states: dict[str, str]) -> None:
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
