"""项目经费情况说明 pages (Putuo 2024/2025): a project described in prose, with its 年度预算安排,
but no indicator table; loaded only where no form of the other families is."""

from __future__ import annotations

import re

from pipelines.normalize.textnorm import (
    collapse,
)
from pipelines.read.model import SourceDocument, TextLine
from pipelines.recognize.perf_forms.common import LineItem, ProjectForm, money, scrub

# ---------------------------------------------------------------------------------------------
# Family 5: 项目经费情况说明 (project description pages without an indicator table)

_NOTE_TITLE = re.compile(r"^(?P<name>.*?)项目经费情况说明$")
_BUDGET_ITEM = re.compile(r"(?P<label>[\u4e00-\u9fff（）()、\w]{2,30}?)\s*(?P<amount>\d+(?:\.\d+)?)\s*万元")


def project_expense_notes(doc: SourceDocument) -> list[ProjectForm]:
    forms: list[ProjectForm] = []
    section = None
    for page in doc.pages:
        for item in page.items:
            if not isinstance(item, TextLine):
                continue
            t = collapse(item.text)
            m = _NOTE_TITLE.match(t)
            if m:
                forms.append(ProjectForm("EXPENSE_NOTE", "PN", m.group("name") or None, item.page_no, None, "万元"))
                section = None
                continue
            if not forms:
                continue
            form = forms[-1]
            h = re.match(r"^[一二三四五六七八]、(.+)$", t)
            if h:
                section = h.group(1)
                continue
            if section == "年度预算安排":
                for bm in _BUDGET_ITEM.finditer(t):
                    label = re.sub(r"^[，,。；;]+", "", bm.group("label"))
                    form.line_items.append(
                        LineItem(len(form.line_items) + 1, label, None, money(bm.group("amount"), "万元"),
                                 page_no=item.page_no)
                    )  # fmt: skip
            elif section == "绩效目标" and not t.startswith("详见"):
                form.goal_text = scrub((form.goal_text or "") + t)
            elif section in ("项目概述", "项目概况") and form.name is None:
                m2 = re.search(r"建设的(.{2,30}?(?:工程|项目))", t)
                if m2:
                    form.name = m2.group(1)
    return forms
