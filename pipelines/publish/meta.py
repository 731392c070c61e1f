"""Reading a warehouse file's own record (``warehouse_meta``: its lake fingerprint, view row counts,
finding counts, schema) and small answers from it, without holding the file open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from pipelines.publish.lake_index import file_signature

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
    """One value of the file's ``warehouse_meta``. The table is read once per version of the file
    (its signature, and its WAL's): each read was a new DuckDB connection (~25 ms; ~0.1 s on a
    10 M-row warehouse), and a run asks about ten times (counts, fingerprint, summary, health check)."""
    signature = _file_version(warehouse)
    cached = _known_meta.get(str(warehouse))
    if signature is None or cached is None or cached[0] != signature:

        def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
            return dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())

        values = query_published(warehouse, meta)
        if values is None:
            _known_meta.pop(str(warehouse), None)
            return None
        if len(_known_meta) >= 64:  # a long-lived process (the warm server's forks excepted) sees many files
            _known_meta.clear()
        cached = _known_meta[str(warehouse)] = (signature, values)
    return cached[1].get(key)


def forget_meta(warehouse: Path) -> None:
    """After this process wrote a file's warehouse_meta (its version may not show it within a tick)."""
    _known_meta.pop(str(warehouse), None)


def _file_version(path: Path) -> tuple | None:
    signature = file_signature(str(path))
    return None if signature is None else (*signature, file_signature(f"{path}.wal"))


# warehouse_meta as last read: path → (its file's version, key → value). See ``read_meta``.
_known_meta: dict[str, tuple[tuple | None, dict[str, str]]] = {}
