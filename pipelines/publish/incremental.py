"""Incremental publishing: a run's cost follows the documents it adds, replaces or removes.

The published warehouse records the state of every document row it was loaded from
(``publish_doc_state``; ``Lake.document_states``). The next run writes the previous version of the
file (the standby, ``standby.py``) when no reader holds it, else a copy of the published file
(readers keep the published file: it is never written in place), and inside one transaction on the
candidate deletes the rows of every document whose state differs from the lake's (added, re-parsed,
quarantined, moved or removed) and loads the changed documents' per-document Parquet files in their
place. The derived tables (documents with status, unit and canonical document; units; publication
conflicts) are small (a row per document or unit) and are rewritten whole; the views
(``func_canonical``, ``budget_vs_final`` …) are computed on read, so nothing else is stored. The
candidate then goes through the same screen, gate and atomic swap as a full rebuild, restricted to
the rows of the documents the change can reach (``PublishScope``). Its view row counts and
findings by status (the summary's, and the next run's base) are the published file's carried
forward over the scope, read while the gate runs and recorded after it (``row_counts.py``), so
the build does not wait for them.

A full rebuild (``combine.build_tables`` + ``warehouse.build_candidate``) is used instead when no
published warehouse can be the base (none yet, another schema, DDL or code catalogue), when the
change is most of the warehouse anyway, or when asked (``budgetwh ingest --full-rebuild``,
``BUDGETWH_FULL_REBUILD=1``, or the ``full_rebuild`` field of the warehouse resource). Both give the
same warehouse (``tests/test_incremental_publish.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.normalize.frames import SCHEMAS
from pipelines.publish.combine import scan_files, write_derived_tables
from pipelines.publish.derive import DERIVATION_TOKEN_KEY, Derivation, derivation_files, derive, load_derivation
from pipelines.publish.doc_states import STATE_SCHEMA, differing_states, state_frame, usable_meta
from pipelines.publish.faults import checkpoint, stage
from pipelines.publish.lake import Lake, temp_prefix
from pipelines.publish.scope import (  # noqa: F401  (re-exported: their home before scope.py)
    DOCUMENT_MACROS,
    PublishScope,
    ViewRows,
    register_scope,
    scope_filter,
    scoped_view,
    unit_documents,
)
from pipelines.publish.standby import claim_standby
from pipelines.publish.warehouse import (
    BUILD_MEMORY_LIMIT,
    SCOPED_READ_MEMORY_LIMIT,
    _limit,
    build_meta,
    candidate_path,
    capped_connection,
    execute_with_headroom,
    forget_meta,
    insert_values,
    raise_memory_limit,
    remove_abandoned_candidates,
    remove_stale_builds,
    sql_string,
)

# Past this share of the warehouse's documents (and this many documents) a full rebuild costs no
# more than deleting and reloading, and compacts the file.
FULL_REBUILD_SHARE = 0.5
FULL_REBUILD_MIN_DOCUMENTS = 50


def full_rebuild_requested(flag: bool = False) -> bool:
    return flag or os.environ.get("BUDGETWH_FULL_REBUILD", "").strip().lower() in ("1", "true", "yes")


# An incremental build deletes and inserts a few documents' rows of a large file: DuckDB keeps the
# blocks it passed cached up to the cap, so a smaller one keeps the run's memory flat as the
# warehouse grows (measured at 42,000 documents: largest process 366-379 MB under 32 MB, 385-395
# under 64, in the same 5.2-5.8 s). A statement that needs more gets the headroom, and the change's
# transaction is run again whole under it (``_apply_changes``). The full build keeps 64 MB
# (``warehouse.BUILD_MEMORY_LIMIT``: loading the reference tables alone does not fit in 32), and
# so do checkpoints (one that runs out of memory is fatal to the file).
INCREMENTAL_BUILD_MEMORY_LIMIT = "32MB"
# The build's writer: a small cap (``INCREMENTAL_BUILD_MEMORY_LIMIT``), and no automatic
# checkpoint at its commit (DuckDB's past a 16 MB WAL, under that cap): the build checkpoints
# once, under the full build's cap, since a checkpoint that runs out of memory is fatal to the file.
_WRITER_CONFIG = {"memory_limit": INCREMENTAL_BUILD_MEMORY_LIMIT, "checkpoint_threshold": "1TB"}


@dataclass
class IncrementalCandidate:
    path: Path
    scope: PublishScope
    derived: str = ""  # how the derived tables were computed (``derive.Derivation.how``)
    # the published file it was built from, and that file's warehouse_meta as the build read it: its
    # view row counts and findings are carried forward (``row_counts.carried_counts``)
    published: Path | None = None
    published_meta: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def _published_reader(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The one read-only connection a build opens to the published file (capped, as every read of
    the publish path): its states, its meta, its derived tables and the scope's rows in it are all
    read through it (each connection of a 10 M-row file loads its catalog). None when there is no
    file or DuckDB cannot open it. The file is never written: readers elsewhere are not disturbed."""
    if not Path(warehouse).exists():
        yield None
        return
    reader = capped_connection(warehouse, SCOPED_READ_MEMORY_LIMIT)  # its reads: states, meta, the scope's rows
    try:
        con = reader.__enter__()
    except (duckdb.Error, FileNotFoundError):
        yield None
        return
    try:
        yield con
    finally:
        reader.__exit__(None, None, None)


