"""Per-document budgets: a document over its time or memory limit is quarantined with a sentence
saying which limit and how far it got, its worker is replaced, and the rest of its batch loads.
The pathological inputs are real PDFs (tests/pathological.py): a page of 100,000 drawing
operations (pdfminer builds an object of each: ~1.7 GB) and a file of 5,000 pages."""

from __future__ import annotations

import time

import pytest

from assets.runner import run_ingest
from pipelines.cli import main
from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.publish.warehouse import run_query
from pipelines.run.limits import current_budget
from pipelines.run.samples import write_samples
from pipelines.run.sources import plan_entry
from tests.pathological import many_drawings_pdf, many_pages_pdf


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return tmp_path


def test_documents_over_their_budget_are_quarantined_and_the_batch_loads(home, monkeypatch):
    inbox = home / "in"
    write_samples(inbox)
    drawings = many_drawings_pdf(inbox / "drawings.pdf", 100_000)
    wh = home / "wh.duckdb"
    # the memory limit alone (a loaded machine could otherwise stop it by time first)
    monkeypatch.setenv("BUDGETWH_DOC_TIMEOUT", "0")
    monkeypatch.setenv("BUDGETWH_DOC_MEMORY_MB", "700")
    started = time.monotonic()
    result = run_ingest([inbox], wh, workers=2)
    assert result.success, result.error
    assert time.monotonic() - started < 120  # unbounded, it takes half a minute and 1.7 GB
    status = {d["source_file"]: (d["status"], d["error"]) for d in result.documents}
    assert status[str(drawings)][0] == "quarantined"
    reason = status[str(drawings)][1]
    assert reason.startswith("The document exceeded the memory limit of 700 MB per document"), reason
    assert "pages" in reason, reason
    assert [s for f, (s, _) in status.items() if f != str(drawings)] == ["loaded", "loaded"]

    # the time limit, in a second batch of the same warehouse
    pages = many_pages_pdf(inbox / "pages.pdf", 5_000)
    monkeypatch.setenv("BUDGETWH_DOC_TIMEOUT", "20")
    monkeypatch.setenv("BUDGETWH_DOC_MEMORY_MB", "700")
    result = run_ingest([inbox], wh, workers=2)
    assert result.success, result.error
    status = {d["source_file"]: (d["status"], d["error"]) for d in result.documents}
    reason = status[str(pages)][1]
    assert status[str(pages)][0] == "quarantined"
    assert reason.startswith("The document exceeded the time limit of 20 s per document"), reason
    assert "after reading " in reason and " of 5,000 pages" in reason, reason
    assert sum(s == "loaded" for s, _ in status.values()) == 2
    _, docs = run_query(wh, "SELECT count(DISTINCT doc_id) FROM func_amounts")
    assert docs == [(2,)]

    # Quarantined for its budget, a document stays so while the budget is the same (no re-parse) …
    lake = Lake(lake_dir_for(wh))
    entries = {e.source_file: e for e in lake.registry().values()}
    assert plan_entry(lake, entries[str(pages)]) == "current"
    assert plan_entry(lake, entries[str(drawings)]) == "current"
    # … and is parsed again once the limit it ran into is raised.
    monkeypatch.setenv("BUDGETWH_DOC_TIMEOUT", "40")
    assert current_budget().timeout_s == 40
    assert plan_entry(lake, entries[str(pages)]) == "reparse"
    assert plan_entry(lake, entries[str(drawings)]) == "current"  # its memory limit is unchanged


def test_budget_flags_of_the_command(home, monkeypatch, capsys):
    """``--doc-timeout`` bounds a single document too (it is then parsed in a child process)."""
    # the command sets these from its flags; monkeypatch puts back what was there before
    monkeypatch.setenv("BUDGETWH_DOC_TIMEOUT", "300")
    monkeypatch.setenv("BUDGETWH_DOC_MEMORY_MB", "2048")
    (home / "in").mkdir()
    pages = many_pages_pdf(home / "in" / "pages.pdf", 5_000)
    wh = home / "wh.duckdb"
    code = main(["ingest", "--warehouse", str(wh), "--doc-timeout", "3", "--doc-memory", "0", str(pages)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "exceeded the time limit of 3 s per document" in out
    _, rows = run_query(wh, "SELECT status FROM documents")
    assert rows == [("quarantined",)]
