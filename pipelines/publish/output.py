"""Query results as the ``budgetwh query`` command prints them: a table for a terminal (CJK
characters two columns wide), CSV or JSON; amounts as exact decimal strings."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def format_rows(columns: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in rows], ensure_ascii=False, indent=1
        )
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if v is None else _plain(v) for v in r])
        return buf.getvalue().rstrip("\n")
    return _table(columns, rows)


def _display_width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _table(columns: list[str], rows: list[tuple]) -> str:
    cells = [[("NULL" if v is None else str(_plain(v))) for v in r] for r in rows]
    widths = [_display_width(c) for c in columns]
    for r in cells:
        for i, v in enumerate(r):
            widths[i] = min(max(widths[i], _display_width(v)), 60)

    def fit(s: str, w: int, right: bool) -> str:
        while _display_width(s) > w:
            s = s[:-2] + "…"
        pad = " " * (w - _display_width(s))
        return pad + s if right else s + pad

    numeric = [
        all(isinstance(r[i], (int, float, Decimal)) or r[i] is None for r in rows) and rows for i in range(len(columns))
    ]
    lines = [" │ ".join(fit(c, widths[i], False) for i, c in enumerate(columns))]
    lines.append("─┼─".join("─" * w for w in widths))
    for r in cells:
        lines.append(" │ ".join(fit(v, widths[i], bool(numeric[i])) for i, v in enumerate(r)))
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
