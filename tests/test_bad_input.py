"""A bad night in the inbox: every kind of bad file next to good ones, in one `budgetwh ingest`.
Each bad file is quarantined with a sentence a person understands, listed in the `documents` view
and printed by the command; the good files load completely; the run exits 0 (3 with --strict).
All files are real, generated here (tests/badfiles.py)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.run.samples import fixed_units, func_rows, write_samples
from tests.badfiles import (
    write_copy,
    write_corrupt,
    write_empty,
    write_encrypted,
    write_gbk_text,
    write_image_only,
    write_large_pdf,
    write_not_budget,
    write_truncated,
)
from tests.conftest import corpus_file, needs_shared

ROOT = Path(__file__).resolve().parent.parent


def budgetwh(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def query(env: dict, sql: str) -> list[dict]:
    proc = budgetwh("query", sql, "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def bad_night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad_night")
    inbox = tmp / "inbox"
    good_pdf, good_text = write_samples(inbox)
    files = {
        "empty": write_empty(inbox / "空文件.pdf"),
        "truncated": write_truncated(good_pdf, inbox / "下载中断.pdf"),
        "corrupt": write_corrupt(good_pdf, inbox / "损坏.pdf"),
        "encrypted": write_encrypted(inbox / "加密.pdf", user_password="secret")[1],
        "undecodable": write_encrypted(inbox / "仅限制编辑.pdf", user_password="")[1],
        "image_only": write_image_only(good_pdf, inbox / "扫描件.pdf"),
        "not_budget": write_not_budget(inbox / "会议通知.pdf"),
        "copy": write_copy(good_pdf, inbox / f"副本-{good_pdf.name}"),
    }
    gbk_unit, files["gbk"] = write_gbk_text(inbox / "单位预算_gbk.txt")
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    env["BUDGETWH_WAREHOUSE"] = str(tmp / "wh" / "warehouse.duckdb")
    run = budgetwh("ingest", str(inbox), env=env)
    return {"env": env, "run": run, "files": files, "good": (good_pdf, good_text), "gbk_unit": gbk_unit}


def _docs(bad_night) -> dict[str, dict]:
    rows = query(bad_night["env"], "select * from documents")
    return {Path(r["source_file"]).name: r for r in rows}


REASONS = {
    "empty": "The file is empty (0 bytes).",
    "truncated": "The PDF is truncated",
    "corrupt": "The PDF is damaged and cannot be parsed",
    "encrypted": "encrypted with a password",
    "undecodable": "text cannot be decoded",
    "image_only": "no text layer (2 pages of images only",
    "not_budget": "does not look like a budget disclosure",
}


def test_the_run_goes_on_and_exits_0(bad_night):
    run = bad_night["run"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "succeeded" in run.stdout


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_each_bad_file_is_quarantined_with_its_reason(bad_night, kind):
    name = bad_night["files"][kind].name
    doc = _docs(bad_night)[name]
    assert doc["status"] == "quarantined"
    assert REASONS[kind] in doc["error"]
    # ...and `budgetwh ingest` printed it with the same reason
    assert f"quarantined {name}: {doc['error']}" in bad_night["run"].stdout


def test_a_copy_under_another_name_is_reported_as_duplicate_of_the_first(bad_night):
    good_pdf = bad_night["good"][0]
    copy = bad_night["files"]["copy"]
    docs = _docs(bad_night)
    # both are new in the same run: the one registered first (sorted path order) loads
    first, second = sorted([good_pdf, copy], key=str)
    assert docs[first.name]["status"] == "loaded"
    dup = docs[second.name]
    assert dup["status"] == "duplicate" and dup["duplicate_of"] == docs[first.name]["doc_id"]
    assert dup["error"].startswith(f"Duplicate: this file has exactly the same bytes as {first.name}")
    assert dup["sha256"] == docs[first.name]["sha256"] and dup["doc_id"] != docs[first.name]["doc_id"]
    # nothing is loaded twice: the unit's amounts appear once
    unit = fixed_units()[0]
    rows = query(
        bad_night["env"],
        f"select count(*) n from func_amounts where unit_name = '{unit.unit_name}' and table_type = 'B3' "
        "and func_code = '2010601' and measure = 'TOTAL'",
    )
    assert rows == [{"n": 1}]


def test_gbk_text_is_decoded_and_loaded(bad_night):
    """Decision: a text extraction saved in GBK is decoded (GB18030, a superset) and loaded like
    UTF-8: the numbers are all there, so quarantining it would only lose data."""
    unit = bad_night["gbk_unit"]
    doc = _docs(bad_night)[bad_night["files"]["gbk"].name]
    assert doc["status"] == "loaded" and doc["unit_name"] == unit.unit_name and doc["fiscal_year"] == unit.fiscal_year
    got = query(
        bad_night["env"],
        f"select func_code, amount_yuan from func_canonical where unit_name = '{unit.unit_name}' "
        "and fund_scope = 'ALL' and measure = 'TOTAL'",
    )
    expected = {code: b + p for code, _, b, p in func_rows(unit)}
    assert {r["func_code"]: Decimal(r["amount_yuan"]) for r in got} == expected


def test_good_files_beside_bad_ones_lose_nothing(bad_night):
    docs = _docs(bad_night)
    for path in bad_night["good"]:
        assert docs[path.name]["status"] == "loaded"
    for unit in fixed_units():
        got = query(
            bad_night["env"],
            f"select func_code, amount_yuan from func_canonical where unit_name = '{unit.unit_name}' "
            "and fund_scope = 'ALL' and measure = 'TOTAL'",
        )
        assert {r["func_code"]: Decimal(r["amount_yuan"]) for r in got} == {
            code: b + p for code, _, b, p in func_rows(unit)
        }
    # 11 files: 3 loaded, 7 quarantined, 1 duplicate (a copy: nothing wrong with it), all listed
    statuses = sorted(d["status"] for d in docs.values())
    assert statuses == ["duplicate"] + ["loaded"] * 3 + ["quarantined"] * 7
    assert "documents: 3 loaded, 0 unchanged, 7 quarantined, 1 duplicate" in bad_night["run"].stdout


def test_strict_rerun_parses_nothing_and_exits_non_zero(bad_night):
    proc = budgetwh("ingest", str(bad_night["good"][0].parent), "--strict", env=bad_night["env"])
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "documents: 0 loaded, 3 unchanged, 7 quarantined, 1 duplicate" in proc.stdout
    assert "nothing new" in proc.stdout and "no run launched" in proc.stdout  # nothing to parse or publish


_MEASURE = """
import json, resource, sys
from pathlib import Path
from pipelines.parse import parse_document
p = parse_document(Path(sys.argv[1]))
print(json.dumps({"status": p.status, "error": p.error, "pages": p.page_count, "rows": p.row_counts(),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _parse_in_child(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_shared
def test_a_very_large_pdf_loads_without_exhausting_memory(tmp_path):
    """384 real pages: 上海市普陀区财政局 2025 部门预算 (24 pages) sixteen times over. Peak memory is
    measured in a child process; pdfplumber is reopened every 50 pages so it stays close to that of
    the 24-page original (measured here: 91 MB for 24 pages, 130 MB for 480)."""
    source = corpus_file("shanghai_putuo/上海市普陀区财政局部门25年预算.pdf")
    big = write_large_pdf(source, tmp_path / "巨大.pdf", pages=16 * 24)
    one = _parse_in_child(source)
    many = _parse_in_child(big)
    assert many["status"] == "loaded" and many["pages"] == 384
    # the same tables sixteen times: sixteen times the rows of the original
    assert many["rows"]["fact_func_amount"] == 16 * one["rows"]["fact_func_amount"] > 0
    assert many["peak_mb"] < one["peak_mb"] + 150, (one["peak_mb"], many["peak_mb"])
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 < 1024
