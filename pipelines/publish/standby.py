"""The standby: the previous version of the warehouse file, kept to be the next run's candidate.

An incremental publish never writes the published file (its readers must never block or see half
a load), so it used to start from a whole copy of it: 3–4 s for the 1 GB of a 10 M-row warehouse.
Instead, at each swap the published file is hard-linked to ``.<name>.standby`` before the candidate
replaces it (``keep_standby``): the readers of the old version keep their inode, which is now the
standby's. The next run renames the standby to its candidate name and opens it for writing
(``claim_standby``). DuckDB locks a file shared for every read-only connection and exclusively for a
writer, so the open fails while any other process still reads that old version; a connection of
this process is found among its own open files. Then, and when there is no standby or it is the
published file itself (a swap cut short between the link and the rename), the run copies the
published file as before, and the readers keep the standby's inode (its name is gone).

The standby holds its own ``publish_doc_state``: the incremental publish applies the changes between
those states and the lake (two runs' changes), so the candidate is the lake's whatever the standby
missed. A run killed after claiming the standby leaves a pid-tagged temporary file that the next
run deletes (``remove_stale_builds``); it then copies again."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from pipelines.publish.lake import temp_prefix


def standby_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(f".{warehouse.name}.standby")


def keep_standby(warehouse: Path) -> None:
    """Before a swap: the published file (about to be replaced) becomes the standby. Where hard links
    cannot be made the standby is removed, so that no older one outlives it unnoticed."""
    warehouse = Path(warehouse)
    standby = standby_path(warehouse)
    if not warehouse.exists():
        return
    link = warehouse.with_name(f"{temp_prefix(warehouse.name)}standby-link")
    try:
        link.unlink(missing_ok=True)
        os.link(warehouse, link)
        os.replace(link, standby)
    except OSError:
        link.unlink(missing_ok=True)
        standby.unlink(missing_ok=True)


def _open_here(path: Path) -> bool:
    """Whether this process holds the file open (DuckDB's lock does not stop a process's own
    connections: POSIX record locks are per process)."""
    try:
        target = os.stat(path)
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return True  # cannot tell: do not take it
    for fd in fds:
        with contextlib.suppress(OSError):
            st = os.stat(f"/proc/self/fd/{fd}")
            if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                return True
    return False


def claim_standby(warehouse: Path, into: Path, config: dict) -> duckdb.DuckDBPyConnection | None:
    """The standby renamed to ``into`` and opened for writing (the caller closes it), or None: no
    standby, the standby is the published file, or a reader still holds it (it is then given up:
    its name is removed, the readers keep their inode)."""
    warehouse, into = Path(warehouse), Path(into)
    standby = standby_path(warehouse)
    try:
        st, published = os.stat(standby), os.stat(warehouse)
    except OSError:
        return None
    if (st.st_dev, st.st_ino) == (published.st_dev, published.st_ino) or Path(f"{standby}.wal").exists():
        standby.unlink(missing_ok=True)
        return None
    into.unlink(missing_ok=True)
    os.replace(standby, into)
    if _open_here(into):
        into.unlink(missing_ok=True)
        return None
    try:
        return duckdb.connect(str(into), config=config)
    except duckdb.Error:  # DuckDB's lock: another process still reads this version
        into.unlink(missing_ok=True)
        return None
