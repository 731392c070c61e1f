"""Per document of a warehouse: how much of its text was read and what the narrative rules said.

    uv run python -m scripts.narrative_inventory data/warehouse.duckdb [--markdown]

Columns: the file, its kind and year, the sentences that state a figure, the narrative facts (of
them derived from a stated change), the narrative and consistency findings evaluated (R-NARR*,
R-ECON-3P, R-ORG-PUBLIC, R-UNIT, R-TABLES) and the FAILs among them with page and subject."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RULES = "(q.rule like 'R-NARR%' or q.rule in ('R-ECON-3P', 'R-ORG-PUBLIC', 'R-UNIT', 'R-TABLES'))"

INVENTORY = f"""
WITH docs AS (
  SELECT doc_id, regexp_replace(source_file, '.*/', '') AS file, doc_kind, fiscal_year
  FROM documents WHERE status = 'loaded' AND doc_kind IN ('BUDGET', 'FINAL_ACCOUNT')
),
facts AS (
  SELECT doc_id, count(DISTINCT sentence) AS sentences, count(*) AS facts, count(*) FILTER (WHERE derived) AS derived
  FROM narrative_facts GROUP BY doc_id
),
rules AS (
  SELECT doc_id, count(*) AS evaluated, count(*) FILTER (WHERE status = 'FAIL') AS fails,
         string_agg(CASE WHEN status = 'FAIL' THEN concat(rule, ' p.', page_no, ' ', left(subject, 40)) END, '; '
                    ORDER BY page_no, rule) AS fail_list
  FROM quality_findings q WHERE {RULES} GROUP BY doc_id
)
SELECT d.file, d.doc_kind, d.fiscal_year, coalesce(f.sentences, 0) AS sentences, coalesce(f.facts, 0) AS facts,
       coalesce(f.derived, 0) AS derived, coalesce(r.evaluated, 0) AS evaluated, coalesce(r.fails, 0) AS fails,
       coalesce(r.fail_list, '') AS fail_list
FROM docs d LEFT JOIN facts f USING (doc_id) LEFT JOIN rules r USING (doc_id)
ORDER BY d.file
"""


def inventory(warehouse: Path) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(INVENTORY).fetchall()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args(argv)
    rows = inventory(args.warehouse)
    header = ("file", "kind", "year", "sentences", "facts", "derived", "rules", "FAILs", "FAIL list")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join("" if v is None else str(v) for v in r) + " |")
    else:
        for r in rows:
            print("\t".join("" if v is None else str(v) for v in r))
    totals = [sum(r[i] for r in rows) for i in range(3, 8)]
    print(f"{len(rows)} documents; sentences {totals[0]}, facts {totals[1]} (derived {totals[2]}), "
          f"rules evaluated {totals[3]}, FAILs {totals[4]}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
