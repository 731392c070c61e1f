"""``budgetwh report``: quality findings, failures first, located by document, table, page, row."""

from __future__ import annotations

from pathlib import Path

from pipelines.publish.lake import atomic_write_text
from pipelines.publish.warehouse import capped_connection, connect_read_only, execute_with_headroom


def findings_report(warehouse: Path, doc_id: str | None = None, *, include_passing: bool = False) -> str:
    where = ["1=1"]
    params: list[str] = []
    if doc_id:
        where.append("q.doc_id = ?")
        params.append(doc_id)
    if not include_passing:
        where.append("q.status = 'FAIL'")
    con = connect_read_only(warehouse)
    try:
        rows = con.execute(
            f"""
            SELECT q.doc_id, d.source_file, d.unit_name, d.fiscal_year, q.rule, q.status, q.severity,
                   q.table_type, q.page_no, q.subject, q.message
            FROM quality_findings q JOIN documents d USING (doc_id)
            WHERE {" AND ".join(where)}
            ORDER BY CASE q.status WHEN 'FAIL' THEN 0 WHEN 'PASS_ROUNDING' THEN 1 ELSE 2 END,
                     CASE q.severity WHEN 'error' THEN 0 ELSE 1 END, d.source_file, q.table_type, q.page_no
            """,
            params,
        ).fetchall()
        doc_filter, doc_params = ("WHERE doc_id = ?", [doc_id]) if doc_id else ("", [])
        totals = con.execute(
            f"SELECT status, count(*) FROM quality_findings {doc_filter} GROUP BY status ORDER BY status", doc_params
        ).fetchall()
        quarantined = con.execute(
            "SELECT doc_id, source_file, error FROM documents WHERE status = 'quarantined'"
            + (" AND doc_id = ?" if doc_id else ""),
            doc_params,
        ).fetchall()
    finally:
        con.close()
    out = ["Checks: " + (", ".join(f"{s} {n}" for s, n in totals) or "none")]
    if quarantined:
        out.append("")
        out.append(f"Quarantined documents ({len(quarantined)}):")
        out += [f"  {d} {Path(f).name}: {e}" for d, f, e in quarantined]
    current = None
    for doc, src, unit, year, rule, status, severity, table, page, _subject, message in rows:
        if doc != current:
            out.append("")
            out.append(f"{doc}  {Path(src).name}  ({unit or '?'} {year or ''})")
            current = doc
        out.append(f"  [{status} {severity}] {rule} {table or ''} p.{page}: {message}")
    if not rows and not include_passing:
        out.append("No failed checks.")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# HTML report of a run: expectation results and identity findings


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _h(v) -> str:
    import html

    return html.escape("" if v is None else str(v))