def _stage_changed_facts(lake: Lake, doc_ids: list[str], scratch: Path) -> dict[str, Path]:
    """The changed documents' rows of every fact table, one Parquet file per table, through the
    same Polars scan the full rebuild combines with (types and missing columns alike)."""
    staged = {}
    for table in SCHEMAS:
        files = [p for d in doc_ids if (p := lake.doc_dir(d) / f"{table}.parquet").exists()]
        if files:
            staged[table] = scratch / f"{table}.parquet"
            scan_files(files, table).sink_parquet(staged[table])
    return staged


def _changed_keys(old: pl.DataFrame, new: pl.DataFrame, key: str, within: set | None = None) -> set:
    """Values of ``key`` whose row differs between two versions of a table (added, removed or
    changed); ``within``: the keys whose rows can differ (``Derivation.replaced``), when known, so
    that 42,000 rows are not joined on every column to find the few a change rewrote."""
    columns = [c for c in new.columns if c in old.columns]
    old, new = old.select(columns), new.select(columns)
    if within is not None:
        wanted = pl.col(key).is_in(sorted(k for k in within if k is not None))
        if None in within:
            wanted = wanted | pl.col(key).is_null()
        old, new = old.filter(wanted), new.filter(wanted)
    gone = old.join(new, on=columns, how="anti", nulls_equal=True)
    added = new.join(old, on=columns, how="anti", nulls_equal=True)
    return set(gone[key].to_list()) | set(added[key].to_list())


def publish_scope(
    changed: list[str],
    old_docs: pl.DataFrame,
    new_docs: pl.DataFrame,
    old_units: pl.DataFrame,
    new_units: pl.DataFrame,
    members: pl.DataFrame | None = None,
    replaced: dict[str, set] | None = None,
) -> PublishScope:
    """The documents and units whose rows of the public views the change can reach. ``replaced``:
    the keys of the derived rows that can differ between the old and new frames (``Derivation.replaced``)."""

    def within(table: str) -> set | None:
        return None if replaced is None else replaced.get(table, set())

    seeds = set(changed) | _changed_keys(old_docs, new_docs, "doc_id", within("doc_document"))
    changed_units = _changed_keys(old_units, new_units, "unit_key", within("dim_unit"))
    keys: set = set(changed_units)
    names: set = set()
    for frame in (old_docs, new_docs):
        touched = frame.filter(pl.col("doc_id").is_in(sorted(seeds)))
        keys |= set(touched["unit_key"].to_list())
        names |= set(touched["unit_name"].to_list())
    # a unit's name as the units table prints it (budget_vs_final's key) may be another unit's too
    for frame in (old_units, new_units):
        printed = set(frame.filter(pl.col("unit_key").is_in([k for k in keys if k is not None]))["unit_name"])
        keys |= set(frame.filter(pl.col("unit_name").is_in(sorted(n for n in printed if n is not None)))["unit_key"])
    related = new_docs.filter(
        pl.col("unit_key").is_in([k for k in keys if k is not None])
        | pl.col("unit_name").is_in([n for n in names if n is not None])
        | (pl.col("unit_key").is_null() & pl.lit(None in keys))
        | (pl.col("unit_name").is_null() & pl.lit(None in names))
    )
    documents = seeds | set(related["doc_id"].to_list())
    units = keys | set(related["unit_key"].to_list())
    if members is not None and len(members):  # the member units printed in those documents' tables
        units |= set(members.filter(pl.col("doc_id").is_in(sorted(documents)))["unit_key"].to_list())
    return PublishScope(sorted(changed), sorted(documents), sorted(u for u in units if u is not None))


