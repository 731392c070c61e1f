"""Screening the candidate warehouse document by document, when the quality gate blocks it.

The contract expectations (severity ``critical``) that are about the rows of one document — a key
that must not be null, a value set, a code format, a year range, a key unique within the view —
are evaluated here in SQL on the candidate's views, and every failing row is traced back to the
document it came from. Such a document is quarantined in the lake with the expectation it broke
named in its reason, its facts leave the views, and the candidate is built again without it: one
document's content never blocks the others. What cannot be traced to a document (a view's columns,
a column's type, a failure the screen cannot evaluate) is left to the gate, where it still blocks:
that is the pipeline's own fault. The run screens only after a contract expectation failed in the
gate (``assets/facts.py``): on a passing candidate the screen finds nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.publish.lake import Lake
from pipelines.publish.scope import PublishScope, ViewRows, register_scope, scoped_view, view_columns
from pipelines.publish.warehouse import capped_connection, execute_with_headroom, view_names
from pipelines.validate.expectations import load_suite, suite_names

# Where a view's rows come from: a SELECT giving every column of the view plus ``__doc``, the
# document a row was loaded from. Views that carry doc_id need no join.
_ATTRIBUTION = {
    "project_line_items": (
        "SELECT v.*, p.doc_id AS __doc FROM project_line_items v "
        "LEFT JOIN (SELECT DISTINCT project_id, doc_id FROM fact_project) p ON p.project_id = v.project_id"
    ),
    "indicators": (
        "SELECT v.*, p.doc_id AS __doc FROM indicators v "
        "LEFT JOIN (SELECT DISTINCT project_id, doc_id FROM fact_project) p ON p.project_id = v.project_id"
    ),
    # a row of budget_vs_final comes from the documents of its unit and year holding its code
    "budget_vs_final": (
        "SELECT v.*, s.doc_id AS __doc FROM budget_vs_final v LEFT JOIN ("
        "SELECT DISTINCT d.doc_id, d.unit_name, d.fiscal_year, f.fund_scope, f.func_code "
        "FROM fact_func_amount f JOIN loaded_documents d USING (doc_id)) s "
        "ON s.unit_name IS NOT DISTINCT FROM v.unit_name AND s.fiscal_year IS NOT DISTINCT FROM v.fiscal_year "
        "AND s.fund_scope IS NOT DISTINCT FROM v.fund_scope AND s.func_code IS NOT DISTINCT FROM v.func_code"
    ),
}

# Columns that say where a failing row stands, quoted in the reason when the view has them.
_WHERE_COLUMNS = ("table_type", "page_no", "func_code", "econ_code", "item", "project_id", "seq", "rule")
SAMPLE_ROWS = 3


@dataclass
class Breach:
    """One document's rows that broke one expectation."""

    view: str
    check: str
    rows: int
    sample: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        where = f", e.g. {'; '.join(self.sample)}" if self.sample else ""
        return f"the expectation {self.check} of {self.view}: {self.rows} row{'s' if self.rows != 1 else ''}{where}"


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a column name: {name!r}")
    return f'"{name}"'


def _row_condition(kwargs: dict) -> str | None:
    """The pandas ``row_condition`` of an expectation as SQL (the forms the suites use), '' when
    there is none, None when it cannot be translated (the gate alone evaluates that one)."""
    cond = (kwargs.get("row_condition") or "").strip()
    if not cond:
        return ""
    if m := re.fullmatch(r"(\w+)\s*==\s*(\"[^\"]*\"|-?\d+)", cond):
        value = m.group(2)
        return f"{_ident(m.group(1))} = {_literal(json.loads(value))}"
    if m := re.fullmatch(r"(\w+)\s+in\s+(\[[^\]]*\])", cond):
        values = json.loads(m.group(2))
        return f"{_ident(m.group(1))} IN ({', '.join(map(_literal, values))})"
    if m := re.fullmatch(r"(\w+)\.notnull\(\)", cond):
        return f"{_ident(m.group(1))} IS NOT NULL"
    return None


