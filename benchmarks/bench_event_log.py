"""What a run's Dagster events cost to store: the events of one real ``budgetwh ingest`` replayed
into a new event log, by Dagster's ``SqliteEventLogStorage`` and by budgetwh's
``PooledSqliteEventLogStorage`` (assets/event_log.py), alternately (a script, not a timed test).

Each repetition stores the run's events one by one into a new folder (the index created first,
untimed; the run's own file is created by the first event, as in a run) and prints wall and CPU
seconds, per event, and the SQLite statements and commits it made.

    uv run --frozen python benchmarks/bench_event_log.py [--home DAGSTER_HOME] [--repeat 5]
        [--also /work/main/assets/event_log.py] [--no-dagster]

``--also`` adds the ``PooledSqliteEventLogStorage`` of another checkout's file (a before/after
comparison); ``--no-dagster`` leaves Dagster's own storage out (it syncs every commit to disk: slow
on a busy disk).

Without ``--home`` a generated sample PDF is ingested first (untimed) and its run's events are used.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_events(home: Path | None, scratch: Path) -> list:
    import os

    import dagster as dg

    if home is None:
        from assets.runner import run_ingest
        from pipelines.run.samples import write_samples

        home = scratch / "dagster_home"
        os.environ["DAGSTER_HOME"] = str(home)
        pdf = next(p for p in write_samples(scratch / "in") if p.suffix == ".pdf")
        result = run_ingest([pdf], scratch / "wh.duckdb")
        assert result.success, result.error
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(instance.all_logs(instance.get_runs()[0].run_id))


def store_all(cls, events: list, folder: Path) -> dict:
    from sqlalchemy import event as sa_event
    from sqlalchemy.engine import Engine

    counts = {"statements": 0, "commits": 0}

    def on_execute(*_args):
        counts["statements"] += 1

    def on_commit(*_args):
        counts["commits"] += 1

    storage = cls(str(folder))
    storage.get_asset_keys()  # the index exists before the run, as in a home
    run_id = str(uuid.uuid4())
    replayed = [e._replace(run_id=run_id) for e in events]
    sa_event.listen(Engine, "before_cursor_execute", on_execute)
    sa_event.listen(Engine, "commit", on_commit)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for e in replayed:
            storage.store_event(e)
        if hasattr(storage, "commit_burst"):
            storage.commit_burst()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        sa_event.remove(Engine, "before_cursor_execute", on_execute)
        sa_event.remove(Engine, "commit", on_commit)
        storage.dispose()
    return {"wall": wall, "cpu": cpu, **counts}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="a Dagster home whose latest run's events are replayed")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--also", type=Path, help="another checkout's assets/event_log.py, measured too")
    ap.add_argument("--no-dagster", action="store_true", help="leave Dagster's own SqliteEventLogStorage out")
    args = ap.parse_args()
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from assets import alembic_heads
    from assets.event_log import PooledSqliteEventLogStorage

    alembic_heads.install()  # as budgetwh's instances do: the alembic head is not what is measured
    scratch = Path(tempfile.mkdtemp(prefix="bench-event-log-"))
    try:
        events = run_events(args.home, scratch)
        print(f"{len(events)} events of one run")
        classes = {} if args.no_dagster else {"dagster": SqliteEventLogStorage}
        if args.also:
            import importlib.util

            spec = importlib.util.spec_from_file_location("other_event_log", args.also)
            other = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(other)
            classes["other"] = other.PooledSqliteEventLogStorage
        classes["budgetwh"] = PooledSqliteEventLogStorage
        results: dict[str, list[dict]] = {name: [] for name in classes}
        for i in range(args.repeat):
            for name, cls in classes.items():
                r = store_all(cls, events, scratch / f"{name}-{i}")
                results[name].append(r)
                print(f"  #{i + 1} {name:8s} {r['wall']:.3f} s ({r['cpu']:.3f} s CPU), "
                      f"{r['wall'] / len(events) * 1000:.2f} ms an event, {r['statements']} statements, "
                      f"{r['commits']} commits", flush=True)  # fmt: skip
        for name, runs in results.items():
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            print(f"{name:8s} median {wall:.3f} s ({cpu:.3f} s CPU): {wall / len(events) * 1000:.2f} ms an event")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
