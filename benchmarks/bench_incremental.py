"""Incremental publish benchmark: one new document into warehouses of N synthetic documents.

For every N of ``--sizes`` (0: an empty warehouse) it makes a warehouse of N documents and then
times the real command ``python -m pipelines.cli ingest --warehouse W <folder with one new
document>`` in a subprocess: wall seconds (Python start-up included), peak RSS of the process tree
(polled, ``growth.TreeMemory``) and the largest process's high-water mark, and the ratio of each to
N = 0. The new document is the same synthetic PDF at every N.

The N documents are not parsed one by one (that is ``growth.py``'s job and takes ~0.3 s each):
``--templates`` synthetic documents of the project's sample generator are parsed once by the real
command, and the N documents are clones of their lake entries under new doc_ids and unit names
(every Parquet file rewritten, the registry filled in), published once with a full rebuild
(``combine.build_tables`` + ``warehouse.build_candidate`` + ``promote``). The one-document ingest
then publishes incrementally (``pipelines/publish/incremental.py``); ``--full-rebuild`` measures
the old path for comparison.

    .venv/bin/python benchmarks/bench_incremental.py                         # N = 0, 100, 500, 2000
    .venv/bin/python benchmarks/bench_incremental.py --sizes 0,2000 --full-rebuild
    .venv/bin/python benchmarks/bench_incremental.py --work /tmp/bench --repo /tmp/main-checkout --rounds 2

``--work`` keeps the base warehouses (reused by the next run: a base of 42,000 documents, ~10 M
function rows, takes ~15 min to build); ``--repo`` times another checkout's code on the same
bases, alternating with this one's (before/after pairs on a shared machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import polars as pl  # noqa: E402
from growth import TreeMemory  # noqa: E402

import pipelines.publish.warehouse as warehouse_module  # noqa: E402
from pipelines.publish.combine import build_tables  # noqa: E402
from pipelines.publish.lake import Lake, SourceEntry, lake_dir_for, partition_key_for  # noqa: E402
from pipelines.publish.lake_index import JOURNAL_NAME  # noqa: E402
from pipelines.publish.standby import standby_path  # noqa: E402
from pipelines.publish.warehouse import build_candidate, promote  # noqa: E402
from pipelines.run.samples import render_pdf, sample_file_name, synthetic_units  # noqa: E402


def ingest(
    warehouse: Path, folder: Path, *extra: str, poll: float = 0.2, repo: Path = ROOT
) -> tuple[float, float, float, str, float]:
    """Seconds, peak tree RSS MB, largest process MB, output and CPU seconds of one ``budgetwh ingest`` (with the
    code of ``repo``: another checkout of the project, for a before/after comparison)."""
    env = {**os.environ, "DAGSTER_HOME": str(warehouse.parent / "dagster")}
    argv = [sys.executable, "-m", "pipelines.cli", "ingest", "--warehouse", str(warehouse), *extra, str(folder)]
    log = warehouse.parent / f"ingest-{time.monotonic_ns()}.log"
    with open(log, "w", encoding="utf-8") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with TreeMemory(proc.pid, poll) as memory:
            code = proc.wait()
        seconds = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log.read_text(encoding="utf-8")
    if code != 0:
        raise RuntimeError(f"ingest failed ({code}):\n{text[-3000:]}")
    # CPU seconds of the ingest and every process it waited for (parse workers, the gate's
    # process): on a shared machine they vary far less than the wall time
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    return seconds, memory.peak_tree_kb / 1024, memory.peak_single_kb / 1024, text, cpu


def template_lake(work: Path, templates: int, seed: int) -> Lake:
    """``templates`` synthetic PDFs parsed by the real command."""
    inbox = work / "template-inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for unit in synthetic_units(templates, seed):
        _render_once(unit, inbox / sample_file_name(unit, ".pdf"))
    warehouse = work / "template" / "warehouse.duckdb"
    lake = Lake(lake_dir_for(warehouse))
    if warehouse.exists() and len(lake.documents()) >= templates:
        # parsed by an earlier run (--work): not ingested again, which would write its DuckDB
        # standby, Dagster's run storage and the journal in place (a work folder copied by hard
        # links shares them with its source)
        return lake
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    ingest(warehouse, inbox)
    return lake


def _render_once(unit, path: Path) -> None:
    """A synthetic PDF, written only when missing, as a new file renamed into place: the generator's
    bytes differ from one rendering to the next (a time stamp), and a work folder copied by hard
    links must not have its files rewritten in place (nor the new document change between runs)."""
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.pid{os.getpid()}.tmp")
    render_pdf(unit, tmp)
    os.replace(tmp, path)


def clone_lake(template: Lake, lake: Lake, n: int) -> None:
    """``n`` documents cloned from the template's, each under its own doc_id, path and unit name."""
    sources = [d for d in template.documents() if d.get("status") == "loaded"]
    frames = {d["doc_id"]: {p.stem: pl.read_parquet(p) for p in template.doc_dir(d["doc_id"]).glob("*.parquet")}
              for d in sources}  # fmt: skip
    registry = {}
    lake.docs.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        doc = dict(sources[i % len(sources)])
        old = doc["doc_id"]
        sha = hashlib.sha256(f"bench-incremental-{i}".encode()).hexdigest()
        new = sha[:16]
        suffix = f"第{i + 1}所"
        doc.update(doc_id=new, sha256=sha, unit_name=f"{doc['unit_name']}{suffix}",
                   source_file=f"/bench/inbox/{new}.pdf")  # fmt: skip
        folder = lake.doc_dir(new)
        folder.mkdir()
        for table, frame in frames[old].items():
            cols = [
                pl.col(c).str.replace_all(old, new, literal=True)
                for c in ("doc_id", "project_id")
                if c in frame.columns
            ]
            if "member_unit_name" in frame.columns:
                cols.append(pl.col("member_unit_name") + suffix)
            frame.with_columns(cols).write_parquet(folder / f"{table}.parquet")
        (folder / "document.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        registry[doc["source_file"]] = SourceEntry(
            doc["source_file"], sha, new, partition_key_for(Path(doc["source_file"]), sha), 0, 0.0,
            doc.get("registered_at") or "",
        )  # fmt: skip
    lake.save_registry(registry)


