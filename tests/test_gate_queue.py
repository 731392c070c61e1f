"""The gate's suites shared through a queue (pipelines/publish/gate_queue.py): every suite is taken
by exactly one of the processes reading it, each stops at its own terminator, and what a request
leaves behind never reaches the next one. Through the real gate process (GE loaded, a helper
forked) the queued gate gives the outcomes of the gate run in one process, request after request."""

import multiprocessing
import os
import shutil

import pytest

from assets.runner import run_ingest
from pipelines.publish import gate, gate_process, gate_queue
from pipelines.validate.expectations import suite_checks, suite_names
from tests.conftest import CORPUS, needs_shared
from tests.test_small_runs import _comparable


def _taker(read_fd: int, names: list[str], out) -> None:
    out.send(list(gate_queue.take(read_fd, names)))


def test_every_suite_is_taken_once_by_one_of_two_processes_and_nothing_is_left():
    names = gate_queue.by_work()
    assert sorted(names) == sorted(suite_names())
    sizes = [len(suite_checks(n)) for n in names]
    assert sizes == sorted(sizes, reverse=True)  # largest first: the last ones taken are short
    read_fd, write_fd = gate_queue.open_queue()
    fork = multiprocessing.get_context("fork")
    for _request in range(3):  # request after request: nothing of one reaches the next
        gate_queue.fill(write_fd, names)
        theirs_r, theirs_w = fork.Pipe(duplex=False)
        child = fork.Process(target=_taker, args=(read_fd, names, theirs_w))
        child.start()
        mine = list(gate_queue.take(read_fd, names))
        theirs = theirs_r.recv()
        child.join()
        assert sorted(mine + theirs) == sorted(names)  # each exactly once, between the two
        gate_queue.drain(read_fd)
        with pytest.raises(BlockingIOError):
            os.read(read_fd, 1)  # empty: both terminators were taken


def test_a_reader_that_stops_early_leaves_the_rest_to_the_other_and_drain_empties_the_queue():
    names = gate_queue.by_work()
    read_fd, write_fd = gate_queue.open_queue()
    gate_queue.fill(write_fd, names)
    taken = gate_queue.take(read_fd, names)
    first = [next(taken), next(taken)]  # then this process fails and stops taking
    rest = list(gate_queue.take(read_fd, names))  # the other process
    assert first + rest == names
    gate_queue.drain(read_fd)  # the failed one's terminator
    gate_queue.fill(write_fd, names)
    assert list(gate_queue.take(read_fd, names)) == names  # the next request is whole


@needs_shared
def test_the_queued_gate_gives_the_outcomes_of_one_process_request_after_request(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("BUDGETWH_GATE_PROCESSES", "2")  # queued between two processes whatever the load
    inbox = tmp_path / "in"
    inbox.mkdir()
    pdf = CORPUS / "shanghai_putuo" / "上海市普陀区人民政府办公室单位25年预算.pdf"
    shutil.copy(pdf, inbox / pdf.name)
    wh = tmp_path / "wh.duckdb"
    result = run_ingest([inbox], wh)
    assert result.success, result.error
    assert gate_process.gate_process_running()
    here = gate.validate_warehouse(wh)
    assert list(here) == suite_names()
    assert {v: len(o) for v, o in here.items()} == {v: len(suite_checks(v)) for v in suite_names()}
    for _request in range(2):
        there = gate_process.validate_warehouse(wh)
        assert list(there) == suite_names()  # merged in the suites' order
        assert _comparable(there) == _comparable(here)
