"""Safe publishing, with real processes: a reader querying in a loop from another process during an
ingest sees the old warehouse or the new one, never a mix and never an error; a `budgetwh ingest`
killed with SIGKILL at a point inside the run leaves the previous warehouse intact, and the next
run completes with exactly the result of an uninterrupted run, its leftovers cleaned up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from pipelines.run.samples import render_pdf, sample_file_name, synthetic_units, write_samples

ROOT = Path(__file__).resolve().parent.parent

STATE_SQL = (
    "select (select count(*) from documents where status = 'loaded') as docs, "
    "(select count(*) from func_amounts) as rows, (select sum(amount_yuan) from func_amounts) as total, "
    "(select value from warehouse_meta where key = 'lake_fingerprint') as fingerprint"
)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def budgetwh(*args: str, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(cli(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"budgetwh {args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def state(env: dict) -> dict:
    return json.loads(budgetwh("query", STATE_SQL, "--format", "json", env=env).stdout)[0]


def counts(s: dict) -> tuple:
    return s["docs"], s["rows"], s["total"]


def all_facts(env: dict) -> list[dict]:
    sql = "select * exclude (doc_id) from func_amounts order by all"
    return json.loads(budgetwh("query", sql, "--format", "json", env=env).stdout)


def make_env(tmp: Path, name: str) -> dict:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp / name / "dagster_home")
    env["BUDGETWH_WAREHOUSE"] = str(tmp / name / "wh" / "warehouse.duckdb")
    return env


def add_night_files(inbox: Path) -> None:
    """The next night's arrivals: two more units."""
    for unit in synthetic_units(4, seed=21)[2:]:
        render_pdf(unit, inbox / sample_file_name(unit, ".pdf"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted ingest of the same files: what every interrupted night must end with."""
    tmp = tmp_path_factory.mktemp("reference")
    inbox = tmp / "inbox"
    write_samples(inbox)
    add_night_files(inbox)
    env = make_env(tmp, "ref")
    budgetwh("ingest", str(inbox), env=env)
    return {"state": state(env), "facts": all_facts(env)}


_READER = r"""
import json, sys, time
from pathlib import Path
from pipelines.publish.warehouse import run_query
warehouse, sql, out, stop = sys.argv[1:5]
after_stop = 0
with open(out, "w") as f:
    for _ in range(20000):  # bounded: at most 20000 queries
        if Path(stop).exists():
            after_stop += 1
            if after_stop > 20:
                break
        t = time.time()
        try:
            cols, rows = run_query(Path(warehouse), sql)
            f.write(json.dumps({"t": t, "row": [str(v) for v in rows[0]]}) + "\n")
        except Exception as exc:
            f.write(json.dumps({"t": t, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        f.flush()
        time.sleep(0.005)
"""


def test_readers_see_the_old_or_the_new_warehouse_never_a_mix(tmp_path, reference):
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    env = make_env(tmp_path, "live")
    budgetwh("ingest", str(inbox), env=env)
    old = state(env)
    add_night_files(inbox)

    out, stop = tmp_path / "observations.jsonl", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, env["BUDGETWH_WAREHOUSE"], STATE_SQL, str(out), str(stop)], cwd=ROOT, env=env
    )
    try:
        while not out.exists() or not out.read_text():
            time.sleep(0.05)
        started = time.time()
        budgetwh("ingest", str(inbox), env=env)
        finished = time.time()
        stop.touch()
        reader.wait(timeout=120)
    finally:
        reader.kill()
    new = state(env)
    assert counts(new) == counts(reference["state"]) != counts(old)

    observations = [json.loads(line) for line in out.read_text().splitlines()]
    errors = [o["error"] for o in observations if "error" in o]
    assert errors == []
    seen = [tuple(o["row"]) for o in observations]
    as_row = {tuple(str(v) for v in s.values()): name for s, name in ((old, "old"), (new, "new"))}
    assert set(seen) <= set(as_row), f"a reader saw a state that is neither old nor new: {set(seen) - set(as_row)}"
    during = [as_row[tuple(o["row"])] for o in observations if started <= o["t"] <= finished]
    assert len(during) > 20  # the reader really queried while the ingest ran...
    assert {"old", "new"} <= set(as_row[s] for s in seen)  # ...and saw the swap


@pytest.mark.parametrize("point", ["lake.write:2", "tables.write", "publish.swap"])
def test_a_run_killed_inside_leaves_the_warehouse_intact_and_the_next_run_completes(tmp_path, reference, point):
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    env = make_env(tmp_path, "night")
    budgetwh("ingest", str(inbox), env=env)
    before, facts_before = state(env), all_facts(env)
    add_night_files(inbox)

    paused = tmp_path / "paused"
    # one parsing process, no per-document budget (so no supervised child): the points are counted,
    # and the pid recorded, in the process that is killed
    killed_env = {**env, "BUDGETWH_PAUSE_AT": point, "BUDGETWH_PAUSE_FILE": str(paused), "BUDGETWH_WORKERS": "1",
                  "BUDGETWH_DOC_TIMEOUT": "0", "BUDGETWH_DOC_MEMORY_MB": "0"}  # fmt: skip
    proc = subprocess.Popen(cli("ingest", str(inbox)), cwd=ROOT, env=killed_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.time() + 600
    while not paused.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert paused.exists(), f"the run never reached {point}: {proc.communicate()[0] if proc.poll() is not None else ''}"
    assert int(paused.read_text()) == proc.pid
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    # the previous warehouse is intact and answers
    assert state(env) == before and all_facts(env) == facts_before
    wh = Path(env["BUDGETWH_WAREHOUSE"])
    lake = wh.with_name("warehouse.lake")
    # a pid-tagged temporary file, or the validated candidate that was about to be swapped in
    leftovers = [p.name for p in (*wh.parent.iterdir(), *(lake / "docs").iterdir(), *(lake / "tables").iterdir())
                 if p.name.startswith(".") and (f".pid{proc.pid}." in p.name or p.name.endswith(".candidate"))]  # fmt: skip
    assert leftovers, "the kill left no temporary file: it did not happen inside a write"
    if point == "tables.write":
        assert not (lake / "tables" / "_fingerprint.json").exists()  # half-written tables are not trusted

    # the next night completes, and ends exactly as an uninterrupted run
    run = budgetwh("ingest", str(inbox), env=env)
    assert "succeeded" in run.stdout
    assert state(env)["docs"] == reference["state"]["docs"] == 4
    assert all_facts(env) == reference["facts"]
    for folder in (wh.parent, lake / "docs", lake / "tables"):
        stale = [p.name for p in folder.iterdir()
                 if p.name.startswith(".") and (f".pid{proc.pid}." in p.name or p.name.endswith(".candidate"))]  # fmt: skip
        assert stale == [], f"leftovers of the killed run in {folder}: {stale}"

    # the killed run does not stay 'in progress' in the Dagster instance
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    killed = [r for r in instance.get_runs() if r.tags.get("budgetwh/pid") == str(proc.pid)]
    assert [r.status for r in killed] == [dg.DagsterRunStatus.FAILURE]


def test_two_ingests_at_once_end_as_one(tmp_path, reference):
    """The daemon's nightly run and a person's `budgetwh ingest` may overlap: both succeed, and the
    warehouse ends exactly as after one uninterrupted run (locks around the registry and the
    publish; atomic replacement of each document's result)."""
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    add_night_files(inbox)
    env = make_env(tmp_path, "twice")
    pipe = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    procs = [subprocess.Popen(cli("ingest", str(inbox)), cwd=ROOT, env=env, **pipe) for _ in range(2)]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert counts(state(env)) == counts(reference["state"])
    assert all_facts(env) == reference["facts"]
    # a third run finds everything current
    assert "documents: 0 loaded, 4 unchanged, 0 quarantined" in budgetwh("ingest", str(inbox), env=env).stdout


def test_a_candidate_of_a_run_whose_id_is_all_digits_is_not_taken_for_a_dead_writer(tmp_path):
    """A run id starting with eight decimal digits (about 2% of them) once named a candidate that an
    overlapping run deleted as the leftover of a dead process. Only the ``pid`` marker names a writer."""
    from pipelines.publish.lake import is_stale_temp
    from pipelines.publish.warehouse import candidate_path, candidate_run, remove_stale_builds

    wh = tmp_path / "warehouse.duckdb"
    candidate = candidate_path(wh, "27873125")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = wh.with_name(f".warehouse.duckdb.pid{int(dead.stdout)}.building")
    for p in (candidate, leftover):
        p.write_bytes(b"x")
    assert candidate_run(candidate) == "27873125"
    assert not is_stale_temp(candidate)
    assert remove_stale_builds(wh) == [leftover]
    assert candidate.exists() and not leftover.exists()


def test_a_candidate_built_before_the_published_warehouse_is_not_swapped_over_it(tmp_path, monkeypatch):
    """Two overlapping runs: the one whose candidate was built first may finish validating last. Its
    swap must not replace the warehouse the other run published from the lake as it is now."""
    import duckdb

    from assets.runner import run_ingest
    from pipelines.publish.combine import build_tables
    from pipelines.publish.lake import Lake
    from pipelines.publish.warehouse import build_candidate, is_current, promote

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    write_samples(tmp_path / "in")
    wh = tmp_path / "wh" / "warehouse.duckdb"
    assert run_ingest([tmp_path / "in"], wh).success
    lake = Lake(wh.with_name("warehouse.lake"))
    documents = sorted(d["doc_id"] for d in lake.documents())

    build_tables(lake)
    older = build_candidate(lake, wh, "older")  # this run's candidate, then validated slowly
    removed = documents[0]
    with lake.registry_lock():
        lake.save_registry({k: e for k, e in lake.registry().items() if e.doc_id != removed})
    lake.remove(removed)  # meanwhile the lake changes, and another run publishes it
    build_tables(lake)
    assert promote(build_candidate(lake, wh, "newer"), wh, lake)
    assert is_current(lake, wh)

    assert not promote(older, wh, lake)  # stale: removed, the current warehouse stays
    assert not older.exists()
    assert is_current(lake, wh)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert sorted(r[0] for r in con.execute("SELECT doc_id FROM documents").fetchall()) == documents[1:]
    finally:
        con.close()