BASE_MEMORY_LIMIT = "4GB"


def base_warehouse(work: Path, template: Lake, n: int) -> Path:
    warehouse = work / f"n{n}" / "warehouse.duckdb"
    if (warehouse.parent / "complete").exists():  # built by an earlier run of the benchmark (--work)
        return warehouse
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    warehouse.parent.mkdir(parents=True)
    if n:
        lake = Lake(lake_dir_for(warehouse))
        clone_lake(template, lake, n)
        build_tables(lake, force=True)
        # the base's full build (not what is measured) counts every view of 10 M rows: under the
        # publish path's 64 MB cap that spills for most of an hour, so it gets more memory
        limit, warehouse_module.BUILD_MEMORY_LIMIT = warehouse_module.BUILD_MEMORY_LIMIT, BASE_MEMORY_LIMIT
        try:
            promote(build_candidate(lake, warehouse, "bench"), warehouse, lake)
        finally:
            warehouse_module.BUILD_MEMORY_LIMIT = limit
    (warehouse.parent / "complete").touch()
    return warehouse


def settle_base(base: Path) -> None:
    """Bring a base to the state this code keeps a warehouse in between runs, as a warehouse has it
    after its first run of this code, so that a measured run pays what a user's second run pays:
    the registry taken over from earlier code's JSON (``lake_registry.py``; the JSON is kept for
    another checkout's runs, ``--repo``), the summaries index with its journal position
    (``lake_index.py``), the derivation kept in lake/tables (``derive.py``), and the published
    file's record of it (``warehouse_meta.derivation_token``, written only when the published derived
    tables are the derivation's: then a run compares its new tables with the kept ones instead of
    reading the published file's). Only new files are written, renamed into place (the DuckDB file
    too: a copy, changed, renamed): working copies made by hard links, and the base's own source
    when it is a hard-linked copy, are not affected. Not timed."""
    from pipelines.publish.combine import _fingerprint_record, tables_dir
    from pipelines.publish.derive import DERIVATION_TOKEN_KEY, derivation_files, derive, load_derivation
    from pipelines.publish.lake import atomic_write_text, derivation_fingerprint

    lake = Lake(lake_dir_for(base))
    if not lake.docs.exists():
        return
    with lake.registry_lock():
        lake.registry_store().take_over(keep_legacy=True)
    lake.summaries()
    derivation = derive(lake, load_derivation(lake))
    if derivation.how != "unchanged":
        out = tables_dir(lake)
        for name, frame in derivation_files(derivation).items():
            tmp = out / f".{name}.settle.parquet"
            frame.write_parquet(tmp)
            os.replace(tmp, out / f"{name}.parquet")
        record = {**(_fingerprint_record(lake) or {}), "derivation": derivation_fingerprint()}
        atomic_write_text(out / "_fingerprint.json", json.dumps(record))
    _record_derivation_token(base, derivation, DERIVATION_TOKEN_KEY)


def _record_derivation_token(base: Path, derivation, key: str) -> None:
    import duckdb

    token = derivation.token()
    con = duckdb.connect(str(base), read_only=True)
    try:
        if dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall()).get(key) == token:
            return
        for name, frame in derivation.frames.items():  # compared in the table's own column types
            con.register("kept_frame", frame.to_arrow())
            con.execute(f"CREATE OR REPLACE TEMP TABLE kept AS SELECT * FROM {name} LIMIT 0")
            con.execute("INSERT INTO kept BY NAME SELECT * FROM kept_frame")
            differ = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {name} EXCEPT ALL SELECT * FROM kept)) "
                f"+ (SELECT count(*) FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM {name}))"
            ).fetchone()[0]
            con.unregister("kept_frame")
            if differ:
                print(f"[the published {name} is not the kept derivation's ({differ} rows differ): no token recorded]")
                return
    finally:
        con.close()
    tmp = base.with_name(f".{base.name}.settle.tmp")
    shutil.copyfile(base, tmp)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("DELETE FROM warehouse_meta WHERE key = ?", [key])
        con.execute("INSERT INTO warehouse_meta VALUES (?, ?)", [key, token])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, base)


