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

Several documents (``--pdf`` repeated, or ``--set sizes``: 12 to 64 pages, the largest national
budget among them) give one line each and the fixed cost of a run (the intercept of end-to-end
seconds against bare seconds). ``--home fresh`` gives every run a new Dagster home beside its new
warehouse (the default of ``budgetwh ingest`` for a new warehouse folder); ``--home shared`` runs
every document into a new warehouse with one Dagster home, created before the timed runs (as a
user's runs share ``$DAGSTER_HOME``); ``--home both`` measures both.

``--server`` also measures each run through a warm ``budgetwh serve`` (assets/serve.py): a server
is started once, untimed, on a socket of its own, and each served repetition times the same
``budgetwh ingest`` command (now a client) into a new warehouse; cold and served runs alternate.
Its CPU seconds are the client's plus the run's fork (a child the server waits for); the gate's
process is not in them. "all CPU s" adds every process under the server (the gate's process and
its helper, the parse workers' fork server: their own and their reaped children's CPU, before and
after the run), a figure the machine's load does not inflate as it does wall time; in process it
is the command's CPU with the processes it waited for. ``--server-only`` measures served runs alone.

    uv run --frozen python benchmarks/bench_small_run.py [--pdf PATH ...|--set sizes] [--repeat 3]
        [--home fresh|shared|both] [--server|--server-only] [--keep DIR] [--repo /work/main]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_PDF = CORPUS / "shanghai_putuo" / "上海市普陀区人民政府办公室单位25年预算.pdf"
SETS = {
    "sizes": [
        CORPUS / "jiangsu_province" / "江苏省委办公厅" / "江苏省委办公厅2019年度部门预算公开表格.pdf",  # 12 pages
        DEFAULT_PDF,  # 21 pages
        CORPUS / "national" / "chongqing" / "重庆市水利局2026年部门预算.pdf",  # 33 pages
        CORPUS / "national" / "xian" / "西安市人力资源和社会保障局2020年部门综合预算.pdf",  # 64 pages
    ]
}

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


def run_events(dagster_home: Path, runs_expected: int | None = 1) -> tuple[str, list]:
    """The latest run of a Dagster home (its only one when ``runs_expected`` is 1) and its events."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()  # newest first
        if runs_expected is not None and len(runs) != runs_expected:
            raise RuntimeError(f"expected {runs_expected} run(s) in {dagster_home}, found {len(runs)}")
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


def _children_cpu(pid: int | None) -> float:
    """CPU seconds of the children ``pid`` has waited for (``/proc/<pid>/stat`` cutime + cstime)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int | None) -> float:
    """CPU seconds of ``pid`` and every process under it, each with the children it reaped
    (``/proc/<pid>/stat`` utime + stime + cutime + cstime): a process that ends moves its CPU to
    its parent's count, so the sum stays whole."""
    if pid is None:
        return 0.0
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        child = int(stat.parent.name)
        parent[child], ticks[child] = int(fields[1]), sum(int(f) for f in fields[11:15])
    tree, changed = {pid}, True
    while changed:
        grown = tree | {c for c, p in parent.items() if p in tree}
        changed, tree = grown != tree, grown
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


class Server:
    """A ``budgetwh serve`` of ``repo`` on a socket of its own, started (and warmed) untimed."""

    def __init__(self, repo: Path, scratch: Path) -> None:
        self.socket = scratch / "serve.sock"
        env = {**os.environ, "BUDGETWH_SERVER_SOCKET": str(self.socket)}
        self.log = open(scratch / "serve.log", "w")  # noqa: SIM115  (open while the server runs)
        started = time.perf_counter()
        command = [sys.executable, "-m", "pipelines.cli", "serve"]
        self.proc = subprocess.Popen(command, cwd=repo, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        while self.status() is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"budgetwh serve exited: {(scratch / 'serve.log').read_text()}")
            time.sleep(0.2)
        print(f"budgetwh serve ready in {time.perf_counter() - started:.1f} s (untimed)", flush=True)

    def status(self) -> dict | None:
        from pipelines.run.serve_client import ask_server

        return ask_server("status", self.socket, timeout=5)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        self.log.close()


