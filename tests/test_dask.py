"""The parse on Dask distributed gives the lake exactly the serial run's results: a LocalCluster of
several worker processes (real processes, a real scheduler over TCP on localhost) parses a batch of
real documents, copies and a template included, and the lake is compared with a serial run's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.publish.lake import Lake
from pipelines.run.pool import parse_entries
from pipelines.run.samples import write_samples
from pipelines.run.sources import iter_source_files, register_sources
from tests.conftest import corpus_file, needs_shared
from tests.test_parallel import _lake_state


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local


def _parse(root: Path, files: list[Path], **kw):
    lake = Lake(root)
    registration = register_sources(lake, files)
    return lake, list(parse_entries(lake, registration.entries, **kw))


@needs_shared
def test_a_local_cluster_leaves_the_lake_exactly_as_a_serial_run(tmp_path, cluster):
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    for rel in (
        "shanghai_putuo_final/上海市普陀区财政局2024年度部门决算.pdf",
        "jiangsu_province/江苏省委办公厅/江苏省委办公厅2019年度部门预算公开表格.pdf",
        "shanghai_putuo_final/附件2：部门决算模板.pdf",  # quarantined as a template
    ):
        shutil.copy(corpus_file(rel), inbox / Path(rel).name)
    shutil.copy(inbox / "上海市普陀区财政局2024年度部门决算.pdf", inbox / "财政局决算-副本.pdf")
    files = iter_source_files([inbox])
    serial, serial_outcomes = _parse(tmp_path / "serial", files, workers=1)
    from distributed.diagnostics.task_stream import TaskStreamPlugin

    stream = TaskStreamPlugin(cluster.scheduler)
    cluster.scheduler.add_plugin(stream)
    on_dask, dask_outcomes = _parse(tmp_path / "dask", files, scheduler=cluster.scheduler_address)

    assert [o.entry.source_file for o in dask_outcomes] == [str(f.resolve()) for f in files]
    summary = lambda outcomes: [(Path(o.entry.source_file).name, o.parsed_status) for o in outcomes]  # noqa: E731
    assert summary(dask_outcomes) == summary(serial_outcomes)
    assert sorted(s for _, s in summary(serial_outcomes) if s) == ["loaded"] * 4 + ["quarantined"]
    assert _lake_state(on_dask) == _lake_state(serial)
    # the work really ran on the cluster's workers, not in this process
    parse_tasks = [t for t in stream.buffer if str(t["key"]).startswith("parse-")]
    assert len(parse_tasks) == 5  # one per distinct content: the copy is recorded, not parsed
    assert {t["worker"] for t in parse_tasks} <= set(cluster.scheduler.workers)


def test_an_unreachable_scheduler_parses_here(tmp_path, monkeypatch):
    monkeypatch.setenv("BUDGETWH_DASK_CONNECT_TIMEOUT", "2")
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    files = iter_source_files([inbox])
    _, outcomes = _parse(tmp_path / "lake", files, scheduler="tcp://127.0.0.1:9")  # nothing listens there
    assert [o.parsed_status for o in outcomes] == ["loaded", "loaded"]
