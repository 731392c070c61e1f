"""A byte-identical copy is `duplicate`, not an error for `--strict`; `budgetwh ingest` shows its
progress (documents parsed / total, pages per second) on stdout and in the Dagster run log. On the
project's own sample documents (pipelines/run/samples.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from pipelines.run.samples import write_samples
from tests.conftest import ROOT


def budgetwh(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_a_copy_is_a_duplicate_and_strict_accepts_it(tmp_path):
    inbox = tmp_path / "inbox"
    files = write_samples(inbox)
    pdf = next(f for f in files if f.suffix == ".pdf")
    copy = inbox / "copy" / f"copy of {pdf.name}"
    copy.parent.mkdir()
    shutil.copy2(pdf, copy)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh"), "BUDGETWH_WAREHOUSE": str(tmp_path / "wh.duckdb")}
    run = budgetwh(env, "ingest", str(inbox), "--strict")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"documents: {len(files)} loaded, 0 unchanged, 0 quarantined, 1 duplicate" in run.stdout
    first, second = sorted([pdf, copy], key=str)  # registered in path order: the first one loads
    assert f"duplicate {second.name}: Duplicate: this file has exactly the same bytes as {first.name}" in run.stdout
    # progress: plain lines (stdout is a pipe here), the last one when every document is back
    assert re.search(rf"parsed {len(files) + 1}/{len(files) + 1} documents \({len(files)} new\), \d+ pages, "
                     r"[\d.]+ pages/s, done in \d+s", run.stdout)  # fmt: skip
    docs = json.loads(budgetwh(env, "query", "select * from documents order by source_file", "--format", "json").stdout)
    dup = next(d for d in docs if d["source_file"] == str(second.resolve()))
    original = next(d for d in docs if d["source_file"] == str(first.resolve()))
    assert (dup["status"], dup["duplicate_of"]) == ("duplicate", original["doc_id"])
    assert original["status"] == "loaded" and original["canonical_doc_id"] == original["doc_id"]
