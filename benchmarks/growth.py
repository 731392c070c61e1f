"""Growth benchmark: does ``budgetwh ingest`` stay flat per document as the corpus grows?

For every N of ``--sizes`` it renders a synthetic corpus of N documents with the project's own
sample generator (``pipelines.samples``: mostly PDFs, every ``--text-every``-th one a text
extraction), then runs the real command ``python -m pipelines.cli ingest <dir>`` in a subprocess
with ``BUDGETWH_WAREHOUSE`` and ``DAGSTER_HOME`` in a fresh temporary directory, and measures:

- wall seconds of the ingest process (generation is done before and is not counted),
  seconds per document and pages per second (pages as the warehouse's ``documents`` view counts them);
- peak memory of the ingest *process tree*: /proc is polled every ``--poll`` seconds and the RSS of
  the process and all its descendants (worker processes) is summed; the largest single process is
  reported too (its kernel high-water mark ``VmHWM``, so short peaks between polls are not missed);
- rows loaded: ``python -m pipelines.cli query "select count(*) from func_amounts" --format json``.

At the end it prints the ratios largest N ÷ smallest N of seconds per document and of peak memory:
near 1.0 means flat.

    .venv/bin/python benchmarks/growth.py                       # N = 100, 500, 2000
    .venv/bin/python benchmarks/growth.py --sizes 100,500 --workers 2 --json out.json
    nice -n 10 .venv/bin/python benchmarks/growth.py --sizes 2000 --cache /tmp/growth-corpus

Synthetic units are prefix-stable (``synthetic_units(n, seed)[:k] == synthetic_units(k, seed)``), so
``--cache`` renders the largest corpus once and every N uses its first N files (hard links).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.run.samples import render_pdf, render_text, sample_file_name, synthetic_units  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# ``budgetwh ingest`` with its worker processes never replaced: Python 3.11's ProcessPoolExecutor
# deadlocks once a worker exits at ``max_tasks_per_child`` while tasks are queued (CPython
# gh-115634). The shipped pool no longer recycles workers, so this is now the same as the plain
# command; kept so that older invocations still work.
INGEST_WITHOUT_RECYCLING = (
    "import sys; import pipelines.run.pool as pool; pool.DOCUMENTS_PER_WORKER = None; "
    "from pipelines.cli import main; sys.exit(main(sys.argv[1:]))"
)


# ---------------------------------------------------------------------------------------------
# Corpus


def corpus_names(n: int, seed: int, text_every: int) -> list[str]:
    units = synthetic_units(n, seed)
    return [sample_file_name(u, ".txt" if is_text(i, text_every) else ".pdf") for i, u in enumerate(units)]


def is_text(i: int, text_every: int) -> bool:
    return text_every > 0 and i % text_every == text_every - 1


def render_corpus(out: Path, n: int, seed: int, text_every: int) -> tuple[list[Path], float]:
    """The first ``n`` synthetic documents in ``out`` (files already there are kept). Returns the
    files and the seconds spent rendering."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    files = []
    for i, unit in enumerate(synthetic_units(n, seed)):
        text = is_text(i, text_every)
        path = out / sample_file_name(unit, ".txt" if text else ".pdf")
        if not path.exists():
            tmp = path.with_name(f".{path.name}.tmp")
            if text:
                tmp.write_text(render_text(unit), encoding="utf-8")
            else:
                render_pdf(unit, tmp)
            os.replace(tmp, path)
        files.append(path)
    return files, time.perf_counter() - started


def link_first(files: list[Path], n: int, out: Path) -> Path:
    """A folder holding (hard links to) the first ``n`` files."""
    out.mkdir(parents=True, exist_ok=True)
    for f in files[:n]:
        try:
            os.link(f, out / f.name)
        except OSError:
            shutil.copy2(f, out / f.name)
    return out


