"""The per-document parse on Dask distributed: a LocalCluster of 1, 2 and 4 worker processes (one
thread each, a real scheduler over TCP on localhost) parses the PDFs of ../shared/corpus into a
fresh lake each time; the script prints seconds, pages per second, the speed-up over one worker and
whether every lake is identical to a serial run's (a script, not a timed test).

    uv run python benchmarks/bench_dask.py [--corpus ../shared/corpus] [--workers 1 2 4]

The machine this project is built on has 2 cores, so 4 workers share them: the speed-up there is
bounded by the cores, not by the cluster.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()

    from distributed import LocalCluster

    from pipelines.publish.lake import Lake
    from pipelines.run.pool import parse_entries
    from pipelines.run.sources import iter_source_files, register_sources
    from tests.test_parallel import _lake_state

    files = [f for f in iter_source_files([args.corpus]) if f.suffix.lower() == ".pdf"]
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:

        def parse(name: str, **kw) -> tuple[Lake, float, int]:
            lake = Lake(Path(tmp) / name)
            entries = register_sources(lake, files).entries
            started = time.perf_counter()
            outcomes = list(parse_entries(lake, entries, **kw))
            pages = sum(o.document.get("page_count") or 0 for o in outcomes)
            return lake, time.perf_counter() - started, pages

        serial, serial_s, pages = parse("serial", workers=1)
        reference = _lake_state(serial)
        print(
            f"{len(files)} PDFs, {pages} pages; serial in this process: {serial_s:.1f} s = {pages / serial_s:.1f} pages/s"
        )
        base = None
        for n in args.workers:
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                              host="127.0.0.1") as cluster:  # fmt: skip
                lake, seconds, _ = parse(f"dask{n}", scheduler=cluster.scheduler_address)
            base = base or seconds
            same = _lake_state(lake) == reference
            print(
                f"Dask LocalCluster, {n} worker(s): {seconds:.1f} s = {pages / seconds:.1f} pages/s, "
                f"speed-up ×{base / seconds:.2f} over 1 worker, lake identical to serial: {same}"
            )
            if not same:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
