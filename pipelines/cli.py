"""The ``budgetwh`` command (ANALYST-INTERFACE.md): ingest, query, report, export, profile, ui, samples."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import time
from pathlib import Path

# Light (no parser, no Dagster): ``budgetwh ingest`` first asks a running ``budgetwh serve``
# (pipelines/run/serve_client.py), and that client must start in a tenth of a second.
from pipelines.run.paths import DEFAULT_INBOX, PROJECT_ROOT, default_dagster_home, default_inbox, default_warehouse


def _prepare_dagster_home(warehouse: Path) -> Path:
    from assets.runner import prepare_dagster_home

    home = prepare_dagster_home(default_dagster_home(warehouse))
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_ingest(args: argparse.Namespace) -> int:
    warehouse = Path(args.warehouse or default_warehouse()).resolve()
    # Per-document budgets by flag travel as the environment does: to the job and its workers.
    if args.doc_timeout is not None:
        os.environ["BUDGETWH_DOC_TIMEOUT"] = str(args.doc_timeout)
    if args.doc_memory is not None:
        os.environ["BUDGETWH_DOC_MEMORY_MB"] = str(args.doc_memory)
    inbox = default_inbox()
    paths = [Path(p) for p in args.paths] or [inbox]
    if not args.paths and inbox.resolve() == DEFAULT_INBOX.resolve():
        from pipelines.run.samples import ensure_samples

        created = ensure_samples(DEFAULT_INBOX)
        if created:
            print(
                f"{DEFAULT_INBOX} held no documents: generated {len(created)} sample documents in {created[0].parent}"
            )
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("No such file or folder: " + ", ".join(map(str, missing)), file=sys.stderr)
        return 2
    if args.full_rebuild:  # travels as the environment does, to the job's publish step (this run only)
        os.environ["BUDGETWH_FULL_REBUILD"] = "1"
    try:
        return _ingest(args, paths, warehouse)
    finally:
        if args.full_rebuild:
            os.environ.pop("BUDGETWH_FULL_REBUILD", None)


def _ingest(args: argparse.Namespace, paths: list[Path], warehouse: Path) -> int:
    from pipelines.run.results import ingest_if_nothing_new

    result = None if args.full_run or args.full_rebuild else ingest_if_nothing_new(paths, warehouse)
    if result is None:  # there is work: the Dagster job runs
        from pipelines.publish.gate_process import start_gate_process

        start_gate_process()  # first: it loads Great Expectations on the other core while Dagster starts here
        from assets.runner import run_ingest
        from pipelines.run.progress import show_on_terminal

        show_on_terminal(sys.stdout)
        try:
            _prepare_dagster_home(warehouse)
            result = run_ingest(paths, warehouse, workers=args.workers)
        finally:
            show_on_terminal(None)  # a later run in this process (a test, a notebook) prints nothing unasked
    print(result.summary())
    if not result.success:
        return 1
    if args.strict and result.quarantined:
        return 3
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.publish.warehouse import QueryRefused, format_rows, refusal, run_query

    warehouse = Path(args.warehouse or default_warehouse())
    try:
        columns, rows = run_query(warehouse, args.sql, confined=True)
    except (FileNotFoundError, QueryRefused) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(refusal(exc) or f"Query failed: {exc}", file=sys.stderr)
        return 2
    print(format_rows(columns, rows, args.format))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.publish.report import findings_report

    warehouse = Path(args.warehouse or default_warehouse())
    try:
        print(findings_report(warehouse, args.document, include_passing=args.all))
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines.publish.export import export
    from pipelines.publish.warehouse import PUBLIC_VIEWS

    warehouse = Path(args.warehouse or default_warehouse())
    targets = list(PUBLIC_VIEWS) if args.all else [args.target]
    if not args.all and not args.target:
        print("Name a view or a query, or give --all.", file=sys.stderr)
        return 2
    try:
        paths = export(warehouse, targets, args.format, Path(args.out) if args.out else None)
    except (FileNotFoundError, ValueError, duckdb.Error) as exc:
        print(f"Export failed: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from pipelines.publish.profile import UnitNotFound, profile_html

    warehouse = Path(args.warehouse or default_warehouse())
    try:
        unit, page = profile_html(warehouse, args.unit)
    except (FileNotFoundError, UnitNotFound) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    out = Path(args.out or f"profile-{unit['unit_key']}.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out} ({unit['unit_name']}, {unit['unit_key']})")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    warehouse = Path(args.warehouse or default_warehouse()).resolve()
    _prepare_dagster_home(warehouse)
    os.environ["BUDGETWH_WAREHOUSE"] = str(warehouse)
    argv = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
            "-h", args.host, "-p", str(args.port)]  # fmt: skip
    print(
        f"Dagster UI on http://{args.host}:{args.port} (warehouse {warehouse}, DAGSTER_HOME {os.environ['DAGSTER_HOME']}, "
        f"inbox {default_inbox()})",
        flush=True,
    )
    os.chdir(PROJECT_ROOT)
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover


def cmd_samples(args: argparse.Namespace) -> int:
    from pipelines.run.samples import write_samples

    started = time.perf_counter()
    files = write_samples(Path(args.out), count=args.count, seed=args.seed)
    print(f"wrote {len(files)} sample documents to {args.out} in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from pipelines.run.serve_client import ask_server, code_fingerprint, socket_path

    path = socket_path()
    if args.stop or args.status:
        answer = ask_server("stop" if args.stop else "status", path)
        if answer is None:
            print(f"no ingest server listens on {path}")
            return 0 if args.stop else 1
        if args.status:
            print(" ".join(f"{k}={v}" for k, v in answer.items()))
            return 0
        print(
            f"stopping the ingest server (pid {answer['pid']})"
            + (" after its current run" if answer.get("busy") else "")
        )
        while ask_server("status", path, timeout=5) is not None:
            time.sleep(0.1)
        return 0
    fingerprint = code_fingerprint()  # before the imports: an edit made while the server starts counts
    from assets.serve import serve

    return serve(main, path, fingerprint, warm=not args.no_warm_up)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="budgetwh",
        description="Chinese government budget disclosures (预算/决算/绩效目标) into a DuckDB warehouse.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    wh_help = "warehouse file (default: $BUDGETWH_WAREHOUSE or data/warehouse.duckdb)"
    s = sub.add_parser("ingest", help="ingest PDFs and text extractions into the warehouse")
    s.add_argument("paths", nargs="*", help="files or folders (default: $BUDGETWH_INBOX or data/inbox)")
    s.add_argument("--warehouse", help=wh_help)
    s.add_argument("--strict", action="store_true", help="exit non-zero when any document is quarantined")
    s.add_argument("--workers", type=int, default=None, help="parsing processes (default: number of CPUs)")
    s.add_argument(
        "--doc-timeout", type=float, default=None, metavar="SECONDS",
        help="time limit per document (default: $BUDGETWH_DOC_TIMEOUT or 300; 0: none)",
    )  # fmt: skip
    s.add_argument(
        "--doc-memory", type=int, default=None, metavar="MB",
        help="memory limit per document's parsing process (default: $BUDGETWH_DOC_MEMORY_MB or 2048; 0: none)",
    )  # fmt: skip
    s.add_argument(
        "--full-run", action="store_true",
        help="run the Dagster job even when nothing is new (by default a no-op ingest launches no run)",
    )  # fmt: skip
    s.add_argument(
        "--full-rebuild", action="store_true",
        help="rebuild the warehouse from every parsed document (by default only changed documents are reloaded)",
    )  # fmt: skip
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("query", help="read-only SQL over the warehouse views")
    s.add_argument("sql")
    s.add_argument("--warehouse", help=wh_help)
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.set_defaults(func=cmd_query)

    s = sub.add_parser("report", help="quality findings, failures first")
    s.add_argument("--document", help="only this doc_id")
    s.add_argument("--warehouse", help=wh_help)
    s.add_argument("--all", action="store_true", help="list passing checks too")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("export", help="a view, every view (--all) or a query to Parquet, CSV or XLSX")
    s.add_argument("target", nargs="?", help="a view name (func_canonical) or a SELECT query")
    s.add_argument("--all", action="store_true", help="every public view")
    s.add_argument("--format", choices=("parquet", "csv", "xlsx"), default="parquet")
    s.add_argument("--out", help="file (or folder for --all with parquet/csv); default: <view>.<format>")
    s.add_argument("--warehouse", help=wh_help)
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("profile", help="a self-contained HTML page about one unit (charts, findings)")
    s.add_argument("unit", help="unit_key or a name of the unit")
    s.add_argument("--out", help="HTML file (default: profile-<unit_key>.html)")
    s.add_argument("--warehouse", help=wh_help)
    s.set_defaults(func=cmd_profile)

    s = sub.add_parser("ui", help="start the Dagster UI over the same warehouse")
    s.add_argument("--warehouse", help=wh_help)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=3000)
    s.set_defaults(func=cmd_ui)

    s = sub.add_parser("samples", help="generate sample budget documents (PDF and text)")
    s.add_argument("out", nargs="?", default=str(DEFAULT_INBOX / "samples"))
    s.add_argument("--count", type=int, default=0, help="synthetic documents to add beyond the fixed samples")
    s.add_argument("--seed", type=int, default=7)
    s.set_defaults(func=cmd_samples)

    s = sub.add_parser(
        "serve",
        help="keep a warm process that runs `budgetwh ingest` for this checkout (opt-in; faster small runs)",
        description="Run in the foreground until stopped: Dagster, Great Expectations and the parse workers are "
        "loaded once, and every `budgetwh ingest` of this checkout then runs here (each in a fork, one at a time; "
        "the same job, output and exit code). Socket: $BUDGETWH_SERVER_SOCKET or ~/.cache/budgetwh/serve-*.sock. "
        "BUDGETWH_SERVER=0 makes `budgetwh ingest` run in its own process.",
    )
    s.add_argument("--stop", action="store_true", help="stop the running server (after its current run) and wait")
    s.add_argument("--status", action="store_true", help="print whether a server runs, and what it does")
    s.add_argument("--no-warm-up", action="store_true", help="skip the warm-up ingest of a generated sample")
    s.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


def run() -> None:
    """The ``budgetwh`` command: ``main``, then a quick exit. After an ingest the interpreter holds
    Dagster, Great Expectations and pandas; tearing those module graphs down took 1.3 s of a 22 s
    corpus ingest and serves nothing. Exit handlers still run (logging, worker pools, the fork
    server) and the output is flushed; only the module teardown is skipped.

    ``budgetwh ingest`` is first offered to a running ``budgetwh serve`` (nothing heavy is imported
    for that); without one it runs here."""
    argv = sys.argv[1:]
    if argv[:1] == ["ingest"]:
        from pipelines.run.serve_client import ingest_via_server

        served = ingest_via_server(argv)
        if served is not None:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(served)
    code = main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
