"""Recognize one classified document: its tables (by family), its 绩效目标 forms and the text of
its 情况说明. Recognizers produce facts and what the rules need to check them; they never
evaluate a rule (that is ``pipelines.validate.rules``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.normalize.facts import DocumentInfo, TableFacts
from pipelines.read.model import SourceDocument
from pipelines.recognize.budget.tables import extract_budget_facts, recognize_budget_tables
from pipelines.recognize.final.tables import FinalReading, final_table_facts
from pipelines.recognize.narrative.reader import NarrativeReading, read_narrative
from pipelines.recognize.perf_forms.common import ProjectForm
from pipelines.recognize.perf_forms.dispatch import recognize_project_forms


@dataclass
class RecognizedDocument:
    """Everything recognized in one document."""

    facts: TableFacts  # the tables' facts, of whichever family
    final: FinalReading | None = None  # a 决算's tables as read, for the identities that need their layout
    narrative: NarrativeReading | None = None  # a 决算's 情况说明, a 预算's 编制说明 and 情况说明
    forms: list[ProjectForm] = field(default_factory=list)  # 绩效目标 forms
    form_errors: list[str] = field(default_factory=list)  # form recognizers that failed, and why


def recognize_document(doc: SourceDocument, info: DocumentInfo) -> RecognizedDocument:
    if info.doc_kind == "BUDGET":
        out = RecognizedDocument(extract_budget_facts(recognize_budget_tables(doc), year=info.fiscal_year))
    elif info.doc_kind == "FINAL_ACCOUNT":
        final = final_table_facts(doc)
        out = RecognizedDocument(final.facts, final=final)
    else:
        out = RecognizedDocument(TableFacts())
    if info.doc_kind in ("BUDGET", "PERF_FORM"):
        # a failing form recognizer must not cost the document its budget tables: it is reported
        out.forms = recognize_project_forms(doc, out.form_errors)
    if info.doc_kind in ("BUDGET", "FINAL_ACCOUNT"):
        out.narrative = read_narrative(doc, out.facts, info.doc_kind, info.fiscal_year)
    return out
