"""One document, start to finish, as plain Python: read → classify → recognize → normalize →
identities. Never raises for a bad document: it comes back quarantined with a reason."""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import frames
from pipelines.budget_tables import extract_budget_facts, recognize_budget_tables
from pipelines.classify import DocumentInfo, classify_document
from pipelines.facts import Finding, TableFacts
from pipelines.final_narrative import extract_narrative
from pipelines.final_tables import final_table_facts
from pipelines.identities import (
    check_balance,
    check_carry,
    check_cross_tables,
    check_econ,
    check_hierarchy,
    check_rows,
    check_table_totals,
    check_three_public,
)
from pipelines.model import SourceDocument
from pipelines.perf_forms import extract_perf_forms
from pipelines.readers import ReadError, read_document, sha256_file

# Every module of the domain core decides what a document parses into, except these, which only
# store, publish or present results. A change to any other module changes the parser version, and
# documents parsed by another version are parsed again.
_NOT_PARSER = {"cli.py", "lake.py", "warehouse.py", "samples.py", "report.py", "__init__.py", "jobs.py"}
_NOT_PARSER |= {"combine.py", "versions.py", "faults.py", "quality.py"}  # combining, versions, test seams, the gate


def _parser_version(root: Path | None = None) -> str:
    root = root or Path(__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        if p.name not in _NOT_PARSER:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


PARSER_VERSION = _parser_version()


def doc_id_for(sha256: str) -> str:
    return sha256[:16]


@dataclass
class ParsedDocument:
    doc_id: str
    source_file: str
    sha256: str
    status: str  # loaded | quarantined
    error: str | None
    info: DocumentInfo | None
    page_count: int | None
    source_format: str | None
    parse_seconds: float
    parser_version: str = PARSER_VERSION
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def document_row(self) -> dict:
        info = self.info
        return {
            "doc_id": self.doc_id,
            "source_file": self.source_file,
            "sha256": self.sha256,
            "doc_kind": info.doc_kind if info else None,
            "scope": info.scope if info else None,
            "unit_name": info.unit_name if info else None,
            "fiscal_year": info.fiscal_year if info else None,
            "page_count": self.page_count,
            "status": self.status,
            "error": self.error,
            "title": info.title if info else None,
            "source_format": self.source_format,
            "parser_version": self.parser_version,
            "parse_seconds": round(self.parse_seconds, 3),
        }

    def row_counts(self) -> dict[str, int]:
        return {name: df.height for name, df in self.frames.items()}


# A family extractor adds frames for one form family (e.g. 绩效目标 forms); it receives the
# document, its classification and the tables' facts, and returns frames keyed by table name.
FamilyExtractor = Callable[[SourceDocument, DocumentInfo, TableFacts], dict[str, pl.DataFrame]]
FAMILY_EXTRACTORS: list[FamilyExtractor] = [extract_perf_forms]  # 绩效目标 forms (issue 3)


def final_narrative_frames(doc: SourceDocument, info: DocumentInfo, facts: TableFacts) -> dict[str, pl.DataFrame]:
    """决算 情况说明: every stated number with its sentence, the 项 budgets it quotes (as NARRATIVE
    facts) and its checks against the tables."""
    if info.doc_kind != "FINAL_ACCOUNT":
        return {}
    doc_id = doc_id_for(doc.sha256)
    result = extract_narrative(doc, facts, info.fiscal_year)
    return {
        "fact_narrative_number": frames.narrative_frame(doc_id, result.numbers),
        "fact_func_amount": frames.func_frame(doc_id, result.budget_facts),
        "_findings": frames.findings_frame(doc_id, result.findings),
    }


FAMILY_EXTRACTORS.append(final_narrative_frames)


def extract_table_facts(doc: SourceDocument, info: DocumentInfo) -> TableFacts:
    if info.doc_kind == "BUDGET":
        return extract_budget_facts(recognize_budget_tables(doc))
    if info.doc_kind == "FINAL_ACCOUNT":
        return final_table_facts(doc)
    return TableFacts()


def table_identities(facts: TableFacts) -> list[Finding]:
    """Row, hierarchy, total and cross-table identities for every family; the 预算 family's
    balance, 三公 and 经济分类 rules here (the 决算 family brings its own in ``facts.findings``)."""
    printed = [f for f in facts.func if f.source_kind == "TABLE"]  # not the narrative's quotes
    budget_summary = [s for s in facts.summary if s.at.table_type.startswith("B")]
    return (
        check_rows(printed)
        + check_hierarchy(printed)
        + check_table_totals(printed, facts.summary)
        + check_cross_tables(printed)
        + check_balance(budget_summary)
        + check_carry(budget_summary)
        + check_three_public([t for t in facts.three_public if (t.at.table_type or "").startswith("B")])
        + check_econ([e for e in facts.econ if e.at.table_type.startswith("B")], budget_summary)
        + facts.findings
    )


def _quarantine(path: Path, sha: str, reason: str, started: float, **kw) -> ParsedDocument:
    return ParsedDocument(
        doc_id=doc_id_for(sha),
        source_file=str(path),
        sha256=sha,
        status="quarantined",
        error=reason,
        info=kw.get("info"),
        page_count=kw.get("page_count"),
        source_format=kw.get("source_format"),
        parse_seconds=time.perf_counter() - started,
    )


def parse_document(path: Path, sha256: str | None = None) -> ParsedDocument:
    started = time.perf_counter()
    path = Path(path)
    sha = sha256 or sha256_file(path)
    try:
        doc = read_document(path, sha)
    except ReadError as exc:
        return _quarantine(path, sha, str(exc), started)
    info = classify_document(doc)
    common = {"info": info, "page_count": doc.page_count, "source_format": doc.source_format}
    if info.is_template:
        return _quarantine(
            path, sha,
            "This is a blank template (placeholders such as 'XX' instead of a unit name and amounts), "
            "not a published document; no data was loaded from it.",
            started, **common,
        )  # fmt: skip
    if info.doc_kind is None:
        return _quarantine(
            path, sha,
            "This does not look like a budget disclosure: no 预算/决算/绩效目标申报表 title was found on the "
            "first pages and no budget table was recognized.",
            started, **common,
        )  # fmt: skip
    try:
        facts = extract_table_facts(doc, info)
        findings = table_identities(facts)
        doc_id = doc_id_for(sha)
        out = {
            "fact_func_amount": frames.func_frame(doc_id, facts.func),
            "fact_econ_amount": frames.econ_frame(doc_id, facts.econ),
            "fact_three_public": frames.three_public_frame(doc_id, facts.three_public),
            "fact_summary_line": frames.summary_frame(doc_id, facts.summary),
            "dim_table_instance": frames.table_frame(doc_id, facts.tables),
            "bridge_dept_unit": frames.roster_frame(doc_id, facts.roster),
        }
        for extractor in FAMILY_EXTRACTORS:
            for name, df in extractor(doc, info, facts).items():
                out[name] = pl.concat([out[name], df], how="vertical_relaxed") if name in out else df
        extra_findings = out.pop("_findings", None)
        check_frame = frames.findings_frame(doc_id, findings)
        if extra_findings is not None:
            check_frame = pl.concat([check_frame, extra_findings], how="vertical_relaxed")
        out["fact_check"] = check_frame
    except Exception as exc:  # a recognizer bug must not stop the run: quarantine and say why
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _quarantine(
            path,
            sha,
            f"The document could be read but its tables could not be recognized ({detail}).",
            started,
            **common,
        )
    parsed = ParsedDocument(
        doc_id=doc_id_for(sha),
        source_file=str(path),
        sha256=sha,
        status="loaded",
        error=None,
        parse_seconds=time.perf_counter() - started,
        frames=out,
        notes=facts.notes,
        **common,
    )
    return parsed
