"""One evaluation of each view per run (``scope.ViewRows``): on the corpus warehouse the table a view
is evaluated into holds the view's rows (whole, or within a unit's scope), and the screen, the
previews and the report read the same rows from it as from the views themselves."""

from __future__ import annotations

import json

import pytest

from pipelines.publish.report import report_rows
from pipelines.publish.scope import PublishScope, ViewRows, register_scope, scoped_view, unit_documents
from pipelines.publish.screen import screen_candidate
from pipelines.publish.warehouse import PUBLIC_VIEWS, VIEW_COUNTS_KEY, capped_connection, execute_with_headroom


def _rows(con, relation: str) -> list[tuple]:
    return sorted(execute_with_headroom(con, f"SELECT * FROM {relation}").fetchall(), key=repr)


@pytest.fixture(scope="module")
def con(corpus_warehouse):
    with capped_connection(corpus_warehouse) as con:
        yield con


def _sizes(con) -> dict[str, int]:
    return json.loads(con.execute("SELECT value FROM warehouse_meta WHERE key = ?", [VIEW_COUNTS_KEY]).fetchone()[0])


def test_the_whole_views_evaluated_once_hold_their_rows(con):
    sizes = _sizes(con)
    rows = ViewRows(con, None, sizes)
    try:
        for view in PUBLIC_VIEWS:
            relation = rows.relation(view)
            assert relation == f"__view_rows_{view}", view  # every corpus view is small enough
            assert rows.rows(view) == sizes[view] == len(_rows(con, view))
            assert _rows(con, relation) == _rows(con, view), view
        assert rows.rows("func_amounts") == 13_499
        # the report reads the same findings and documents from the tables as from the views
        relations = {v: rows.relation(v) for v in ("quality_findings", "documents")}
        # (each part as a set: the report orders by file, table and page, and leaves ties to DuckDB)
        from_tables, from_views = report_rows(con, None, relations), report_rows(con, None)
        assert [sorted(part, key=repr) for part in from_tables] == [sorted(part, key=repr) for part in from_views]
        assert len(from_tables[0]) == 82  # the corpus's failed identities (29 error + 53 warning)
    finally:
        rows.close()
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__view_rows_%'").fetchone()[0]


def test_a_scopes_rows_evaluated_once_are_its_scoped_rows(con):
    unit = con.execute(
        "SELECT unit_key FROM func_canonical WHERE unit_key IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    scope = PublishScope(changed=[], documents=unit_documents(con, [unit]), units=[unit])
    register_scope(con, scope)
    rows = ViewRows(con, scope, _sizes(con))
    try:
        held = 0
        for view in PUBLIC_VIEWS:
            relation = rows.relation(view)
            assert relation.startswith("__view_rows_"), view
            assert _rows(con, relation) == _rows(con, scoped_view(con, view, scope)), view
            held += rows.rows(view)
        assert held > 500
        # the screen over the evaluated rows finds what it finds over the views: nothing in the corpus
        assert screen_candidate(con, scope, rows) == {}
    finally:
        rows.close()


def test_large_views_are_read_where_they_are(con):
    sizes = {view: 10**7 for view in PUBLIC_VIEWS}
    rows = ViewRows(con, None, sizes)
    assert rows.relation("func_amounts") == "func_amounts"
    assert rows.rows("func_amounts") is None
    rows.close()
