"""Speed of budgetwh against bare pdfplumber on the real corpus (a script, not a timed test).

Measures, in one run over the PDFs of ../shared/corpus:
  (a) bare pdfplumber: open every PDF and call ``extract_tables()`` on every page (one process);
  (b) ``budgetwh ingest`` end to end into a fresh warehouse through the real Dagster job (wall
      time of the command, startup included), with its peak memory over the process tree;
  (c) a second ingest with nothing new (no-op), relative to the first;
  (d) the parse stage (the ``source_documents`` step) with 1 worker process and with 2;
  and how page triage split the pages between pdfium and pdfplumber.

    uv run python benchmarks/bench_corpus.py [--corpus ../shared/corpus] [--repo /work/main] [--two-workers-only]

``--repo`` runs the ingest with another checkout's code (before/after pairs run alternately);
``--two-workers-only`` leaves out (d)'s one-worker ingest (a minute less).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def corpus_pdfs(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*.pdf") if not p.name.startswith("."))


def bare_pdfplumber(pdfs: list[Path]) -> tuple[int, float]:
    """Pages and wall seconds (the CPU seconds go to ``BARE_CPU``)."""
    import pdfplumber

    pages = 0
    started, cpu = time.perf_counter(), time.process_time()
    for f in pdfs:
        with pdfplumber.open(f) as pdf:
            for page in pdf.pages:
                page.extract_tables()
                page.flush_cache()
                pages += 1
    global BARE_CPU
    BARE_CPU = time.process_time() - cpu
    return pages, time.perf_counter() - started


BARE_CPU = 0.0


_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(root_pid: int) -> dict[int, tuple[int, float]]:
    """Every process of the tree under ``root_pid`` (itself included): resident kB and CPU seconds."""
    children: dict[int, list[int]] = {}
    seen: dict[int, tuple[int, float]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/status") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(d))
        seen[int(d)] = (kb, (int(fields[11]) + int(fields[12])) / _TICKS)  # utime + stime
    out: dict[int, tuple[int, float]] = {}
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        if pid in seen:
            out[pid] = seen[pid]
        stack.extend(children.get(pid, []))
    return out


def run_measured(cmd: list[str], env: dict, repo: Path = ROOT) -> tuple[float, int, int, str, float]:
    """Wall seconds, peak tree RSS (MB), peak single-process RSS (MB), output, CPU seconds of the
    process tree (each process's last reading, polled every 0.1 s: a process that lived less
    than that may be missed)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0, 0]
    cpu: dict[int, float] = {}

    def poll() -> None:
        while proc.poll() is None:
            tree = _tree(proc.pid)
            total = sum(kb for kb, _ in tree.values())
            peak[0], peak[1] = max(peak[0], total), max([peak[1], *(kb for kb, _ in tree.values())])
            for pid, (_, seconds) in tree.items():
                cpu[pid] = max(cpu.get(pid, 0.0), seconds)
            time.sleep(0.1)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out = proc.communicate()[0]
    seconds = time.perf_counter() - started
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}")
    return seconds, peak[0] // 1024, peak[1] // 1024, out, sum(cpu.values())


def parse_step_seconds(dagster_home: Path) -> float:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))
    run = instance.get_runs(limit=1)[0]
    stats = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(run.run_id)}
    return stats["source_documents"]


def ingest(pdfs: list[Path], tmp: Path, name: str, workers: int, *, again: bool = False, repo: Path = ROOT) -> dict:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp / name / "dagster_home")
    env["BUDGETWH_WAREHOUSE"] = str(tmp / name / "warehouse.duckdb")
    cmd = [sys.executable, "-m", "pipelines.cli", "ingest", "--workers", str(workers), *map(str, pdfs)]
    first = run_measured(cmd, env, repo)
    result = {"seconds": first[0], "tree_mb": first[1], "process_mb": first[2], "output": first[3], "cpu": first[4]}
    result["parse_seconds"] = parse_step_seconds(tmp / name / "dagster_home")
    if again:
        result["noop_seconds"] = run_measured(cmd, env, repo)[0]
    return result


def triage_split(pdfs: list[Path]) -> tuple[int, int]:
    from pipelines.read.triage import text_only_pages

    text = sum(len(text_only_pages(f)) for f in pdfs)
    import pypdfium2 as pdfium

    total = 0
    for f in pdfs:
        try:
            doc = pdfium.PdfDocument(str(f))
            total += len(doc)
            doc.close()
        except Exception:
            pass
    return text, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--repo", type=Path, default=ROOT, help="run the ingest with this checkout's code")
    ap.add_argument("--two-workers-only", action="store_true", help="leave out the one-worker ingest of (d)")
    args = ap.parse_args()
    repo = args.repo.resolve()
    pdfs = corpus_pdfs(Path(args.corpus))
    if not pdfs:
        print(f"no PDFs under {args.corpus}")
        return 1
    cpus = os.cpu_count() or 1
    print(f"{len(pdfs)} PDFs under {args.corpus}; {cpus} CPUs")

    pages, bare_s = bare_pdfplumber(pdfs)
    print(f"(a) bare pdfplumber extract_tables(): {pages} pages in {bare_s:.1f}s = {pages / bare_s:.1f} pages/s "
          f"({BARE_CPU:.1f} CPU s)")  # fmt: skip

    text_pages, total_pages = triage_split(pdfs)
    print(f"    page triage: {text_pages} of {total_pages} pages are running text only (pdfium reads them), "
          f"{total_pages - text_pages} need pdfplumber's geometry")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="budgetwh-bench-") as t:
        tmp = Path(t)
        two = ingest(pdfs, tmp, "two", min(2, cpus), again=True, repo=repo)
        one = None if args.two_workers_only else ingest(pdfs, tmp, "one", 1, repo=repo)
    print(f"    code: {repo}")
    print(f"(b) budgetwh ingest ({min(2, cpus)} workers, fresh warehouse, wall time of the command): "
          f"{two['seconds']:.1f}s = {pages / two['seconds']:.1f} pages/s; "
          f"peak memory {two['tree_mb']} MB over all processes, {two['process_mb']} MB in the largest")  # fmt: skip
    print(f"    ratio ingest / bare pdfplumber (pages per second): {bare_s / two['seconds']:.2f}  (goal ≥ 2.0)")
    print(f"    CPU seconds of the ingest's process tree: {two['cpu']:.1f} "
          f"(bare pdfplumber {BARE_CPU:.1f}: ratio {BARE_CPU / two['cpu']:.2f})")  # fmt: skip
    print(f"(c) no-op re-ingest: {two['noop_seconds']:.1f}s = {two['noop_seconds'] / two['seconds']:.1%} "
          "of the first  (goal < 5%)")  # fmt: skip
    if one is None:
        print(f"(d) parse stage (source_documents step), 2 workers: {two['parse_seconds']:.1f}s")
        return 0
    print(f"(d) parse stage (source_documents step): 1 worker {one['parse_seconds']:.1f}s, "
          f"2 workers {two['parse_seconds']:.1f}s: speed-up ×{one['parse_seconds'] / two['parse_seconds']:.2f}  "
          f"(goal ≥ 1.7); whole ingest with 1 worker {one['seconds']:.1f}s, peak {one['tree_mb']} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
