"""One document into an empty warehouse: ``budgetwh ingest`` end to end against bare pdfplumber
(a script, not a timed test; issue 14, "small runs start fast").

For one PDF (default: a 21-page 单位预算 of the corpus), each repetition measures
  (a) bare pdfplumber: ``extract_tables()`` on every page, timed inside a fresh process (the
      issue's yardstick), and the same fresh process timed whole (interpreter and import included);
  (b) ``budgetwh ingest --warehouse <new dir>/wh.duckdb <pdf>``: the real command in a fresh process,
      a fresh warehouse and a fresh Dagster home, wall time of the command;
  (c) the Dagster events of that run (total, by type) and where its seconds went: process start →
      run created → parse started → parse ended → gate ended → run ended, from the events' times.
Prints each repetition and the medians; the ratio is bare seconds ÷ end-to-end seconds (goal ≥ 0.5).

    uv run --frozen python benchmarks/bench_small_run.py [--pdf PATH] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PDF = ROOT.parent / "shared" / "corpus" / "shanghai_putuo" / "上海市普陀区人民政府办公室单位25年预算.pdf"

_BARE = """
import sys, time
started = time.perf_counter()
import pdfplumber
imported = time.perf_counter()
with pdfplumber.open(sys.argv[1]) as pdf:
    for page in pdf.pages:
        page.extract_tables()
        page.flush_cache()
print(imported - started, time.perf_counter() - imported, len(pdf.pages))
"""


def bare_pdfplumber(pdf: Path) -> dict:
    """Seconds of ``extract_tables()`` over every page, in a fresh process, and of that process whole."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _BARE, str(pdf)], capture_output=True, text=True, check=True)
    whole = time.perf_counter() - started
    import_s, extract_s, pages = out.stdout.split()
    return {"extract_s": float(extract_s), "import_s": float(import_s), "process_s": whole, "pages": int(pages)}


def run_events(dagster_home: Path) -> tuple[str, list]:
    """The one run of a fresh Dagster home and its event records."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        if len(runs) != 1:
            raise RuntimeError(f"expected one run in {dagster_home}, found {len(runs)}")
        run = runs[0]
        return run.run_id, list(instance.all_logs(run.run_id))


def _first(events: list, kind: str, step: str | None = None) -> float | None:
    for e in events:
        if e.dagster_event and e.dagster_event.event_type_value == kind and (step is None or e.step_key == step):
            return e.timestamp
    return None


def phases(events: list, process_start: float) -> dict[str, float]:
    """Seconds between the run's landmarks (wall-clock times of the Dagster events)."""
    marks = {
        "process start": process_start,
        "run start": _first(events, "PIPELINE_START") or _first(events, "RUN_START"),
        "parse step start": _first(events, "STEP_START", "source_documents"),
        "parse step end": _first(events, "STEP_SUCCESS", "source_documents"),
        "publish step start": _first(events, "STEP_START", "fact_tables"),
        "publish step end": _first(events, "STEP_SUCCESS", "fact_tables"),
        "run end": _first(events, "PIPELINE_SUCCESS") or _first(events, "RUN_SUCCESS"),
        "last event": events[-1].timestamp if events else None,
    }
    names = [k for k, v in marks.items() if v is not None]
    return {f"{a} → {b}": marks[b] - marks[a] for a, b in itertools.pairwise(names)}


def end_to_end(pdf: Path, work: Path, repo: Path = ROOT) -> dict:
    """``budgetwh ingest`` of ``pdf`` into a warehouse in the empty folder ``work``, fresh process,
    with the code of ``repo`` (another checkout of the project, for a before/after comparison)."""
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "BUDGETWH_WAREHOUSE")}
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--warehouse", str(work / "wh.duckdb"), str(pdf)]
    started_wall = time.time()
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if "1 loaded" not in proc.stdout:
        raise RuntimeError(f"the document was not loaded:\n{proc.stdout}")
    run_id, events = run_events(work / "dagster_home")
    kinds = Counter(e.dagster_event.event_type_value if e.dagster_event else "LOG_MESSAGE" for e in events)
    messages = [e.user_message for e in events if e.dagster_event is None and e.user_message]
    return {"seconds": seconds, "run_id": run_id, "events": len(events), "kinds": dict(kinds),
            "phases": phases(events, started_wall), "messages": messages}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="keep each repetition's warehouse and Dagster home under this folder")
    ap.add_argument(
        "--repo", type=Path, default=ROOT, help="run the ingest with this checkout's code (default: this one)"
    )
    ap.add_argument("--json", action="store_true", help="print the medians as JSON too")
    args = ap.parse_args()
    pdf = args.pdf.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="bench-small-run-")) if args.keep is None else args.keep.resolve()
    bare, e2e = [], []
    try:
        for i in range(args.repeat):
            b = bare_pdfplumber(pdf)
            r = end_to_end(pdf, scratch / f"run{i}", args.repo.resolve())
            bare.append(b)
            e2e.append(r)
            print(
                f"#{i + 1}: bare pdfplumber {b['extract_s']:.2f} s ({b['process_s']:.2f} s as a process), "
                f"ingest {r['seconds']:.2f} s, ratio {b['extract_s'] / r['seconds']:.3f}, {r['events']} events",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    med = statistics.median
    bare_s = med(b["extract_s"] for b in bare)
    process_s = med(b["process_s"] for b in bare)
    e2e_s = med(r["seconds"] for r in e2e)
    print(f"\ndocument: {pdf.relative_to(ROOT.parent) if pdf.is_relative_to(ROOT.parent) else pdf} "
          f"({bare[0]['pages']} pages)")  # fmt: skip
    print(
        f"bare pdfplumber extract_tables(): {bare_s:.2f} s (median of {len(bare)}); as a fresh process {process_s:.2f} s"
    )
    print(f"budgetwh ingest end to end:        {e2e_s:.2f} s (median of {len(e2e)})")
    print(
        f"ratio (bare / end to end):         {bare_s / e2e_s:.3f}  (as processes: {process_s / e2e_s:.3f}; goal ≥ 0.5)"
    )
    print(f"Dagster events of the run:         {med(r['events'] for r in e2e):.0f}")
    typical = sorted(e2e, key=lambda r: r["seconds"])[len(e2e) // 2]
    print("  by type: " + ", ".join(f"{k} {v}" for k, v in sorted(typical["kinds"].items(), key=lambda kv: -kv[1])))
    print("phases of the median run (Dagster event times):")
    for name, s in typical["phases"].items():
        print(f"  {name:<45} {s:6.2f} s")
    print("the run's log lines:")
    for line in typical["messages"]:
        print(f"  {line[:150]}")
    if args.json:
        print(json.dumps({"bare_s": bare_s, "process_s": process_s, "end_to_end_s": e2e_s, "ratio": bare_s / e2e_s,
                          "events": typical["events"], "kinds": typical["kinds"]}, ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
