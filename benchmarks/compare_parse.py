"""Do two ways of parsing give the same results? Parses every document twice — with page triage
(pdfium reads text-only pages) and without it (pdfplumber reads every page), each in its own
process — and compares everything a document parses into: its document row and every row of every
frame (amounts, printed strings, sentences, findings). Prints the differences and the time of
each way.

    uv run python benchmarks/compare_parse.py [paths…]      # default: ../shared/corpus ../shared/seeds
    uv run python benchmarks/compare_parse.py --switch BUDGETWH_PDFIUM_OBJECTS   # the fast table pages
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VOLATILE = {"parse_seconds", "parsed_at", "parser_version"}


def canonical(path: Path) -> dict:
    """Everything one document parses into, in a comparable form."""
    from pipelines.parse import parse_document

    parsed = parse_document(path)
    row = {k: v for k, v in parsed.document_row().items() if k not in VOLATILE}
    frames = {}
    for name, df in sorted(parsed.frames.items()):
        rows = [json.dumps(r, ensure_ascii=False, sort_keys=True, default=str) for r in df.to_dicts()]
        frames[name] = sorted(rows)
    return {"document": row, "frames": frames, "notes": sorted(parsed.notes)}


def record(paths: list[str], out: Path) -> None:
    """Child process: parse every file and write the results as JSON."""
    from pipelines.run.sources import iter_source_files

    results = {}
    started = time.perf_counter()
    for f in iter_source_files([Path(p) for p in paths]):
        results[str(f)] = canonical(f)
    out.write_text(json.dumps({"seconds": time.perf_counter() - started, "docs": results}, ensure_ascii=False))


def run_mode(paths: list[str], triage: bool, out: Path, switch: str = "BUDGETWH_PAGE_TRIAGE") -> dict:
    env = dict(os.environ, **{switch: "1" if triage else "0"})
    cmd = [sys.executable, __file__, "--record", str(out), *paths]
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return json.loads(out.read_text())


def diff_docs(a: dict, b: dict) -> list[str]:
    problems = []
    for f in sorted(set(a) | set(b)):
        name = Path(f).name
        if f not in a or f not in b:
            problems.append(f"{name}: parsed by one way only")
            continue
        x, y = a[f], b[f]
        if x["document"] != y["document"]:
            problems.append(f"{name}: document row differs: {x['document']} vs {y['document']}")
        for table in sorted(set(x["frames"]) | set(y["frames"])):
            rx, ry = set(x["frames"].get(table, [])), set(y["frames"].get(table, []))
            if rx != ry:
                only_x, only_y = sorted(rx - ry), sorted(ry - rx)
                problems.append(
                    f"{name}: {table}: {len(only_x)} row(s) only without triage, {len(only_y)} only with it"
                    + "".join(f"\n    - {r[:300]}" for r in only_x[:3])
                    + "".join(f"\n    + {r[:300]}" for r in only_y[:3])
                )
        if x["notes"] != y["notes"]:
            problems.append(f"{name}: notes differ")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--record", help=argparse.SUPPRESS)
    ap.add_argument(
        "--switch", default="BUDGETWH_PAGE_TRIAGE", help="the environment switch compared off and on (default: triage)"
    )
    args = ap.parse_args()
    paths = args.paths or [str(ROOT.parent / "shared" / "corpus"), str(ROOT.parent / "shared" / "seeds")]
    if args.record:
        record(paths, Path(args.record))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        plain = run_mode(paths, False, Path(tmp) / "plain.json", args.switch)
        triaged = run_mode(paths, True, Path(tmp) / "triage.json", args.switch)
    problems = diff_docs(plain["docs"], triaged["docs"])
    n = len(plain["docs"])
    print(f"documents: {n}")
    print(f"parse with {args.switch}=0: {plain['seconds']:.1f}s; =1: {triaged['seconds']:.1f}s "
          f"(×{plain['seconds'] / triaged['seconds']:.2f})")  # fmt: skip
    if problems:
        print(f"DIFFERENT results in {len({p.split(':')[0] for p in problems})} document(s):")
        print("\n".join(problems))
        return 1
    print("identical results: every document row and every frame row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