def build_incremental_candidate(lake: Lake, warehouse: Path, run: str = "local") -> IncrementalCandidate | None:
    """The next warehouse as a copy of the published one with the changed documents' rows
    replaced, or None when a full rebuild is needed (see the module's docstring)."""
    with stage("the candidate build"):
        return _build_incremental(lake, Path(warehouse), run)


def _build_incremental(lake: Lake, warehouse: Path, run: str) -> IncrementalCandidate | None:
    remove_stale_builds(warehouse)
    remove_abandoned_candidates(warehouse)
    final = candidate_path(warehouse, run)
    tmp = warehouse.with_name(f"{temp_prefix(warehouse.name)}building")
    with (
        lake.publish_lock(),
        # inside the lake, tagged with the pid: a killed run's folder is removed by the next run
        # (``Lake.clean_stale_temp``), and its Parquet files are on the lake's disk
        tempfile.TemporaryDirectory(prefix=temp_prefix("incremental"), dir=lake.root) as scratch,
        _published_reader(warehouse) as published,
    ):
        found = None
        if published is not None:
            with contextlib.suppress(duckdb.Error):
                if (published_meta := usable_meta(published)) is not None:
                    found = state_frame(published, Path(scratch), "published"), published_meta
        if found is None:
            return None
        base, published_meta = found
        for stale in (tmp, final):
            stale.unlink(missing_ok=True)
        # the previous version, if no reader holds it, becomes the candidate (standby.py); its own
        # states say what it lacks
        con = claim_standby(warehouse, tmp, _WRITER_CONFIG)
        standby = _states_of(con, Path(scratch)) if con is not None else None
        previous = load_derivation(lake)
        try:
            # Another run may replace a document while we read it: read again until the lake held still.
            for _attempt in range(5):
                fingerprint = lake.fingerprint()
                lake_states = lake.summary_frame().select(list(STATE_SCHEMA))
                changed = sorted(differing_states(lake_states, base))
                if len(changed) > max(FULL_REBUILD_MIN_DOCUMENTS, FULL_REBUILD_SHARE * base.height):
                    _discard(con, tmp)
                    return None
                if standby is not None:
                    also = differing_states(lake_states, standby)
                    if len(also) > max(FULL_REBUILD_MIN_DOCUMENTS, FULL_REBUILD_SHARE * standby.height):
                        _discard(con, tmp)  # too far behind: a copy of the published file is cheaper
                        con, standby = None, None
                    else:
                        changed = sorted(set(changed) | also)
                # the states of the changed documents the lake holds (the others were removed)
                states = dict(lake_states.filter(pl.col("doc_id").is_in(changed)).iter_rows())
                derivation = derive(lake, previous)
                frames = derivation.frames
                for p in Path(scratch).iterdir():
                    p.unlink()
                staged = _stage_changed_facts(lake, [d for d in changed if d in states], Path(scratch))
                if lake.fingerprint() == fingerprint:
                    break
            else:  # the lake kept changing: publish what was read, and make the next run reload everything
                fingerprint, states = f"unsettled-{fingerprint}", None
                lake_states = pl.DataFrame(schema=STATE_SCHEMA)
            base = standby = None
            # the published derived tables: the kept derivation's when the published file was built
            # from it (no 42,000-row reads), else read from the file
            from_kept = previous is not None and published_meta.get(DERIVATION_TOKEN_KEY) == previous.token()
            scope = None
            if from_kept:
                old_documents, old_units = previous.frames["doc_document"], previous.frames["dim_unit"]
                scope = publish_scope(
                    changed, old_documents, frames["doc_document"], old_units, frames["dim_unit"],
                    frames.get("dim_member_unit"), derivation.replaced,
                )  # fmt: skip
                # the kept derivation's frames and inputs (~65 MB at 42,000 documents) are not needed
                # again: released before the writer's buffers grow
                previous = old_documents = old_units = None
            else:
                old_documents, old_units = (
                    published.sql(f"SELECT * FROM {t}").pl() for t in ("doc_document", "dim_unit")
                )
            published.close()  # read: its buffers are not held beside the writer's
            if con is None:
                shutil.copyfile(warehouse, tmp)  # the published file is only read: its readers are not disturbed
                con = duckdb.connect(str(tmp), config=_WRITER_CONFIG)
            try:
                _apply_changes(con, lake, changed, staged, frames, states, fingerprint, derivation, Path(scratch))
                if scope is None:  # compared as loaded (the same column types on both sides)
                    new_documents, new_units = (
                        con.sql(f"SELECT * FROM {t}").pl() for t in ("doc_document", "dim_unit")
                    )
                    scope = publish_scope(
                        changed, old_documents, new_documents, old_units, new_units, frames.get("dim_member_unit")
                    )
                # written to the file now, for the gate's read-only connections (a WAL left beside
                # the file would be replayed by each of them), under the full build's cap: a
                # checkpoint that runs out of memory is fatal to the file (seen under 32 MB)
                con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'")
                con.execute("CHECKPOINT")
            finally:
                con.close()
                forget_meta(tmp)
            with stage("combining the fact tables"):
                write_derived_tables(lake, derivation_files(derivation), fingerprint, lake_states)
            os.replace(tmp, final)
        except BaseException:
            _discard(None, tmp)
            raise
    return IncrementalCandidate(final, scope, _how(derivation), warehouse, published_meta)


