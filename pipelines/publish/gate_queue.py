"""The gate's suites as a queue shared by the gate's process and its helper (``gate_process.py``).

A fixed split of the suites between the two processes left one idle for up to half a second while
the other finished its share (GE's time per suite varies with the rows and the expectations that
fail). Instead each process takes the next suite when it is free: a request writes one byte per
suite (its position in the request's list, largest suites first) and one terminator per process to
a pipe both read, one byte at a time. A read of one byte from a pipe is atomic, so every suite is
taken by exactly one process; each stops at its first terminator, so each takes one of the two.
The pipe is emptied after every request (``drain``): a process that stopped early (an error) or
died leaves nothing for the next one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from pipelines.validate.expectations import suite_checks, suite_names

_END = 0


def by_work() -> list[str]:
    """The suites, largest first (GE's time is per expectation): the last ones taken are short."""
    return sorted(suite_names(), key=lambda n: -len(suite_checks(n)))


def open_queue() -> tuple[int, int]:
    """The queue's pipe (read end, write end), non-blocking to read: a reader never waits for it."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    return read_fd, write_fd


def fill(write_fd: int, names: list[str], readers: int = 2) -> None:
    """Every suite of ``names`` once, then one terminator per reader."""
    if len(names) > 255:
        raise ValueError("the gate's queue holds at most 255 suites")
    os.write(write_fd, bytes(range(1, len(names) + 1)) + bytes([_END] * readers))


def take(read_fd: int, names: list[str]) -> Iterator[str]:
    """The suites this process takes, one at a time, until its terminator (or an empty queue)."""
    while True:
        try:
            byte = os.read(read_fd, 1)
        except BlockingIOError:
            return
        if not byte or byte[0] == _END:
            return
        yield names[byte[0] - 1]


def drain(read_fd: int) -> None:
    """Whatever a request left in the queue, removed (call when no other process reads it)."""
    with contextlib.suppress(BlockingIOError):
        while os.read(read_fd, 4096):
            pass
