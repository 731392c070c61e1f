"""Test seams for crash safety and full disks, and the wording of a full disk.

Pause: the process stops at a named point so a test can kill -9 it there.

``BUDGETWH_PAUSE_AT=name`` (or ``name:n`` for the n-th time the point is reached) makes
``checkpoint(name)`` write the process id to ``BUDGETWH_PAUSE_FILE`` and sleep. Without the
variable a checkpoint does nothing. Points: ``lake.write`` (a document's result staged, not yet
renamed into the lake), ``tables.write`` (some combined tables replaced, not all), ``publish.swap``
(the new DuckDB file built, not yet swapped in), ``candidate.build`` (the candidate file being
written).

Fail: ``BUDGETWH_FAIL_AT=name[:n]`` makes ``checkpoint(name)`` raise ``OSError(ENOSPC)`` there, as a
full disk would (``faults.stage`` then names the stage).
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path

_reached: dict[str, int] = {}


def _nth_arrival(variable: str, name: str, key: str) -> bool:
    """Whether this arrival at ``name`` is the one ``variable`` (``point`` or ``point:n``) asks for."""
    wanted = os.environ.get(variable)
    if not wanted:
        return False
    point, _, nth = wanted.partition(":")
    if point != name:
        return False
    _reached[key] = _reached.get(key, 0) + 1
    return _reached[key] == int(nth or 1)


def _inject_failure(name: str) -> None:
    if _nth_arrival("BUDGETWH_FAIL_AT", name, f"fail:{name}"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"(injected at {name})")


def checkpoint(name: str) -> None:
    _inject_failure(name)
    if not _nth_arrival("BUDGETWH_PAUSE_AT", name, name):
        return
    marker = Path(os.environ.get("BUDGETWH_PAUSE_FILE", "budgetwh.paused"))
    # written aside and renamed: a test polling for the marker must never read it empty
    staged = marker.with_name(f".{marker.name}.pid{os.getpid()}.tmp")
    staged.write_text(str(os.getpid()), encoding="utf-8")
    os.replace(staged, marker)
    time.sleep(600)  # the test kills the process long before


class DiskFull(OSError):
    """No space left on device, with the stage of the run that needed it."""


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Name the stage in a full disk's error: "no space left on device at <stage>"."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:  # OSError from Python; DuckDB and Polars say it in their message
        full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        if not full and "No space left on device" not in str(exc):
            raise
        filename = getattr(exc, "filename", None)
        where = f" ({filename})" if filename else ""
        raise DiskFull(
            errno.ENOSPC,
            f"no space left on device at {name}{where}: free space and run again; the published "
            "warehouse was not changed",
        ) from exc