def _how(derivation: Derivation) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in derivation.recomputed.items())
    return f"derived tables: {derivation.how}" + (f" ({counts})" if counts else "")


def _states_of(con: duckdb.DuckDBPyConnection, scratch: Path) -> pl.DataFrame | None:
    """A claimed standby's document states, or None (and it is closed) when it cannot be the base."""
    try:
        if usable_meta(con) is not None:
            return state_frame(con, scratch, "standby")
    except duckdb.Error:
        pass
    con.close()
    return None


def _discard(con: duckdb.DuckDBPyConnection | None, db: Path) -> None:
    if con is not None:
        with contextlib.suppress(duckdb.Error):
            con.close()
    db.unlink(missing_ok=True)
    Path(f"{db}.wal").unlink(missing_ok=True)


def _apply_changes(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    changed: list[str],
    staged: dict[str, Path],
    frames: dict[str, pl.DataFrame],
    states: dict[str, str] | None,
    fingerprint: str,
    derivation: Derivation,
    scratch: Path,
) -> None:
    """One transaction: a reader of the candidate (the screen, the gate) sees all of it or none.

    The derived rows that differ are found first, outside it (``_differing_keys``: the costliest
    read of the build, which a memory cap may stop and the headroom run again); inside it only
    rows are deleted and inserted. DuckDB aborts a transaction in which a statement ran out of
    memory, so the transaction is rolled back and run again whole under the next cap
    (``warehouse.HEADROOM_STEPS_MB``), and the build runs under a small cap without ever failing
    on it."""
    replacements = {name: _differing_keys(con, name, frame, scratch) for name, frame in frames.items()}
    original = _limit(con)
    try:
        while True:
            try:
                _change_in_one_transaction(con, lake, changed, staged, replacements, states, fingerprint, derivation)
                return
            except duckdb.OutOfMemoryException:
                con.execute("ROLLBACK")
                if not raise_memory_limit(con):
                    raise
    finally:
        for name in replacements:
            con.execute(f"DROP TABLE IF EXISTS {_keys_table(name)}")
        # back to the small cap, unless DuckDB cannot free enough for it (then the build goes on
        # under the raised one, as ``execute_with_headroom`` does)
        with contextlib.suppress(duckdb.OutOfMemoryException):
            con.execute(f"SET memory_limit = '{original}'")


