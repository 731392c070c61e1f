"""Publishing the lake into DuckDB, and reading it back.

The warehouse is rebuilt into a new file and swapped in with ``os.replace``: a reader (``budgetwh
query``, the UI) keeps the file it opened and never sees half a load, and a process killed
mid-build leaves the previous warehouse untouched. A build records the lake fingerprint it came
from; when nothing changed, publishing is skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.normalize.codes import REFERENCE_DIR
from pipelines.publish.combine import (
    ALL_TABLES,
    DERIVED_TABLES,
    built_fingerprint,
    built_states,
    facts_combined,
    tables_dir,
)
from pipelines.publish.derive import DERIVATION_TOKEN_KEY, load_derivation
from pipelines.publish.faults import checkpoint, stage
from pipelines.publish.headroom import (  # noqa: F401  (their home before headroom.py)
    HEADROOM_STEPS_MB,
    _limit,
    _megabytes,
    execute_with_headroom,
    raise_memory_limit,
)
from pipelines.publish.lake import Lake, is_stale_temp, temp_prefix
from pipelines.publish.meta import forget_meta, query_published, read_meta  # noqa: F401  (their home before meta.py)
from pipelines.publish.output import format_rows  # noqa: F401  (re-exported: the command's output)
from pipelines.publish.standby import keep_standby

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
PUBLIC_VIEWS = (
    "documents", "func_amounts", "func_canonical", "econ_amounts", "three_public", "projects",
    "project_line_items", "indicators", "quality_findings", "budget_vs_final",
    "document_tables", "func_codes", "econ_codes", "units",
)  # fmt: skip


@dataclass
class PublishReport:
    published: bool
    warehouse: Path
    fingerprint: str
    row_counts: dict[str, int]
    seconds: float


BUILD_MEMORY_LIMIT = "64MB"


def sql_string(path: Path) -> str:
    """A path as the body of an SQL string literal, for statements that take no parameters
    (ATTACH, COPY, anything run through ``execute_with_headroom``)."""
    return str(path).replace("'", "''")


def sql_literal(value: object) -> str:
    """A value as an SQL literal. The publish path gives DuckDB literals, never Python parameters:
    binding a parameter makes DuckDB's Python module import pandas and numpy (~85 MB and ~1 s in a
    process that otherwise never needs them)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def sql_literals(values: Iterable[object]) -> str:
    """Values as a comma-separated list of SQL literals (``sql_literal``), for ``x IN (…)``; NULL
    for none (an ``IN (NULL)`` holds for no row)."""
    return ", ".join(map(sql_literal, values)) or "NULL"


def insert_values(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Sequence[object]]) -> None:
    """``INSERT INTO table VALUES …`` of ``rows`` as literals (``sql_literal``), in batches."""
    rows = list(rows)
    for start in range(0, len(rows), 1000):
        values = ", ".join("(" + ", ".join(map(sql_literal, r)) + ")" for r in rows[start : start + 1000])
        con.execute(f"INSERT INTO {table} VALUES {values}")


def candidate_path(warehouse: Path, run: str = "local") -> Path:
    """Where a run builds the next version of a warehouse before it is validated and swapped in.
    Named by run, so that two overlapping runs never validate or promote each other's file."""
    warehouse = Path(warehouse)
    return warehouse.with_name(f".{warehouse.name}.run-{run}.candidate")


def candidate_run(candidate: Path) -> str:
    """The run (first 8 characters of its id) that built a candidate."""
    return Path(candidate).name.split(".")[-2].removeprefix("run-")


CANDIDATE_MAX_AGE = 6 * 3600  # seconds; a candidate no run promoted by then was abandoned


def remove_abandoned_candidates(warehouse: Path) -> None:
    now = time.time()
    for p in Path(warehouse).parent.glob(f".{Path(warehouse).name}.*.candidate"):
        try:
            if now - p.stat().st_mtime > CANDIDATE_MAX_AGE:
                p.unlink(missing_ok=True)
        except FileNotFoundError:
            pass


def is_current(lake: Lake, warehouse: Path) -> bool:
    fingerprint = built_fingerprint(lake)
    return bool(fingerprint) and read_meta(warehouse, "lake_fingerprint") == fingerprint


def build_candidate(lake: Lake, warehouse: Path, run: str = "local") -> Path:
    """Load the lake's combined tables (``combine.build_tables``) into a new DuckDB file beside the
    warehouse. Nothing the analysts read is touched."""
    with stage("the candidate build"):
        return _build_candidate(lake, warehouse, run)