def end_to_end(
    pdf: Path, work: Path, repo: Path = ROOT, shared_home: Path | None = None, server: Server | None = None
) -> dict:
    """``budgetwh ingest`` of ``pdf`` into a warehouse in the empty folder ``work``, fresh process,
    with the code of ``repo`` (another checkout of the project, for a before/after comparison);
    its Dagster home beside the warehouse (new), or ``shared_home`` (one home for every run). With
    ``server`` the command is a client of that server (else it runs in process)."""
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "BUDGETWH_WAREHOUSE")}
    env["BUDGETWH_SERVER"] = "0" if server is None else "1"
    if server is not None:
        env["BUDGETWH_SERVER_SOCKET"] = str(server.socket)
        served_before = server.status()["served"]
    if shared_home is not None:
        env["DAGSTER_HOME"] = str(shared_home)
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--warehouse", str(work / "wh.duckdb"), str(pdf)]
    started_wall = time.time()
    server_pid = server.proc.pid if server is not None else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_served = _children_cpu(server_pid)
    before_tree = _tree_cpu(server_pid)
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the command and the processes it waited for (the gate's process and its helper); the
    # parse workers are children of the fork server, which nobody waits for: their CPU is not in it
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    all_cpu = cpu
    if server is not None:  # the run's fork, reaped by the server (a moment after the client ends)
        time.sleep(0.2)
        all_cpu += _tree_cpu(server_pid) - before_tree  # with the gate's processes and the parse workers
        cpu += _children_cpu(server_pid) - before_served
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if server is not None and server.status()["served"] != served_before + 1:
        raise RuntimeError(f"the server did not run the ingest:\n{proc.stdout}\n{proc.stderr}")
    if "1 loaded" not in proc.stdout:
        raise RuntimeError(f"the document was not loaded:\n{proc.stdout}")
    if shared_home is None:
        run_id, events = run_events(work / "dagster_home")
    else:
        run_id, events = run_events(shared_home, runs_expected=None)
    kinds = Counter(e.dagster_event.event_type_value if e.dagster_event else "LOG_MESSAGE" for e in events)
    messages = [e.user_message for e in events if e.dagster_event is None and e.user_message]
    return {"seconds": seconds, "cpu_s": cpu, "all_cpu_s": all_cpu, "run_id": run_id, "events": len(events), "kinds": dict(kinds),
            "phases": phases(events, started_wall), "messages": messages}  # fmt: skip


def _fixed_cost(points: list[tuple[float, float]]) -> str:
    """The intercept and slope of end-to-end seconds against bare seconds (least squares)."""
    if len({b for b, _ in points}) < 2:
        return "(one document: no fit)"
    n = len(points)
    mb, me = sum(b for b, _ in points) / n, sum(e for _, e in points) / n
    slope = sum((b - mb) * (e - me) for b, e in points) / sum((b - mb) ** 2 for b, _ in points)
    return f"{me - slope * mb:.2f} s fixed + {slope:.2f} × bare pdfplumber seconds"


def measure(pdf: Path, args, scratch: Path, home: str, shared_home: Path | None, server: Server | None) -> list[dict]:
    """Per mode (cold: in process; served: through ``server``), the medians of ``--repeat`` runs;
    the modes alternate repetition by repetition, so that a change of load affects both alike."""
    med = statistics.median
    modes = (["cold"] if not args.server_only else []) + (["served"] if server is not None else [])
    bare: list[dict] = []
    e2e: dict[str, list[dict]] = {m: [] for m in modes}
    for i in range(args.repeat):
        b = bare_pdfplumber(pdf)
        bare.append(b)
        for mode in modes:
            r = end_to_end(pdf, scratch / f"{pdf.stem}-{home}-{mode}-{i}", args.repo.resolve(), shared_home,
                           server if mode == "served" else None)  # fmt: skip
            e2e[mode].append(r)
            print(
                f"  #{i + 1} ({home} home, {mode}): bare pdfplumber {b['extract_s']:.2f} s ({b['process_s']:.2f} s as a process), "
                f"ingest {r['seconds']:.2f} s ({r['cpu_s']:.2f} s CPU, {r['all_cpu_s']:.2f} s all processes), ratio {b['extract_s'] / r['seconds']:.3f}, {r['events']} events",
                flush=True,
            )
    out = []
    for mode, runs in e2e.items():
        typical = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        out.append({"pdf": pdf, "home": home, "mode": mode, "pages": bare[0]["pages"], "bare_s": med(b["extract_s"] for b in bare),
                    "process_s": med(b["process_s"] for b in bare), "end_to_end_s": med(r["seconds"] for r in runs),
                    "cpu_s": med(r["cpu_s"] for r in runs), "all_cpu_s": med(r["all_cpu_s"] for r in runs),
                    "typical": typical})  # fmt: skip
    return out


def _name(pdf: Path) -> str:
    return str(pdf.relative_to(ROOT.parent)) if pdf.is_relative_to(ROOT.parent) else str(pdf)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf", type=Path, action="append", help="a document (repeat for several)")
    ap.add_argument("--set", choices=sorted(SETS), help="a named set of documents of different sizes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--home", choices=("fresh", "shared", "both"), default="fresh")
    ap.add_argument("--keep", type=Path, help="keep each repetition's warehouse and Dagster home under this folder")
    ap.add_argument(
        "--repo", type=Path, default=ROOT, help="run the ingest with this checkout's code (default: this one)"
    )
    ap.add_argument("--json", action="store_true", help="print the medians as JSON too")
    ap.add_argument("--server", action="store_true", help="also time each run through a warm budgetwh serve")
    ap.add_argument("--server-only", action="store_true", help="time runs through a warm budgetwh serve only")
    args = ap.parse_args()
    args.server = args.server or args.server_only
    pdfs = [p.resolve() for p in (args.pdf or [])] + [p.resolve() for p in SETS.get(args.set, [])]
    pdfs = pdfs or [DEFAULT_PDF]
    homes = ["fresh", "shared"] if args.home == "both" else [args.home]
    scratch = Path(tempfile.mkdtemp(prefix="bench-small-run-")) if args.keep is None else args.keep.resolve()
    results = []
    server = None
    try:
        if args.server:
            server = Server(args.repo.resolve(), scratch)
        shared_home = None
        if "shared" in homes:  # created (and used once) before the timed runs, as a user's home is
            shared_home = scratch / "shared_dagster_home"
            end_to_end(pdfs[0], scratch / "warm-up", args.repo.resolve(), shared_home)
        for pdf in pdfs:
            print(f"{_name(pdf)}", flush=True)
            for home in homes:
                results += measure(pdf, args, scratch, home, shared_home if home == "shared" else None, server)
    finally:
        if server is not None:
            server.stop()
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"\n{'document':<70} {'pages':>5} {'home':>6} {'mode':>6} {'bare s':>7} {'ingest s':>8} {'CPU s':>6} {'all CPU s':>9} {'ratio':>6}"
    )
    for r in results:
        print(f"{_name(r['pdf'])[-70:]:<70} {r['pages']:>5} {r['home']:>6} {r['mode']:>6} {r['bare_s']:>7.2f} "
              f"{r['end_to_end_s']:>8.2f} {r['cpu_s']:>6.2f} {r['all_cpu_s']:>9.2f} {r['bare_s'] / r['end_to_end_s']:>6.3f}")  # fmt: skip
    for home in homes:
        for mode in sorted({r["mode"] for r in results}):
            points = [(r["bare_s"], r["end_to_end_s"]) for r in results if r["home"] == home and r["mode"] == mode]
            print(f"fixed cost of a run ({home} home, {mode}): {_fixed_cost(points)}")
    typical = results[0]["typical"]
    print(
        f"\nthe first document's median run ({results[0]['home']} home, {results[0]['mode']}): {typical['events']} Dagster events"
    )
    print("  by type: " + ", ".join(f"{k} {v}" for k, v in sorted(typical["kinds"].items(), key=lambda kv: -kv[1])))
    print("  phases (Dagster event times):")
    for name, s in typical["phases"].items():
        print(f"    {name:<45} {s:6.2f} s")
    print("  the run's log lines:")
    for line in typical["messages"]:
        print(f"    {line[:150]}")
    if args.json:
        print(json.dumps([{"pdf": _name(r["pdf"]), "home": r["home"], "mode": r["mode"], "pages": r["pages"], "bare_s": r["bare_s"],
                           "process_s": r["process_s"], "end_to_end_s": r["end_to_end_s"], "cpu_s": r["cpu_s"], "all_cpu_s": r["all_cpu_s"],
                           "ratio": r["bare_s"] / r["end_to_end_s"], "events": r["typical"]["events"]}
                          for r in results], ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
