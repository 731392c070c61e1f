"""Re-published documents supersede their older version; documents that merely share unit, year
and kind (Jiangsu's narrative and tables PDFs) do not; copies and moves are recognized.
The rule is in pipelines/publish/versions.py."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.publish.versions import normalized_name, resolve_versions
from pipelines.run.samples import fixed_units, func_rows, render_pdf, sample_file_name, write_samples
from tests.badfiles import write_truncated
from tests.conftest import corpus_file, needs_shared

ROOT = Path(__file__).resolve().parent.parent
D = Decimal


def budgetwh(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"budgetwh {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def query(env: dict, sql: str) -> list[dict]:
    return json.loads(budgetwh("query", sql, "--format", "json", env=env).stdout)


def make_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp / "dagster_home")
    env["BUDGETWH_WAREHOUSE"] = str(tmp / "wh" / "warehouse.duckdb")
    return env


# -- the rule itself --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("inbox/2025/上海市普陀区财政局部门25年预算.pdf", "inbox/2026/上海市普陀区财政局部门25年预算.pdf", True),
        ("上海市普陀区财政局部门25年预算.pdf", "上海市普陀区财政局部门25年预算（更正）.pdf", True),
        ("上海市普陀区财政局部门25年预算.pdf", "上海市普陀区财政局部门25年预算 (1).pdf", True),
        ("上海市普陀区财政局部门25年预算.pdf", "上海市普陀区财政局部门25年预算_修订版.pdf", True),
        ("江苏省委办公厅2019年度部门预算公开文件.pdf", "江苏省委办公厅2019年度部门预算公开表格.pdf", False),
        ("上海市普陀区财政局2024年度部门决算.pdf", "24年普陀区财政局（测试问题版本）.pdf", False),
    ],
)
def test_which_file_names_denote_the_same_publication(a, b, same):
    assert (normalized_name(a) == normalized_name(b)) is same


def _doc(doc_id, path, sha, status="loaded", **ident):
    base = {"unit_name": "中共江苏省委办公厅", "fiscal_year": 2019, "doc_kind": "BUDGET", "scope": "部门"}
    return {"doc_id": doc_id, "source_file": path, "sha256": sha, "status": status, **base, **ident}


def test_narrative_and_tables_of_one_unit_and_year_do_not_supersede_each_other():
    docs = [_doc("n", "/in/江苏省委办公厅2019年度部门预算公开文件.pdf", "s1"),
            _doc("t", "/in/江苏省委办公厅2019年度部门预算公开表格.pdf", "s2")]  # fmt: skip
    assert resolve_versions(docs, {d["source_file"]: d["sha256"] for d in docs}, {}) == {}


def test_budget_of_the_department_and_of_the_unit_do_not_supersede_each_other():
    docs = [
        _doc("a", "/a/办公室25年预算.pdf", "s1", scope="部门"),
        _doc("b", "/b/办公室25年预算.pdf", "s2", scope="单位"),
    ]
    assert resolve_versions(docs, {d["source_file"]: d["sha256"] for d in docs}, {}) == {}


def test_the_later_registration_of_the_same_name_wins_and_a_quarantined_one_wins_nothing():
    old = _doc("old", "/in/2025-01/部门预算.pdf", "s1")
    new = _doc("new", "/in/2025-03/部门预算（更正）.pdf", "s2")
    order = {"old": ("2025-01-05T02:00:00", 0.0, ""), "new": ("2025-03-01T02:00:00", 0.0, "")}
    current = {"/in/2025-01/部门预算.pdf": "s1", "/in/2025-03/部门预算（更正）.pdf": "s2"}
    assert resolve_versions([old, new], current, order) == {"old": "new"}
    bad = {**new, "status": "quarantined"}
    assert resolve_versions([old, bad], current, order) == {}


# -- end to end, on real files ----------------------------------------------------------------------


def republished(unit):
    """The same unit and year with one corrected amount (信息化建设 项目支出 +100000.00)."""
    return dataclasses.replace(unit, func={**unit.func, "2010607": (D("0"), D("1766600.00"))})


def canonical_totals(env, unit_name) -> dict[str, Decimal]:
    rows = query(
        env,
        f"select func_code, amount_yuan from func_canonical where unit_name = '{unit_name}' "
        "and fund_scope = 'ALL' and measure = 'TOTAL'",
    )
    return {r["func_code"]: Decimal(r["amount_yuan"]) for r in rows}


def test_replacing_a_file_supersedes_the_old_version(tmp_path):
    env = make_env(tmp_path)
    inbox = tmp_path / "inbox"
    pdf, _ = write_samples(inbox)
    budgetwh("ingest", str(inbox), env=env)
    unit = fixed_units()[0]
    first = query(env, f"select doc_id from documents where source_file = '{pdf.resolve()}'")[0]["doc_id"]

    # the publisher replaces the PDF with a corrected one, same path
    new_unit = republished(unit)
    render_pdf(new_unit, pdf)
    run = budgetwh("ingest", str(inbox), env=env)
    assert "documents: 1 loaded, 1 unchanged, 0 quarantined" in run.stdout
    docs = query(env, f"select doc_id, status from documents where source_file = '{pdf.resolve()}' order by status")
    assert [d["status"] for d in docs] == ["loaded", "superseded"]
    assert docs[1]["doc_id"] == first
    # the views show the current version only (信息化建设 2010607 now 1766600.00, 201 up by 100000)
    assert canonical_totals(env, unit.unit_name) == {code: b + p for code, _, b, p in func_rows(new_unit)}
    assert canonical_totals(env, unit.unit_name)["2010607"] == D("1766600.00")
    assert query(env, f"select count(*) n from func_amounts where doc_id = '{first}'") == [{"n": 0}]
    assert query(env, f"select count(*) n from quality_findings where doc_id = '{first}'") == [{"n": 0}]
    superseded_by = query(env, f"select superseded_by from doc_document where doc_id = '{first}'")
    assert superseded_by == [{"superseded_by": docs[0]["doc_id"]}]

    # a broken re-upload supersedes nothing: the last good version stays loaded
    write_truncated(pdf, tmp_path / "broken.pdf")
    shutil.copyfile(tmp_path / "broken.pdf", pdf)
    budgetwh("ingest", str(inbox), env=env)
    statuses = query(env, f"select status from documents where source_file = '{pdf.resolve()}' order by status")
    assert [s["status"] for s in statuses] == ["loaded", "quarantined", "superseded"]
    assert canonical_totals(env, unit.unit_name)["2010607"] == D("1766600.00")


def test_a_corrected_file_under_a_marked_name_supersedes_and_a_moved_file_is_followed(tmp_path):
    env = make_env(tmp_path)
    inbox = tmp_path / "inbox"
    pdf, text = write_samples(inbox / "2025-01")
    budgetwh("ingest", str(inbox), env=env)
    unit = fixed_units()[0]
    (inbox / "2025-03").mkdir()
    corrected = render_pdf(republished(unit), inbox / "2025-03" / sample_file_name(unit, "（更正）.pdf"))
    budgetwh("ingest", str(inbox), env=env)
    docs = {Path(d["source_file"]).name: d for d in query(env, "select * from documents")}
    assert docs[pdf.name]["status"] == "superseded" and docs[corrected.name]["status"] == "loaded"
    assert docs[text.name]["status"] == "loaded"  # another unit: untouched
    assert canonical_totals(env, unit.unit_name)["2010607"] == D("1766600.00")

    # the text sample moves to another folder: the same document, now at its new path; no duplicate
    moved = inbox / "archive" / text.name
    moved.parent.mkdir()
    text.rename(moved)
    run = budgetwh("ingest", str(inbox), env=env)
    assert "0 quarantined" in run.stdout
    rows = query(env, f"select source_file, status from documents where sha256 = '{docs[text.name]['sha256']}'")
    assert rows == [{"source_file": str(moved.resolve()), "status": "loaded"}]


@needs_shared
def test_jiangsu_narrative_and_tables_pdfs_both_stay_loaded(tmp_path):
    env = make_env(tmp_path)
    narrative = corpus_file("jiangsu_province/江苏省委办公厅/江苏省委办公厅2019年度部门预算公开文件.pdf")
    tables = corpus_file("jiangsu_province/江苏省委办公厅/江苏省委办公厅2019年度部门预算公开表格.pdf")
    budgetwh("ingest", str(narrative), str(tables), env=env)
    rows = query(env, "select unit_name, fiscal_year, doc_kind, scope, status from documents order by source_file")
    assert rows == [{"unit_name": "中共江苏省委办公厅", "fiscal_year": 2019, "doc_kind": "BUDGET", "scope": "部门",
                     "status": "loaded"}] * 2  # fmt: skip


def test_a_file_registered_half_copied_and_then_completed_leaves_no_quarantined_row(tmp_path):
    """The inbox received the file while it was still being copied: the first registration saw a
    truncated PDF (quarantined); once complete, the loaded version supersedes that one."""
    env = make_env(tmp_path)
    inbox = tmp_path / "inbox"
    pdf, _ = write_samples(tmp_path / "source")
    inbox.mkdir()
    target = inbox / pdf.name
    write_truncated(pdf, target)
    first = budgetwh("ingest", str(inbox), env=env)
    assert f"quarantined {pdf.name}: The PDF is truncated" in first.stdout
    shutil.copyfile(pdf, target)  # the copy completes
    budgetwh("ingest", str(inbox), env=env)
    rows = query(env, "select status from documents order by status")
    assert [r["status"] for r in rows] == ["loaded", "superseded"]


def test_a_copy_of_a_quarantined_file_says_why_the_original_failed(tmp_path):
    env = make_env(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.pdf").write_bytes(b"")
    (inbox / "b.pdf").write_bytes(b"")  # every empty file has the same bytes
    out = budgetwh("ingest", str(inbox), env=env).stdout
    assert "quarantined a.pdf: The file is empty (0 bytes)." in out
    assert "duplicate b.pdf: Duplicate: this file has exactly the same bytes as a.pdf" in out
    assert "which could not be loaded either: The file is empty (0 bytes)." in out