def _build_candidate(lake: Lake, warehouse: Path, run: str) -> Path:
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(warehouse)
    remove_abandoned_candidates(warehouse)
    final = candidate_path(warehouse, run)
    tmp = warehouse.with_name(f"{temp_prefix(warehouse.name)}building")
    with lake.publish_lock():
        fingerprint = built_fingerprint(lake)
        if (fingerprint is None and tables_dir(lake).exists()) or (fingerprint and not facts_combined(lake)):
            raise RuntimeError(
                "The combined tables of the lake are incomplete (a build was interrupted); "
                "run the ingest or publish job again to rebuild them."
            )
        for stale in (tmp, final):
            stale.unlink(missing_ok=True)
        prepared = _prepared_schema(warehouse)
        ready = prepared.exists()
        if ready:  # tables, catalogues and views made while the documents were parsed
            os.replace(prepared, tmp)
        # capped: DuckDB writes and evicts as it goes, so a larger lake costs disk, not memory
        con = duckdb.connect(str(tmp), config={"memory_limit": BUILD_MEMORY_LIMIT})
        try:
            if not ready:
                _create_schema(con)
            for table in (*ALL_TABLES, *DERIVED_TABLES):
                path = tables_dir(lake) / f"{table}.parquet"
                if path.exists():
                    execute_with_headroom(
                        con, f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet('{sql_string(path)}')"
                    )
            states = sorted(built_states(lake).items())
            if states:
                insert_values(con, "publish_doc_state", states)
            meta = build_meta(lake, fingerprint)
            kept = load_derivation(lake)  # the derived tables just loaded are those of this derivation
            if kept is not None:
                meta[DERIVATION_TOKEN_KEY] = kept.token()
            insert_values(con, "warehouse_meta", meta.items())
            insert_values(con, "warehouse_meta", [(VIEW_COUNTS_KEY, json.dumps(count_views(con)))])
            findings = json.dumps(count_findings(con))
            insert_values(con, "warehouse_meta", [(FINDING_COUNTS_KEY, findings)])
            checkpoint("candidate.build")
            con.execute("CHECKPOINT")
        except BaseException:
            con.close()
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
            raise
        con.close()
        os.replace(tmp, final)
    return final


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """A new warehouse's tables, its code catalogues (reference data shipped with the parser) and
    its views (definitions only: the same whether made before or after the rows)."""
    con.execute((SQL_DIR / "tables.sql").read_text(encoding="utf-8"))
    for kind in ("func", "econ"):
        catalogue = sql_string(REFERENCE_DIR / f"{kind}_codes.csv")
        con.execute(
            f"INSERT INTO ref_{kind}_code BY NAME SELECT * FROM read_csv('{catalogue}', header = true, "
            "columns = {'code': 'VARCHAR', 'level': 'TINYINT', 'name': 'VARCHAR', 'parent_code': 'VARCHAR', "
            "'first_year': 'INTEGER', 'last_year': 'INTEGER', 'source': 'VARCHAR'})"
        )
    con.execute((SQL_DIR / "views.sql").read_text(encoding="utf-8"))


def _prepared_schema(warehouse: Path) -> Path:
    """Where this process keeps a candidate's schema made ahead, for the schema of the code now."""
    return warehouse.with_name(f"{temp_prefix(warehouse.name)}schema-{schema_fingerprint()}")


def prepare_candidate_schema(warehouse: Path) -> bool:
    """For a warehouse not yet published: make the first candidate's tables, catalogues and views
    now (~0.1–0.15 s; a one-document run does it while its document is parsed), so that building
    it only loads the rows. The file is this process's (its pid in the name: a dead process's is
    removed by the next build). True when one is ready."""
    warehouse = Path(warehouse)
    prepared = _prepared_schema(warehouse)
    if warehouse.exists() or prepared.exists():
        return prepared.exists()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    tmp = warehouse.with_name(f"{temp_prefix(warehouse.name)}schema-building")
    try:
        con = duckdb.connect(str(tmp), config={"memory_limit": BUILD_MEMORY_LIMIT})
        try:
            _create_schema(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, prepared)
        return True
    except (duckdb.Error, OSError):  # the build makes the schema itself (and reports what fails)
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        return False


