"""Small runs start fast (issue 14): the quality gate runs in a process warmed while the run starts,
with the same outcomes as in the run's own process and a fallback when that process is gone; a
run records one check evaluation per view and severity, not one per expectation."""

import multiprocessing
import os
import signal
import time
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import pytest

from assets.facts import FACT_VIEWS, check_name
from assets.runner import run_ingest
from pipelines.publish import gate, gate_process
from pipelines.run.samples import write_samples
from pipelines.validate.expectations import suite_checks


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("BUDGETWH_GATE_PROCESSES", "2")  # split whatever the machine's load
    return tmp_path


def _comparable(outcomes: dict) -> dict:
    # samples of unexpected values come in DuckDB's scan order, which may differ between runs
    return {
        v: [{k: x for k, x in asdict(o).items() if k != "unexpected_sample"} for o in os] for v, os in outcomes.items()
    }


def test_the_gate_process_gives_the_outcomes_of_the_gate_here_and_is_replaced_when_it_dies(home):
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    result = run_ingest([home / "in"], wh)  # starts the gate's process
    assert result.success, result.error
    assert gate_process.gate_process_running()
    here = gate.validate_warehouse(wh)
    there = gate_process.validate_warehouse(wh)
    assert _comparable(there) == _comparable(here)
    assert sum(len(v) for v in here.values()) > 100  # every expectation of every suite, not a token

    # The gate process splits the suites with a helper it forked; if the helper dies, the gate
    # process validates the helper's share itself, with the same outcomes.
    gate_pid = gate_process._process._proc.pid
    (helper,) = map(int, Path(f"/proc/{gate_pid}/task/{gate_pid}/children").read_text().split())
    os.kill(helper, signal.SIGKILL)
    assert _comparable(gate_process.validate_warehouse(wh)) == _comparable(here)
    assert gate_process.gate_process_running()

    gate_process._process._proc.kill()  # the process dies (OOM killer, a signal): the gate runs here
    gate_process._process._proc.wait()
    assert _comparable(gate_process.validate_warehouse(wh)) == _comparable(here)
    assert not gate_process.gate_process_running()
    assert gate_process.start_gate_process() is not None  # the next run starts a new one
    assert gate_process.gate_process_running()


def test_a_run_records_one_check_evaluation_per_view_and_severity(home):
    write_samples(home / "in")
    wh = home / "wh.duckdb"
    result = run_ingest([home / "in"], wh)
    assert result.success, result.error
    instance = dg.DagsterInstance.get()
    events = instance.all_logs(result.run_id)
    evaluations = [e.dagster_event.asset_check_evaluation_data for e in events if e.dagster_event and
                   e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]  # fmt: skip
    expected = {(view, check_name(c["severity"])) for view in FACT_VIEWS for c in suite_checks(view)}
    gate_evaluations = [c for c in evaluations if (c.asset_key.path[-1], c.check_name) in expected]
    gate_checks = {(c.asset_key.path[-1], c.check_name) for c in gate_evaluations}
    assert len(gate_evaluations) == len(gate_checks)  # once each
    assert gate_checks == expected
    expectations = sum(len(suite_checks(view)) for view in FACT_VIEWS)
    assert len(gate_checks) <= 2 * len(FACT_VIEWS) < expectations  # bounded by views, not expectations
    # every expectation's outcome is in its check's metadata
    shown = sum(len(c.metadata["results"].value) for c in gate_evaluations)
    assert shown == expectations
    # a run of this size stays far below one event per expectation
    assert len(events) < expectations


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_gate_split_follows_the_cores_others_use_not_the_run_itself(monkeypatch):
    # The run's own work (here: this process spinning) does not count against the split; another
    # process spinning on a core does. Measured from /proc/stat, so other load on the machine can
    # only add to "others": the first bound is loose, the second is not.
    monkeypatch.delenv("BUDGETWH_GATE_PROCESSES", raising=False)
    window = gate_process.CpuWindow()
    _spin(0.4)
    mine = window.others_busy()
    assert mine is not None
    child = multiprocessing.get_context("fork").Process(target=_spin, args=(0.6,))
    window = gate_process.CpuWindow()
    child.start()
    time.sleep(0.4)
    others = window.others_busy()
    child.join()
    assert others is not None and others >= mine + 0.5  # the child's core, whatever else runs
    cores = os.cpu_count() or 1
    assert gate_process.free_cores(others) <= cores - 0.5
    assert gate_process.split_pays(1.0) and not gate_process.split_pays(0.2)
    assert gate_process.CpuWindow().others_busy() is None  # too short a window to tell


def test_the_parse_started_before_the_run_is_reported_by_its_step_as_parsed(home, monkeypatch):
    # The workers get the documents before Dagster creates the run; the step must take those
    # outcomes (each file "loaded" or "quarantined", as it parsed them), not plan again and find
    # the files already current ("unchanged").
    from pipelines.run import early, pool

    taken = []

    def take(*args):
        got = early.take_early_parse(*args)
        taken.append(got)
        return got

    monkeypatch.setattr(pool, "take_early_parse", take)
    write_samples(home / "in")
    result = run_ingest([home / "in"], home / "wh.duckdb")
    assert result.success, result.error
    assert len(taken) == 1 and taken[0] is not None and len(taken[0].to_parse) >= 2
    assert early._pending is None  # taken once, nothing left to join
    instance = dg.DagsterInstance.get()
    records = instance.fetch_materializations(dg.AssetKey("source_documents"), limit=100).records
    states = [r.asset_materialization.metadata["status"].value for r in records]
    assert len(states) >= len(taken[0].to_parse)
    assert set(states) <= {"loaded", "quarantined"} and "loaded" in states
