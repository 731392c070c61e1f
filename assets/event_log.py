"""Dagster's SQLite event log, with kept connections, one transaction per burst of events, and a
run's new file copied from a template.

``SqliteEventLogStorage`` creates an engine and opens a new SQLite connection for every statement
it runs (about five per event: the run's file, then the index) and syncs every commit. This
subclass keeps one pooled engine per shard, a few shards at a time, and commits under WAL with
``synchronous=NORMAL``.

**Bursts.** A one-document run stores 132 events, most of them in two bursts (the 38 planned
events when the run is created, ~80 outputs, materializations and check evaluations when the
publish step returns), a few milliseconds apart. Each event was two to four transactions of its
own (its run's file, then the index: the asset's row, its tags, the check's execution row). Here
the events of a burst share one transaction per file: ``store_event`` leaves it open, and it is
committed when the run's status changes or a step ends (``COMMIT_NOW``), when no event came for
``BURST_IDLE_S`` (a thread of the storage commits it), when it has been open ``BURST_MAX_S``, when
the storage is disposed and when the process exits. While it is open this process reads through
it (its reads see its writes); other processes (the UI) see the events when it commits, at most
``BURST_MAX_S`` later, and a writer of the same home's index waits on SQLite's busy timeout as
long. A process killed during a burst loses that burst's events (at most ``BURST_MAX_S`` of
them); its run is marked failed by the next run (``runner.fail_orphaned_runs``).

**The same rows as Dagster writes.** ``store_event`` is Dagster's (``SqliteEventLogStorage``'s)
with its statements compiled once (a parameterized INSERT instead of ``insert().values(row)``,
whose cache key SQLAlchemy computes for every event) and the asset's row upserted in one statement
instead of an INSERT that fails with an ``IntegrityError`` then an UPDATE. The rows, ids and tables
are Dagster's own (tests/test_event_log.py compares every table with Dagster's storage), so an
instance can switch to this class and back.

**A run's new file** (``history/runs/<run id>.db``) was created by Dagster statement by statement
and stamped by alembic, which reads every migration script (~0.1 s a run); it is now copied from an
empty run file Dagster created once (``instance_template.run_file_template``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
    DagsterEventType,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, AssetKeyTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import create_db_conn_string
from sqlalchemy import and_, bindparam, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from assets.instance_template import run_file_template

# SQLite busy timeout, as Dagster's own storage uses.
BUSY_TIMEOUT_SECONDS = 15
# Engines kept open: the index and the runs being written or watched (each holds a file handle).
KEPT_SHARDS = 8
# A burst's transaction is committed once no event came for this long, or once it is this old.
BURST_IDLE_S = 0.05
BURST_MAX_S = 0.5
# Events committed at once with those before them: what the UI and other processes wait for.
COMMIT_NOW = frozenset(
    {
        *EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
        DagsterEventType.STEP_SUCCESS,
        DagsterEventType.STEP_FAILURE,
        DagsterEventType.STEP_UP_FOR_RETRY,
        DagsterEventType.STEP_SKIPPED,
    }
)
_INSERT_EVENT = SqlEventLogStorageTable.insert()
_INSERT_CHECK = AssetCheckExecutionsTable.insert()
_CHECK_VALUES = (
    "execution_status",
    "evaluation_event",
    "evaluation_event_timestamp",
    "evaluation_event_storage_id",
    "materialization_event_storage_id",
    "partition",
)


def _check_update(partition_is_null: bool):
    """Dagster's UPDATE of a run's check execution row by its evaluation, as one compiled statement."""
    table = AssetCheckExecutionsTable.c
    partition = table.partition.is_(None) if partition_is_null else table.partition == bindparam("w_partition")
    where = and_(
        table.asset_key == bindparam("w_asset_key"),
        table.check_name == bindparam("w_check_name"),
        table.run_id == bindparam("w_run_id"),
        partition,
    )
    return AssetCheckExecutionsTable.update().where(where).values({v: bindparam(f"v_{v}") for v in _CHECK_VALUES})


_UPDATE_CHECK = {True: _check_update(True), False: _check_update(False)}


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL from the first statement: Dagster switches a new file to WAL only after creating its
    # schema, so each of its ~40 CREATE statements was a commit synced to disk in rollback-journal
    # mode (0.3–0.5 s for every run's new file, ~1 s for the index of a new home). The end state
    # is the same file in the same mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_LIVE: weakref.WeakSet[PooledSqliteEventLogStorage] = weakref.WeakSet()


@atexit.register
def _commit_every_burst() -> None:  # a process that exits keeps the events it stored
    for storage in list(_LIVE):
        if storage._pid == os.getpid():  # a forked child's copies are its parent's to commit
            with contextlib.suppress(Exception):
                storage.commit_burst()


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
        self._burst: dict[str, Connection] = {}  # shard → its connection, in the burst's open transaction
        self._burst_first = self._burst_last = 0.0
        self._storing = threading.local()  # set while this thread stores an event: its writes join the burst
        self._committer: tuple[int, threading.Thread] | None = None  # (pid, thread)
        self._closed = False
        self._pid = os.getpid()
        super().__init__(base_dir, inst_data)
        self._burst_changed = threading.Condition(self._db_lock)
        _LIVE.add(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the base class names itself here
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            if shard != INDEX_SHARD_NAME:
                self._seed_run_file(shard)
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _on_connect)
            while len(self._engines) >= KEPT_SHARDS:
                old_shard, old = self._engines.popitem(last=False)
                self._end_burst_on(old_shard, commit=True)
                old.dispose()
        self._engines[shard] = engine  # most recently used last
        return engine

    def _seed_run_file(self, shard: str) -> None:
        """A run's file that does not exist yet is a copy of an empty one (Dagster's ``_initdb`` then
        finds it at alembic's head and creates nothing). Never over an existing file."""
        target = self.path_for_shard(shard)
        if os.path.exists(target):
            return
        template = run_file_template()
        if template is None:
            return
        os.makedirs(self._base_dir, exist_ok=True)
        tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            shutil.copyfile(template, tmp)
            with contextlib.suppress(FileExistsError):  # another process created it first: theirs stays
                os.link(tmp, target)
        except OSError:
            pass  # Dagster creates the file as before
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            conn = self._burst.get(shard)
            if conn is None:
                engine = self._engine(shard)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                if not getattr(self._storing, "active", False):
                    with engine.connect() as conn, conn.begin():
                        yield conn
                    return
                conn = engine.connect()
                conn.begin()
                self._burst[shard] = conn
                self._burst_first = self._burst_first or time.monotonic()
            try:
                yield conn
            except BaseException:
                # As when each statement was its own transaction: what the burst wrote before stays.
                self._end_burst(commit=True)
                raise

    # --- storing events

    def store_event(self, event) -> None:
        """``SqliteEventLogStorage.store_event``: the event in its run's file; asset, check and
        run-status events mirrored in the index, with the asset's row, tags and check execution.
        Within the open burst (see the module's docstring)."""
        row = self._event_to_row(event)
        kind = event.dagster_event_type if event.is_dagster_event else None
        self._storing.active = True
        try:
            with self.run_connection(event.run_id) as conn:
                conn.execute(_INSERT_EVENT, row)
            if kind in ASSET_EVENTS:
                with self.index_transaction() as conn:
                    event_id = conn.execute(_INSERT_EVENT, row).inserted_primary_key[0]
                    self._store_asset_event_tags(conn, [event], [event_id])
                    self._store_asset_event(conn, event, event_id)
            if kind in ASSET_CHECK_EVENTS:
                with self.index_connection() as conn:
                    event_id = conn.execute(_INSERT_EVENT, row).inserted_primary_key[0]
                    stored = self._store_check_execution(conn, event, event_id, row)
                if not stored:  # outside the block: Dagster's own code opens its connection (the lock is not reentrant)
                    self.store_asset_check_event(event, event_id)
            if kind in EVENT_TYPE_TO_PIPELINE_RUN_STATUS:
                with self.index_connection() as conn:
                    conn.execute(_INSERT_EVENT, row)
        finally:
            self._storing.active = False
        with self._db_lock:
            if not self._burst:
                return
            self._burst_last = time.monotonic()
            if kind in COMMIT_NOW or self._burst_last - self._burst_first >= BURST_MAX_S:
                self._end_burst(commit=True)
            else:
                self._wake_committer()

    def _store_asset_event(self, conn: Connection, event, event_id: int) -> None:
        """Dagster's row of the asset (its last materialization, run and event time), inserted or
        updated by one statement: Dagster inserts, and on the ``IntegrityError`` of a known asset
        updates the same values."""
        if not (event.dagster_event and event.dagster_event.asset_key):
            return
        values = self._get_asset_entry_values(event, event_id, self._has_asset_key_index_cols_on_connection(conn))
        if not values:
            return
        statement = sqlite_insert(AssetKeyTable).values(asset_key=event.dagster_event.asset_key.to_string(), **values)
        conn.execute(statement.on_conflict_do_update(index_elements=[AssetKeyTable.c.asset_key], set_=values))

    def _store_check_execution(self, conn: Connection, event, event_id: int, row: dict) -> bool:
        """Dagster's ``store_asset_check_event`` for a run's check (planned: its execution row;
        evaluated: that row updated, or inserted when there was none) with compiled statements and
        the event serialized once (the event row's). False for what Dagster does otherwise (a
        check evaluated outside a run): the caller then calls Dagster's own."""
        data = event.dagster_event.event_specific_data
        when = row["timestamp"]  # Dagster's ``_event_insert_timestamp``: UTC, without a time zone
        if event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            partitions = data.partitions_subset.get_partition_keys() if data.partitions_subset else [None]
            planned = {
                "asset_key": data.asset_key.to_string(), "check_name": data.check_name, "run_id": event.run_id,
                "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value, "evaluation_event": row["event"],
                "evaluation_event_timestamp": when, "evaluation_event_storage_id": event_id,
            }  # fmt: skip
            conn.execute(_INSERT_CHECK, [{**planned, "partition": p} for p in partitions])
            return True
        if not event.run_id:
            return False
        status = AssetCheckExecutionRecordStatus.SUCCEEDED if data.passed else AssetCheckExecutionRecordStatus.FAILED
        materialization = data.target_materialization_data.storage_id if data.target_materialization_data else None
        values = {
            "execution_status": status.value, "evaluation_event": row["event"], "evaluation_event_timestamp": when,
            "evaluation_event_storage_id": event_id, "materialization_event_storage_id": materialization,
            "partition": data.partition,
        }  # fmt: skip
        where = {"w_asset_key": data.asset_key.to_string(), "w_check_name": data.check_name, "w_run_id": event.run_id}
        if data.partition is not None:
            where["w_partition"] = data.partition
        params = {**where, **{f"v_{k}": v for k, v in values.items()}}
        updated = conn.execute(_UPDATE_CHECK[data.partition is None], params).rowcount
        if updated == 0:  # no planned row (a step launched outside its run's plan)
            conn.execute(_INSERT_CHECK, {"asset_key": where["w_asset_key"], "check_name": data.check_name,
                                         "run_id": event.run_id, **values})  # fmt: skip
        elif updated > 1:
            raise DagsterInvariantViolationError(
                f"Updated {updated} rows for asset check evaluation {data.asset_check_key} "
                "as a result of duplicate AssetCheckPlanned events."
            )
        return True

    # --- the burst's end

    def commit_burst(self) -> None:
        """Commit the events stored so far (other processes see them)."""
        with self._db_lock:
            self._end_burst(commit=True)

    def _end_burst(self, commit: bool) -> None:  # the caller holds the lock
        for shard in list(self._burst):
            self._end_burst_on(shard, commit)
        self._burst_first = 0.0

    def _end_burst_on(self, shard: str, commit: bool) -> None:
        conn = self._burst.pop(shard, None)
        if conn is None:
            return
        try:
            if commit:
                conn.commit()
        except Exception:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        finally:
            conn.close()

    def _wake_committer(self) -> None:  # the caller holds the lock
        committer = self._committer
        if committer is None or committer[0] != os.getpid() or not committer[1].is_alive():
            thread = threading.Thread(target=self._commit_when_idle, name="budgetwh-event-commit", daemon=True)
            self._committer = (os.getpid(), thread)
            thread.start()
        self._burst_changed.notify()

    def _commit_when_idle(self) -> None:
        me = threading.current_thread()
        with self._db_lock:
            while not self._closed and self._committer is not None and self._committer[1] is me:
                if not self._burst:
                    self._burst_changed.wait()
                    continue
                due = min(self._burst_last + BURST_IDLE_S, self._burst_first + BURST_MAX_S)
                now = time.monotonic()
                if now < due:
                    self._burst_changed.wait(due - now)
                    continue
                with contextlib.suppress(Exception):  # a failed commit is the next event's to raise
                    self._end_burst(commit=True)

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
            self._end_burst(commit=True)
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._schema_present.clear()
        self._dispose_engines()  # the run files are deleted: no connection may stay on them
        super().wipe()

    def delete_events(self, run_id: str) -> None:
        with self._db_lock:
            self._end_burst(commit=True)
        super().delete_events(run_id)

    def dispose(self) -> None:
        self._dispose_engines()
        with self._db_lock:
            self._closed = True
            self._burst_changed.notify_all()
        super().dispose()
