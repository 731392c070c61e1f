"""The quality gate: Great Expectations suites (``expectations/<view>.json``, one per public view)
run against the candidate warehouse before it is published: each view is read in capped chunks
and handed to ``pipelines.validate.expectations``; the outcomes are kept beside the lake's tables.

Expectations of severity ``critical`` guard the contract (columns, types, value sets, code
formats, unique keys): one failing blocks publishing and the previous warehouse stays. ``warning``
expectations report publisher defects (the identity rules' FAIL rows): the data loads and the
finding is shown. GE is imported lazily (it takes seconds) and runs in an ephemeral context; it
has no Polars support, so it receives pandas frames.
"""

from __future__ import annotations

import ctypes
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from functools import cache
from pathlib import Path

import duckdb

from pipelines.publish.constraints import check_warehouse_constraints
from pipelines.publish.lake import atomic_write_text
from pipelines.publish.scope import PublishScope, register_scope, scoped_view
from pipelines.publish.warehouse import (
    SCOPED_READ_MEMORY_LIMIT,
    VIEW_COUNTS_KEY,
    capped_connection,
    execute_with_headroom,
    sql_literal,
    sql_string,
    view_names,
)
from pipelines.validate.expectations import (
    CheckOutcome,
    merge_chunk_outcomes,
    suite_checks,
    suite_names,
    uniqueness_key,
    validate_frame,
    wait_for_preload,
)

DEFAULT_CHUNK_ROWS = 10_000


def chunk_rows() -> int:
    return int(os.environ.get("BUDGETWH_GATE_CHUNK_ROWS") or DEFAULT_CHUNK_ROWS)


SNAPSHOT_ROW_GROUP = 16_384
CHUNKS_PER_BAND = 32


def view_chunks(con: duckdb.DuckDBPyConnection, view: str, key: list[str], rows: int, relation: str | None = None):
    """The view as pandas frames of about ``rows`` rows each (amounts as exact Decimals).

    With a uniqueness ``key`` the view is evaluated once, streamed into a Parquet file in a
    scratch folder, and read back in k = ceil(rows of the view / ``rows``) chunks by
    ``hash(key) % k`` (through band files of ``CHUNKS_PER_BAND`` chunks, so reading stays
    linear): rows that share a key are always in the same chunk, so a uniqueness expectation
    holds on every chunk exactly when it holds on the view. (A file, not a temporary table: that
    lives in memory up to the cap, so the gate's memory would grow with the warehouse.) Without a
    key the same snapshot is read back in batches. An empty view gives one empty frame with the
    view's columns. ``relation`` (a subquery of the view's rows, ``incremental.scoped_view``) is read
    instead of the whole view.
    """
    relation = relation or view
    with tempfile.TemporaryDirectory(prefix="budgetwh-gate-") as scratch:
        # evaluated once into a file, under the cap with headroom: a view with a window over a
        # join (quality_findings) cannot be streamed within the cap
        snapshot = sql_string(Path(scratch) / f"{view}.parquet")
        copy = f"COPY (SELECT * FROM {relation}) TO '{snapshot}' (FORMAT parquet, ROW_GROUP_SIZE {SNAPSHOT_ROW_GROUP})"
        execute_with_headroom(con, copy)
        if not key:
            reader = con.sql(f"SELECT * FROM read_parquet('{snapshot}')").to_arrow_reader(rows)
            emitted = False
            for batch in reader:
                emitted = True
                yield batch.to_pandas()
            if not emitted:
                yield reader.schema.empty_table().to_pandas()
            return
        total = con.execute(f"SELECT count(*) FROM read_parquet('{snapshot}')").fetchone()[0]  # from metadata
        chunks = max(1, -(-total // rows))
        if chunks == 1:
            yield con.sql(f"SELECT * FROM read_parquet('{snapshot}')").arrow().read_all().to_pandas()
            return
        # Chunk numbers are read in bands: each band is copied out of the snapshot once, and its
        # chunks are read from that smaller file. One filtered scan of the whole view per chunk
        # made the gate quadratic (980 scans of 9.8 M func_canonical rows took ~6 of its 15
        # minutes); sorting by chunk instead needs more memory than the cap, even at 470,000 rows.
        tagged = f"SELECT *, hash({', '.join(key)}) % {chunks} AS __gate_chunk FROM read_parquet('{snapshot}')"
        band_file = Path(scratch) / f"{view}.band.parquet"
        band = sql_string(band_file)
        for first in range(0, chunks, CHUNKS_PER_BAND):
            last = min(first + CHUNKS_PER_BAND, chunks)
            execute_with_headroom(
                con,
                f"COPY (SELECT * FROM ({tagged}) WHERE __gate_chunk >= {first} AND __gate_chunk < {last}) "
                f"TO '{band}' (FORMAT parquet, ROW_GROUP_SIZE {SNAPSHOT_ROW_GROUP})",
            )
            for part in range(first, last):
                sql = f"SELECT * EXCLUDE (__gate_chunk) FROM read_parquet('{band}') WHERE __gate_chunk = {part}"
                table = con.sql(sql).arrow().read_all()
                if table.num_rows:  # a hash value no key took gives no chunk
                    yield table.to_pandas()
            band_file.unlink()


@cache
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to hand back
        return None


def release_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc keeps them by default): pandas frames of
    Python objects, freed chunk after chunk, otherwise leave the process larger with every chunk."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def validate_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    rows: int | None = None,
    scope: PublishScope | None = None,
    view_rows: int | None = None,
) -> list[CheckOutcome]:
    """Suite ``name`` on the view of that name (its rows within ``scope``), chunk by chunk.
    ``view_rows``: the rows of the whole view when known (counted when the warehouse was built)."""
    outcomes = []
    relation = scoped_view(con, name, scope)
    rows = rows or chunk_rows()
    if view_rows is not None and view_rows <= rows:  # one chunk, whatever the scope: read as it is
        frames = iter([execute_with_headroom(con, f"SELECT * FROM {relation}").arrow().read_all().to_pandas()])
    else:
        frames = view_chunks(con, name, uniqueness_key(name), rows, relation)
    for frame in frames:
        chunk = validate_frame(name, frame)
        outcomes.append(sorted(chunk, key=lambda o: o.check))
        del frame
        release_freed_memory()
    order = [c["check"] for c in suite_checks(name)]
    return sorted(merge_chunk_outcomes(outcomes), key=lambda o: order.index(o.check))


