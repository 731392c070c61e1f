"""The Dagster UI end to end: `budgetwh ui` starts the real webserver and daemon (dagster dev) on a
free local port with a temporary DAGSTER_HOME; the test asks its GraphQL API for the assets, checks,
schedule and sensor, sees the run of an earlier `budgetwh ingest` (same instance), launches the
ingest job through the API and sees it succeed and publish into the same warehouse as the CLI; then
drops a file into the inbox and sees the sensor's run load it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from assets.runner import launch_plan
from pipelines.publish.lake import Lake, lake_dir_for
from pipelines.run.samples import render_pdf, sample_file_name, synthetic_units, write_samples
from scripts.ui_server import LOCATION, REPOSITORY, UIServer

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(1200)


def budgetwh(*args: str, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def wait_for_run(ui: UIServer, run_id: str, timeout: float = 600) -> str:
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        data = ui.graphql("query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id})
        status = data["runOrError"].get("status")
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(2)
    raise TimeoutError(f"run {run_id} still {status} after {timeout}s")


def runs(ui: UIServer) -> list[dict]:
    data = ui.graphql("{ runsOrError { ... on Runs { results { runId jobName status tags { key value } } } } }")
    return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in data["runsOrError"]["results"]]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    (tmp / "inbox").mkdir()
    env = dict(os.environ)
    env.update({
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "BUDGETWH_WAREHOUSE": str(tmp / "wh" / "warehouse.duckdb"),
        "BUDGETWH_INBOX": str(tmp / "inbox"),
        "BUDGETWH_SENSOR_INTERVAL": "5",
        "BUDGETWH_INBOX_SETTLE_SECONDS": "1",
    })  # fmt: skip
    samples = tmp / "samples"
    write_samples(samples)
    cli_run = budgetwh("ingest", str(samples), env=env)
    server = UIServer(env, tmp / "ui.log")
    with server:
        yield {"ui": server, "env": env, "tmp": tmp, "cli_run": cli_run}


def test_the_ui_serves_assets_checks_schedule_and_sensor(ui):
    server = ui["ui"]
    nodes = server.graphql(
        "{ assetNodes { assetKey { path } groupName isPartitioned "
        "assetChecksOrError { ... on AssetChecks { checks { name } } } } }"
    )["assetNodes"]
    assets = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {"source_documents", "documents", "func_amounts", "econ_amounts", "three_public", "quality_findings",
            "warehouse_db"} <= set(assets)  # fmt: skip
    assert assets["source_documents"]["isPartitioned"] and assets["source_documents"]["groupName"] == "ingest"
    checks = {c["name"] for n in nodes for c in (n["assetChecksOrError"].get("checks") or [])}
    assert {"warehouse_is_current", "no_document_quarantined"} <= checks

    repo = server.graphql(
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { name "
        "schedules { name cronSchedule executionTimezone scheduleState { status } } "
        "sensors { name sensorState { status } } } } } }"
    )["repositoriesOrError"]["nodes"][0]
    assert repo["schedules"] == [{"name": "nightly_ingest", "cronSchedule": "0 2 * * *",
                                  "executionTimezone": "Asia/Shanghai", "scheduleState": {"status": "RUNNING"}}]  # fmt: skip
    assert repo["sensors"] == [{"name": "inbox_sensor", "sensorState": {"status": "RUNNING"}}]


def test_the_ui_shows_the_run_and_partitions_of_budgetwh_ingest(ui):
    server = ui["ui"]
    cli_run = ui["cli_run"].stdout.split("run ")[1][:8]
    assert any(r["runId"].startswith(cli_run) and r["status"] == "SUCCESS" for r in runs(server))
    data = server.graphql(
        '{ assetNodeOrError(assetKey: {path: ["source_documents"]}) { ... on AssetNode { partitionKeys } } }'
    )
    assert len(data["assetNodeOrError"]["partitionKeys"]) == 2


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""


def test_launching_the_ingest_job_from_the_ui_loads_into_the_same_warehouse(ui):
    server, env, tmp = ui["ui"], ui["env"], ui["tmp"]
    unit = synthetic_units(1, seed=41)[0]
    new_dir = tmp / "launched"
    new_dir.mkdir()
    render_pdf(unit, new_dir / sample_file_name(unit, ".pdf"))
    # register the new document as a partition, exactly as `budgetwh ingest` and the sensor do
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    lake = Lake(lake_dir_for(Path(env["BUDGETWH_WAREHOUSE"])))
    job, tags, _ = launch_plan(instance, lake, [new_dir])
    assert job == "ingest"
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": "ingest"},
        "runConfigData": {},  # no warehouse path given: the UI's default must be the CLI's warehouse
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = server.graphql(LAUNCH, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    assert wait_for_run(server, result["run"]["runId"]) == "SUCCESS"
    docs = json.loads(budgetwh("query", "select unit_name, status from documents", "--format", "json", env=env).stdout)
    assert {"unit_name": unit.unit_name, "status": "loaded"} in docs and len(docs) == 3


def test_a_file_dropped_into_the_inbox_is_loaded_by_the_sensor(ui):
    server, env = ui["ui"], ui["env"]
    unit = synthetic_units(1, seed=43)[0]
    render_pdf(unit, Path(env["BUDGETWH_INBOX"]) / sample_file_name(unit, ".pdf"))
    deadline = time.time() + 300
    sensor_runs = []
    while time.time() < deadline and not sensor_runs:
        sensor_runs = [r for r in runs(server) if r["tags"].get("dagster/sensor_name") == "inbox_sensor"]
        time.sleep(2)
    assert sensor_runs, "the sensor requested no run"
    assert wait_for_run(server, sensor_runs[0]["runId"]) == "SUCCESS"
    docs = json.loads(budgetwh("query", "select unit_name, status from documents", "--format", "json", env=env).stdout)
    assert {"unit_name": unit.unit_name, "status": "loaded"} in docs
