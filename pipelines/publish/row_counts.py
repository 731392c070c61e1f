"""The view row counts and findings by status an incremental candidate records (``warehouse_meta``:
the summary's, the asset's metadata, and the next run's base), carried forward from the published
file's over the publish scope instead of counted whole (counting func_canonical at 10 M rows
evaluates its window over every row). The run reads them while the gate runs, off the build's
path (``assets/facts.py``), and records them after it, when the gate's connections are closed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.publish.doc_states import usable_meta
from pipelines.publish.incremental import IncrementalCandidate
from pipelines.publish.scope import PublishScope, ViewRows, scoped_view
from pipelines.publish.warehouse import (
    BUILD_MEMORY_LIMIT,
    FINDING_COUNTS_KEY,
    PUBLIC_VIEWS,
    SCOPED_READ_MEMORY_LIMIT,
    VIEW_COUNTS_KEY,
    capped_connection,
    count_findings,
    count_views,
    execute_with_headroom,
    forget_meta,
    insert_values,
    sql_literal,
    view_names,
)


@dataclass
class RowCounts:
    """The rows of every public view and the findings by status, of a warehouse or of a scope's rows in it."""

    views: dict[str, int]
    findings: dict[str, int]


def scoped_counts(con: duckdb.DuckDBPyConnection, scope: PublishScope) -> RowCounts:
    """The rows of every public view within ``scope``, and its findings by status, in two statements:
    the scope's findings are evaluated once into a temporary table that both read (quality_findings
    is the costliest view to scope: its prior-year checks pair a unit's documents)."""
    existing = view_names(con)
    views = [v for v in PUBLIC_VIEWS if v in existing]
    findings = scoped_view(con, "quality_findings", scope)
    execute_with_headroom(
        con, f"CREATE OR REPLACE TEMP TABLE __scope_findings AS SELECT status, severity FROM {findings}"
    )
    try:
        relations = {v: "__scope_findings" if v == "quality_findings" else scoped_view(con, v, scope) for v in views}
        counts = ", ".join(f"(SELECT count(*) FROM {relations[v]})" for v in views)
        row = execute_with_headroom(con, f"SELECT {counts}").fetchone() if views else ()
        return RowCounts(dict(zip(views, row, strict=True)), count_findings(con, "__scope_findings"))
    finally:
        con.execute("DROP TABLE __scope_findings")


def rows_in_scope(con: duckdb.DuckDBPyConnection, rows: ViewRows) -> RowCounts:
    """The candidate's rows of every public view within ``rows.scope``, and their findings by
    status, from the scope's rows the run's reader evaluated once (``ViewRows``, for the previews
    and the report): counting them costs nothing more."""
    existing = view_names(con)
    views = {}
    for view in (v for v in PUBLIC_VIEWS if v in existing):
        n = rows.rows(view)  # None: read where it is (a view the scope does not restrict)
        if n is None:
            n = execute_with_headroom(con, f"SELECT count(*) FROM {rows.relation(view)}").fetchone()[0]
        views[view] = n
    return RowCounts(views, count_findings(con, rows.relation("quality_findings")))


def carried_counts(built: IncrementalCandidate, now: RowCounts) -> RowCounts | None:
    """The candidate's view row counts and findings by status: the published file's, less those of
    the scope's rows there, plus ``now`` (those of its rows in the candidate; rows outside the
    scope are the same in both files). Read while the gate runs, off the build's path; None when
    they cannot be carried (the published file has changed since the build read it, or it recorded
    none): the candidate is then counted whole (``count_whole``)."""
    before = json.loads(built.published_meta.get(VIEW_COUNTS_KEY) or "null")
    findings_before = json.loads(built.published_meta.get(FINDING_COUNTS_KEY) or "null")
    if before is None or findings_before is None or not set(before) >= set(now.views) or built.published is None:
        return None
    try:
        with capped_connection(built.published, SCOPED_READ_MEMORY_LIMIT) as published:
            if usable_meta(published) != built.published_meta:
                return None  # another run published since: not the file the candidate was built from
            old = scoped_counts(published, built.scope)
    except (duckdb.Error, FileNotFoundError):
        return None
    views = {v: before[v] - old.views.get(v, 0) + n for v, n in now.views.items()}
    findings = {
        k: findings_before.get(k, 0) - old.findings.get(k, 0) + now.findings.get(k, 0)
        for k in findings_before.keys() | now.findings.keys()
    }
    return RowCounts(views, {k: n for k, n in sorted(findings.items()) if n})


def count_whole(con: duckdb.DuckDBPyConnection) -> RowCounts:
    return RowCounts(count_views(con), count_findings(con))


def record_row_counts(candidate: Path, counts: RowCounts) -> None:
    """The candidate's view row counts and findings by status written into its warehouse_meta (once
    the gate has closed its connections: a DuckDB file has one writer and no readers beside it),
    before it is published: the next run carries them forward, the summary prints them."""
    # the full build's cap: its checkpoint rewrites the tables' metadata, and one that runs out of
    # memory is fatal to the file (seen under 32 MB on the corpus warehouse)
    con = duckdb.connect(str(candidate), config={"memory_limit": BUILD_MEMORY_LIMIT})
    try:
        con.execute("BEGIN TRANSACTION")
        for key, value in ((VIEW_COUNTS_KEY, counts.views), (FINDING_COUNTS_KEY, counts.findings)):
            con.execute(f"DELETE FROM warehouse_meta WHERE key = {sql_literal(key)}")
            insert_values(con, "warehouse_meta", [(key, json.dumps(value))])
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    forget_meta(candidate)
