"""A warehouse file's ``warehouse_meta`` (its lake fingerprint, view row counts, finding counts,
schema), read once per file version in a process."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

T = TypeVar("T")


def query_published(warehouse: Path, query: Callable[[duckdb.DuckDBPyConnection], T]) -> T | None:
    """``query(con)`` on a read-only connection to ``warehouse``; None when there is no such file
    or DuckDB cannot answer (another schema, a file being replaced)."""
    if not Path(warehouse).exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return query(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def read_meta(warehouse: Path, key: str) -> str | None:
    """A value of the file's ``warehouse_meta`` (None when there is no file, table or key)."""
    meta = _file_meta(warehouse)
    return None if meta is None else meta.get(key)


# The warehouse_meta of the files this process read, by file identity: a run reads it from the
# candidate and the published file several times (counts, fingerprint, summary, health check), and
# each read was a new DuckDB connection (~25 ms). A file is never changed after it is published or
# promoted (each version is a new file, renamed into place), and a file written in place (a
# candidate's counts) changes its size or modification time.
_META_CACHE: dict[tuple, dict[str, str]] = {}


def _file_meta(warehouse: Path) -> dict[str, str] | None:
    try:
        st = os.stat(warehouse)
    except OSError:
        return None
    identity = (str(Path(warehouse).resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    meta = _META_CACHE.get(identity)
    if meta is None:
        meta = query_published(
            warehouse, lambda con: dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
        )
        if meta is not None:  # a file DuckDB could not open now (being written) is asked again next time
            if len(_META_CACHE) >= 64:
                _META_CACHE.clear()
            _META_CACHE[identity] = meta
    return meta
