"""Per document of a warehouse: its tables by status, rows and identities, and the FAILs (issue 16's inventory).

    uv run python -m scripts.table_inventory data/warehouse.duckdb [--under national] [--markdown] [--open]

Columns: the file, unit, kind and year; the tables of `document_tables` as verified / defects / unverified /
unread; their rows; the identities passed, passed within rounding and failed; the document's FAIL findings.
`--open` lists instead every 功能分类, 经济分类 or 三公 table (B3/B5–B9, F3/F5–F9, and the summary tables that
carry function rows) that is neither verified nor defects, with its pages and reason: the tables a note must
explain."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CLASSIFIED_TABLES = "('B3','B5','B6','B7','B8','B9','F3','F5','F6','F7','F8','F9')"

INVENTORY = """
WITH docs AS (
  SELECT doc_id, regexp_replace(source_file, '.*/', '') AS file, unit_name, doc_kind, fiscal_year
  FROM documents WHERE status = 'loaded' AND source_file LIKE ?
),
tables AS (
  SELECT doc_id, count(*) AS tables,
         count(*) FILTER (WHERE status = 'verified') AS verified,
         count(*) FILTER (WHERE status = 'defects') AS defects,
         count(*) FILTER (WHERE status = 'unverified') AS unverified,
         count(*) FILTER (WHERE status = 'unread') AS unread,
         sum(rows) AS rows, sum(identities_passed) AS passed, sum(identities_rounding) AS rounding,
         sum(identities_failed) AS failed
  FROM document_tables GROUP BY doc_id
),
fails AS (
  SELECT doc_id, count(*) AS fails FROM quality_findings WHERE status = 'FAIL' AND severity = 'error' GROUP BY doc_id
)
SELECT d.file, d.unit_name, d.doc_kind, d.fiscal_year, coalesce(t.tables, 0), coalesce(t.verified, 0),
       coalesce(t.defects, 0), coalesce(t.unverified, 0), coalesce(t.unread, 0), coalesce(t.rows, 0),
       coalesce(t.passed, 0), coalesce(t.rounding, 0), coalesce(t.failed, 0), coalesce(f.fails, 0)
FROM docs d LEFT JOIN tables t USING (doc_id) LEFT JOIN fails f USING (doc_id)
ORDER BY d.file
"""

OPEN_TABLES = f"""
SELECT regexp_replace(d.source_file, '.*/', '') AS file, t.table_type, t.title, t.pages, t.rows, t.status,
       coalesce(t.reason, '') AS reason
FROM document_tables t JOIN documents d USING (doc_id)
WHERE d.status = 'loaded' AND d.source_file LIKE ? AND t.status NOT IN ('verified', 'defects')
  AND t.table_type IN {CLASSIFIED_TABLES}
ORDER BY file, t.pages, t.table_type
"""

HEADER = ("file", "unit", "kind", "year", "tables", "V", "D", "u", "X", "rows", "passed", "rounding", "failed", "FAILs")
OPEN_HEADER = ("file", "table", "title", "pages", "rows", "status", "reason")


def query(warehouse: Path, sql: str, under: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, [f"%{under}%"]).fetchall()
    finally:
        con.close()


def _print(header: tuple[str, ...], rows: list[tuple], markdown: bool) -> None:
    cell = lambda v: "" if v is None else str(v).replace("|", "/")  # noqa: E731
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(cell(v) for v in r) + " |")
    else:
        print("\t".join(header))
        for r in rows:
            print("\t".join(cell(v) for v in r))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--under", default="", help="only source files whose path contains this (e.g. national)")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument("--open", action="store_true", help="the classified tables neither verified nor defects")
    args = parser.parse_args(argv)
    if args.open:
        rows = query(args.warehouse, OPEN_TABLES, args.under)
        _print(OPEN_HEADER, rows, args.markdown)
        print(f"{len(rows)} tables neither verified nor defects", file=sys.stderr)
        return 0
    rows = query(args.warehouse, INVENTORY, args.under)
    _print(HEADER, rows, args.markdown)
    totals = [sum(r[i] for r in rows) for i in range(4, 14)]
    print(f"{len(rows)} documents; tables {totals[0]} (V {totals[1]}, D {totals[2]}, u {totals[3]}, X {totals[4]}), "
          f"rows {totals[5]}, identities {totals[6]} passed / {totals[7]} rounding / {totals[8]} failed, "
          f"FAILs {totals[9]}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
