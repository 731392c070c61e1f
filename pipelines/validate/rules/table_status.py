"""Every table proves itself (``document_tables``): the identities evaluated on a table are
attached to it, and their outcome decides how far its numbers can be trusted.

A finding belongs to the table of its ``table_type`` whose printed range (pages, or lines of a text
extraction) holds the finding's page; a 绩效目标 form owns the R-PROJ findings named after its
project. The verdict, per table:

- ``verified``: at least one identity was checked and none failed;
- ``defects``: some identities fail, but each rule on few of its checks (at most ``UNREAD_SHARE``,
  or a single one): a publisher's error in a few cells, loaded and flagged;
- ``unread``: one rule fails on more than ``UNREAD_SHARE`` of the checks made with it, and on at
  least ``UNREAD_MIN_FAILED``: a table that does not add up under the reading made of it is a
  misreading (a column given the wrong meaning, rows of two blocks mixed), not a publisher's
  error, and its numbers are kept out of the fact views;
- ``unverified``: nothing could be checked (an empty table, a table without totals or components).

Forms are never ``unread``: their identities compare single cells (当年预算 = 财政拨款 + 其他) and
each failure is reported on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from pipelines.normalize.facts import Finding, Lineage, TableCheck, TableFacts, TableInstance
from pipelines.normalize.textnorm import collapse
from pipelines.recognize.perf_forms.common import ProjectForm

# The identities of a table's own arithmetic (and of the same number in a second table). R-NARR
# (the narrative against the tables), R-TABLES (the contents) and R-TEXT are about the document.
TABLE_RULES = frozenset({"R-ROW", "R-HIER", "R-TOTAL", "R-BAL", "R-CARRY", "R-XT", "R-3P-SUM", "R-PERS"})
UNREAD_SHARE = Decimal("0.25")
UNREAD_MIN_FAILED = 2


def _owner(tables: list[TableInstance], table_type: str | None, page: int | None, title: str | None) -> int | None:
    """Index of the table a finding or a fact at ``page`` belongs to: same type, the page in its
    range (the same title first when two tables of one type share a page); else the last table of
    that type starting before the page."""
    if table_type is None:
        return None
    same_type = [i for i, t in enumerate(tables) if t.table_type == table_type]
    if not same_type:
        return None
    if page is None:
        return same_type[0]
    holding = [i for i in same_type if tables[i].page_start <= page <= tables[i].page_end]
    if holding:
        if title is not None:
            titled = [i for i in holding if tables[i].title == collapse(title)]
            if titled:
                return titled[0]
        return holding[0]
    before = [i for i in same_type if tables[i].page_start <= page]
    return before[-1] if before else same_type[0]


def continued_tables(tables: list[TableInstance]) -> list[TableInstance]:
    """Tables as printed: the pieces of one table that runs on over pages (same type, title and
    unit, the next piece starting on the page where the last one ends or the page after) are one
    table, as the rules see them (the 类/款/项 hierarchy is checked across its pages)."""
    out: list[TableInstance] = []
    for t in tables:
        last = out[-1] if out else None
        if (
            last is not None
            and (last.table_type, last.title, last.unit) == (t.table_type, t.title, t.unit)
            and last.page_end <= t.page_start <= last.page_end + 1
        ):
            out[-1] = replace(
                last,
                page_end=max(last.page_end, t.page_end),
                is_empty=last.is_empty and t.is_empty,
                empty_note=last.empty_note or t.empty_note,
                n_facts=last.n_facts + t.n_facts,
                unresolved_names=last.unresolved_names + t.unresolved_names,
            )
        else:
            out.append(t)
    return out


def _printed_rows(tables: list[TableInstance], facts: TableFacts) -> dict[int, set]:
    """The printed rows of each table: the distinct rows its facts come from."""
    rows: dict[int, set] = defaultdict(set)
    printed: list[Lineage] = [f.at for f in facts.func if f.source_kind == "TABLE"]
    printed += [f.at for f in facts.econ] + [f.at for f in facts.summary]
    printed += [f.at for f in facts.three_public if f.source_kind == "TABLE"]
    for at in printed:
        i = _owner(tables, at.table_type, at.page_no, at.table_title)
        if i is not None and at.row_id:
            rows[i].update(at.row_id.split("|"))  # a fact summing several printed rows names them all
        elif i is not None:
            rows[i].add((at.page_no, at.line_no, at.row_label))
    return rows


def _count(findings: Iterable[Finding]) -> tuple[int, int, int]:
    statuses = [f.status for f in findings]
    return statuses.count("PASS"), statuses.count("PASS_ROUNDING"), statuses.count("FAIL")


def _misreading(findings: list[Finding]) -> tuple[str, int, int] | None:
    """The identity that shows a misreading: one rule failing on more than ``UNREAD_SHARE`` of the
    rows or groups it was checked on (at least ``UNREAD_MIN_FAILED`` of them). R-ROW failing so
    widely means the columns were given the wrong meaning; R-HIER or R-TOTAL, that rows were mixed
    or lost. A publisher's typo breaks one row and the sums above it, not a quarter of them."""
    by_rule: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        by_rule[f.rule].append(f.status)
    worst = None
    for rule, statuses in sorted(by_rule.items()):
        failed = statuses.count("FAIL")
        widespread = failed >= UNREAD_MIN_FAILED and Decimal(failed) / len(statuses) > UNREAD_SHARE
        if widespread and (worst is None or failed * worst[2] > worst[1] * len(statuses)):
            worst = (rule, failed, len(statuses))
    return worst


