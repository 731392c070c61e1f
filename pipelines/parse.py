"""One document through the per-document stages, as plain Python: read → recognize → normalize →
validate (the identity rules). Never raises for a bad document: it comes back quarantined with a
reason. What it returns is what the lake stores and the publish stage combines.

The parser version is a hash of every module that decides what a document parses into: the
packages ``read``, ``normalize``, ``recognize`` and ``validate/rules`` and this module, with the
reference data under them. A module is in or out by where it stands; publishing, the quality
gate (``validate/expectations``), the run and the CLI are not, so changing them re-parses
nothing.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.normalize import frames
from pipelines.normalize.facts import DocumentInfo
from pipelines.read.dispatch import ReadError, doc_id_for, read_document, sha256_file
from pipelines.read.progress import report
from pipelines.recognize.classify import classify_document, is_evaluation_report
from pipelines.recognize.document import RecognizedDocument, recognize_document
from pipelines.recognize.perf_forms.rows import project_frames
from pipelines.validate.rules import document_findings
from pipelines.validate.rules.table_status import form_checks, table_checks

PACKAGE_ROOT = Path(__file__).resolve().parent
# Where the code that decides a document's facts stands, relative to ``pipelines/``.
PARSER_SOURCES = ("read", "normalize", "recognize", "validate/rules", "parse.py")
# Reference data a parser module may read (catalogues): part of the version too.
REFERENCE_SUFFIXES = (".py", ".csv", ".json", ".yaml", ".txt")


def parser_files(root: Path) -> list[Path]:
    """Every file of the parser under a ``pipelines/`` folder, in a stable order."""
    files: list[Path] = []
    for source in PARSER_SOURCES:
        path = root / source
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [
                p for p in path.rglob("*")
                if p.is_file() and p.suffix in REFERENCE_SUFFIXES and "__pycache__" not in p.parts
            ]  # fmt: skip
    return sorted(files)


def _parser_version(root: Path | None = None) -> str:
    root = root or PACKAGE_ROOT
    h = hashlib.sha256()
    for p in parser_files(root):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


PARSER_VERSION = _parser_version()
# The fact tables whose rows may belong to a department's member unit (``member_unit_name``).
MEMBER_FACT_TABLES = ("fact_func_amount", "fact_econ_amount", "fact_three_public", "fact_summary_line")


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

    def member_units(self) -> list[str]:
        """The member units its fact rows belong to (names as printed), so publishing need not open
        its fact files to learn them."""
        names: set[str] = set()
        for table in MEMBER_FACT_TABLES:
            df = self.frames.get(table)
            if df is not None and "member_unit_name" in df.columns:
                names |= set(df["member_unit_name"].drop_nulls().to_list())
        return sorted(names)


def document_frames(doc_id: str, info: DocumentInfo, recognized: RecognizedDocument) -> dict[str, pl.DataFrame]:
    """Normalize: the recognized facts of one document as the lake's frames, exact amounts in 元
    with the printed string, unit and lineage of every row."""
    facts = recognized.facts
    out = {
        "fact_func_amount": frames.func_frame(doc_id, facts.func),
        "fact_econ_amount": frames.econ_frame(doc_id, facts.econ),
        "fact_three_public": frames.three_public_frame(doc_id, facts.three_public),
        "fact_summary_line": frames.summary_frame(doc_id, facts.summary),
        "dim_table_instance": frames.table_frame(doc_id, facts.tables),
        "bridge_dept_unit": frames.roster_frame(doc_id, facts.roster),
    }
    out |= project_frames(doc_id, recognized.forms, info.fiscal_year)
    narrative = recognized.narrative
    if narrative is not None:
        out["fact_narrative_number"] = frames.narrative_frame(doc_id, narrative.numbers)
        out["fact_narrative_fact"] = frames.narrative_fact_frame(doc_id, narrative.facts)
    if narrative is not None and narrative.budget_facts:
        # the 项 budgets a 决算's 情况说明 quotes are 功能分类 facts of their own (source_kind NARRATIVE)
        out["fact_func_amount"] = pl.concat(
            [out["fact_func_amount"], frames.func_frame(doc_id, narrative.budget_facts)], how="vertical_relaxed"
        )
    return out


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
    if info.doc_kind is None and is_evaluation_report(info.title):
        return _quarantine(
            path, sha,
            f"This is a performance-evaluation report ({info.title}), not a 预算/决算 disclosure: it has no "
            "budget tables, so no data was loaded from it.",
            started, **common,
        )  # fmt: skip
    if info.doc_kind is None:
        return _quarantine(
            path, sha,
            "This does not look like a budget disclosure: no 预算/决算/绩效目标申报表 title was found on the "
            "first pages and no budget table was recognized.",
            started, **common,
        )  # fmt: skip
    report("recognizing tables", doc.page_count or 0, doc.page_count or 0)
    try:
        doc_id = doc_id_for(sha)
        recognized = recognize_document(doc, info)
        out = document_frames(doc_id, info, recognized)
        findings = document_findings(doc, info, recognized)
        out["fact_check"] = frames.findings_frame(doc_id, findings)
        tables = table_checks(recognized.facts.tables, recognized.facts, findings)
        tables += form_checks(recognized.forms, findings, len(tables) + 1)
        out["doc_table"] = frames.table_check_frame(doc_id, tables)
    except MemoryError:  # a memory budget's doing: the parse pool's supervisor quarantines and says so
        raise
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
        notes=recognized.facts.notes,
        **common,
    )
    return parsed
