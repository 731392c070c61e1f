"""Compare the data of two warehouses relation by relation, row by row.

    uv run python -m scripts.compare_warehouses before.duckdb after.duckdb
    uv run python -m scripts.compare_warehouses --digest wh.duckdb > digest.json   # keep a fingerprint
    uv run python -m scripts.compare_warehouses before.json after.duckdb           # compare against one

Every table and view is read whole, its rows rendered as exact strings (decimals as printed by
DuckDB, never floats) and sorted, so the order a load happened to write rows in does not count.
Columns that record *when* or *how fast* a document was parsed, or which parser build did it, are
left out: they differ between any two runs. Exit code 0 when the data are identical, 1 otherwise."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

# Columns that differ between two runs of the same code on the same files.
VOLATILE_COLUMNS = {"parser_version", "parsed_at", "parse_seconds"}
# Bookkeeping of the load itself (fingerprints of the lake, run ids), not data.
SKIPPED_RELATIONS = {"warehouse_meta", "publish_doc_state"}


def relation_rows(warehouse: Path) -> dict[str, list[str]]:
    """Every relation of the warehouse → its rows as sorted strings (volatile columns left out)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        out: dict[str, list[str]] = {}
        for name in names:
            if name in SKIPPED_RELATIONS:
                continue
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                    [name],
                ).fetchall()
                if r[0] not in VOLATILE_COLUMNS
            ]
            select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
            rows = con.execute(f'SELECT {select} FROM "{name}"').fetchall()
            out[name] = sorted("\x1f".join("∅" if v is None else v for v in row) for row in rows)
        return out
    finally:
        con.close()


def digest(rows: dict[str, list[str]]) -> dict[str, dict]:
    return {
        name: {"rows": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}
        for name, lines in rows.items()
    }


def load(path: Path) -> tuple[dict[str, dict], dict[str, list[str]] | None]:
    if path.suffix == ".json":
        return json.loads(path.read_text()), None
    rows = relation_rows(path)
    return digest(rows), rows


def compare(before: Path, after: Path) -> list[str]:
    """Lines describing every difference (empty when the warehouses hold the same data)."""
    (d1, rows1), (d2, rows2) = load(before), load(after)
    problems: list[str] = []
    for name in sorted(set(d1) | set(d2)):
        if name not in d1 or name not in d2:
            problems.append(f"{name}: only in {'after' if name not in d1 else 'before'}")
            continue
        if d1[name] == d2[name]:
            continue
        problems.append(f"{name}: {d1[name]['rows']} rows before, {d2[name]['rows']} after, contents differ")
        if rows1 is not None and rows2 is not None:
            gone = sorted(set(rows1[name]) - set(rows2[name]))
            new = sorted(set(rows2[name]) - set(rows1[name]))
            problems += [f"  - {r.replace(chr(31), ' | ')}" for r in gone[:5]]
            problems += [f"  + {r.replace(chr(31), ' | ')}" for r in new[:5]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a warehouse (.duckdb) or a digest (.json)")
    parser.add_argument("after", type=Path, nargs="?", help="a warehouse or a digest")
    parser.add_argument("--digest", action="store_true", help="print the digest of BEFORE as JSON and stop")
    args = parser.parse_args(argv)
    if args.digest or args.after is None:
        print(json.dumps(load(args.before)[0], indent=1, sort_keys=True))
        return 0
    problems = compare(args.before, args.after)
    if problems:
        print("\n".join(problems))
        return 1
    relations = load(args.after)[0]
    print(f"identical: {len(relations)} relations, {sum(d['rows'] for d in relations.values())} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