_WHAT_FAILS = {
    "R-ROW": "its rows do not add up across the columns (a column read with the wrong meaning)",
    "R-HIER": "its 类/款/项 rows do not add up (rows misplaced, lost or mixed from two blocks)",
    "R-TOTAL": "its 合计 is not the sum of its 类 rows (rows misplaced or lost)",
    "R-BAL": "its 收入 and 支出 sides do not balance (the two sides read apart wrongly)",
    "R-3P-SUM": "its 三公 items do not add up to their total (columns or blocks misread)",
}


def _verdict(
    findings: list[Finding], empty_note: str | None, is_empty: bool, rows_by_unit: bool = False
) -> tuple[str, str | None]:
    passed, rounding, failed = _count(findings)
    checked = passed + rounding + failed
    if checked == 0:
        if is_empty:
            return "unverified", f"The table is printed empty ({empty_note or 'no amounts'}); nothing to check."
        if rows_by_unit:
            return "unverified", (
                "Its rows are the department and its units (单位编码 codes, not 功能分类 codes): no function facts "
                "are read from it, and no identity of its unit rows could be checked."
            )
        return "unverified", "No identity of this table could be checked (no total or component columns were read)."
    if failed == 0:
        return "verified", None
    misread = _misreading(findings)
    if misread is not None:
        rule, rule_failed, rule_checked = misread
        what = _WHAT_FAILS.get(rule, "its own identities do not hold")
        return "unread", (
            f"{rule} fails on {rule_failed} of {rule_checked} checks: {what}, so its numbers are not published "
            f"as facts ({failed} of {checked} identities fail in all)."
        )
    return "defects", f"{failed} of its {checked} identities fail: publisher errors in those cells, loaded as printed."


def _unresolved_reason(names: tuple[tuple[int, str], ...]) -> str:
    shown = "、".join(f"{name} (p.{page})" for page, name in names[:5]) + ("…" if len(names) > 5 else "")
    return (
        f"{len(names)} rows printed by name alone have no code in the catalogue under their parent ({shown}): "
        "they and the other 款/项 rows of their 类 are summary lines, not facts, and their sums are not checked."
    )


def table_checks(tables: list[TableInstance], facts: TableFacts, findings: list[Finding]) -> list[TableCheck]:
    """One ``TableCheck`` per table of the document (pieces continued over pages joined), in the
    order the tables were found."""
    tables = continued_tables(tables)
    owned: dict[int, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.rule in TABLE_RULES:
            i = _owner(tables, f.table_type, f.page_no, None)
            if i is not None:
                owned[i].append(f)
    rows = _printed_rows(tables, facts)
    out = []
    for i, t in enumerate(tables):
        passed, rounding, failed = _count(owned[i])
        status, reason = _verdict(owned[i], t.empty_note, t.is_empty, t.rows_by_unit)
        if t.unresolved_names:
            reason = " ".join(r for r in (reason, _unresolved_reason(t.unresolved_names)) if r)
        out.append(
            TableCheck(i + 1, t.table_type, t.title, t.unit, t.page_start, t.page_end, len(rows[i]),
                       passed, rounding, failed, status, reason)
        )  # fmt: skip
    return out


def form_checks(forms: list[ProjectForm], findings: list[Finding], first_seq: int) -> list[TableCheck]:
    """One ``TableCheck`` per 绩效目标 form, with the R-PROJ findings of its project."""
    by_name: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.rule == "R-PROJ" and ": " in f.subject:
            by_name[f.subject.split(": ", 1)[0]].append(f)
    out = []
    for k, form in enumerate(forms):
        pages = [p for p in [form.page_no, *(i.page_no for i in form.line_items), *(r.page_no for r in form.indicators)]
                 if p is not None]  # fmt: skip
        passed, rounding, failed = _count(by_name.get(form.name or "?", []))
        checked = passed + rounding + failed
        if checked == 0:
            status, reason = "unverified", "No money identity of this form could be checked."
        elif failed:
            status, reason = "defects", f"{failed} of its {checked} identities fail: loaded as printed and flagged."
        else:
            status, reason = "verified", None
        out.append(
            TableCheck(first_seq + k, form.table_type, form.name or "", form.amount_unit, min(pages, default=None),
                       max(pages, default=None), len(form.line_items) + len(form.indicators), passed, rounding,
                       failed, status, reason)
        )  # fmt: skip
    return out
