"""The document states a warehouse records (``publish_doc_state``: doc_id → a hash of the document
row it was loaded from, ``Lake.document_states``), read as frames and compared: which documents
an incremental publish must reload."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines.publish.warehouse import schema_fingerprint, sql_string


def usable_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """A warehouse's warehouse_meta, or None when it has another schema (it cannot be the base of an
    incremental publish)."""
    meta = dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
    return meta if meta.get("schema_fingerprint") == schema_fingerprint() else None


STATE_SCHEMA = {"doc_id": pl.Utf8, "state": pl.Utf8}


def state_frame(con: duckdb.DuckDBPyConnection, scratch: Path, name: str) -> pl.DataFrame:
    """A warehouse's publish_doc_state as a frame, through a Parquet file in ``scratch`` (DuckDB
    hands a frame over only through pyarrow, which the run's process does not import): fetched as
    Python tuples into dicts, the published file's, the standby's and the lake's states held
    ~15 MB each at 42,000 documents for the whole build."""
    path = scratch / f"states-{name}.parquet"
    con.execute(f"COPY (SELECT doc_id, state FROM publish_doc_state) TO '{sql_string(path)}' (FORMAT parquet)")
    frame = pl.read_parquet(path).cast(STATE_SCHEMA)  # type: ignore[arg-type]
    path.unlink()
    return frame


def differing_states(a: pl.DataFrame, b: pl.DataFrame) -> set[str]:
    """doc_ids whose state differs between two state frames (present in one only included)."""
    both = a.join(b, on="doc_id", how="full", suffix="_b", coalesce=True)
    return set(both.filter(pl.col("state").ne_missing(pl.col("state_b")))["doc_id"].to_list())
