"""One document per unit, year, kind and scope in the canonical views.

Two loaded documents may claim the same (unit_key, fiscal_year, doc_kind, scope): a corrected
budget re-published under a new file name, a reviewer's edited copy beside the genuine one. Mixing
them row by row would give figures neither printed, so among the documents of one such identity
that hold 功能分类 amounts the **later publication** gives every row of func_canonical and
budget_vs_final. Later means the same newness as ``versions.py``: registered later (the first time
budgetwh saw those bytes at that path), then the file's modification time, then the path. Documents
that hold no 功能分类 amounts (Jiangsu's narrative PDF beside its tables PDF) compete with nobody.

``documents.canonical_doc_id`` shows the choice; every document set aside gets a
``R-PUB-CONFLICT`` finding naming the chosen one, plus one finding per cell where the two
differ (table, code, measure, page, both amounts); the chosen one gets a finding naming the others.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import polars as pl

RULE = "R-PUB-CONFLICT"
MAX_CELL_FINDINGS = 500  # per pair of documents: enough to locate every edit of a real document
_CELL = ("stage", "fund_scope", "table_type", "func_code", "measure")


def choose_canonical(docs: list[dict], with_func: set[str], newness: dict[str, tuple]) -> dict[str, str]:
    """doc_id → doc_id of the document the canonical views use, for every loaded document that holds
    功能分类 amounts (``with_func``) and has a complete identity."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for d in docs:
        ident = (d.get("unit_key"), d.get("fiscal_year"), d.get("doc_kind"), d.get("scope"))
        if d.get("status") == "loaded" and d["doc_id"] in with_func and all(v is not None for v in ident[:3]):
            groups[ident].append(d)
    chosen: dict[str, str] = {}
    for group in groups.values():
        winner = max(group, key=lambda d: newness.get(d["doc_id"], ("", 0.0, d["source_file"])))
        for d in group:
            chosen[d["doc_id"]] = winner["doc_id"]
    return chosen


def _cells(func: pl.DataFrame, doc_id: str) -> dict[tuple, dict]:
    rows = func.filter(pl.col("doc_id") == doc_id).sort("page_no", "line_no", nulls_last=True).to_dicts()
    out: dict[tuple, dict] = {}
    for r in rows:
        out.setdefault(tuple(r[c] for c in _CELL), r)
    return out


def _money(v: Decimal | None) -> str:
    return "blank" if v is None else format(v, ",.2f")


def conflict_findings(docs: list[dict], chosen: dict[str, str], func: pl.DataFrame, schema: dict) -> pl.DataFrame:
    """fact_check rows for every document set aside and for the one chosen instead of it."""
    by_id = {d["doc_id"]: d for d in docs}
    rows: list[dict] = []
    for loser_id, winner_id in sorted(chosen.items()):
        if loser_id == winner_id:
            continue
        loser, winner = by_id[loser_id], by_id[winner_id]
        a, b = _cells(func, loser_id), _cells(func, winner_id)
        differing = [k for k in sorted(set(a) | set(b), key=str) if (a.get(k) or {}).get("amount_yuan") != (
            b.get(k) or {}).get("amount_yuan")]  # fmt: skip
        ident = (
            f"{loser.get('fiscal_year')} {loser.get('doc_kind')} {loser.get('scope') or ''} of {loser.get('unit_name')}"
        )
        base = {"doc_id": loser_id, "rule": RULE, "status": "FAIL", "severity": "warning", "tolerance": Decimal(0)}
        rows.append({
            **base, "subject": "document",
            "message": (
                f"{Path(loser['source_file']).name} and {Path(winner['source_file']).name} (doc_id {winner_id}) are both "
                f"the {ident}; the canonical views take every figure from {Path(winner['source_file']).name}, the later "
                f"publication, and none from this one. They differ in {len(differing)} of "
                f"{len(set(a) | set(b))} 功能分类 cells (listed as {RULE} findings of this document)."
            ),
        })  # fmt: skip
        rows.append({
            **base, "doc_id": winner_id, "subject": "document",
            "message": (
                f"Another document, {Path(loser['source_file']).name} (doc_id {loser_id}), is also the {ident}; the "
                f"canonical views take every figure from this one (the later publication). They differ in "
                f"{len(differing)} 功能分类 cells."
            ),
        })  # fmt: skip
        for k in differing[:MAX_CELL_FINDINGS]:
            mine, theirs = a.get(k) or {}, b.get(k) or {}
            lhs, rhs = mine.get("amount_yuan"), theirs.get("amount_yuan")
            stage, fund_scope, table_type, code, measure = k
            rows.append({
                **base, "table_type": table_type, "page_no": mine.get("page_no") or theirs.get("page_no"),
                "subject": f"{code} {measure} {stage} {fund_scope}", "lhs": lhs, "rhs": rhs,
                "diff": lhs - rhs if lhs is not None and rhs is not None else None,
                "message": (
                    f"{table_type} {code} {mine.get('func_name') or theirs.get('func_name') or ''} {measure}: "
                    f"{_money(lhs)} here (page {mine.get('page_no') or '-'}) but {_money(rhs)} in "
                    f"{Path(winner['source_file']).name} (page {theirs.get('page_no') or '-'}), which the canonical views use"
                ),
            })  # fmt: skip
    return pl.DataFrame(rows, schema=schema, strict=False)