_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3} .FAIL,.failed{color:#b00020;font-weight:600} .PASS,.passed{color:#1b7f3b}
.PASS_ROUNDING{color:#8a6d00} .num{text-align:right;font-variant-numeric:tabular-nums} .muted{color:#777}
"""


def _charts(per_rule: list[tuple], per_doc: list[tuple]) -> str:
    """Failed checks per rule and per document, as inline SVG bars."""
    from pipelines.publish.charts import hbar_chart

    def count(v) -> str:
        return f"{int(v)}"

    failing_docs = sorted(((Path(src).name, f) for src, _s, _p, _pr, f in per_doc if f), key=lambda x: -x[1])
    return (
        "<h2>Failed checks by rule and by document</h2>"
        + hbar_chart([r for r, _ in per_rule], [n for _, n in per_rule], title="failed checks per rule", fmt=count,
                     colors=["#e15759"] * len(per_rule))
        + hbar_chart([d for d, _ in failing_docs], [n for _, n in failing_docs], title="failed checks per document",
                     fmt=count, colors=["#f28e2b"] * len(failing_docs))
    )  # fmt: skip


def report_rows(
    con, documents: list[str] | None = None, relations: dict[str, str] | None = None
) -> tuple[list, list, list, list]:
    """What the HTML report shows of the warehouse on ``con`` (failed identities, findings per
    document, quarantined documents, failures per rule): read apart from the rendering, so that a
    run reads them while its quality gate runs. ``relations``: for the whole warehouse (no
    ``documents``), where the run evaluated ``quality_findings`` and ``documents`` already
    (``scope.ViewRows``), read instead of the views."""
    relations = relations if documents is None else None
    documents_view = (relations or {}).get("documents", "documents")
    within = "" if documents is None else f"doc_id IN ({', '.join(_sql_text(d) for d in documents) or 'NULL'})"
    in_findings = f"q.{within}" if within else "TRUE"
    in_documents = f"d.{within}" if within else "TRUE"
    # the documents of a change hold every document of their units, so the macro over them gives
    # their findings (the prior-year checks pair a unit's documents) without evaluating the others'
    findings = (
        (relations or {}).get("quality_findings", "quality_findings")
        if documents is None
        else f"quality_findings_of([{', '.join(_sql_text(d) for d in documents) or 'NULL'}]::VARCHAR[])"
    )
    if documents is not None:  # the change's findings, evaluated once for the three queries that read them
        execute_with_headroom(
            con, f"CREATE OR REPLACE TEMP TABLE __report_findings AS SELECT * FROM {findings} q WHERE {in_findings}"
        )
        findings = "__report_findings"
    fails = execute_with_headroom(
        con,
        f"""SELECT d.source_file, q.doc_id, d.unit_name, d.fiscal_year, q.rule, q.severity, q.table_type,
                  q.page_no, q.subject, q.lhs, q.rhs, q.diff, q.tolerance, q.message
           FROM {findings} q JOIN {documents_view} d USING (doc_id) WHERE q.status = 'FAIL' AND {in_findings}
           ORDER BY d.source_file, q.table_type, q.page_no""",
    ).fetchall()
    per_doc = execute_with_headroom(
        con,
        f"""SELECT d.source_file, d.status, count(*) FILTER (WHERE q.status = 'PASS'),
                  count(*) FILTER (WHERE q.status = 'PASS_ROUNDING'), count(*) FILTER (WHERE q.status = 'FAIL')
           FROM (SELECT * FROM {documents_view} d WHERE {in_documents}) d
           LEFT JOIN (SELECT * FROM {findings} q WHERE {in_findings}) q USING (doc_id) GROUP BY ALL ORDER BY 1""",
    ).fetchall()
    quarantined = execute_with_headroom(
        con,
        f"SELECT source_file, error FROM {documents_view} d WHERE status = 'quarantined' AND {in_documents} ORDER BY 1",
    ).fetchall()
    per_rule = execute_with_headroom(
        con,
        f"SELECT rule, count(*) FROM {findings} q WHERE status = 'FAIL' AND {in_findings} GROUP BY 1 ORDER BY 2 DESC, 1",
    ).fetchall()
    if documents is not None:
        con.execute("DROP TABLE IF EXISTS __report_findings")
    return fails, per_doc, quarantined, per_rule


def write_html_report(
    db_path: Path,
    outcomes: dict,
    out_dir: Path,
    keep: int = 30,
    documents: list[str] | None = None,
    rows: tuple[list, list, list, list] | None = None,
) -> Path:
    """A self-contained HTML page: every expectation (by suite) and every failed identity with its
    document, table, page, row and both sides. Written per run; ``latest.html`` is the newest.
    ``documents``: an incremental publish reports the documents its change reached (as its gate
    does), so that the report costs what the change costs; ``budgetwh report`` lists every finding.
    ``rows``: ``report_rows`` of the same warehouse and documents, read already."""
    import datetime as dt

    out_dir.mkdir(parents=True, exist_ok=True)
    if rows is None:
        with capped_connection(db_path) as con:
            rows = report_rows(con, documents)
    fails, per_doc, quarantined, per_rule = rows
    now = dt.datetime.now()
    what = (
        ""
        if documents is None
        else f" · this run's change: the {len(documents)} documents it reached (every finding: budgetwh report)"
    )
    parts = [f"<!doctype html><meta charset='utf-8'><title>budgetwh quality report {now:%Y-%m-%d %H:%M}</title>",
             f"<style>{_STYLE}</style><h1>budgetwh quality report</h1>",
             f"<p class='muted'>{now:%Y-%m-%d %H:%M:%S} · warehouse {_h(db_path)}{_h(what)}</p>"]  # fmt: skip
    n_exp = sum(len(v) for v in outcomes.values())
    n_bad = sum(1 for v in outcomes.values() for o in v if not o.success)
    parts.append(f"<h2>Expectations: {n_exp - n_bad} of {n_exp} passed</h2>")
    for suite, results in sorted(outcomes.items()):
        parts.append(
            f"<h3>{_h(suite)}</h3><table><tr><th>check</th><th>severity</th><th>result</th><th>detail</th></tr>"
        )
        for o in results:
            cls = "passed" if o.success else "failed"
            parts.append(
                f"<tr><td>{_h(o.check)}</td><td>{_h(o.severity)}</td><td class='{cls}'>{cls}</td>"
                f"<td>{_h(o.summary() if not o.success else o.description)}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<h2>Documents</h2><table><tr><th>file</th><th>status</th><th>PASS</th><th>PASS_ROUNDING</th><th>FAIL</th></tr>"
    )
    for src, status, p, pr, f in per_doc:
        parts.append(
            f"<tr><td>{_h(Path(src).name)}</td><td>{_h(status)}</td><td class='num'>{p}</td>"
            f"<td class='num'>{pr}</td><td class='num {'FAIL' if f else ''}'>{f}</td></tr>"
        )
    parts.append("</table>")
    if quarantined:
        parts.append("<h2>Quarantined documents</h2><table><tr><th>file</th><th>reason</th></tr>")
        parts += [f"<tr><td>{_h(Path(s).name)}</td><td>{_h(e)}</td></tr>" for s, e in quarantined]
        parts.append("</table>")
    parts.append(_charts(per_rule, per_doc))
    parts.append(f"<h2>Failed identities ({len(fails)})</h2>")
    if fails:
        parts.append(
            "<table><tr><th>file</th><th>rule</th><th>table</th><th>page</th><th>subject</th><th>lhs</th><th>rhs</th>"
            "<th>diff</th><th>tolerance</th><th>message</th></tr>"
        )
        for src, _doc, _unit, _year, rule, _sev, table, page, subject, lhs, rhs, diff, tol, msg in fails:
            parts.append(
                f"<tr><td>{_h(Path(src).name)}</td><td>{_h(rule)}</td><td>{_h(table)}</td><td class='num'>{_h(page)}</td>"
                f"<td>{_h(subject)}</td><td class='num'>{_h(lhs)}</td><td class='num'>{_h(rhs)}</td>"
                f"<td class='num FAIL'>{_h(diff)}</td><td class='num'>{_h(tol)}</td><td>{_h(msg)}</td></tr>"
            )
        parts.append("</table>")
    html_text = "\n".join(parts)
    path = out_dir / f"quality-{now:%Y%m%d-%H%M%S}.html"
    atomic_write_text(path, html_text)
    atomic_write_text(out_dir / "latest.html", html_text)  # a browser never opens half a report
    for old in sorted(out_dir.glob("quality-*.html"))[:-keep]:
        old.unlink(missing_ok=True)
    return path