def row_predicate(expectation: dict) -> str | None:
    """SQL true for the rows that break a row-level expectation; None for expectations about the
    view as a whole (columns, types, uniqueness) or that the screen cannot translate."""
    kind, kwargs = expectation["type"], expectation.get("kwargs", {})
    column = kwargs.get("column")
    if not column:
        return None
    col = _ident(column)
    if kind == "expect_column_values_to_not_be_null":
        broken = f"{col} IS NULL"
    elif kind == "expect_column_values_to_be_in_set":
        broken = f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(map(_literal, kwargs['value_set']))})"
    elif kind == "expect_column_values_to_match_regex":
        broken = f"{col} IS NOT NULL AND NOT regexp_matches(CAST({col} AS VARCHAR), {_literal(kwargs['regex'])})"
    elif kind == "expect_column_values_to_not_match_regex":
        broken = f"{col} IS NOT NULL AND regexp_matches(CAST({col} AS VARCHAR), {_literal(kwargs['regex'])})"
    elif kind == "expect_column_values_to_be_between":
        bounds = []
        if kwargs.get("min_value") is not None:
            bounds.append(f"{col} < {_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            bounds.append(f"{col} > {_literal(kwargs['max_value'])}")
        if not bounds:
            return None
        broken = f"{col} IS NOT NULL AND ({' OR '.join(bounds)})"
    elif kind == "expect_column_value_lengths_to_equal":
        broken = f"{col} IS NOT NULL AND length(CAST({col} AS VARCHAR)) <> {int(kwargs['value'])}"
    else:
        return None
    condition = _row_condition(kwargs)
    if condition is None:
        return None
    return f"({condition}) AND ({broken})" if condition else broken


def unique_key(expectation: dict) -> list[str] | None:
    kind, kwargs = expectation["type"], expectation.get("kwargs", {})
    if kind == "expect_column_values_to_be_unique":
        return [kwargs["column"]]
    if kind == "expect_compound_columns_to_be_unique":
        return list(kwargs["column_list"])
    return None


def _source(view: str, columns: set[str], relation: str | None = None, documents: list[str] | None = None) -> str:
    """The view's rows with ``__doc``; ``relation``: the view's rows read in its place (a subquery
    of its scoped rows, or a table they were evaluated into). ``documents`` (a scope's, when its
    rows are kept for those documents only): the attribution reads those documents' fact rows, not
    the whole table's, by a list of literals that DuckDB filters the fact table's scan with (its
    zone maps on doc_id skip the row groups of other documents; a subquery would join every row)."""
    relation = relation or view
    if view in _ATTRIBUTION:
        attribution = _ATTRIBUTION[view].replace(f"FROM {view} v", f"FROM {relation} v", 1)
        if documents is not None:
            listed = ", ".join(_literal(d) for d in documents) or "NULL"
            for table in ("fact_func_amount", "fact_project"):
                scoped_rows = f"(SELECT * FROM {table} WHERE doc_id IN ({listed}))"
                attribution = attribution.replace(f"FROM {table} ", f"FROM {scoped_rows} ").replace(
                    f"FROM {table})", f"FROM {scoped_rows})"
                )
        return f"({attribution})"
    if "doc_id" in columns:
        return f"(SELECT *, doc_id AS __doc FROM {relation})"
    return ""


def _describe(row: dict, column: str) -> str:
    parts = [f"{column}={row.get(column)!r}" if row.get(column) is not None else f"{column} is null"]
    parts += [f"{c}={row[c]}" for c in _WHERE_COLUMNS if c != column and row.get(c) is not None]
    return " ".join(parts)


def _row_breaches(con, view: str, source: str, expectation: dict, predicate: str) -> dict[str, Breach]:
    check = expectation["meta"]["check"]
    column = expectation["kwargs"]["column"]
    sql = (
        f"SELECT *, count(*) OVER (PARTITION BY __doc) AS __rows, "
        f"row_number() OVER (PARTITION BY __doc) AS __nth FROM {source} WHERE {predicate} QUALIFY __nth <= {SAMPLE_ROWS}"
    )
    cur = execute_with_headroom(con, sql)
    names = [d[0] for d in cur.description]
    out: dict[str, Breach] = {}
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        breach = out.setdefault(str(row["__doc"]), Breach(view, check, row["__rows"]))
        breach.sample.append(_describe(row, column))
    return out


def _duplicate_breaches(
    con, view: str, source: str, expectation: dict, key: list[str], relation: str | None = None
) -> dict[str, Breach]:
    """Rows that share a key: within one document the document is at fault; across documents every
    document but the first (by doc_id) is, so that one copy of the key is published."""
    check = expectation["meta"]["check"]
    cols = ", ".join(map(_ident, key))
    first = _ident(key[0])
    same_key = " AND ".join(f"k.{c} IS NOT DISTINCT FROM dup.{c}" for c in map(_ident, key))
    # Duplicates are counted in the view itself (an attribution join may repeat a row), then traced.
    sql = (
        f"WITH dup_keys AS (SELECT {cols} FROM {relation or view} GROUP BY {cols} HAVING count(*) > 1), "
        f"k AS (SELECT s.* FROM (SELECT {cols}, __doc FROM {source}) s SEMI JOIN dup_keys d ON "
        + " AND ".join(f"s.{c} IS NOT DISTINCT FROM d.{c}" for c in map(_ident, key))
        + f"), dup AS (SELECT {cols}, min(__doc) AS __first, count(DISTINCT __doc) AS __docs FROM k GROUP BY {cols}) "
        f"SELECT k.__doc, count(*), list(DISTINCT CAST(k.{first} AS VARCHAR))[1:{SAMPLE_ROWS}] "
        f"FROM k JOIN dup ON {same_key} WHERE dup.__docs = 1 OR k.__doc <> dup.__first GROUP BY k.__doc"
    )
    out: dict[str, Breach] = {}
    for doc, rows, sample in execute_with_headroom(con, sql).fetchall():
        where = [f"{key[0]}={v!r}" for v in sample or []]
        out[str(doc)] = Breach(view, check, rows, [f"{'+'.join(key)} repeated ({w})" for w in where])
    return out


def _broken_predicates(con, source: str, predicates: list[str]) -> set[str]:
    """The predicates some row of ``source`` satisfies (breaks its expectation), in one scan of it."""
    if not predicates:
        return set()
    counts = ", ".join(f"count(*) FILTER (WHERE {predicate})" for predicate in predicates)
    rows = execute_with_headroom(con, f"SELECT {counts} FROM {source}").fetchone()
    return {predicate for predicate, n in zip(predicates, rows, strict=True) if n}


def screen_candidate(
    target: Path | duckdb.DuckDBPyConnection, scope: PublishScope | None = None, rows: ViewRows | None = None
) -> dict[str, list[Breach]]:
    """doc_id → the critical expectations its rows broke in the candidate warehouse ``target`` (its
    file, or a capped connection to it with the scope registered) (an incremental publish: among
    the rows its ``scope`` can reach; a key repeated across the scope's border is left to the
    gate's warehouse-wide check, where it blocks). ``rows``: the run's views evaluated once on that
    connection (``scope.ViewRows``), shared with the counts, previews and report that follow."""
    if not isinstance(target, duckdb.DuckDBPyConnection):
        with capped_connection(target) as con:
            if scope is not None:
                register_scope(con, scope)
            return screen_candidate(con, scope, ViewRows(con, scope))
    con = target
    rows = rows or ViewRows(con, scope)
    breaches: dict[str, list[Breach]] = {}
    views = view_names(con)
    for view in suite_names():
        if view not in views:
            continue  # the gate reports a missing view: the pipeline's fault
        columns = set(view_columns(con, view))
        scoped = scope is not None and scoped_view(con, view, scope) != view
        relation = rows.relation(view)
        source = _source(view, columns, relation, scope.documents if scoped else None)
        if not source:
            continue
        if scope is not None:  # the scope's rows, evaluated once for all the view's expectations
            execute_with_headroom(
                con,
                f"CREATE OR REPLACE TEMP TABLE screened_rows AS SELECT * FROM {source} "
                "WHERE __doc IN (SELECT doc_id FROM scope_documents)",
            )
            source = "screened_rows"
        checks: list[tuple[dict, str | None, list[str] | None]] = []  # in the suite's order
        for expectation in load_suite(view)["expectations"]:
            if expectation.get("severity", "critical") != "critical":
                continue
            if expectation.get("kwargs", {}).get("column") not in (None, *columns):
                continue  # a missing column: the gate's columns_match_contract blocks
            predicate = row_predicate(expectation)
            key = unique_key(expectation)
            if predicate is not None:
                checks.append((expectation, predicate, None))
            elif key is not None and set(key) <= columns:
                checks.append((expectation, None, key))
        # The view is evaluated once for all its row-level expectations; only those some row
        # breaks are traced to their documents (one query each, as rarely as a breach happens).
        broken = _broken_predicates(con, source, [p for _, p, _ in checks if p is not None])
        found: list[dict[str, Breach]] = []
        for expectation, predicate, key in checks:
            if predicate is not None and predicate in broken:
                found.append(_row_breaches(con, view, source, expectation, predicate))
            elif key is not None:
                found.append(_duplicate_breaches(con, view, source, expectation, key, relation))
        for per_doc in found:
            for doc, breach in per_doc.items():
                if doc != "None":  # a row no document can be named for stays with the gate
                    breaches.setdefault(doc, []).append(breach)
    return breaches


# A document row's own fields that an expectation of the documents view can break: the value the
# document stated is kept in the reason, and the field left empty so the row meets the contract.
_DOCUMENT_FIELDS = ("fiscal_year", "doc_kind", "scope", "unit_name")


def quarantine_reason(breaches: list[Breach]) -> str:
    first, rest = breaches[0], breaches[1:]
    also = f"; it also broke {', '.join(f'{b.check} of {b.view}' for b in rest)}" if rest else ""
    return (
        f"Quarantined by the quality gate: its rows broke {first.sentence()}{also}. A document's content does not "
        "block the others: its facts are not published; correct the file (or the parser) and ingest it again."
    )


def quarantine_breakers(lake: Lake, breaches: dict[str, list[Breach]]) -> list[str]:
    """Quarantine every document named in ``breaches`` in the lake: status, reason, no facts."""
    done = []
    for doc_id, found in sorted(breaches.items()):
        row = lake.document(doc_id)
        if row is None:
            continue
        fields: dict = {"status": "quarantined", "error": quarantine_reason(found), "row_counts": {}}
        for b in found:
            if b.view == "documents":
                column = next((c for c in _DOCUMENT_FIELDS if b.check.startswith(c)), None)
                if column:
                    fields[column] = None
        lake.quarantine_document(doc_id, **fields)
        done.append(doc_id)
    return done
