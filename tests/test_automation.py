"""The inbox sensor and the nightly schedule, evaluated against a real Dagster instance (temporary
DAGSTER_HOME), real files and the real ingest job."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.automation import inbox_sensor, nightly_ingest
from assets.definitions import defs
from assets.resources import WarehouseResource
from pipelines.publish.warehouse import run_query
from pipelines.run.samples import render_pdf, sample_file_name, synthetic_units, write_samples

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@pytest.fixture
def setting(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("BUDGETWH_INBOX", str(inbox))
    monkeypatch.setenv("BUDGETWH_BATCH_SIZE", "2")
    monkeypatch.setenv("BUDGETWH_INBOX_SETTLE_SECONDS", "0")
    warehouse = WarehouseResource(path=str(tmp_path / "wh" / "warehouse.duckdb"))
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        yield {"inbox": inbox, "warehouse": warehouse, "instance": instance}


def evaluate_sensor(s) -> list[dg.RunRequest] | dg.SkipReason:
    ctx = dg.build_sensor_context(instance=s["instance"], resources={"warehouse": s["warehouse"]})
    result = inbox_sensor(ctx)
    return result if isinstance(result, dg.SkipReason) else list(result)


def evaluate_schedule(s):
    ctx = dg.build_schedule_context(
        instance=s["instance"],
        resources={"warehouse": s["warehouse"]},
        scheduled_execution_time=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    return nightly_ingest(ctx)


def execute(s, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("ingest").execute_in_process(
        instance=s["instance"], run_config=request.run_config, tags=request.tags, raise_on_error=True
    )


def loaded_units(s) -> set[str]:
    _, rows = run_query(s["warehouse"].warehouse_path, "select unit_name from documents where status = 'loaded'")
    return {r[0] for r in rows}


def test_schedule_and_sensor_are_declared_for_unattended_nights():
    schedule = defs.resolve_schedule_def("nightly_ingest")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "ingest" and schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert sensor.job_name == "ingest" and sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_sensor_registers_new_files_and_requests_runs_in_batches(setting):
    s = setting
    assert isinstance(evaluate_sensor(s), dg.SkipReason)  # empty inbox
    files = write_samples(s["inbox"], count=3)  # 5 documents
    requests = evaluate_sensor(s)
    # batches of at most 2 documents: 3 runs for 5 documents, not 5
    assert len(requests) == 3
    partitions = list(s["instance"].get_dynamic_partitions("documents"))
    assert len(partitions) == 5
    covered = []
    for r in requests:
        start, end = partitions.index(r.tags[RANGE_START]), partitions.index(r.tags[RANGE_END])
        covered += partitions[start : end + 1]
        assert r.tags["budgetwh/trigger"] == "inbox" and r.run_key
        assert r.run_config["resources"]["warehouse"]["config"]["path"] == str(s["warehouse"].warehouse_path)
    assert sorted(covered) == sorted(partitions)
    for r in requests:
        result = execute(s, r)
        assert result.success
    units = {u.unit_name for u in synthetic_units(3)} | {"上海市示范区财政局", "上海市示范区教育学院"}
    assert loaded_units(s) == units and len(files) == 5

    # nothing new: the sensor skips, and so does the schedule
    assert "No new or changed files" in evaluate_sensor(s).skip_message
    assert "warehouse is current" in evaluate_schedule(s).skip_message

    # one file changes and one arrives: one run of two documents
    unit = synthetic_units(5)[4]
    render_pdf(unit, s["inbox"] / sample_file_name(unit, ".pdf"))
    files[2].write_bytes(files[2].read_bytes() + b"\n% re-saved\n")  # new bytes, same document
    requests = evaluate_sensor(s)
    assert len(requests) == 1
    assert execute(s, requests[0]).success
    assert unit.unit_name in loaded_units(s)


def test_a_parser_change_is_left_to_the_nightly_run_which_reparses(setting, monkeypatch):
    s = setting
    write_samples(s["inbox"])
    for r in evaluate_sensor(s):
        assert execute(s, r).success
    # a new parser version (as after deploying a change to pipelines/recognize/classify.py)
    import pipelines.parse
    import pipelines.run.sources

    monkeypatch.setenv("BUDGETWH_WORKERS", "1")  # the patched version lives in this process only
    monkeypatch.setenv("BUDGETWH_DOC_TIMEOUT", "0")  # no budget: no supervised child process either
    monkeypatch.setenv("BUDGETWH_DOC_MEMORY_MB", "0")
    monkeypatch.setattr(pipelines.run.sources, "PARSER_VERSION", "new-parser")
    monkeypatch.setattr(pipelines.parse, "PARSER_VERSION", "new-parser")
    assert isinstance(evaluate_sensor(s), dg.SkipReason)  # daytime: no re-parse storm
    requests = evaluate_schedule(s)
    assert len(requests) == 1 and requests[0].tags["budgetwh/trigger"] == "nightly"
    result = execute(s, requests[0])
    states = [
        m.metadata["status"].value
        for m in result.asset_materializations_for_node("source_documents")
        if "status" in m.metadata
    ]
    assert sorted(states) == ["loaded", "loaded"]  # both re-parsed, none skipped ("unchanged")


def test_schedule_republishes_a_warehouse_that_lags_the_lake(setting):
    s = setting
    write_samples(s["inbox"])
    for r in evaluate_sensor(s):
        assert execute(s, r).success
    # the warehouse file is lost (or a run died before publishing): nothing to parse, but publish
    Path(s["warehouse"].warehouse_path).unlink()
    request = evaluate_schedule(s)
    assert isinstance(request, dg.RunRequest)
    assert request.tags[RANGE_START] == request.tags[RANGE_END]  # one current document: no parse
    assert execute(s, request).success
    assert loaded_units(s) == {"上海市示范区财政局", "上海市示范区教育学院"}


def test_sensor_waits_until_a_file_stops_changing(setting, monkeypatch):
    s = setting
    monkeypatch.setenv("BUDGETWH_INBOX_SETTLE_SECONDS", "60")
    _, text = write_samples(s["inbox"])
    assert isinstance(evaluate_sensor(s), dg.SkipReason)  # both just written: still being copied?
    old = time.time() - 120
    os.utime(text, (old, old))
    requests = evaluate_sensor(s)
    assert len(requests) == 1
    assert requests[0].tags[RANGE_START] == requests[0].tags[RANGE_END]  # the settled file only
    assert len(s["instance"].get_dynamic_partitions("documents")) == 1


def test_a_huge_first_inbox_is_registered_over_several_ticks(setting, monkeypatch):
    """Hashing is bounded per evaluation (BUDGETWH_REGISTER_MAX), so a sensor tick never runs into
    the daemon's time limit; the rest is registered on the next ticks."""
    s = setting
    monkeypatch.setenv("BUDGETWH_REGISTER_MAX", "2")
    write_samples(s["inbox"], count=3)  # 5 documents
    registered, run_keys = [], []
    for _ in range(4):
        requests = evaluate_sensor(s)
        registered.append(len(s["instance"].get_dynamic_partitions("documents")))
        run_keys.append({r.run_key for r in requests})
    assert registered == [2, 4, 5, 5]
    # each tick repeats the requests of the batches not yet run under the same run keys, which the
    # daemon launches once: tick by tick only the new batch is launched
    assert run_keys[0] < run_keys[1] < run_keys[2] == run_keys[3]
    assert [len(k) for k in run_keys] == [1, 2, 3, 3]
