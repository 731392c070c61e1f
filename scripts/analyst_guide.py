"""docs/analyst-guide.md: its SQL blocks, each followed by the answer the corpus warehouse gives.

``python -m scripts.analyst_guide WAREHOUSE`` runs every query and rewrites the answer blocks (review
the diff); tests/test_analyst_guide.py runs them and compares with the page."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pipelines.publish.warehouse import format_rows, run_query

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "analyst-guide.md"
_BLOCK = re.compile(r"```sql\n(?P<sql>.*?)```\n(?:\nAnswer:\n\n```csv\n(?P<answer>.*?)```\n)?", re.S)


def questions(text: str) -> list[tuple[str, str | None]]:
    """(sql, printed answer or None) for every SQL block of the guide, in order."""
    return [(m.group("sql").strip(), m.group("answer")) for m in _BLOCK.finditer(text)]


def answer(warehouse: Path, sql: str) -> str:
    columns, rows = run_query(warehouse, sql)
    return format_rows(columns, rows, "csv") + "\n"


def rewrite(warehouse: Path, path: Path = GUIDE) -> None:
    text = path.read_text(encoding="utf-8")

    def block(m: re.Match) -> str:
        sql = m.group("sql")
        return f"```sql\n{sql}```\n\nAnswer:\n\n```csv\n{answer(warehouse, sql.strip())}```\n"

    path.write_text(_BLOCK.sub(block, text), encoding="utf-8")


if __name__ == "__main__":
    rewrite(Path(sys.argv[1]))
