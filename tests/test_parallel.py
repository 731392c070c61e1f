"""Parallel parsing and page triage change nothing but speed: a batch parsed by two worker
processes leaves the lake exactly as a serial run does (byte-identical copies included), and
reading text-only pages with pdfium gives the same parse as reading every page with pdfplumber."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.publish.combine import ALL_TABLES, combine_table, document_frame
from pipelines.publish.lake import Lake
from pipelines.run.pool import parse_entries
from pipelines.run.samples import write_samples
from pipelines.run.sources import iter_source_files, register_sources
from tests.conftest import corpus_file, needs_shared

VOLATILE = ("parsed_at", "parse_seconds")


def _lake_state(lake: Lake) -> dict[str, list[str]]:
    state = {"doc_document": sorted(json.dumps(r, sort_keys=True, default=str)
                                     for r in document_frame(lake).drop(VOLATILE).to_dicts())}  # fmt: skip
    for table in ALL_TABLES[1:]:
        df: pl.DataFrame = combine_table(lake, table)
        state[table] = sorted(json.dumps(r, sort_keys=True, default=str) for r in df.to_dicts())
    return state


def _ingest_lake(root: Path, files: list[Path], workers: int) -> tuple[Lake, list]:
    lake = Lake(root)
    registration = register_sources(lake, files)
    outcomes = list(parse_entries(lake, registration.entries, workers))
    return lake, outcomes


@needs_shared
def test_two_workers_leave_the_lake_exactly_as_one(tmp_path):
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    for rel in (
        "shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf",
        "shanghai_putuo/上海市普陀区人民政府办公室25年预算.pdf",
        "jiangsu_province/江苏省委办公厅/江苏省委办公厅2019年度部门预算公开表格.pdf",
        "shanghai_putuo_final/附件2：部门决算模板.pdf",  # quarantined as a template
    ):
        shutil.copy(corpus_file(rel), inbox / Path(rel).name)
    # the same bytes under a second name: recorded as a copy of the first, in both runs
    shutil.copy(inbox / "上海市普陀区财政局2024年度部门决算.pdf", inbox / "财政局决算-副本.pdf")
    files = iter_source_files([inbox])
    serial, serial_outcomes = _ingest_lake(tmp_path / "serial", files, workers=1)
    parallel, parallel_outcomes = _ingest_lake(tmp_path / "parallel", files, workers=2)

    assert [o.entry.source_file for o in parallel_outcomes] == [str(f.resolve()) for f in files]
    summary = lambda outcomes: [(Path(o.entry.source_file).name, o.parsed_status) for o in outcomes]  # noqa: E731
    assert summary(parallel_outcomes) == summary(serial_outcomes)
    assert sorted(s for _, s in summary(serial_outcomes) if s) == ["loaded"] * 5 + ["quarantined"]
    state = _lake_state(serial)
    assert state == _lake_state(parallel)
    copies = [json.loads(r) for r in state["doc_document"] if "Duplicate" in (json.loads(r)["error"] or "")]
    assert [Path(c["source_file"]).name for c in copies] == ["财政局决算-副本.pdf"]
    assert len(state["fact_func_amount"]) > 300


@needs_shared
def test_page_triage_reads_the_text_pages_with_pdfium_and_parses_the_same(monkeypatch):
    from pipelines.parse import parse_document
    from pipelines.read.triage import text_only_pages

    path = corpus_file("shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf")
    text_pages = text_only_pages(path)
    # cover, contents, 概况 and the 情况说明 pages; the ruled tables of pp. 5–20 need pdfplumber
    assert sorted(text_pages) == [1, 2, 3, 4, 21, 22, 23, 24, 25]
    lines = [line.text for line in text_pages[21].items]
    assert lines[2] == "一、收入支出决算总体情况说明"
    assert lines[3].startswith("上海市普陀区财政局 2024 年度收入支出总计 2995.39 万元。与 2023 年度相比，收入")

    def parse(triage: str):
        monkeypatch.setenv("BUDGETWH_PAGE_TRIAGE", triage)
        parsed = parse_document(path)
        return {k: sorted(map(str, df.to_dicts())) for k, df in parsed.frames.items()}

    with_triage, without = parse("1"), parse("0")
    assert with_triage == without
    assert len(with_triage["fact_narrative_number"]) > 50


@pytest.mark.parametrize("broken", [b"", b"%PDF-1.4 not really a pdf"])
def test_page_triage_leaves_unreadable_files_to_pdfplumber(tmp_path, broken):
    from pipelines.read.triage import text_only_pages

    path = tmp_path / "broken.pdf"
    path.write_bytes(broken)
    assert text_only_pages(path) == {}


def test_a_batch_much_larger_than_the_pool_completes(tmp_path):
    """A pool whose workers retired after a number of tasks hung on long batches (CPython
    gh-115634): 120 documents through two workers must all come back."""
    from pipelines.run.samples import render_text, sample_file_name, synthetic_units

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for unit in synthetic_units(120, seed=3):
        (inbox / sample_file_name(unit, ".txt")).write_text(render_text(unit), encoding="utf-8")
    files = iter_source_files([inbox])
    _, outcomes = _ingest_lake(tmp_path / "lake", files, workers=2)
    assert len(files) == 120
    assert [o.parsed_status for o in outcomes] == ["loaded"] * 120
