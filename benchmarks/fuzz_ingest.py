"""Fuzzing the ingestion with damaged copies of real corpus PDFs.

Mutations (seeded): truncation at a random offset, byte flips inside content streams, byte flips
in the cross-reference table, zero-filled blocks, an HTML page saved under a .pdf name. A warehouse
first receives good documents (the project's samples and ../shared/seeds); the mutated files are
then ingested into it in one or a few runs. Reported: every file's status and its reason counted by
kind, failed runs, documents that ran past their time budget, and whether the good documents' rows
are exactly as before.

    uv run --frozen python -m benchmarks.fuzz_ingest --n 300 --seed 15 --work /tmp/fuzz
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BUDGETWH_SHARED", ROOT.parent / "shared"))

MUTATIONS = ("truncate", "flip_stream", "flip_xref", "zero_block", "html")

HTML_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>您访问的页面不存在或已被删除。</p><a href="/">返回首页</a></body></html>"""


def mutate(data: bytes, kind: str, rng: random.Random, title: str) -> bytes:
    size = len(data)
    if kind == "truncate":
        return data[: rng.randint(size // 20, size - 2)]
    if kind == "flip_stream":
        spans = [
            (m.end(), e) for m in re.finditer(rb"stream\r?\n", data) if (e := data.find(b"endstream", m.end())) > 0
        ]
        out = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            start, end = rng.choice(spans) if spans else (0, size)
            if end > start:
                out[rng.randrange(start, end)] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == "flip_xref":
        at = data.rfind(b"xref")
        at = at if at >= 0 else max(0, size - 2048)
        out = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(at, size)
            out[i] = rng.choice(b"0123456789 fnx\n") if rng.random() < 0.7 else rng.randrange(256)
        return bytes(out)
    if kind == "zero_block":
        length = rng.randint(512, 65536)
        start = rng.randrange(0, max(1, size - length))
        return data[:start] + bytes(min(length, size - start)) + data[start + length :]
    if kind == "html":
        return HTML_PAGE.format(title=title).encode()
    raise ValueError(kind)


def corpus_pdfs(max_bytes: int | None = None) -> list[Path]:
    files = sorted((SHARED / "corpus").rglob("*.pdf"))
    return [f for f in files if max_bytes is None or f.stat().st_size <= max_bytes]


def write_mutations(out: Path, n: int, seed: int, max_bytes: int | None = None) -> dict[Path, str]:
    """``n`` mutated copies (file → mutation), named by number and mutation."""
    rng = random.Random(seed)
    sources = corpus_pdfs(max_bytes)
    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for i in range(n):
        source = rng.choice(sources)
        kind = MUTATIONS[i % len(MUTATIONS)]
        target = out / f"fuzz{i:04d}_{kind}_{source.stem[:40]}.pdf"
        target.write_bytes(mutate(source.read_bytes(), kind, rng, source.stem))
        made[target] = kind
    return made


REASON_KINDS = [
    ("over the time limit", r"exceeded the time limit"),
    ("over the memory limit", r"exceeded the memory limit"),
    ("parsing process died", r"parsing process died"),
    ("not a PDF", r"not a PDF"),
    ("truncated", r"PDF is truncated"),
    ("damaged", r"damaged and cannot be parsed|could not be read"),
    ("no text layer", r"no text layer"),
    ("undecodable text", r"cannot be decoded"),
    ("not a budget disclosure", r"does not look like a budget disclosure"),
    ("tables not recognized", r"tables could not be recognized"),
    ("quality gate", r"Quarantined by the quality gate"),
    ("duplicate", r"^Duplicate"),
    ("blank template", r"blank template"),
    ("no pages", r"no pages"),
]


def reason_kind(reason: str | None) -> str:
    if not reason:
        return "NO REASON"
    for kind, pattern in REASON_KINDS:
        if re.search(pattern, reason):
            if kind == "quality gate":
                m = re.search(r"the expectation (\w+ of \w+)", reason)
                return f"quality gate: {m.group(1) if m else '?'}"
            return kind
    return "other: " + reason[:60]


GOOD_ROWS = {
    "func_amounts": "doc_id, stage, fund_scope, table_type, func_code, measure, amount_yuan, page_no",
    "econ_amounts": "doc_id, stage, econ_code, measure, amount_yuan, page_no",
    "three_public": "doc_id, stage, item, amount_yuan, amount_raw, page_no",
    "quality_findings": "doc_id, rule, status, table_type, page_no, subject, lhs, rhs",
    "projects": "doc_id, project_id, project_name, current_year_budget_yuan",
    "documents": "doc_id, status, unit_name, fiscal_year, doc_kind",
}


def good_rows(warehouse: Path, doc_ids: list[str]) -> dict[str, list[tuple]]:
    from pipelines.publish.warehouse import run_query

    ids = ", ".join(f"'{d}'" for d in doc_ids)
    return {
        view: sorted(run_query(warehouse, f"SELECT {cols} FROM {view} WHERE doc_id IN ({ids})")[1], key=repr)
        for view, cols in GOOD_ROWS.items()
    }


def fuzz(work: Path, n: int, seed: int, runs: int, *, max_bytes: int | None = None, workers: int = 2) -> dict:
    """Ingest good documents, then ``n`` mutations in ``runs`` runs; the numbers of the report."""
    home = os.environ.get("DAGSTER_HOME")
    try:
        return _fuzz(work, n, seed, runs, max_bytes=max_bytes, workers=workers)
    finally:  # the Dagster instance of the fuzz warehouse is its own
        if home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = home


def _fuzz(work: Path, n: int, seed: int, runs: int, *, max_bytes: int | None, workers: int) -> dict:
    from assets.runner import run_ingest
    from pipelines.run.limits import current_budget
    from pipelines.run.samples import write_samples

    shutil.rmtree(work, ignore_errors=True)
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    good = work / "good"
    write_samples(good)
    for s in sorted((SHARED / "seeds").glob("*.txt")):
        shutil.copy(s, good)
    wh = work / "wh.duckdb"
    first = run_ingest([good], wh, workers=workers)
    if not first.success:
        raise SystemExit(f"the good documents did not load: {first.error}")
    good_ids = [d["doc_id"] for d in first.documents]
    before = good_rows(wh, good_ids)
    mutated = write_mutations(work / "fuzz", n, seed, max_bytes)
    files = sorted(mutated)
    budget = current_budget()
    failed_runs, statuses, kinds, by_mutation = 0, Counter(), Counter(), Counter()
    slowest, run_seconds = 0.0, []
    run_errors: list[str] = []
    for r in range(runs):
        batch = files[r::runs]
        run_dir = work / f"run{r}"
        run_dir.mkdir()
        for f in batch:
            os.link(f, run_dir / f.name)
        started = time.perf_counter()
        result = run_ingest([run_dir], wh, workers=workers)
        run_seconds.append(time.perf_counter() - started)
        failed_runs += not result.success
        if not result.success:
            run_errors.append(f"run {r}: {result.error}; {result.failed_checks}")
        for d in result.documents:
            statuses[d["status"]] += 1
            kind = d["status"] if d["status"] in ("loaded", "duplicate") else reason_kind(d["error"])
            kinds[kind] += 1
            by_mutation[(mutated[work / "fuzz" / Path(d["source_file"]).name], kind)] += 1
    from pipelines.publish.lake import Lake, lake_dir_for

    for doc in Lake(lake_dir_for(wh)).documents():
        slowest = max(slowest, doc.get("parse_seconds") or 0.0)
    after = good_rows(wh, good_ids)
    # a mutation that leaves the bytes of another file (a flip inside a zero block) is a byte-identical copy
    unaccounted = sum(v for k, v in statuses.items() if k not in ("loaded", "quarantined", "duplicate"))
    return {
        "files": len(files), "runs": runs, "failed_runs": failed_runs, "run_errors": run_errors, "statuses": dict(statuses),
        "reason_kinds": dict(kinds.most_common()), "by_mutation": {f"{m} → {k}": v for (m, k), v in sorted(by_mutation.items())},
        "without_reason": kinds.get("NO REASON", 0), "unaccounted": unaccounted,
        "over_time_limit": kinds.get("over the time limit", 0), "slowest_parse_s": round(slowest, 1),
        "timeout_s": budget.timeout_s, "run_seconds": [round(s, 1) for s in run_seconds],
        "good_documents": len(good_ids), "good_rows": {v: len(rows) for v, rows in before.items()},
        "good_rows_unchanged": before == after,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=300, help="mutated files (default 300)")
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--runs", type=int, default=2, help="ingest runs the mutated files are split into")
    p.add_argument("--work", type=Path, default=Path("/tmp/budgetwh-fuzz"))
    p.add_argument("--max-bytes", type=int, default=None, help="only corpus PDFs up to this size")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    started = time.perf_counter()
    report = fuzz(args.work, args.n, args.seed, args.runs, max_bytes=args.max_bytes, workers=args.workers)
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
    print(f"total: {time.perf_counter() - started:.0f} s")
    ok = (
        report["failed_runs"] == 0 and report["without_reason"] == 0 and report["unaccounted"] == 0
        and report["good_rows_unchanged"] and report["slowest_parse_s"] <= (report["timeout_s"] or float("inf"))
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
