"""scripts/compare_warehouses.py, the check that a move changed no data: identical warehouses
compare equal whatever the row order and the parse timings; one changed cent is found."""

from __future__ import annotations

from pathlib import Path

import duckdb

from scripts.compare_warehouses import compare, main


def make_warehouse(path: Path, rows: list[tuple], seconds: float) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE fact (doc_id VARCHAR, amount_yuan DECIMAL(18,2), parse_seconds DOUBLE)")
    con.executemany("INSERT INTO fact VALUES (?, ?, ?)", [(*r, seconds) for r in rows])
    con.execute("CREATE VIEW amounts AS SELECT doc_id, amount_yuan FROM fact")
    con.close()
    return path


def test_same_data_in_another_order_and_timing_is_identical(tmp_path, capsys):
    rows = [("a", "88951768.35"), ("b", "0.00"), ("c", None)]
    one = make_warehouse(tmp_path / "one.duckdb", rows, 1.5)
    two = make_warehouse(tmp_path / "two.duckdb", list(reversed(rows)), 9.0)
    assert compare(one, two) == []
    assert main([str(one), str(two)]) == 0
    assert "identical: 2 relations, 6 rows" in capsys.readouterr().out


def test_one_cent_is_a_difference(tmp_path, capsys):
    one = make_warehouse(tmp_path / "one.duckdb", [("a", "88951768.35"), ("b", "1.00")], 1.0)
    two = make_warehouse(tmp_path / "two.duckdb", [("a", "88951768.36"), ("b", "1.00")], 1.0)
    problems = compare(one, two)
    assert "amounts: 2 rows before, 2 after, contents differ" in problems
    assert "  - a | 88951768.35" in problems and "  + a | 88951768.36" in problems
    digest = tmp_path / "one.json"
    assert main(["--digest", str(one)]) == 0
    digest.write_text(capsys.readouterr().out)
    assert main([str(digest), str(two)]) == 1  # a kept digest finds it too
