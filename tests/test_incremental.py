"""Incremental nights: unchanged bytes under an unchanged parser are never parsed again; a change
to the parser's code re-parses, a change elsewhere (CLI, publishing, reports) does not.
The parser is really changed: the project is copied and one of its modules edited."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.parse import PARSER_VERSION, _parser_version
from pipelines.run.samples import write_samples

ROOT = Path(__file__).resolve().parent.parent


def copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pipelines", "assets", "sql", "expectations"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    shutil.copy(ROOT / "workspace.yaml", dest / "workspace.yaml")
    return dest


def test_parser_version_covers_parser_modules_only(tmp_path):
    copy = copy_project(tmp_path / "proj") / "pipelines"
    assert _parser_version(copy) == PARSER_VERSION
    for module in (
        "publish/report.py",
        "cli.py",
        "publish/warehouse.py",
        "publish/lake.py",
        "publish/combine.py",
        "publish/versions.py",
        "publish/gate.py",
        "validate/expectations.py",
        "run/pool.py",
    ):
        with open(copy / module, "a", encoding="utf-8") as f:
            f.write("\n# an edit outside the parser\n")
    assert _parser_version(copy) == PARSER_VERSION
    for module in (
        "recognize/classify.py",
        "read/pdf.py",
        "recognize/tables.py",
        "normalize/facts.py",
        "validate/rules/rows.py",
        "parse.py",
    ):
        edited = tmp_path / f"v-{module.replace('/', '_')}"
        shutil.copytree(copy, edited)
        with open(edited / module, "a", encoding="utf-8") as f:
            f.write("\n# a parser change\n")
        assert _parser_version(edited) != PARSER_VERSION, module


def run_ingest(project: Path, inbox: Path, env: dict) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "ingest", str(inbox)],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_a_parser_change_reparses_and_an_unrelated_change_does_not(tmp_path):
    project = copy_project(tmp_path / "proj")
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    env["BUDGETWH_WAREHOUSE"] = str(tmp_path / "wh" / "warehouse.duckdb")
    lake_docs = tmp_path / "wh" / "warehouse.lake" / "docs"

    def parsed_at() -> dict[str, str]:
        return {d.name: json.loads((d / "document.json").read_text())["parsed_at"] for d in lake_docs.iterdir()}

    assert "documents: 2 loaded, 0 unchanged, 0 quarantined" in run_ingest(project, inbox, env)
    first = parsed_at()

    # nothing new: not a single parse, and no Dagster run at all (the warehouse is current)
    out = run_ingest(project, inbox, env)
    assert "documents: 0 loaded, 2 unchanged, 0 quarantined" in out and "no run launched" in out
    assert parsed_at() == first

    # an edit to the report module: not the parser, nothing re-parsed
    with open(project / "pipelines" / "publish" / "report.py", "a", encoding="utf-8") as f:
        f.write("\n# reworded report\n")
    assert "documents: 0 loaded, 2 unchanged" in run_ingest(project, inbox, env)
    assert parsed_at() == first

    # an edit to the classifier: a new parser version, every document parsed again
    with open(project / "pipelines" / "recognize" / "classify.py", "a", encoding="utf-8") as f:
        f.write("\n# improved classification\n")
    assert "documents: 2 loaded, 0 unchanged, 0 quarantined" in run_ingest(project, inbox, env)
    second = parsed_at()
    assert second.keys() == first.keys() and all(second[k] != first[k] for k in first)
    versions = {json.loads((d / "document.json").read_text())["parser_version"] for d in lake_docs.iterdir()}
    assert versions == {_parser_version(project / "pipelines")} != {PARSER_VERSION}