def schema_fingerprint() -> str:
    """A hash of what shapes a warehouse besides the documents: its DDL, its views and the code
    catalogues. An incremental publish only starts from a warehouse built with the same."""
    h = hashlib.sha256()
    for path in (SQL_DIR / "tables.sql", SQL_DIR / "views.sql", *sorted(REFERENCE_DIR.glob("*_codes.csv"))):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def build_meta(lake: Lake, fingerprint: str | None, mode: str = "full") -> dict[str, str]:
    return {
        "lake_fingerprint": fingerprint or "",
        "built_at": dt.datetime.now().isoformat(timespec="seconds"),
        "lake": str(lake.root),
        "schema_fingerprint": schema_fingerprint(),
        "publish_mode": mode,  # full | incremental: how this file was built
    }


def promote(candidate: Path, warehouse: Path, lake: Lake | None = None) -> bool:
    """Swap the validated candidate in. A reader keeps the file it opened; new readers see the new one.
    The old file stays as the standby (``standby.py``). With the ``lake``: unless an overlapping run
    swapped in a warehouse of the lake as it is now while this candidate, built before, was being
    validated; that one stays, and the stale candidate is removed. Returns whether it swapped."""
    try:
        with stage("the swap of the new warehouse"):
            checkpoint("publish.swap")
            if lake is None:
                keep_standby(warehouse)
                os.replace(candidate, warehouse)
                return True
            with lake.publish_lock():
                if is_current(lake, warehouse) and not is_current(lake, candidate):
                    candidate.unlink(missing_ok=True)
                    return False
                keep_standby(warehouse)  # the old version: the next run's candidate (standby.py)
                os.replace(candidate, warehouse)
                return True
    except OSError:
        candidate.unlink(missing_ok=True)  # it will never be promoted (named by run): give its space back
        raise


def publish(lake: Lake, warehouse: Path, *, force: bool = False) -> PublishReport:
    """Build, and swap in, without the quality gate (the Dagster job validates in between)."""
    started = dt.datetime.now()
    warehouse = Path(warehouse)
    if not force and is_current(lake, warehouse):
        return PublishReport(False, warehouse, built_fingerprint(lake) or "", row_counts(warehouse), 0.0)
    promote(build_candidate(lake, warehouse), warehouse, lake)
    seconds = (dt.datetime.now() - started).total_seconds()
    return PublishReport(True, warehouse, built_fingerprint(lake) or "", row_counts(warehouse), seconds)


def remove_stale_builds(warehouse: Path) -> list[Path]:
    """Half-built warehouse files (and their WAL) of processes that died are deleted; they were
    never visible under the warehouse's name."""
    removed = []
    for p in Path(warehouse).parent.glob(f".{Path(warehouse).name}.*"):
        if is_stale_temp(p):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"No warehouse at {warehouse}: run 'budgetwh ingest' first.")
    return duckdb.connect(str(warehouse), read_only=True)


# What the publish path reads (row counts, previews, the report, the quality gate) runs under a
# memory cap: counting a view such as func_canonical evaluates its window over every row, which
# without a cap takes memory in proportion to the warehouse.
READ_MEMORY_LIMIT = "64MB"
# A read restricted to a publish's scope (the rows of a few documents and units) needs little
# memory, but DuckDB keeps the blocks it read cached up to the cap, and on a 10 M-row file it
# passes enough of them to fill it. A smaller cap keeps a small run's memory flat as the warehouse
# grows (measured, the 15 public views scoped to one new document of 42,000: the reading process
# ends at 397 MB under 64 MB, 372 under 32, in the same 0.5 s; under 16 MB three views need the
# headroom and run twice); a query that needs more gets the headroom.
SCOPED_READ_MEMORY_LIMIT = "32MB"


def read_limit(scoped: bool) -> str:
    return SCOPED_READ_MEMORY_LIMIT if scoped else READ_MEMORY_LIMIT


