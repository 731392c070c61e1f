"""Reading only what a change can reach: the rows of the views an incremental publish's scope holds
(the counts, the screen, the previews and the quality gate), and each view evaluated once per
connection and run.

``scoped_view`` gives a view, or a subquery of its rows within a ``PublishScope``. What it asks the
connection to know that (the view's columns, whether the file defines the scoped macros, the
documents of the scope's units) is asked once per connection: a run scopes fourteen views on each
of its connections, and at 10 M rows each of those questions cost 5–30 ms.

``ViewRows`` evaluates each small view (or each view's scoped rows) once into a temporary table of
the connection, so that the screen's predicates and duplicate keys, the counts, the previews and
the report read that table instead of evaluating the view's joins and windows again."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from functools import cache

import duckdb

from pipelines.publish.lake_index import file_signature
from pipelines.publish.warehouse import SQL_DIR, execute_with_headroom, insert_values, schema_fingerprint, sql_literals


@dataclass
class PublishScope:
    """What an incremental publish changed: ``changed`` documents were deleted and loaded again
    (or removed); ``documents`` are every document whose rows in some view may differ from the
    published warehouse's: the changed ones, those whose derived row changed (status, unit,
    canonical document), and every document of the same unit (by unit_key or by name, every year:
    canonical choices, budget_vs_final and the prior-year checks compare a unit's documents).
    ``units`` are their unit keys and those whose units row changed."""

    changed: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)


def register_scope(con: duckdb.DuckDBPyConnection, scope: PublishScope) -> None:
    """The scope's documents as a temporary table of ``con`` (the warehouse stays read-only)."""
    con.execute("CREATE OR REPLACE TEMP TABLE scope_documents (doc_id VARCHAR)")
    if scope.documents:
        insert_values(con, "scope_documents", [(d,) for d in scope.documents])  # literals: no pandas


def scope_filter(columns: set[str], scope: PublishScope) -> str | None:
    """A condition on a view's rows that keeps those the scope can reach, by the columns the view
    has: documents by doc_id, per-unit rows by unit_key (with the rows of no unit), projects' rows
    by project_id; None for a view of none (the code catalogues: read whole, they are small).
    Lists of literals, not subqueries: DuckDB pushes ``unit_key IN (…)`` below the windows of
    func_canonical and budget_vs_final (they partition by unit), so only the scope's units are
    evaluated (measured: 0.02 s instead of 0.12 s for one unit of 500 documents)."""
    conditions = []
    if "unit_key" in columns:
        conditions.append(f"(unit_key IS NULL OR unit_key IN ({sql_literals(scope.units)}))")
    if "doc_id" in columns:
        conditions.append(f"doc_id IN ({sql_literals(scope.documents)})")
    elif "project_id" in columns:
        conditions.append(
            f"project_id IN (SELECT project_id FROM fact_project WHERE doc_id IN ({sql_literals(scope.documents)}))"
        )
    return " AND ".join(conditions) or None


# Views that are their table macro of every document (sql/views.sql): a scope reads them through the
# macro of the documents its units' rows can come from, so that the filter reaches the scan of the
# fact table instead of a unit_key filter above the join (10 M function rows: 2 s per query).
DOCUMENT_MACROS = {
    "func_canonical": "func_canonical_of",
    "budget_vs_final": "budget_vs_final_of",
    "quality_findings": "quality_findings_of",
}


# What a connection was asked once (see the module's docstring): its views' columns, the macros of
# its database's file version, the documents of a list of units. Only read-only facts of the file
# are kept, and only after its rows are final (the build asks after its transaction committed).
_per_connection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(con: duckdb.DuckDBPyConnection) -> dict:
    memo = _per_connection.get(con)
    if memo is None:
        memo = _per_connection[con] = {}
    return memo


def view_columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    """The view's columns, in order (asked once per connection)."""
    columns = _memo(con).setdefault("columns", {})
    if view not in columns:
        columns[view] = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
    return columns[view]


def unit_documents(con: duckdb.DuckDBPyConnection, units: list[str]) -> list[str]:
    """Every document a view row of these units, or of no unit, can come from: the documents of the
    units (or of none) and those that print one of them as a member unit (a row's unit is its member
    unit's, else its document's). Asked once per connection and list of units."""
    known = _memo(con).setdefault("unit_documents", {})
    key = tuple(units)
    if key not in known:
        keys = sql_literals(units)
        sql = (
            f"SELECT doc_id FROM doc_document WHERE status = 'loaded' AND (unit_key IS NULL OR unit_key IN ({keys})) "
            f"UNION SELECT doc_id FROM dim_member_unit WHERE unit_key IN ({keys})"
        )
        known[key] = sorted(r[0] for r in con.execute(sql).fetchall())
    return known[key]


@cache
def _macros_of_this_schema() -> frozenset[str]:
    """The table macros sql/views.sql defines: those of every warehouse built with this schema."""
    text = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    return frozenset(re.findall(r"CREATE\s+OR\s+REPLACE\s+MACRO\s+(\w+)", text, flags=re.IGNORECASE))


def _listed_macros(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The table macros of the connection's database: those of this schema when its file records
    this schema's fingerprint (one row of warehouse_meta), else as DuckDB lists them (~30 ms)."""
    try:
        recorded = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_fingerprint'").fetchone()
    except duckdb.Error:
        recorded = None
    if recorded and recorded[0] == schema_fingerprint():
        return _macros_of_this_schema()
    sql = (
        "SELECT DISTINCT function_name FROM duckdb_functions() "
        "WHERE function_type = 'table_macro' AND database_name = current_database()"
    )
    return frozenset(r[0] for r in con.execute(sql).fetchall())


def _has_macro(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the connection's database defines this macro: asked once per connection, and once
    per version of a file."""
    memo = _memo(con)
    if "macros" not in memo:
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
        version = (path[0], *(file_signature(path[0]) or ())) if path and path[0] else None
        if version is None:
            memo["macros"] = _listed_macros(con)
        else:
            if version not in _known_macros:
                if len(_known_macros) >= 64:
                    _known_macros.clear()
                _known_macros[version] = _listed_macros(con)
            memo["macros"] = _known_macros[version]
    return name in memo["macros"]


_known_macros: dict[tuple, frozenset[str]] = {}


def scoped_view(con: duckdb.DuckDBPyConnection, view: str, scope: PublishScope | None) -> str:
    """``view``, or a subquery of its rows within ``scope``. The windows of func_canonical and
    budget_vs_final partition by unit, and the prior-year checks of quality_findings pair a unit's
    documents, so their macro over the documents of the scope's units gives those units' rows (and
    their documents' findings) exactly as the whole view does."""
    if scope is None:
        return view
    condition = scope_filter(set(view_columns(con, view)), scope)
    if condition is None:
        return view
    source = view
    if view in DOCUMENT_MACROS and _has_macro(con, DOCUMENT_MACROS[view]):
        source = f"{DOCUMENT_MACROS[view]}([{sql_literals(unit_documents(con, scope.units))}]::VARCHAR[])"
    return f"(SELECT * FROM {source} WHERE {condition})"


# A view of more rows than this is read where it is (a full rebuild of a large warehouse: a copy
# of func_amounts' 10 M rows would cost more than the queries it saves); scoped rows always qualify
# as long as they are this few.
EVALUATE_MAX_ROWS = 200_000


class ViewRows:
    """Each view's rows (within ``scope``) evaluated once on ``con`` into a temporary table, for
    every reader of the run on that connection: ``relation(view)`` is that table's name, or the
    scoped subquery when the view is larger than ``EVALUATE_MAX_ROWS`` (``sizes``: the rows of the
    whole views, as counted when the warehouse was built). ``rows(view)``: how many rows the
    relation holds, when it was evaluated. ``close()`` drops the tables."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, scope: PublishScope | None, sizes: dict[str, int] | None = None
    ) -> None:
        self.con, self.scope, self.sizes = con, scope, sizes or {}
        self._relations: dict[str, str] = {}
        self._rows: dict[str, int] = {}

    def relation(self, view: str) -> str:
        if view not in self._relations:
            self._relations[view] = self._evaluate(view)
        return self._relations[view]

    def rows(self, view: str) -> int | None:
        self.relation(view)
        return self._rows.get(view)

    def _evaluate(self, view: str) -> str:
        relation = scoped_view(self.con, view, self.scope)
        whole = self.sizes.get(view)
        if (whole is None or whole > EVALUATE_MAX_ROWS) and (self.scope is None or relation == view):
            return relation  # a large view read whole: evaluated where it is asked
        table = f"__view_rows_{view}"
        execute_with_headroom(self.con, f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {relation}")
        rows = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if self.scope is not None and relation != view and rows > EVALUATE_MAX_ROWS:
            self.con.execute(f"DROP TABLE {table}")  # a scope as large as a warehouse: read where it is
            return relation
        self._rows[view] = rows
        return table

    def close(self) -> None:
        for view, relation in self._relations.items():
            if relation == f"__view_rows_{view}":
                self.con.execute(f"DROP TABLE IF EXISTS {relation}")
        self._relations.clear()
        self._rows.clear()
