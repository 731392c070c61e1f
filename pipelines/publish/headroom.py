"""The headroom of DuckDB's memory caps: the publish path reads and writes under small caps (DuckDB
keeps the blocks it read cached up to its cap), and a query that cannot run within one gets the
cap raised a step for that query instead of failing."""

from __future__ import annotations

import contextlib

import duckdb

# Steps a capped connection's limit is raised through when a query cannot run within it: DuckDB
# spills joins, aggregates and sorts, but a window over a whole view (func_canonical) can need
# more than a small cap on a large warehouse (measured: 10.7 M rows do not count under 64 MB).
HEADROOM_STEPS_MB = (64, 256, 1024, 4096, 16384)


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    """The connection's memory cap as DuckDB prints it, e.g. '61.0 MiB'."""
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _megabytes(limit: str) -> float:
    value, unit = limit.split()
    return float(value) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024**2}.get(unit, 1)


def raise_memory_limit(con: duckdb.DuckDBPyConnection) -> bool:
    """The connection's memory cap raised to the next of ``HEADROOM_STEPS_MB``; False at the last."""
    bigger = next((mb for mb in HEADROOM_STEPS_MB if mb > _megabytes(_limit(con)) + 1), None)
    if bigger is not None:
        con.execute(f"SET memory_limit = '{bigger}MB'")
    return bigger is not None


def execute_with_headroom(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """``con.execute(sql)``; when DuckDB runs out of the connection's memory cap, the cap is raised
    to the next step and the query runs again, so a cap never makes publishing fail: memory stays
    small on the warehouses that fit and grows only for the queries that need it. The cap is set
    back once the query has run (its result is materialized by then), so the next query starts
    small again."""
    original: str | None = None
    while True:
        try:
            result = con.execute(sql)
            break
        except duckdb.OutOfMemoryException:
            original = original or _limit(con)
            if not raise_memory_limit(con):
                raise
    if original is not None:  # through a cursor: on ``con`` it would replace the pending result
        # a pending result holding more than the original cap keeps it raised (seen: the full
        # rebuild's screen at 2,000 documents failed here)
        with contextlib.suppress(duckdb.OutOfMemoryException):
            con.cursor().execute(f"SET memory_limit = '{original}'")
    return result