@contextlib.contextmanager
def capped_connection(warehouse: Path, memory_limit: str = READ_MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a memory cap and a scratch folder to spill to, the warehouse file
    attached read-only as the default database (it is never written)."""
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"No warehouse at {warehouse}: run 'budgetwh ingest' first.")
    with tempfile.TemporaryDirectory(prefix="budgetwh-read-") as scratch:
        con = duckdb.connect(
            config={"memory_limit": memory_limit, "temp_directory": scratch, "preserve_insertion_order": False}
        )
        try:
            con.execute(f"ATTACH '{sql_string(warehouse)}' AS warehouse (READ_ONLY)")
            con.execute("USE warehouse")
            yield con
        finally:
            con.close()


def view_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The views of the connection's current database."""
    sql = "SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database()"
    return {r[0] for r in con.execute(sql).fetchall()}


# The rows of every public view, counted once when the warehouse is built (counting func_canonical
# evaluates its window over every row) and kept in warehouse_meta for the summary, the asset
# metadata and the health check.
VIEW_COUNTS_KEY = "view_row_counts"


def count_views(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    existing = view_names(con)
    return {
        v: execute_with_headroom(con, f"SELECT count(*) FROM {v}").fetchone()[0] for v in PUBLIC_VIEWS if v in existing
    }


# The findings by status (and severity of a FAIL), kept beside the row counts for the run's summary:
# counting them evaluates quality_findings over every row (10 M-row warehouse: 3.8 s).
FINDING_COUNTS_KEY = "finding_counts"


def count_findings(con: duckdb.DuckDBPyConnection, relation: str = "quality_findings") -> dict[str, int]:
    sql = (
        "SELECT status || CASE WHEN status = 'FAIL' THEN ' (' || severity || ')' ELSE '' END, count(*) "
        f"FROM {relation} GROUP BY ALL"
    )
    return dict(execute_with_headroom(con, sql).fetchall())


def finding_counts(warehouse: Path) -> dict[str, int]:
    recorded = read_meta(warehouse, FINDING_COUNTS_KEY)
    if recorded:
        return json.loads(recorded)
    with capped_connection(warehouse) as con:
        return count_findings(con)


def row_counts(warehouse: Path) -> dict[str, int]:
    if not Path(warehouse).exists():
        return {}
    recorded = read_meta(warehouse, VIEW_COUNTS_KEY)
    if recorded:
        return json.loads(recorded)
    with capped_connection(warehouse) as con:
        return count_views(con)


# ---------------------------------------------------------------------------------------------
# Query output


class QueryRefused(Exception):
    """An analyst's statement that would reach outside the warehouse (files, extensions, settings)."""


# The analyst's connection (``budgetwh query``): the warehouse file and nothing else. DuckDB refuses
# every file system access past the database it opened (COPY … TO, read_text/read_csv/glob of a
# path, ATTACH, INSTALL), never loads an extension, and refuses SET once the configuration is locked.
CONFINED_CONFIG = {
    "enable_external_access": False,
    "allow_community_extensions": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
# Statements an analyst may run: queries (SELECT, FROM …, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE
# parse as SELECT) and EXPLAIN. PRAGMA, SET, CALL, COPY, ATTACH, CREATE … are refused before they run.
ALLOWED_STATEMENTS = ("SELECT", "EXPLAIN")


def refusal(exc: duckdb.Error) -> str | None:
    """A one-line explanation when DuckDB refused ``exc`` because of the confinement, else None."""
    text = str(exc)
    if isinstance(exc, duckdb.PermissionException) or "file system operations are disabled" in text:
        return (
            "Refused: budgetwh query reads the warehouse's views and nothing else (no files, no extensions); "
            f"DuckDB said: {text.splitlines()[0]}"
        )
    if "the configuration has been locked" in text:
        return "Refused: budgetwh query cannot change settings (the configuration is locked)."
    return None


def check_analyst_sql(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return  # a syntax error: DuckDB reports it when the query runs
    for statement in statements:
        kind = statement.type.name
        if kind not in ALLOWED_STATEMENTS:
            raise QueryRefused(
                f"Refused: budgetwh query runs read-only queries over the warehouse views; {kind} statements "
                "are not allowed (for a file, redirect the output of --format csv or json)."
            )


def connect_confined(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"No warehouse at {warehouse}: run 'budgetwh ingest' first.")
    return duckdb.connect(str(warehouse), read_only=True, config=CONFINED_CONFIG)


def run_query(warehouse: Path, sql: str, *, confined: bool = False) -> tuple[list[str], list[tuple]]:
    """``sql`` on the warehouse, read-only. ``confined`` (the analyst's ``budgetwh query``): only
    queries, on a connection that can reach nothing but the warehouse file (``QueryRefused``)."""
    if confined:
        check_analyst_sql(sql)
    con = connect_confined(warehouse) if confined else connect_read_only(warehouse)
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall()
    finally:
        con.close()