def _change_in_one_transaction(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    changed: list[str],
    staged: dict[str, Path],
    replacements: dict[str, Path],
    states: dict[str, str] | None,
    fingerprint: str,
    derivation: Derivation,
) -> None:
    con.execute("BEGIN TRANSACTION")
    con.execute("CREATE OR REPLACE TEMP TABLE changed_documents (doc_id VARCHAR)")
    insert_values(con, "changed_documents", [(d,) for d in changed])  # literals: parameters import pandas
    # a fact row's document is in doc_document (constraints.py): documents new to the candidate
    # have no rows to delete, and a run that only adds documents scans no 10 M-row table
    held = con.execute("SELECT count(*) FROM doc_document WHERE doc_id IN (SELECT doc_id FROM changed_documents)")
    held = held.fetchone()[0]
    for table in SCHEMAS:
        if held:
            con.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT doc_id FROM changed_documents)")
        if table in staged:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet('{sql_string(staged[table])}')")
    for name, path in replacements.items():
        key, keys = DERIVED_KEYS[name], _keys_table(name)
        con.execute(f"DELETE FROM {name} WHERE {key} IN (SELECT k FROM {keys})")
        con.execute(
            f"INSERT INTO {name} BY NAME SELECT * FROM read_parquet('{sql_string(path)}') WHERE {key} IN (SELECT k FROM {keys})"
        )
    # the states of the changed documents only (``states``: those the lake holds; None, an
    # unsettled lake: none, so the next run reloads all)
    if states is not None:
        con.execute("DELETE FROM publish_doc_state WHERE doc_id IN (SELECT doc_id FROM changed_documents)")
        insert_values(con, "publish_doc_state", [(d, states[d]) for d in changed if d in states])
    else:
        con.execute("DELETE FROM publish_doc_state")
    con.execute("DELETE FROM warehouse_meta")
    # the derived tables' token (the next run's comparison), and how they were computed: whole | groups | unchanged
    meta = build_meta(lake, fingerprint, "incremental") | {
        DERIVATION_TOKEN_KEY: derivation.token(),
        "derived_by": derivation.how,
    }
    insert_values(con, "warehouse_meta", meta.items())
    checkpoint("candidate.build")
    con.execute("COMMIT")


# The key of each derived table's rows: a row whose values differ is replaced with every row of its key.
DERIVED_KEYS = {
    "doc_document": "doc_id", "dim_unit": "unit_key", "dim_member_unit": "doc_id", "fact_publication_check": "doc_id",
}  # fmt: skip


def _keys_table(table: str) -> str:
    return f"__differing_{table}"


def _differing_keys(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, scratch: Path) -> Path:
    """The keys whose rows differ between ``table`` and ``frame``, in a temporary table
    (``_keys_table``), and the frame as a Parquet file to insert their rows from (a change rewrites
    a few of the 42,000 rows of doc_document, not all of them). Rows are compared by a hash of
    their values in the table's own column types, the multiset of a key's hashes on each side: a
    few bytes a row. The frame reaches DuckDB as a Parquet file: a registered Arrow table imports
    pyarrow and pandas into the process."""
    key = DERIVED_KEYS[table]
    columns = con.execute(f"DESCRIBE {table}").fetchall()
    typed = ", ".join(f'CAST("{name}" AS {kind})' for name, kind, *_ in columns)
    path = scratch / f"derived-{table}.parquet"
    frame.write_parquet(path)
    new = f"read_parquet('{sql_string(path)}')"
    execute_with_headroom(
        con,
        f"CREATE OR REPLACE TEMP TABLE {_keys_table(table)} AS "
        f"WITH old AS (SELECT {key} AS k, list_sort(list(hash({typed}))) AS h FROM {table} GROUP BY 1), "
        f"new AS (SELECT {key} AS k, list_sort(list(hash({typed}))) AS h FROM {new} GROUP BY 1) "
        f"SELECT coalesce(old.k, new.k) AS k FROM old FULL JOIN new ON old.k = new.k WHERE old.h IS DISTINCT FROM new.h",
    )
    return path
