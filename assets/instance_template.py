"""A new Dagster home from a template instead of creating its SQLite schema.

A new home's three SQLite files (runs, schedules, the event log's index) are created by Dagster
statement by statement, each a commit synced to disk: ~1–1.6 s of a one-document run into a new
warehouse, almost all of it waiting for the disk (0.2 s of CPU). The files of an empty instance
are the same for every home made by one Dagster version (the schema, its alembic revision, the
data migrations marked done; no identity: the run storage's id is made on first use), so the first
new home on a machine creates them once in a cache folder and every later new home copies them.

The template is keyed by the versions of Dagster, SQLAlchemy and alembic and by budgetwh's
``dagster.yaml`` (paths left out), built in a folder of its own and renamed into place, so two
first runs at once cannot see half a template. ``BUDGETWH_DAGSTER_TEMPLATE=0`` turns it off (the
files are then created by Dagster as before); ``BUDGETWH_CACHE_DIR`` moves the cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

from pipelines.run.paths import cache_dir

# The files of an empty instance, relative to its home.
INSTANCE_FILES = ("history/runs.db", "schedules/schedules.db", "history/runs/index.db")


def template_enabled() -> bool:
    return os.environ.get("BUDGETWH_DAGSTER_TEMPLATE", "1") != "0"


def template_key(config_text: str, home: Path) -> str:
    """Versions of what writes the files, and the configuration with this home's path left out."""
    versions = "|".join(f"{p}={version(p)}" for p in ("dagster", "sqlalchemy", "alembic"))
    config = config_text.replace(str(Path(home).resolve()), "<home>")
    return hashlib.sha256(f"{versions}\n{config}".encode()).hexdigest()[:16]


def _build_template(final: Path, write_config) -> Path | None:
    """An empty instance created by Dagster in a folder of its own, renamed to ``final``."""
    import dagster as dg

    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=final.parent))
    try:
        home = scratch / "home"
        home.mkdir()
        write_config(home)
        instance = dg.DagsterInstance.from_config(str(home))
        try:  # each storage creates its file when first touched
            instance.run_storage.get_runs(limit=1)
            instance.event_log_storage.get_asset_keys()
            instance.schedule_storage.all_instigator_state()
        finally:
            instance.dispose()
        if not all((home / f).is_file() for f in INSTANCE_FILES) or any(home.rglob("*-wal")):
            return None  # not the files expected (another Dagster layout): no template
        with contextlib.suppress(OSError):  # another process put its template there first: the same files
            os.rename(home, final)
        return final if final.is_dir() else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def seed_new_home(home: Path, config_text: str, write_config) -> bool:
    """Copy an empty instance's files into ``home`` when it has none of them (a new home); the
    caller holds the home's lock. ``write_config(home)`` writes budgetwh's ``dagster.yaml`` into a
    home. Returns whether the files were copied; on any failure Dagster creates them as before."""
    if not template_enabled() or any((home / f).exists() for f in INSTANCE_FILES):
        return False
    try:
        template = cache_dir() / f"dagster-home-{template_key(config_text, home)}"
        if not template.is_dir():
            template = _build_template(template, write_config)
            if template is None:
                return False
        for name in INSTANCE_FILES:
            target = home / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            shutil.copyfile(template / name, tmp)
            os.replace(tmp, target)
        return True
    except Exception:  # a read-only cache, a Dagster that builds differently: Dagster creates the files
        for name in INSTANCE_FILES:  # never half a seeded home: Dagster creates what is missing
            (home / name).unlink(missing_ok=True)
        return False


# --- a run's event log file (history/runs/<run id>.db): the same empty schema for every run


_run_file: dict[str, Path | None] = {}


def run_file_template() -> Path | None:
    """An empty run file of Dagster's event log (its schema, stamped at alembic's head, in WAL mode),
    created once per machine and Dagster version by Dagster's own ``_initdb`` and kept in the cache;
    None when the template is off or cannot be made (Dagster then creates each run's file itself)."""
    if not template_enabled():
        return None
    final = cache_dir() / f"dagster-run-{_run_file_key()}.db"
    key = str(final)
    if key not in _run_file:  # once per process and cache folder
        _run_file[key] = _make_run_file_template(final)
    found = _run_file[key]
    return found if found is not None and found.is_file() else None


@functools.cache
def _run_file_key() -> str:
    versions = "|".join(f"{p}={version(p)}" for p in ("dagster", "sqlalchemy", "alembic"))
    return hashlib.sha256(f"run file\n{versions}".encode()).hexdigest()[:16]


def _make_run_file_template(final: Path) -> Path | None:
    if final.is_file():
        return final
    try:
        from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        final.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=final.parent))
        try:
            storage = SqliteEventLogStorage(str(scratch))  # Dagster's own storage, as it makes a run's file
            engine = create_engine(storage.conn_string_for_shard("run"), poolclass=NullPool)
            storage._initdb(engine)
            engine.dispose()
            storage.dispose()
            built = scratch / "run.db"
            if not built.is_file() or (scratch / "run.db-wal").exists():
                return None
            with contextlib.suppress(OSError):  # another process put its template there first: the same file
                os.rename(built, final)
            return final if final.is_file() else None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except Exception:  # a read-only cache, another Dagster layout: Dagster creates each run's file
        return None
