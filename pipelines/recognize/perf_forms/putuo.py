"""财政项目支出绩效目标填报表 of Shanghai Putuo budgets (万里街道 2023), in 元."""

from __future__ import annotations

from pipelines.normalize.textnorm import (
    collapse,
)
from pipelines.read.model import SourceDocument, TextLine
from pipelines.recognize.perf_forms.common import ProjectForm
from pipelines.recognize.perf_forms.target_tables import _PUTUO_FUNDS, _pdf_target_forms


def putuo_target_forms(doc: SourceDocument) -> list[ProjectForm]:
    """上海普陀 财政项目支出绩效目标填报表 (元): one page per project."""
    if not any(isinstance(i, TextLine) and "绩效目标填报表" in collapse(i.text) for i in doc.items()):
        return []
    return _pdf_target_forms(doc, "PUTUO", _PUTUO_FUNDS, "元")
