"""The faster reading paths of the PDF reader give exactly what pdfplumber's own calls give, on
real pages: the table finder's cell search (``read/table_finder.py``), the cell texts through a
page index of characters (``pdf._CharIndex``), the objects of the pages pdfminer reads
(``read/plumber_objects.py``), and the page triage done in the same pass as the table pages."""

from __future__ import annotations

import pdfplumber
import pytest

from pipelines.read.pdf import _CharIndex, _TableCells, read_pdf
from pipelines.read.plumber_objects import parse_objects
from pipelines.read.table_finder import find_tables
from pipelines.read.triage import text_only_pages
from tests.conftest import corpus_file, needs_shared
from tests.test_pdfium_objects import TABLE_PAGES, _find

# Pages pdfminer reads (the fast path leaves them): a dropped space at a line end, a one-space text
# object over a page number, and a whole 部门决算 of 50 pages.
PDFMINER_PAGES = [
    ("chongqing_swu/04_swu_2021_department_budget.pdf", [2]),
    ("national/quanzhou/泉州市人民政府办公室2026年部门预算.pdf", [29]),
]


def _pages(relative: str, numbers: list[int]):
    path = _find(relative)
    with pdfplumber.open(path) as pdf:
        for n in numbers:
            page = pdf.pages[n - 1]
            yield path, n, page
            page.flush_cache()


@needs_shared
@pytest.mark.parametrize(("relative", "page_numbers"), TABLE_PAGES + PDFMINER_PAGES)
def test_table_finder_and_cell_texts_are_pdfplumbers(relative, page_numbers):
    for path, n, page in _pages(relative, page_numbers):
        theirs = page.find_tables()
        ours = find_tables(page)
        assert [t.cells for t in ours] == [t.cells for t in theirs], f"page {n} of {path.name}"
        assert [t.bbox for t in ours] == [t.bbox for t in theirs]
        index = _CharIndex(page.chars)
        for table in theirs:
            assert index.extract(_TableCells(table.rows, table.bbox)) == table.extract(), f"page {n} of {path.name}"
        if relative in dict(TABLE_PAGES):
            assert theirs, f"page {n} of {path.name} holds no table"


@needs_shared
@pytest.mark.parametrize(("relative", "page_numbers"), TABLE_PAGES[:4] + PDFMINER_PAGES)
def test_objects_of_pages_pdfminer_reads_are_pdfplumbers(relative, page_numbers):
    for path, n, page in _pages(relative, page_numbers):
        theirs = page.parse_objects()
        ours = parse_objects(page)
        assert list(ours) == list(theirs), f"page {n} of {path.name}"
        for kind, objects in theirs.items():
            assert ours[kind] == objects, f"{kind} of page {n} of {path.name}"
            assert [list(o) for o in ours[kind]] == [list(o) for o in objects]  # the same keys in the same order
        assert len(ours["char"]) > 100


@needs_shared
def test_the_triage_in_the_reading_pass_reads_the_pages_text_only_pages_reads(monkeypatch):
    path = corpus_file("shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf")
    text_pages = text_only_pages(path)
    assert sorted(text_pages) == [1, 2, 3, 4, 21, 22, 23, 24, 25]
    pages, count = read_pdf(path)
    assert count == 25 and [p.page_no for p in pages] == list(range(1, 26))
    for page in pages:
        if page.page_no in text_pages:
            assert page == text_pages[page.page_no], f"page {page.page_no}"
    # the table pages read as without the triage
    monkeypatch.setenv("BUDGETWH_PAGE_TRIAGE", "0")
    plain, _ = read_pdf(path)
    assert [p for p in pages if p.page_no not in text_pages] == [p for p in plain if p.page_no not in text_pages]
    assert sum(len(p.grids) for p in plain) == 15  # the ruled tables of pp. 5–20
