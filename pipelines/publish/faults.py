"""A test seam for crash safety: pause the process at a named point so a test can kill -9 it there.

``BUDGETWH_PAUSE_AT=name`` (or ``name:n`` for the n-th time the point is reached) makes
``checkpoint(name)`` write the process id to ``BUDGETWH_PAUSE_FILE`` and sleep. Without the
variable a checkpoint does nothing. Points: ``lake.write`` (a document's result staged, not yet
renamed into the lake), ``tables.write`` (some combined tables replaced, not all), ``publish.swap``
(the new DuckDB file built, not yet swapped in).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_reached: dict[str, int] = {}


def checkpoint(name: str) -> None:
    wanted = os.environ.get("BUDGETWH_PAUSE_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] != int(nth or 1):
        return
    marker = Path(os.environ.get("BUDGETWH_PAUSE_FILE", "budgetwh.paused"))
    # written aside and renamed: a test polling for the marker must never read it empty
    staged = marker.with_name(f".{marker.name}.pid{os.getpid()}.tmp")
    staged.write_text(str(os.getpid()), encoding="utf-8")
    os.replace(staged, marker)
    time.sleep(600)  # the test kills the process long before
