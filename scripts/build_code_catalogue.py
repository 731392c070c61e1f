"""Rebuild the 功能分类 / 经济分类 code catalogue (pipelines/normalize/reference/*.csv) from what the
corpora print: ../shared/corpus/codes/observed_codes.csv (entries flagged primary or variant; the
suspect ones, single-document names cut by a line wrap, only where a corpus table confirms them) and the codes and names of
the tables of a warehouse that prove themselves (document_tables status verified or defects), or,
from tables nothing could check (unverified), the names two documents print alike.

    uv run python -m scripts.build_code_catalogue ../shared/corpus/codes/observed_codes.csv WAREHOUSE.duckdb

One row per (code, name as printed once normalized): first_year / last_year are the fiscal years it
was seen in, source says where (observed_codes.csv, corpus:<n> documents). See the README beside
the CSVs for the provenance.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import duckdb

from pipelines.normalize.codes import FIELDS, REFERENCE_DIR, code_level, code_name_key, parent_code

Entry = dict[str, object]


def _observed(path: Path) -> dict[str, dict[tuple[str, str], Entry]]:
    out: dict[str, dict[tuple[str, str], Entry]] = {"func": {}, "econ": {}}
    with open(path, encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            suspect = row["flag"].startswith("suspect")  # kept only where a table of the corpus prints it too
            kind = "func" if row["classification"].startswith("function") else "econ"
            years = [int(y) for y in row["years"].split(";") if y.strip()]
            key = (row["code"], code_name_key(row["name"]))
            out[kind][key] = {
                "code": row["code"], "name": row["name"], "years": set(years),
                "sources": {f"observed_codes.csv ({'suspect, ' if suspect else ''}{row['n_docs']} documents)"},
            }  # fmt: skip
    return out


def _from_warehouse(db: Path, into: dict[str, dict[tuple[str, str], Entry]]) -> None:
    con = duckdb.connect(str(db), read_only=True)
    queries = {
        "func": "SELECT f.func_code, f.func_name, d.fiscal_year, f.doc_id, t.status FROM fact_func_amount f",
        "econ": "SELECT f.econ_code, f.econ_name, d.fiscal_year, f.doc_id, t.status FROM fact_econ_amount f",
    }
    # a 款 or 项 printed by name alone took its code from this catalogue (its row label has no code):
    # it confirms nothing
    proved = (
        " JOIN loaded_documents d USING (doc_id) JOIN doc_table t ON t.doc_id = f.doc_id AND t.table_type = f.table_type"
        " AND f.page_no BETWEEN t.page_start AND t.page_end WHERE t.status <> 'unread'"
        " AND coalesce(f.{name}, '') <> '' AND d.fiscal_year IS NOT NULL"
        " AND (length(f.{code}) = 3 OR starts_with(coalesce(f.row_label, ''), f.{code}))"
    )
    for kind, sql in queries.items():
        docs: dict[tuple[str, str], set[str]] = defaultdict(set)
        names: dict[tuple[str, str], str] = {}
        years: dict[tuple[str, str], set[int]] = defaultdict(set)
        proved_keys: set[tuple[str, str]] = set()
        for code, name, year, doc_id, status in con.execute(
            sql + proved.format(name=f"{kind}_name", code=f"{kind}_code")
        ).fetchall():
            key = (code, code_name_key(name))
            docs[key].add(doc_id)
            if status in ("verified", "defects"):
                proved_keys.add(key)
            names.setdefault(key, name)
            years[key].add(year)
        for key, doc_ids in docs.items():
            if key not in proved_keys and len(doc_ids) < 2:
                continue  # from unproved tables, a name counts once two documents print it alike
            if kind == "econ" and not key[0].startswith("3"):
                continue  # 5xx is the 政府预算支出经济分类, printed only crossed with the 部门 one (北京 预算03)
            entry = into[kind].setdefault(key, {"code": key[0], "name": names[key], "years": set(), "sources": set()})
            entry["years"] |= years[key]
            entry["sources"].add(f"corpus tables ({len(doc_ids)} documents)")
    con.close()


def _kept(sources: set[str], names_of_code: int) -> bool:
    suspect = {s for s in sources if s.startswith("observed_codes.csv (suspect")}
    if suspect and sources == suspect:
        return False  # a suspect name no table of the corpus confirms
    # a second name printed in the tables of one document only
    return not (sources == {"corpus tables (1 documents)"} and names_of_code > 1)


def _trusted(entries: dict[str, dict[tuple[str, str], Entry]]) -> dict[str, dict[tuple[str, str], Entry]]:
    """A name seen in the tables of a single document only (and not in observed_codes.csv) is kept
    only where it is the one name known for its code: a second name printed once is a misreading
    (a unit row taken for a 类, a name cut by a wrap, a cross-classified 政府经济分类 label). A name
    observed_codes.csv flags suspect is kept where a corpus table prints it too (two readings agree)."""
    out: dict[str, dict[tuple[str, str], Entry]] = {}
    for kind, by_key in entries.items():
        names_per_code: dict[str, int] = defaultdict(int)
        for code, _ in by_key:
            names_per_code[code] += 1
        out[kind] = {key: e for key, e in by_key.items() if _kept(e["sources"], names_per_code[key[0]])}
    return out


TRANSCRIBED = "transcribed:"


def _transcribed(out_dir: Path = REFERENCE_DIR) -> dict[str, list[dict[str, str]]]:
    """The entries transcribed from the national 政府收支分类科目 (source ``transcribed: …``), kept
    as they are: no corpus prints them with a code (杭州 prints 20407 监狱 by name alone)."""
    out: dict[str, list[dict[str, str]]] = {"func": [], "econ": []}
    for kind in out:
        path = out_dir / f"{kind}_codes.csv"
        if path.exists():
            with open(path, encoding="utf-8") as f:
                out[kind] = [row for row in csv.DictReader(f) if row["source"].startswith(TRANSCRIBED)]
    return out


def write(entries: dict[str, dict[tuple[str, str], Entry]], out_dir: Path = REFERENCE_DIR) -> None:
    transcribed = _transcribed(out_dir)
    for kind, by_key in entries.items():
        rows = [
            [str(e["code"]), code_level(str(e["code"])), e["name"], parent_code(str(e["code"])) or "",
             min(e["years"]), max(e["years"]), "; ".join(sorted(e["sources"]))]
            for e in by_key.values()
        ]  # fmt: skip
        seen = {(r[0], code_name_key(str(r[2]))) for r in rows}
        rows += [[t[k] for k in FIELDS] for t in transcribed[kind] if (t["code"], code_name_key(t["name"])) not in seen]
        rows.sort(key=lambda r: (r[0], int(r[4]), r[2]))
        with open(out_dir / f"{kind}_codes.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(FIELDS)
            w.writerows(rows)


def main(argv: list[str]) -> None:
    observed, *warehouses = (Path(a) for a in argv)
    entries = _observed(observed)
    for db in warehouses:
        _from_warehouse(db, entries)
    entries = _trusted(entries)
    write(entries)
    for kind, by_key in entries.items():
        print(f"{kind}_codes.csv: {len(by_key)} entries, {len({k[0] for k in by_key})} codes")


if __name__ == "__main__":
    main(sys.argv[1:])
