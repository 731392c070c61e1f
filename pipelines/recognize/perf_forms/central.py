"""The 项目绩效目标表 of central-unit budgets (西南大学 2023: 一级/二级/三级指标, 指标值, 分值),
amounts in 万元."""

from __future__ import annotations

import re

from pipelines.normalize.textnorm import (
    collapse,
)
from pipelines.read.model import SourceDocument, TextLine
from pipelines.recognize.perf_forms.common import ProjectForm
from pipelines.recognize.perf_forms.target_tables import _CENTRAL_FUNDS, _pdf_target_forms


def central_target_tables(doc: SourceDocument) -> list[ProjectForm]:
    """西南大学 2023: ``236 … 绩效目标表`` / ``(2023 年度)`` / a key-value grid (项目资金 in 万元) and the
    indicator grid, continued on the next page without its header."""
    if not any(isinstance(i, TextLine) and re.search(r"绩效目标表$", collapse(i.text)) for i in doc.items()):
        return []
    forms = _pdf_target_forms(doc, "CENTRAL", _CENTRAL_FUNDS, "万元")
    return [f for f in forms if f.amount_unit == "万元" or f.amounts]
