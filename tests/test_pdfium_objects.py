"""The fast path of the PDF reader (characters and ruling lines read by pdfium, handed to
pdfplumber's table finder) gives the page model pdfminer's reading gives, on real pages."""

from __future__ import annotations

import pdfplumber
import pypdfium2 as pdfium
import pytest

from pipelines.read.model import Grid, Page
from pipelines.read.pdf import read_pdf, read_pdf_page
from pipelines.read.pdfium_objects import PdfiumPages
from tests.conftest import CORPUS, corpus_file, needs_shared

# Table pages of several publishers' layouts: func/econ tables, 收支总表 with merged headers,
# 绩效 forms, a standard font (Helvetica page numbers, whose descent pdfium and pdfminer disagree on).
TABLE_PAGES = [
    ("chongqing_swu/21_swu_2023_final_accounts__download.jsp.pdf", [8, 12]),
    ("shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf", [5, 9]),
    ("jiangsu_province/江苏省政协办公厅/2017年度部门预算公开表.pdf", [1, 4]),
    ("national/beijing/北京市财政局2026年部门预算_附件2报表.pdf", [1, 4, 44]),
    ("national/guangzhou/广州市统计局2026年部门预算.pdf", [6, 9]),
    ("national/hangzhou/杭州市司法局2026年部门预算_汇总.pdf", [24]),
    ("national/xian/西安市卫生健康委员会汇总2022年部门决算.pdf", [30, 55]),
    ("national/zhuhai/珠海市商务局2026年部门预算.pdf", [6, 9]),
]


def _same(plain: Page, fast: Page) -> list[str]:
    """Differences between two page models: texts, cells and merges exactly; positions to 0.02 pt
    (pdfium keeps coordinates in single precision), column spans to their printed 0.1 pt."""
    out = []
    if len(plain.items) != len(fast.items):
        return [f"{len(plain.items)} items against {len(fast.items)}"]
    for a, b in zip(plain.items, fast.items, strict=True):
        if type(a) is not type(b) or abs(a.top - b.top) > 0.02:
            out.append(f"{a!r} / {b!r}")
        elif isinstance(a, Grid):
            if a.rows != b.rows or a.origins != b.origins or (a.col_spans is None) != (b.col_spans is None):
                out.append(f"grid at {a.top}: {a.rows[:2]} / {b.rows[:2]}")
            elif a.col_spans and any(
                abs(p - q) > 0.11
                for s, t in zip(a.col_spans, b.col_spans, strict=True)
                for p, q in zip(s, t, strict=True)
            ):
                out.append(f"columns {a.col_spans} / {b.col_spans}")
        elif a.text != b.text:
            out.append(f"{a.text!r} / {b.text!r}")
    return out


def _find(relative: str):
    path = CORPUS / relative
    if path.exists():
        return path
    matches = sorted(CORPUS.rglob(relative.rsplit("/", 1)[-1]))
    assert matches, f"missing corpus file {relative}"
    return matches[0]


@needs_shared
@pytest.mark.parametrize(("relative", "page_numbers"), TABLE_PAGES)
def test_fast_path_reads_table_pages_as_pdfminer_does(relative, page_numbers):
    path = _find(relative)
    with pdfplumber.open(path) as pdf, PdfiumPages(path) as fast_objects:
        for n in page_numbers:
            page = pdf.pages[n - 1]
            plain = read_pdf_page(page, n)
            assert plain.grids, f"page {n} of {path.name} holds no table"
            page.flush_cache()
            objects = fast_objects.objects(page)
            assert objects is not None, f"page {n} of {path.name} was left to pdfminer"
            page._objects = objects
            fast = read_pdf_page(page, n)
            page.flush_cache()
            assert _same(plain, fast) == [], f"page {n} of {path.name}"


@needs_shared
def test_a_page_that_may_hide_a_space_is_left_to_pdfminer():
    # The table of contents: pdfium drops the space that ends a run of dots before the page number
    # (``基本情况 ..... 3``), which pdfminer keeps; the two would read ``.....3`` and ``..... 3``.
    path = corpus_file("chongqing_swu/04_swu_2021_department_budget.pdf")
    with pdfplumber.open(path) as pdf, PdfiumPages(path) as fast_objects:
        page = pdf.pages[1]
        assert any(t.text.endswith("..... 3") for t in read_pdf_page(page, 2).lines)
        assert fast_objects.objects(page) is None


@needs_shared
def test_whole_documents_read_the_same_with_and_without_the_fast_path(monkeypatch):
    for relative in (
        "national/guangzhou/广州市统计局2026年部门预算.pdf",
        "chongqing_swu/04_swu_2021_department_budget.pdf",
    ):
        path = _find(relative)
        monkeypatch.setenv("BUDGETWH_PDFIUM_OBJECTS", "0")
        plain, plain_count = read_pdf(path)
        monkeypatch.setenv("BUDGETWH_PDFIUM_OBJECTS", "1")
        fast, fast_count = read_pdf(path)
        assert plain_count == fast_count == len(pdfium.PdfDocument(str(path)))
        assert [p.page_no for p in plain] == [p.page_no for p in fast]
        for a, b in zip(plain, fast, strict=True):
            assert _same(a, b) == [], f"page {a.page_no} of {path.name}"


@needs_shared
def test_a_space_pdfium_drops_inside_a_word_leaves_the_page_to_pdfminer():
    # A footer draws a one-space text object over the page number's digits: pdfminer reads
    # "2 6", pdfium gives that object no character at all.
    path = _find("national/quanzhou/泉州市人民政府办公室2026年部门预算.pdf")
    with pdfplumber.open(path) as pdf, PdfiumPages(path) as fast_objects:
        page = pdf.pages[28]
        assert any(t.text == "2 6" for t in read_pdf_page(page, 29).lines)
        assert fast_objects.objects(page) is None