# DuckDB's share of the gate: the views are evaluated under this cap (spilling to a scratch folder
# beyond it), so a larger warehouse costs disk and time, not memory.
GATE_MEMORY_LIMIT = "64MB"


def validate_warehouse(
    db_path: Path,
    *,
    rows: int | None = None,
    scope: PublishScope | None = None,
    suites: Iterable[str] | None = None,
    constraints: bool = True,
) -> dict[str, list[CheckOutcome]]:
    """Every suite (or those named in ``suites``) against the view of the same name in the DuckDB
    file ``db_path``. With the ``scope`` of an incremental publish the suites see the rows that
    scope can reach, and the warehouse-wide constraints (unique keys, references between tables)
    are checked in SQL over the whole warehouse (``constraints.py``) unless ``constraints`` is
    false (a part of a gate split between processes: ``check_constraints`` then runs on the whole).
    ``suites`` is iterated one suite at a time, in its order: it may be a queue another process
    takes from too (``gate_queue.take``)."""
    wait_for_preload()  # before this thread imports pyarrow and pandas, which GE's import loads too
    # A view no larger than a chunk is validated as one frame read straight from DuckDB: the
    # Parquet snapshot that keeps a chunk's rows together buys nothing there (15 views of a small
    # warehouse: a COPY and a read back each).
    with capped_connection(db_path, GATE_MEMORY_LIMIT if scope is None else SCOPED_READ_MEMORY_LIMIT) as con:
        recorded = _recorded_counts(con)  # on this connection: one catalog load of the file, not two
        if scope is not None:
            register_scope(con, scope)
        views = view_names(con)
        out: dict[str, list[CheckOutcome]] = {}
        for name in suite_names() if suites is None else suites:
            if name not in views:
                out[name] = [
                    CheckOutcome(name, c["check"], "view_exists", c["severity"], False, c["description"],
                                 exception=f"the view '{name}' does not exist")
                    for c in suite_checks(name)
                ]  # fmt: skip
                continue
            out[name] = validate_view(con, name, rows, scope, recorded.get(name))
        if scope is not None and constraints:
            check_warehouse_constraints(con, out, scope)
        return out


def _recorded_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The view row counts the warehouse on ``con`` recorded when it was built ({} when none). An
    incremental candidate holds its published file's until its gate has run (they are recorded
    after it, ``row_counts.record_row_counts``): a few documents apart, and they only decide
    whether a view is read as one chunk."""
    try:
        found = con.execute(f"SELECT value FROM warehouse_meta WHERE key = {sql_literal(VIEW_COUNTS_KEY)}").fetchone()
    except duckdb.CatalogException:
        return {}
    return json.loads(found[0]) if found and found[0] else {}


def check_constraints(db_path: Path, outcomes: dict[str, list[CheckOutcome]], scope: PublishScope | None) -> None:
    """The warehouse-wide constraints of ``validate_warehouse`` on outcomes gathered in parts."""
    if scope is None:
        return
    with capped_connection(db_path, GATE_MEMORY_LIMIT) as con:
        register_scope(con, scope)
        check_warehouse_constraints(con, outcomes, scope)


def save_outcomes(path: Path, outcomes: dict[str, list[CheckOutcome]]) -> None:
    # Atomic: an overlapping run may read the outcomes of a warehouse it finds current.
    atomic_write_text(path, json.dumps({k: [asdict(o) for o in v] for k, v in outcomes.items()}, ensure_ascii=False))


def load_outcomes(path: Path) -> dict[str, list[CheckOutcome]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: [CheckOutcome(**o) for o in v] for k, v in data.items()}
