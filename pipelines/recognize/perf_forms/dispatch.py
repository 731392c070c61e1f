"""Every project form of a document, whichever families it holds."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.read.model import SourceDocument
from pipelines.recognize.perf_forms.central import central_target_tables
from pipelines.recognize.perf_forms.common import ProjectForm
from pipelines.recognize.perf_forms.expense_notes import project_expense_notes
from pipelines.recognize.perf_forms.putuo import putuo_target_forms
from pipelines.recognize.perf_forms.shanghai import shanghai_district_forms
from pipelines.recognize.perf_forms.suzhou import suzhou_forms

# ---------------------------------------------------------------------------------------------
# Dispatch


FAMILIES: list[Callable[[SourceDocument], list[ProjectForm]]] = [
    shanghai_district_forms, suzhou_forms, central_target_tables, putuo_target_forms,
]  # fmt: skip


def recognize_project_forms(doc: SourceDocument, errors: list[str] | None = None) -> list[ProjectForm]:
    """Every project form of a document, in order, whichever families it holds. A recognizer that
    fails is reported in ``errors`` (when given) instead of losing the rest of the document."""
    forms: list[ProjectForm] = []
    for family in [*FAMILIES, project_expense_notes]:
        if family is project_expense_notes and forms:
            break  # the prose description of a project that has its form is not a second project
        try:
            forms += family(doc)
        except Exception as exc:
            if errors is None:
                raise
            errors.append(f"{family.__name__}: {type(exc).__name__}: {exc}")
    return forms