# ---------------------------------------------------------------------------------------------
# Memory of a process tree, from /proc


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces or parentheses: split after its last ')'
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Polls the RSS and CPU time of a process and its descendants until stopped."""

    def __init__(self, pid: int, interval: float):
        self.pid, self.interval = pid, interval
        self.peak_tree_kb = 0  # max over polls of Σ VmRSS of the tree
        self.peak_single_kb = 0  # max VmHWM (kernel high-water mark) of any process of the tree
        self.max_processes = 0
        self.pids: list[int] = [pid]
        self._ticks_mark = 0
        self.last_progress = time.monotonic()  # when the tree last used a further second of CPU
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        pids = process_tree(self.pid)
        self.pids = pids
        self.max_processes = max(self.max_processes, len(pids))
        self.peak_tree_kb = max(self.peak_tree_kb, sum(_status_kb(p, "VmRSS") for p in pids))
        self.peak_single_kb = max([self.peak_single_kb, *(_status_kb(p, "VmHWM") for p in pids)])
        ticks = sum(_cpu_ticks(p) for p in pids)
        if abs(ticks - self._ticks_mark) >= CLOCK_TICKS:  # (a worker's exit may lower the sum)
            self._ticks_mark = ticks
            self.last_progress = time.monotonic()

    def stalled_for(self) -> float:
        return time.monotonic() - self.last_progress

    def kill(self) -> None:
        for pid in process_tree(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# One measurement


@dataclass
class Result:
    n: int
    pdfs: int
    texts: int
    ingest_seconds: float  # wall clock of the ingest process, Python start-up included
    run_seconds: float | None  # what the ingest reports for its own run
    pages: int
    loaded: int
    quarantined: int
    func_amounts_rows: int
    peak_tree_mb: float
    peak_single_mb: float
    max_processes: int
    exit_code: int
    stalled: bool = False  # killed: the tree used no CPU for --stall seconds (a deadlock)
    rerun_seconds: float | None = None  # a second ingest of the same files (nothing new: the nightly no-op)

    @property
    def seconds_per_doc(self) -> float:
        return self.ingest_seconds / self.n

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.ingest_seconds if self.ingest_seconds else 0.0


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def query_json(sql: str, env: dict[str, str]) -> list[dict]:
    proc = cli(["query", sql, "--format", "json"], env)
    if proc.returncode != 0:
        raise RuntimeError(f"query failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def workers_supported() -> bool:
    proc = cli(["ingest", "--help"], dict(os.environ))
    return "--workers" in proc.stdout


@dataclass(frozen=True)
class Options:
    workers: int | None
    poll: float
    text_every: int
    rerun: bool
    stall: float
    no_recycling: bool


def run_ingest(corpus: Path, work: Path, opts: Options, log: Path) -> tuple[float, TreeMemory, int, bool]:
    """Wall seconds, memory monitor, exit code, and whether it was killed for making no progress."""
    env = {**os.environ, "BUDGETWH_WAREHOUSE": str(work / "warehouse.duckdb"), "DAGSTER_HOME": str(work / "dagster")}
    command = ["-c", INGEST_WITHOUT_RECYCLING] if opts.no_recycling else ["-m", "pipelines.cli"]
    argv = [sys.executable, *command, "ingest", str(corpus)]
    if opts.workers is not None:
        argv += ["--workers", str(opts.workers)]
    stalled = False
    with open(log, "w", encoding="utf-8") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        with TreeMemory(proc.pid, opts.poll) as memory:
            while True:
                try:
                    code = proc.wait(timeout=2)
                    break
                except subprocess.TimeoutExpired:
                    if memory.stalled_for() > opts.stall:
                        stalled = True
                        memory.kill()
        seconds = time.perf_counter() - started
    return seconds, memory, code, stalled


def measure(n: int, files: list[Path], base: Path, opts: Options) -> Result:
    work = base / f"n{n}"
    shutil.rmtree(work, ignore_errors=True)
    corpus = link_first(files, n, work / "inbox")
    log = work / "ingest.log"
    seconds, memory, code, stalled = run_ingest(corpus, work, opts, log)
    output = log.read_text(encoding="utf-8", errors="replace")
    parsed = len([d for d in (work / "warehouse.lake" / "docs").glob("[!.]*")])
    if stalled:
        print(
            f"N={n}: the ingest used no CPU for {opts.stall:.0f}s and was killed after {seconds:.0f}s, "
            f"{parsed} of {n} documents in the lake (a deadlock)",
            file=sys.stderr,
            flush=True,
        )
    elif code != 0:
        print(output[-3000:], file=sys.stderr)
    if code != 0:
        texts = sum(is_text(i, opts.text_every) for i in range(n))
        return Result(
            n=n, pdfs=n - texts, texts=texts, ingest_seconds=seconds, run_seconds=None, pages=0, loaded=parsed,
            quarantined=0, func_amounts_rows=0, peak_tree_mb=memory.peak_tree_kb / 1024,
            peak_single_mb=memory.peak_single_kb / 1024, max_processes=memory.max_processes, exit_code=code,
            stalled=stalled,
        )  # fmt: skip
    env = {**os.environ, "BUDGETWH_WAREHOUSE": str(work / "warehouse.duckdb"), "DAGSTER_HOME": str(work / "dagster")}
    rows = query_json("select count(*) as n from func_amounts", env)[0]["n"]
    docs = query_json(
        "select count(*) filter (where status = 'loaded') as loaded, "
        "count(*) filter (where status = 'quarantined') as quarantined, "
        "coalesce(sum(page_count), 0) as pages from documents",
        env,
    )[0]
    run_seconds = None
    for line in output.splitlines():
        if line.startswith("budgetwh ingest: run ") and " in " in line:
            run_seconds = float(line.split(" in ", 1)[1].split("s", 1)[0])
    rerun_seconds = run_ingest(corpus, work, opts, work / "rerun.log")[0] if opts.rerun else None
    texts = sum(is_text(i, opts.text_every) for i in range(n))
    return Result(
        n=n, pdfs=n - texts, texts=texts, ingest_seconds=seconds,
        run_seconds=run_seconds, pages=int(docs["pages"]), loaded=int(docs["loaded"]),
        quarantined=int(docs["quarantined"]), func_amounts_rows=int(rows),
        peak_tree_mb=memory.peak_tree_kb / 1024, peak_single_mb=memory.peak_single_kb / 1024,
        max_processes=memory.max_processes, exit_code=code, rerun_seconds=rerun_seconds,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Report


def print_result(r: Result) -> None:
    print(
        f"N={r.n:>5}  ({r.pdfs} PDF, {r.texts} text)\n"
        f"  ingest wall      {r.ingest_seconds:9.1f} s   (run itself {r.run_seconds or 0:.1f} s, exit {r.exit_code})\n"
        f"  per document     {r.seconds_per_doc:9.3f} s\n"
        f"  pages per second {r.pages_per_second:9.2f}     ({r.pages} pages)\n"
        f"  peak RSS, tree   {r.peak_tree_mb:9.0f} MB  (Σ over up to {r.max_processes} processes)\n"
        f"  peak RSS, single {r.peak_single_mb:9.0f} MB  (largest process, VmHWM)\n"
        f"  documents        {r.loaded} loaded, {r.quarantined} quarantined\n"
        f"  func_amounts     {r.func_amounts_rows:9d} rows"
        + (f"\n  re-run, no change {r.rerun_seconds:8.1f} s" if r.rerun_seconds is not None else ""),
        flush=True,
    )


def print_summary(results: list[Result]) -> None:
    print("\n   N │ wall s │  s/doc │ pages/s │ tree MB │ single MB │ func_amounts")
    print("─────┼────────┼────────┼─────────┼─────────┼───────────┼─────────────")
    for r in results:
        print(
            f"{r.n:>4} │ {r.ingest_seconds:6.1f} │ {r.seconds_per_doc:6.3f} │ {r.pages_per_second:7.2f} │ "
            f"{r.peak_tree_mb:7.0f} │ {r.peak_single_mb:9.0f} │ {r.func_amounts_rows:>12}"
        )
    ok = [r for r in results if r.exit_code == 0]
    for r in results:
        if r.exit_code != 0:
            print(f"N={r.n}: " + ("STALLED (killed, deadlock)" if r.stalled else f"FAILED (exit {r.exit_code})"))
    if len(ok) >= 2:
        small, large = min(ok, key=lambda r: r.n), max(ok, key=lambda r: r.n)
        print(
            f"\nratios N={large.n} ÷ N={small.n} (1.0 = flat):\n"
            f"  seconds per document   {large.seconds_per_doc / small.seconds_per_doc:.2f}\n"
            f"  peak RSS of the tree   {large.peak_tree_mb / small.peak_tree_mb:.2f}\n"
            f"  peak RSS, one process  {large.peak_single_mb / small.peak_single_mb:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100,500,2000", help="comma-separated corpus sizes (default 100,500,2000)")
    p.add_argument("--workers", type=int, default=None, help="passed to 'budgetwh ingest --workers' when it has it")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--text-every", type=int, default=10, help="every k-th document is a text extraction (0: none)")
    p.add_argument("--poll", type=float, default=0.2, help="seconds between memory samples")
    p.add_argument("--cache", help="folder to keep the rendered corpus in across runs (default: a temp dir)")
    p.add_argument("--work", help="folder for the warehouses (default: a temp dir, removed at the end)")
    p.add_argument("--rerun", action="store_true", help="also time a second ingest of the same files (a no-op)")
    p.add_argument(
        "--stall", type=float, default=300, help="kill an ingest whose processes use no CPU for this many seconds"
    )
    p.add_argument(
        "--no-worker-recycling",
        action="store_true",
        help="run the ingest with worker processes never replaced (works around CPython gh-115634 on 3.11)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dirs")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    workers = args.workers
    if workers is not None and not workers_supported():
        print("budgetwh ingest has no --workers option here: ignoring --workers", file=sys.stderr)
        workers = None
    opts = Options(workers, args.poll, args.text_every, args.rerun, args.stall, args.no_worker_recycling)
    base = Path(args.work or tempfile.mkdtemp(prefix="budgetwh-growth-"))
    cache = Path(args.cache) if args.cache else base / "corpus"
    print(f"growth benchmark: sizes {sizes}, workers {workers or 'default'}, cpus {os.cpu_count()}, work {base}")
    files, render_seconds = render_corpus(cache, max(sizes), args.seed, args.text_every)
    print(f"rendered {len(files)} documents in {render_seconds:.1f}s into {cache} (not counted)", flush=True)
    results = []
    try:
        for n in sizes:
            r = measure(n, files, base, opts)
            print_result(r)
            results.append(r)
            if not args.keep:
                shutil.rmtree(base / f"n{n}", ignore_errors=True)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(base, ignore_errors=True)
    print_summary(results)
    if args.json:
        payload = [{**asdict(r), "seconds_per_doc": r.seconds_per_doc, "pages_per_second": r.pages_per_second}
                   for r in results]  # fmt: skip
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