def working_copy(base: Path, into: Path, standby: bool = True) -> Path:
    """A copy of a base warehouse to ingest into: the DuckDB file copied, the lake hard-linked
    (every lake write is a new file renamed into place, so the base's files are never changed);
    a base of 40,000 documents is then reused instead of being built again for every run.
    ``standby``: a second copy as the previous version (``pipelines/publish/standby.py``), as a
    warehouse has it after its first incremental run; without it the run copies the file."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    if base.exists():
        shutil.copyfile(base, into / base.name)
        if standby:
            shutil.copyfile(base, standby_path(into / base.name))
    lake = lake_dir_for(base)
    if lake.exists():
        shutil.copytree(lake, lake_dir_for(into / base.name), copy_function=_link_or_copy)
    # on disk, as a warehouse is between two runs: the copies' 2 GB of dirty pages would otherwise
    # be written back by the run's first fsync (its checkpoint: 0.41 s in place of 0.07 s at 42,000)
    os.sync()
    return into / base.name


def _link_or_copy(src: str, dst: str) -> None:
    """Lake files are linked (every write of one is a new file renamed into place), except the
    journal of changed documents, which is appended to in place (``lake_index.py``)."""
    if Path(src).name == JOURNAL_NAME:
        shutil.copy2(src, dst)
    else:
        os.link(src, dst)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,100,500,2000")
    ap.add_argument("--templates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--full-rebuild", action="store_true", help="publish the one document with a full rebuild")
    ap.add_argument(
        "--work", type=Path, help="working folder, kept: its base warehouses are reused (default: temporary)"
    )
    ap.add_argument(
        "--repo", type=Path, action="append", default=[],
        help="also time the ingest with this checkout's code (e.g. the main branch's), alternating with this one's",
    )  # fmt: skip
    ap.add_argument("--rounds", type=int, default=1, help="runs per N and checkout, alternated")
    ap.add_argument(
        "--no-standby", action="store_true", help="no previous version beside the warehouse: the run copies the file"
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    repos = [ROOT, *(r.resolve() for r in args.repo)]
    try:
        template = template_lake(work, args.templates, args.seed)
        # the new document: a synthetic unit the templates do not hold
        one = synthetic_units(args.templates + 1, args.seed)[-1]
        folder = work / "one"
        folder.mkdir(exist_ok=True)
        _render_once(one, folder / sample_file_name(one, ".pdf"))
        extra = ("--full-rebuild",) if args.full_rebuild else ()
        rows = []
        for n in sizes:
            base = base_warehouse(work, template, n)
            started = time.perf_counter()
            settle_base(base)
            print(f"[settled the base of N={n} for this code in {time.perf_counter() - started:.1f} s]", flush=True)
            for round_no in range(args.rounds):
                for repo in repos:
                    warehouse = working_copy(base, work / "run" / f"n{n}", standby=not args.no_standby)
                    seconds, tree, single, text, cpu = ingest(warehouse, folder, *extra, repo=repo)
                    mode = "full" if args.full_rebuild or not n else "incremental"
                    label = "this" if repo == ROOT else repo.name
                    rows.append((label, n, seconds, tree, single, mode, cpu))
                    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {label} N={n} #{round_no + 1}: "
                          f"{seconds:.1f} s, CPU {cpu:.1f} s, tree {tree:.0f} MB, largest {single:.0f} MB ({mode})", flush=True)  # fmt: skip
                    print(
                        "   " + next((ln for ln in text.splitlines() if ln.startswith("rows:")), "")[:150], flush=True
                    )
            if not args.work:
                shutil.rmtree(base.parent, ignore_errors=True)
        print(
            "\n| code | N | seconds | ÷ N=0 | CPU s | ÷ N=0 | peak RSS, tree | ÷ N=0 | largest process | ÷ N=0 | publish |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for label, n, seconds, tree, single, mode, cpu in rows:
            zero = [r for r in rows if r[0] == label and r[1] == 0] or [r for r in rows if r[0] == label]
            t0, m0, c0 = min(r[2] for r in zero), min(r[3] for r in zero), min(r[6] for r in zero)
            s0 = min(r[4] for r in zero)
            print(f"| {label} | {n:,} | {seconds:.1f} | {seconds / t0:.2f} | {cpu:.1f} | {cpu / c0:.2f} | "
                  f"{tree:.0f} MB | {tree / m0:.2f} | {single:.0f} MB | {single / s0:.2f} | {mode} |")  # fmt: skip
        shutil.rmtree(work / "run", ignore_errors=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
