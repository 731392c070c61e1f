"""Cost of the publish stages over an existing lake: the part of every run that grows with the
whole corpus, not with the documents of the run.

For the warehouse given (its lake beside it, e.g. one left by ``benchmarks/growth.py --keep``), each
stage runs in a fresh process so that its seconds and peak RSS (VmHWM) are its own:

- ``fingerprint``: ``Lake.fingerprint()`` (reads every document.json and the registry);
- ``combine``: ``combine.build_tables(force=True)`` (every per-document Parquet file → lake/tables);
- ``build``: ``warehouse.build_candidate`` (DDL, INSERT from lake/tables, views, CHECKPOINT);
- ``quality_gate``: ``quality.validate_warehouse`` on that candidate (GE on every view, via pandas).

    .venv/bin/python benchmarks/publish_stages.py /tmp/run/n2000/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STAGE = """
import json, sys, time
from pathlib import Path
from pipelines.publish.lake import Lake, lake_dir_for
warehouse = Path(sys.argv[2])
lake = Lake(lake_dir_for(warehouse))
stage = sys.argv[1]
started = time.perf_counter()
if stage == "fingerprint":
    lake.fingerprint()
elif stage == "combine":
    from pipelines.publish.combine import build_tables
    build_tables(lake, force=True)
elif stage == "build":
    from pipelines.publish.warehouse import build_candidate
    build_candidate(lake, warehouse, run="stages")
elif stage == "quality_gate":
    from pipelines.publish.gate import validate_warehouse
    from pipelines.publish.warehouse import candidate_path
    validate_warehouse(candidate_path(warehouse, "stages"))
seconds = time.perf_counter() - started
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"stage": stage, "seconds": seconds, "peak_rss_mb": hwm / 1024}))
"""

STAGES = ("fingerprint", "combine", "build", "quality_gate")


def run_stage(stage: str, warehouse: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", STAGE, stage, str(warehouse)], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("warehouse", help="a warehouse whose lake (<name>.lake beside it) holds parsed documents")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    warehouse = Path(args.warehouse).resolve()
    from pipelines.publish.lake import Lake, lake_dir_for
    from pipelines.publish.warehouse import candidate_path

    docs = len(Lake(lake_dir_for(warehouse)).documents())
    print(f"publish stages over a lake of {docs} documents ({warehouse})")
    results = []
    try:
        for stage in STAGES:
            r = run_stage(stage, warehouse)
            results.append(r)
            print(
                f"  {stage:<13} {r['seconds']:7.1f} s   peak RSS {r['peak_rss_mb']:6.0f} MB"
                "   (seconds without Python start; RSS with imports)"
            )
    finally:
        candidate_path(warehouse, "stages").unlink(missing_ok=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"documents": docs, "stages": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
