"""``budgetwh profile UNIT``: one self-contained HTML page about a unit (by unit_key or name), its
charts drawn as inline SVG (``charts.py``), so the page works offline and can be mailed.

Sections: the unit (names, years, region, level, department and member units); 功能分类 类 by year;
基本支出 / 项目支出 by year; 三公 and 机关运行经费 over years; 预算 vs 决算 execution by 项; projects by
size; the quality findings that failed, with the document (a link that opens the PDF at the page)."""

from __future__ import annotations

import html
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.publish.charts import PALETTE, bar_chart, hbar_chart, wan
from pipelines.publish.warehouse import connect_read_only

STAGE_LABEL = {"BUDGET_INITIAL": "预算", "BUDGET_ADJUSTED": "调整预算", "FINAL": "决算"}
THREE_PUBLIC_LABEL = {
    "TOTAL": "“三公”经费合计", "OUTBOUND": "因公出国(境)费", "RECEPTION": "公务接待费",
    "VEHICLE_TOTAL": "公务用车购置及运行费", "VEHICLE_PURCHASE": "公务用车购置费",
    "VEHICLE_OPERATION": "公务用车运行费", "ORG_RUNNING_COST": "机关运行经费",
}  # fmt: skip

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3} .num{text-align:right;font-variant-numeric:tabular-nums} .muted{color:#777}
.FAIL{color:#b00020;font-weight:600} svg{display:block;margin:.6em 0}
"""


def _h(v) -> str:
    return html.escape("" if v is None else str(v))


class UnitNotFound(LookupError):
    pass


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]


def find_unit(con: duckdb.DuckDBPyConnection, unit: str) -> dict:
    """A unit by its key, its current name, or any name it was published under."""
    found = _rows(con, "SELECT * FROM units WHERE unit_key = ? OR unit_name = ?", [unit, unit])
    if not found:
        found = _rows(
            con, "SELECT * FROM units WHERE unit_key IN (SELECT unit_key FROM documents WHERE unit_name = ?)", [unit]
        )
    if not found:
        found = _rows(
            con, "SELECT * FROM units WHERE unit_name LIKE ? ORDER BY last_year DESC NULLS LAST", [f"%{unit}%"]
        )
    if not found:
        raise UnitNotFound(f'No unit named or keyed {unit!r}; list them with: budgetwh query "select * from units"')
    return found[0]


def _label(year, doc_kind: str, stage: str, scope: str | None) -> str:
    return f"{year} {STAGE_LABEL.get(stage, stage)}" + ("（单位）" if scope == "单位" else "")


def _func_by_year(con, key: str) -> str:
    rows = _rows(
        con,
        """SELECT fiscal_year, doc_kind, stage, scope, func_code, any_value(func_name) AS func_name,
                  sum(amount_yuan) AS amount
           FROM func_canonical WHERE unit_key = ? AND func_level = 1 AND measure = 'TOTAL' AND fund_scope = 'ALL'
             AND stage IN ('BUDGET_INITIAL', 'FINAL') AND amount_yuan IS NOT NULL
           GROUP BY ALL ORDER BY fiscal_year, stage DESC, scope""",
        [key],
    )
    cats: list[str] = []
    series: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for r in rows:
        cat = _label(r["fiscal_year"], r["doc_kind"], r["stage"], r["scope"])
        if cat not in cats:
            cats.append(cat)
        series[f"{r['func_code']} {r['func_name'] or ''}".strip()][cat] = r["amount"]
    ordered = dict(sorted(series.items()))
    chart = bar_chart(
        cats, {n: [v.get(c) for c in cats] for n, v in ordered.items()}, title="功能分类 类 by year (合计)"
    )
    split = _rows(
        con,
        """SELECT fiscal_year, doc_kind, stage, scope, measure, sum(amount_yuan) AS amount
           FROM func_canonical WHERE unit_key = ? AND func_level = 1 AND measure IN ('BASIC', 'PROJECT')
             AND fund_scope = 'ALL' AND stage IN ('BUDGET_INITIAL', 'FINAL')
           GROUP BY ALL ORDER BY fiscal_year, stage DESC, scope""",
        [key],
    )
    split_cats = list(dict.fromkeys(_label(r["fiscal_year"], r["doc_kind"], r["stage"], r["scope"]) for r in split))
    by = {(_label(r["fiscal_year"], r["doc_kind"], r["stage"], r["scope"]), r["measure"]): r["amount"] for r in split}
    split_chart = bar_chart(
        split_cats,
        {
            "基本支出": [by.get((c, "BASIC")) for c in split_cats],
            "项目支出": [by.get((c, "PROJECT")) for c in split_cats],
        },
        title="基本支出 / 项目支出 by year",
    )
    return "<h2>Budget structure</h2>" + chart + split_chart


def _three_public(con, key: str) -> str:
    rows = _rows(
        con,
        """SELECT fiscal_year, stage, item, max(amount_yuan) AS amount FROM three_public
           WHERE unit_key = ? AND amount_yuan IS NOT NULL AND stage IN ('BUDGET_INITIAL', 'FINAL')
           GROUP BY ALL ORDER BY fiscal_year, stage DESC""",
        [key],
    )
    cats = list(dict.fromkeys(f"{r['fiscal_year']} {STAGE_LABEL.get(r['stage'], r['stage'])}" for r in rows))
    by = {(f"{r['fiscal_year']} {STAGE_LABEL.get(r['stage'], r['stage'])}", r["item"]): r["amount"] for r in rows}
    items = ["OUTBOUND", "RECEPTION", "VEHICLE_PURCHASE", "VEHICLE_OPERATION"]
    if not any(k[1] in ("VEHICLE_PURCHASE", "VEHICLE_OPERATION") for k in by):
        items = ["OUTBOUND", "RECEPTION", "VEHICLE_TOTAL"]
    three = bar_chart(cats, {THREE_PUBLIC_LABEL[i]: [by.get((c, i)) for c in cats] for i in items},
                      title="“三公”经费 over years")  # fmt: skip
    running = bar_chart(
        cats, {"机关运行经费": [by.get((c, "ORG_RUNNING_COST")) for c in cats]}, title="机关运行经费 over years"
    )
    return "<h2>“三公”经费 and 机关运行经费</h2>" + three + running


def _execution(con, key: str) -> str:
    rows = _rows(
        con,
        """SELECT fiscal_year, fund_scope, func_code, func_name, budget_yuan, final_yuan, execution_rate
           FROM budget_vs_final WHERE unit_key = ? AND func_level = 3 AND execution_rate IS NOT NULL
           QUALIFY dense_rank() OVER (PARTITION BY fiscal_year ORDER BY CASE fund_scope WHEN 'ALL' THEN 0
                                      WHEN 'FISCAL_GRANT' THEN 1 WHEN 'GPB' THEN 2 ELSE 3 END) = 1
           ORDER BY fiscal_year, func_code""",
        [key],
    )
    if not rows:
        return "<h2>预算 vs 决算</h2><p class='muted'>No 项 with both a budget and a final amount.</p>"
    parts = ["<h2>预算 vs 决算: execution by 项</h2>"]
    for year in sorted({r["fiscal_year"] for r in rows}):
        these = [r for r in rows if r["fiscal_year"] == year]
        rates = [float(r["execution_rate"]) for r in these]
        colors = ["#59a14f" if 0.9 <= x <= 1.1 else "#e15759" for x in rates]
        parts.append(hbar_chart(
            [f"{r['func_code']} {r['func_name'] or ''}" for r in these], rates, colors=colors, reference=1.0,
            fmt=lambda v: f"{float(v) * 100:.1f} %", title=f"{year} execution rate (决算 / 预算, {these[0]['fund_scope']})",
        ))  # fmt: skip
    return "".join(parts)


def _projects(con, key: str) -> str:
    rows = _rows(
        con,
        """SELECT fiscal_year, project_name, current_year_budget_yuan AS amount FROM projects
           WHERE unit_key = ? AND current_year_budget_yuan IS NOT NULL ORDER BY amount DESC LIMIT 25""",
        [key],
    )
    if not rows:
        return "<h2>Projects</h2><p class='muted'>No 绩效目标 project of this unit is loaded.</p>"
    return "<h2>Projects by size</h2>" + hbar_chart(
        [f"{r['fiscal_year']} {r['project_name']}" for r in rows], [r["amount"] for r in rows],
        title="当年预算 of the largest projects", colors=[PALETTE[1]] * len(rows),
    )  # fmt: skip


def _findings(con, key: str) -> str:
    rows = _rows(
        con,
        """SELECT d.source_file, d.fiscal_year, q.rule, q.severity, q.table_type, q.page_no, q.subject, q.lhs, q.rhs,
                  q.message
           FROM quality_findings q JOIN documents d USING (doc_id)
           WHERE d.unit_key = ? AND q.status = 'FAIL' ORDER BY d.fiscal_year, d.source_file, q.page_no LIMIT 300""",
        [key],
    )
    if not rows:
        return "<h2>Quality findings</h2><p>No failed check.</p>"
    out = [f"<h2>Quality findings ({len(rows)} failed checks)</h2><table><tr><th>document</th><th>page</th>"
           "<th>rule</th><th>table</th><th>subject</th><th>lhs</th><th>rhs</th><th>message</th></tr>"]  # fmt: skip
    for r in rows:
        link = Path(r["source_file"]).resolve().as_uri() + (f"#page={r['page_no']}" if r["page_no"] else "")
        out.append(
            f"<tr><td><a href='{_h(link)}'>{_h(Path(r['source_file']).name)}</a></td><td class='num'>{_h(r['page_no'])}</td>"
            f"<td class='FAIL'>{_h(r['rule'])}</td><td>{_h(r['table_type'])}</td><td>{_h(r['subject'])}</td>"
            f"<td class='num'>{_h(r['lhs'])}</td><td class='num'>{_h(r['rhs'])}</td><td>{_h(r['message'])}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _header(con, unit: dict) -> str:
    parent = _rows(con, "SELECT unit_key, unit_name FROM units WHERE unit_key = ?", [unit["parent_unit_key"]])
    members = _rows(con, "SELECT unit_name FROM units WHERE parent_unit_key = ? ORDER BY 1", [unit["unit_key"]])
    docs = _rows(
        con,
        "SELECT fiscal_year, doc_kind, scope, source_file, status FROM documents WHERE unit_key = ? ORDER BY 1, 2",
        [unit["unit_key"]],
    )
    years = f"{unit['first_year']}–{unit['last_year']}" if unit["first_year"] else "no loaded year"
    out = [f"<h1>{_h(unit['unit_name'])}</h1>",
           f"<p class='muted'>unit_key {_h(unit['unit_key'])} · {_h(unit['region'] or '?')} · "
           f"{_h(unit['admin_level'] or '?')} · {years}</p>",
           f"<p>Names: {_h(unit['names'])}<br>Why these names are one unit: {_h(unit['match_reason'])}</p>"]  # fmt: skip
    if parent:
        out.append(f"<p>Department: {_h(parent[0]['unit_name'])} ({_h(parent[0]['unit_key'])})</p>")
    if members:
        out.append("<p>Member units: " + "、".join(_h(m["unit_name"]) for m in members) + "</p>")
    out.append("<table><tr><th>year</th><th>kind</th><th>scope</th><th>document</th><th>status</th></tr>")
    out += [
        f"<tr><td>{_h(d['fiscal_year'])}</td><td>{_h(d['doc_kind'])}</td><td>{_h(d['scope'])}</td>"
        f"<td>{_h(Path(d['source_file']).name)}</td><td>{_h(d['status'])}</td></tr>"
        for d in docs
    ]
    out.append("</table>")
    return "".join(out)


def profile_html(warehouse: Path, unit: str) -> tuple[dict, str]:
    """(the unit's row, the page)."""
    con = connect_read_only(warehouse)
    try:
        row = find_unit(con, unit)
        key = row["unit_key"]
        body = [_header(con, row), _func_by_year(con, key), _three_public(con, key), _execution(con, key),
                _projects(con, key), _findings(con, key)]  # fmt: skip
    finally:
        con.close()
    page = (
        f"<!doctype html><html lang='zh'><meta charset='utf-8'><title>{_h(row['unit_name'])} · budgetwh profile</title>"
        f"<style>{_STYLE}</style><body>{''.join(body)}"
        f"<p class='muted'>Amounts in 万元 (the warehouse keeps 元). Generated by budgetwh profile.</p></body></html>"
    )
    return row, page


__all__ = ["UnitNotFound", "find_unit", "profile_html", "wan"]
