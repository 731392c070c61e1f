"""Dagster's storages compare a SQLite file's alembic revision with the head of their migration
scripts each time an instance is made: four times per run (runs, schedules, the event log's index
and the run's own file), each reading the revision map of every migration script (~0.06 s of
CPU). The head of an installed Dagster's scripts never changes while a process runs, so it is read
once per script folder; the file's own revision is still read every time. ``budgetwh serve``
reads it before it forks, so a served run reads none.
"""

from __future__ import annotations

import threading

_heads: dict[str, str | None] = {}
_lock = threading.Lock()
_STORAGE_MODULES = (
    "dagster._core.storage.runs.sqlite.sqlite_run_storage",
    "dagster._core.storage.schedules.sqlite.sqlite_schedule_storage",
    "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log",
)


def _head(alembic_config) -> str | None:
    from alembic.script import ScriptDirectory

    location = alembic_config.get_main_option("script_location")
    with _lock:
        if location not in _heads:
            _heads[location] = ScriptDirectory.from_config(alembic_config).as_revision_number("head")
        return _heads[location]


def check_alembic_revision(alembic_config, conn):
    """``dagster._core.storage.sql.check_alembic_revision``, the head read once per script folder."""
    from alembic.runtime.migration import MigrationContext
    from dagster._core.storage import sql

    with sql._alembic_lock:
        db_revision = MigrationContext.configure(conn).get_current_revision()
    return (db_revision, _head(alembic_config))


def install() -> None:
    """Used by Dagster's SQLite storages from now on in this process (idempotent)."""
    import importlib

    for name in _STORAGE_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "check_alembic_revision", None) is not check_alembic_revision:
            module.check_alembic_revision = check_alembic_revision


def warm() -> None:
    """Read the heads now (``budgetwh serve``, before its forks: each served run then reads none)."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from dagster._core.storage.runs.sqlite import sqlite_run_storage
    from dagster._core.storage.schedules.sqlite import sqlite_schedule_storage
    from dagster._core.storage.sql import get_alembic_config

    install()
    for module in (sqlite_run_storage, sqlite_schedule_storage, sqlite_event_log):
        _head(get_alembic_config(module.__file__))


# --- the same for the instance's configuration schema: Dagster builds it (~250 config fields, ~20 ms)
# for every instance it makes, to validate dagster.yaml; it depends on nothing but Dagster's code.


def install_config_schema() -> None:
    """``dagster_instance_config_schema`` built once per process (idempotent)."""
    import functools

    from dagster._core.instance import config

    if not hasattr(config.dagster_instance_config_schema, "cache_info"):
        config.dagster_instance_config_schema = functools.cache(config.dagster_instance_config_schema)


def warm_jobs(defs, job_names: tuple[str, ...]) -> None:
    """Built before ``budgetwh serve`` forks: the configuration schema and each job's snapshot and its
    id (a hash of the serialized snapshot, kept by the job), which every run records."""
    install_config_schema()
    from dagster._core.instance.config import dagster_instance_config_schema

    dagster_instance_config_schema()
    for name in job_names:
        defs.resolve_job_def(name).get_job_snapshot_id()
