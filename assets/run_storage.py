"""Dagster's SQLite run storage (``history/runs.db``) on one kept engine.

``SqliteRunStorage`` creates an engine and a new SQLite connection for every statement (~40 in a
one-document run: the run and its two snapshots, each status change, every read of the run), and
syncs every commit to disk. This subclass keeps one pooled engine and commits under WAL (the mode
Dagster's own file is in) with ``synchronous=NORMAL``, as the event log does
(``assets/event_log.py``): a killed process loses nothing; a power cut may lose the last commits,
never the database's consistency. It also remembers that a column it asked about is there
(Dagster asks before many statements; migrations only add columns). The file and its schema are
Dagster's own, so an instance can switch to this class and back.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

from assets.event_log import BUSY_TIMEOUT_SECONDS, _on_connect


class PooledSqliteRunStorage(SqliteRunStorage):
    """Configured in ``dagster.yaml`` (``budgetwh`` writes it into a new Dagster home)::

    run_storage:
      module: assets.run_storage
      class: PooledSqliteRunStorage
      config:
        base_dir: <the Dagster home>/history
    """

    def __init__(self, conn_string: str, inst_data=None):
        self._kept: Engine | None = None
        self._kept_lock = threading.Lock()
        self._columns_present: set[str] = set()
        super().__init__(conn_string, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the base class names itself here
        return cls.from_local(inst_data=inst_data, **config_value)

    def _engine(self) -> Engine:
        with self._kept_lock:
            if self._kept is None:
                engine = create_engine(
                    self._conn_string,
                    connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                event.listen(engine, "connect", _on_connect)
                self._kept = engine
            return self._kept

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engine().connect() as conn, conn.begin():
            yield conn

    def _remembered(self, name: str, ask) -> bool:
        if name in self._columns_present:
            return True
        present = bool(ask())
        if present:
            self._columns_present.add(name)
        return present

    def has_run_stats_index_cols(self) -> bool:
        return self._remembered("run_stats", super().has_run_stats_index_cols)

    def has_backfill_id_column(self) -> bool:
        return self._remembered("backfill_id", super().has_backfill_id_column)

    def has_bulk_actions_selector_cols(self) -> bool:
        return self._remembered("bulk_selector", super().has_bulk_actions_selector_cols)

    def _dispose_engine(self) -> None:
        with self._kept_lock:
            engine, self._kept = self._kept, None
        if engine is not None:
            engine.dispose()

    def wipe(self) -> None:
        super().wipe()
        self._dispose_engine()

    def dispose(self) -> None:
        self._dispose_engine()
        super().dispose()
