"""A scope reads func_canonical, budget_vs_final and quality_findings through their table macros over
the documents of its units (sql/views.sql, ``incremental.scoped_view``): on the corpus warehouse every unit's rows
read that way are the rows of the whole view for that unit, and the filter reaches the fact table's
scan. (No corpus member unit, a unit printed in another unit's document, holds function rows.)"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.publish.incremental import PublishScope, scoped_view, unit_documents


def rows(con: duckdb.DuckDBPyConnection, sql: str, columns: str = "*") -> list[tuple]:
    return sorted(con.execute(f"SELECT {columns} FROM {sql}").fetchall(), key=repr)


@pytest.fixture(scope="module")
def con(corpus_warehouse):
    con = duckdb.connect(str(corpus_warehouse), read_only=True)
    yield con
    con.close()


def test_every_units_scoped_rows_are_the_whole_views_rows(con):
    units = [
        r[0] for r in con.execute("SELECT DISTINCT unit_key FROM func_canonical WHERE unit_key IS NOT NULL").fetchall()
    ]
    assert len(units) > 20
    checked_prior = 0
    for unit in units:
        scope = PublishScope(documents=unit_documents(con, [unit]), units=[unit])
        relation = scoped_view(con, "func_canonical", scope)
        assert "func_canonical_of(" in relation
        # the condition scope_filter gives the whole view (rows of no unit are in every scope)
        whole = f"(SELECT * FROM func_canonical WHERE (unit_key IS NULL OR unit_key = '{unit}') AND list_contains(?, doc_id))"
        assert con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0] > 0
        assert rows(con, relation) == sorted(
            con.execute(f"SELECT * FROM {whole} ", [scope.documents]).fetchall(), key=repr
        ), unit
        # budget_vs_final, every column (ties are broken by name and row label, so the pick is the same)
        figures = "*"
        relation = scoped_view(con, "budget_vs_final", scope)
        assert "budget_vs_final_of(" in relation
        whole = f"(SELECT * FROM budget_vs_final WHERE unit_key IS NULL OR unit_key = '{unit}')"
        assert rows(con, relation, figures) == rows(con, whole, figures), unit
        relation = scoped_view(con, "quality_findings", scope)
        assert "quality_findings_of(" in relation
        whole = (
            f"(SELECT * FROM quality_findings WHERE (unit_key IS NULL OR unit_key = '{unit}') "
            "AND list_contains(?, doc_id))"
        )
        expected = sorted(con.execute(f"SELECT * FROM {whole}", [scope.documents]).fetchall(), key=repr)
        assert rows(con, relation) == expected, unit
        checked_prior += sum(1 for r in expected if r[2] == "R-NARR-PRIOR")
    assert checked_prior > 50  # the prior-year checks, pairs of a unit's documents, were among them


def test_the_document_filter_reaches_the_fact_scan(con):
    scope = PublishScope(documents=[], units=["u0"])
    explained = con.execute(f"EXPLAIN SELECT * FROM {scoped_view(con, 'func_canonical', scope)}").fetchall()
    plan = "\n".join(r[1] for r in explained)
    scan = plan[plan.index("fact_func_amount") :]
    assert "list_contains" in scan[:4000]  # below the window and the joins, at the table's scan
