"""The lake's tables as frames: the schemas of the derived tables, where lake/tables is, and
reading the per-document files (shared by ``combine.py``, which combines them, and ``derive.py``,
which derives the documents, units and conflicts)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines.normalize.frames import SCHEMAS
from pipelines.parse import MEMBER_FACT_TABLES
from pipelines.publish.lake import Lake
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

MEMBER_UNIT_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8, "member_unit_name": pl.Utf8, "unit_key": pl.Utf8, "unit_name": pl.Utf8,
}  # fmt: skip


def tables_dir(lake: Lake) -> Path:
    return lake.root / "tables"


def _fingerprint_record(lake: Lake) -> dict | None:
    p = tables_dir(lake) / "_fingerprint.json"
    return json.loads(p.read_text()) if p.exists() else None


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


def scan_files(files: list[Path], table: str) -> pl.LazyFrame:
    """Per-document Parquet files of one table, with the table's columns and types (files written
    by an older parser may lack a column)."""
    scan = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore")
    return scan.select([pl.col(c).cast(t) for c, t in SCHEMAS[table].items()])
