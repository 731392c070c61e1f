"""Dagster's SQLite event log, with connections that are kept instead of made for every statement.

``SqliteEventLogStorage`` creates an engine and opens a new SQLite connection for every statement
it runs (about five per event: the run's file, then the index) and syncs every commit. An ingest
of the corpus writes ~490 events (planned materializations and checks, one materialization per
document, 144 asset-check evaluations), which took ~3 s of a 19.5 s run. This subclass keeps one
pooled engine per shard, a few shards at a time, and commits under WAL with
``synchronous=NORMAL``: a killed process loses nothing; a power cut may lose the last events, never
the database's consistency. The files and their schema are Dagster's own, so an instance can
switch to this class and back.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import create_db_conn_string
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

# SQLite busy timeout, as Dagster's own storage uses.
BUSY_TIMEOUT_SECONDS = 15
# Engines kept open: the index and the runs being written or watched (each holds a file handle).
KEPT_SHARDS = 8


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL from the first statement: Dagster switches a new file to WAL only after creating its
    # schema, so each of its ~40 CREATE statements was a commit synced to disk in rollback-journal
    # mode (0.3–0.5 s for every run's new file, ~1 s for the index of a new home). The end state
    # is the same file in the same mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Configured in ``dagster.yaml`` (``budgetwh`` writes it into a new Dagster home)::

    event_log_storage:
      module: assets.event_log
      class: PooledSqliteEventLogStorage
      config:
        base_dir: <the Dagster home>/history/runs

    ``base_dir`` is where Dagster's default storage keeps the event logs of that home.
    """

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._schema_present: set[tuple[str, str]] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the base class names itself here
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _on_connect)
            while len(self._engines) >= KEPT_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
        self._engines[shard] = engine  # most recently used last
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    # Dagster asks whether its index has a table, a column or a finished data migration before
    # many statements: 72 + 86 + 36 times in a one-document run, each time on a new connection (a
    # new engine for ``has_table``). What is there stays there (migrations only add; ``wipe``
    # forgets), so a "yes" is remembered; a "no" is asked again.

    def _remembered(self, kind: str, name: str, ask) -> bool:
        if (kind, name) in self._schema_present:
            return True
        present = bool(ask())
        if present:
            self._schema_present.add((kind, name))
        return present

    def has_table(self, table_name: str) -> bool:
        ask = super().has_table
        return self._remembered("table", table_name, lambda: ask(table_name))

    def has_secondary_index(self, name: str) -> bool:
        ask = super().has_secondary_index
        return self._remembered("index", name, lambda: ask(name))

    def has_asset_key_col(self, column_name: str) -> bool:
        ask = super().has_asset_key_col
        return self._remembered("column", column_name, lambda: ask(column_name))

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        ask = super()._has_asset_key_col_on_connection
        return self._remembered("column", column_name, lambda: ask(conn, column_name))

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._schema_present.clear()
        self._dispose_engines()  # the run files are deleted: no connection may stay on them
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
