"""``budgetwh query`` reads the warehouse's views and nothing else: statements that would write or
read files, attach databases, install or load extensions or change settings are refused with a
one-line explanation and exit code 2, and every query the documentation shows still runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from assets.runner import run_ingest
from pipelines.cli import main
from pipelines.publish.warehouse import row_counts
from pipelines.run.samples import write_samples

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    home = tmp_path_factory.mktemp("confined")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    assert run_ingest([home / "in"], wh).success
    yield wh
    mp.undo()


def documented_queries() -> list[str]:
    """Every ``budgetwh query "…"``, every ```sql block and every inline `select …` of README.md
    and docs/*.md."""
    queries = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        queries += re.findall(r'budgetwh query\s+"((?:[^"\\]|\\.)+)"', text)
        queries += [q.strip() for q in re.findall(r"```sql\n(.*?)```", text, flags=re.S)]
        queries += [" ".join(q.split()) for q in re.findall(r"`(select [^`]+)`", text, flags=re.I)]
    return queries


def test_every_documented_query_runs(warehouse, capsys):
    queries = documented_queries()
    assert len(queries) >= 8  # the README's examples and the data dictionary's
    for sql in queries:
        assert main(["query", "--warehouse", str(warehouse), sql]) == 0, sql
        assert "row" in capsys.readouterr().out


REFUSED = {
    "COPY (SELECT * FROM documents) TO '{out}/leak.csv'": "COPY statements are not allowed",
    "SELECT * FROM read_text('/etc/hostname')": "nothing else (no files",
    "SELECT * FROM read_csv('/etc/passwd')": "nothing else (no files",
    "SELECT count(*) FROM glob('/etc/*')": "nothing else (no files",
    "SELECT 1; COPY documents TO '{out}/second.csv'": "COPY statements are not allowed",
    "ATTACH '{out}/other.duckdb' AS other": "ATTACH statements are not allowed",
    "INSTALL httpfs": "LOAD statements are not allowed",
    "LOAD httpfs": "LOAD statements are not allowed",
    "SET enable_external_access = true": "SET statements are not allowed",
    "SET memory_limit = '100GB'": "SET statements are not allowed",
    "PRAGMA enable_profiling": "PRAGMA statements are not allowed",
    "CALL pragma_version()": "CALL statements are not allowed",
    "EXPORT DATABASE '{out}/dump'": "are not allowed",
    "CREATE TABLE x AS SELECT 1": "CREATE statements are not allowed",
}


def test_statements_reaching_outside_the_warehouse_are_refused(warehouse, tmp_path, capsys):
    before = row_counts(warehouse)
    for template, message in REFUSED.items():
        sql = template.format(out=tmp_path)
        assert main(["query", "--warehouse", str(warehouse), sql]) == 2, sql
        err = capsys.readouterr().err.strip()
        assert err.startswith("Refused: ") and message in err, (sql, err)
        assert "\n" not in err  # one line
    assert list(tmp_path.iterdir()) == []  # nothing was written
    assert row_counts(warehouse) == before


def test_the_command_exits_2_on_a_refused_statement(warehouse, tmp_path):
    sql = "SELECT * FROM read_text('/etc/hostname')"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "query", "--warehouse", str(warehouse), sql],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("Refused: budgetwh query reads the warehouse's views and nothing else")
    assert proc.stdout == ""
