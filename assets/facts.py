"""Fact tables and the published warehouse.

``fact_tables`` combines the per-document frames of the lake (Polars), builds a candidate DuckDB
warehouse beside the live one, screens it document by document (``pipelines/publish/screen.py``: a
document whose rows break a contract expectation is quarantined and the candidate built again
without it), and validates every public view with its Great Expectations suite:
one Dagster asset per view, one asset check per view and severity, with each expectation's outcome
in its metadata (a run's check events do not grow with the number of expectations). Contract
expectations (severity critical) form a blocking check: if one fails, ``warehouse_db`` does not
run and analysts keep the previous warehouse. Publisher defects (identity FAILs) are warnings: the data is published and the
finding shown.
"""

import contextlib
import json
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import dagster as dg
import duckdb

from assets.documents import source_documents
from assets.health import NO_DOCUMENT_QUARANTINED, WAREHOUSE_IS_CURRENT, no_document_quarantined, warehouse_is_current
from assets.resources import WarehouseResource
from pipelines.publish.combine import build_tables, built_fingerprint, tables_dir
from pipelines.publish.gate import load_outcomes, save_outcomes
from pipelines.publish.gate_process import CpuWindow, submit_validation
from pipelines.publish.incremental import (
    IncrementalCandidate,
    PublishScope,
    build_incremental_candidate,
    full_rebuild_requested,
)
from pipelines.publish.report import report_rows, write_html_report
from pipelines.publish.row_counts import RowCounts, carried_counts, count_whole, record_row_counts, rows_in_scope
from pipelines.publish.scope import ViewRows, register_scope
from pipelines.publish.screen import quarantine_breakers, screen_candidate
from pipelines.publish.warehouse import (
    VIEW_COUNTS_KEY,
    build_candidate,
    candidate_path,
    candidate_run,
    capped_connection,
    execute_with_headroom,
    is_current,
    promote,
    read_limit,
    row_counts,
    sql_literal,
)
from pipelines.validate.expectations import CheckOutcome, blocking_failures, suite_checks

# Public views materialized as assets; each has an expectation suite in expectations/<name>.json.
FACT_VIEWS: dict[str, str] = {
    "documents": "One row per ingested file version: kind, scope, unit, year, status and the reason of a quarantine.",
    "func_amounts": "Amounts by 支出功能分类科目 (类/款/项), stage, fund scope and measure, in exact 元.",
    "func_canonical": "One amount per unit, year, stage, fund scope, code and measure, from the preferred table.",
    "econ_amounts": "基本支出 by 部门预算支出经济分类 (类/款), measures TOTAL / PERSONNEL / PUBLIC.",
    "three_public": "“三公”经费 items and 机关运行经费, budget and final, with the printed string and unit.",
    "quality_findings": "Identity checks per document and table (PASS / PASS_ROUNDING / FAIL), with both sides.",
    "budget_vs_final": "预算 vs 决算 per unit, year, fund scope and 功能分类 code, with the execution rate.",
    "projects": "Projects of 绩效目标 forms and 项目支出绩效目标表: names, category, budgets in exact 元.",
    "project_line_items": "项目构成分解 / 项目资金构成 rows of each project (金额合计 rows excluded).",
    "indicators": "绩效指标 with canonical levels and the parsed 目标值 (kind, operator, value, unit, text).",
    "func_codes": "The 功能分类 code catalogue: code, level, name, parent, the years printed and the source.",
    "econ_codes": "The 经济分类 code catalogue: code, level, name, parent, the years printed and the source.",
    "document_tables": "Every table of every document: pages, rows, identities passed / failed and how far it is trusted.",
    "narrative_facts": "Figures of a document's text (编制说明, 情况说明) with topic, code, year and sentence.",
}

# One asset check per view and severity, not one per expectation: a run then records a bounded
# number of check events (two per view at most) however many expectations the suites hold; every
# expectation's outcome is in the check's metadata. ``critical`` expectations guard the contract:
# their check blocks publishing. The others report publisher defects and warn.
SEVERITY_CHECKS: dict[str, str] = {
    "critical": "contract_expectations",
    "warning": "warning_expectations",
    "info": "info_expectations",
}


def check_name(severity: str) -> str:
    """The asset check that reports a view's expectations of this severity."""
    return SEVERITY_CHECKS.get(severity, f"{severity}_expectations")


def _check_specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for view in FACT_VIEWS:
        by_severity: dict[str, list[str]] = {}
        for c in suite_checks(view):
            by_severity.setdefault(c["severity"], []).append(c["check"])
        for severity, checks in by_severity.items():
            blocking = severity == "critical"
            what = "blocks publishing when one fails" if blocking else "warns when one fails"
            specs.append(
                dg.AssetCheckSpec(
                    name=check_name(severity),
                    asset=view,
                    description=f"The {len(checks)} {severity} expectations of expectations/{view}.json "
                    f"(Great Expectations; each one's outcome in the metadata); {what}: {', '.join(checks)}.",
                    blocking=blocking,
                )
            )
    return specs


def _preview(con: duckdb.DuckDBPyConnection, relation: str, n: int = 8) -> str:
    """The first rows of the view (``relation``: its rows as the run evaluated them; after an
    incremental publish, the rows it changed: the first rows of func_canonical or budget_vs_final
    evaluate their windows over every row)."""
    cur = execute_with_headroom(con, f"SELECT * FROM {relation} LIMIT {n}")
    cols = [d[0] for d in cur.description][:10]
    rows = cur.fetchall()
    if not rows:
        return "(no rows)"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in r[: len(cols)]) + " |" for r in rows]
    return "\n".join(lines)


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")[:200]


def _outcome_record(o: CheckOutcome) -> dict:
    """One expectation's outcome as it is kept in its check's metadata."""
    record: dict = {"check": o.check, "expectation": o.expectation_type, "passed": o.success}
    if o.element_count is not None:
        record["rows_checked"] = o.element_count
    if o.unexpected_count is not None:
        record["unexpected"] = o.unexpected_count
    if o.unexpected_sample:
        record["sample"] = o.unexpected_sample[:10]
    if o.observed:
        record["observed"] = o.observed
    if o.exception:
        record["error"] = o.exception
    return record


def check_results(view: str, outcomes: list[CheckOutcome]) -> list[dg.AssetCheckResult]:
    """The view's expectation outcomes as one check result per severity (see ``SEVERITY_CHECKS``)."""
    by_severity: dict[str, list[CheckOutcome]] = {}
    for o in outcomes:
        by_severity.setdefault(o.severity, []).append(o)
    results = []
    for severity, group in by_severity.items():
        failed = [o for o in group if not o.success]
        table = ["| expectation | check | outcome | rows | unexpected | detail |", "|---|---|---|---|---|---|"]
        for o in sorted(group, key=lambda o: o.success):  # failures first
            detail = o.exception or (o.unexpected_sample[:5] if o.unexpected_sample else o.observed) or ""
            table.append(
                f"| {o.expectation_type} | {o.check} | {'passed' if o.success else '**FAILED**'} | "
                f"{'' if o.element_count is None else o.element_count} | "
                f"{'' if o.unexpected_count is None else o.unexpected_count} | {_md_cell(detail)} |"
            )
        summary = f"{len(group) - len(failed)} of {len(group)} {severity} expectations passed"
        if failed:
            summary += ": " + "; ".join(o.summary() for o in failed[:5]) + ("; …" if len(failed) > 5 else "")
        results.append(
            dg.AssetCheckResult(
                asset_key=view,
                check_name=check_name(severity),
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR if severity == "critical" else dg.AssetCheckSeverity.WARN,
                description=summary[:2000],
                metadata={
                    "expectations": len(group),
                    "failed": len(failed),
                    "failed_checks": ", ".join(o.check for o in failed),
                    "outcomes": dg.MetadataValue.md("\n".join(table)),
                    "results": dg.MetadataValue.json([_outcome_record(o) for o in group]),
                },
            )
        )
    return results


@contextlib.contextmanager
def _candidate_reader(db: Path, scope: PublishScope | None) -> Iterator[tuple[duckdb.DuckDBPyConnection, ViewRows]]:
    """One capped read-only connection to the warehouse ``db`` for everything the run reads of it
    besides the gate (the screen, the counts, the previews, the report rows), with each view's rows
    (within ``scope``) evaluated once on it (``scope.ViewRows``) and shared by those readers."""
    with capped_connection(db, read_limit(scope is not None)) as con:  # under capped memory
        if scope is not None:
            register_scope(con, scope)
        meta = con.execute(f"SELECT value FROM warehouse_meta WHERE key = {sql_literal(VIEW_COUNTS_KEY)}").fetchone()
        rows = ViewRows(con, scope, json.loads(meta[0]) if meta else None)
        try:
            yield con, rows
        finally:
            rows.close()


def _while_the_gate_runs(
    con: duckdb.DuckDBPyConnection, rows: ViewRows, later: Collection[str] = ()
) -> tuple[dict[str, int], dict[str, str], tuple]:
    """What the run reads of the candidate besides the gate, while the gate runs, on one capped
    connection (``_candidate_reader``): each view's rows (as counted when the warehouse was built;
    those of ``later`` are counted by the caller), its preview, and the report's rows."""
    counts = {
        view: rows.sizes[view]
        if view in rows.sizes
        else execute_with_headroom(con, f"SELECT count(*) FROM {view}").fetchone()[0]
        for view in FACT_VIEWS
        if view not in later
    }
    previews = {view: _preview(con, rows.relation(view)) for view in FACT_VIEWS}
    scope = rows.scope
    if scope is not None:
        return counts, previews, report_rows(con, scope.documents)
    relations = {view: rows.relation(view) for view in ("quality_findings", "documents")}
    return counts, previews, report_rows(con, None, relations)


def _read_candidate(
    db: Path, scope: PublishScope | None, built: IncrementalCandidate | None = None
) -> tuple[dict[str, int], dict[str, str], tuple, RowCounts | None]:
    """``_while_the_gate_runs``; for an incremental candidate also its view row counts and findings
    (returned last, to be recorded in it before it is published), carried forward from the
    published file's (``row_counts.carried_counts``) with the scope's rows the reader evaluated
    anyway. The build leaves them to this moment: the gate's process validates meanwhile, so they
    cost the run nothing on its way to the gate. The published file is read once the candidate's
    reader is closed (one capped connection at a time)."""
    with _candidate_reader(db, scope) as (con, rows):
        now = rows_in_scope(con, rows) if built is not None else None
        counts, previews, report_data = _while_the_gate_runs(con, rows, now.views if now is not None else ())
    if now is None:  # not built incrementally: the candidate recorded its counts when it was built
        return counts, previews, report_data, None
    counted = carried_counts(built, now)
    if counted is None:  # not carried (the published file changed since the build, or held none): counted whole
        with _candidate_reader(db, None) as (con, _rows):
            counted = count_whole(con)
    counts = {view: counted.views[view] if view in counted.views else counts[view] for view in FACT_VIEWS}
    return counts, previews, report_data, counted


def _remove_candidates_of_finished_runs(context: dg.AssetExecutionContext, target: Path) -> None:
    """Candidates are named by run; one whose run is no longer in progress (it failed, or its
    process was killed) will never be promoted."""
    in_progress = dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.QUEUED,
                  dg.DagsterRunStatus.NOT_STARTED]
    )  # fmt: skip
    live = {r.run_id[:8] for r in context.instance.get_runs(filters=in_progress)} | {context.run_id[:8]}
    for p in target.parent.glob(f".{target.name}.*.candidate"):
        if candidate_run(p) not in live:
            p.unlink(missing_ok=True)


def _build(
    context: dg.AssetExecutionContext, lake, target: Path, full: bool
) -> tuple[Path, PublishScope | None, IncrementalCandidate | None]:
    """The candidate: incremental from the published warehouse when it can be (``incremental.py``),
    else rebuilt from the whole lake. Returns it with the scope its checks may be limited to, and
    the incremental build (None for a full rebuild)."""
    started = time.perf_counter()
    built = None if full else build_incremental_candidate(lake, target, context.run_id[:8])
    if built is not None:
        context.log.info(
            f"incremental candidate: {len(built.scope.changed)} documents replaced, {len(built.scope.documents)} "
            f"within reach, in {time.perf_counter() - started:.1f}s; {built.derived}"
        )
        return built.path, built.scope, built
    build_tables(lake)
    db = build_candidate(lake, target, context.run_id[:8])
    context.log.info(f"built the candidate warehouse from the whole lake in {time.perf_counter() - started:.1f}s")
    return db, None, None


@dg.multi_asset(
    specs=[
        dg.AssetSpec(view, deps=[source_documents], group_name="facts", kinds={"polars", "duckdb"}, description=text)
        for view, text in FACT_VIEWS.items()
    ],
    check_specs=[*_check_specs(), NO_DOCUMENT_QUARANTINED],
    can_subset=False,
)
def fact_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    lake = warehouse.lake
    target = warehouse.warehouse_path
    full = full_rebuild_requested(warehouse.full_rebuild)
    outcomes_path = tables_dir(lake) / "_validation.json"
    if full:
        started = time.perf_counter()
        build_tables(lake, force=True)
        context.log.info(f"full rebuild: combined the lake's documents in {time.perf_counter() - started:.1f}s")
    if (
        not full
        and is_current(lake, target)
        and built_fingerprint(lake) == lake.fingerprint()
        and outcomes_path.exists()
    ):
        context.log.info("nothing changed since the published warehouse: reporting its checks")
        db, outcomes, rebuilt, scope = target, load_outcomes(outcomes_path), False, None
    else:
        _remove_candidates_of_finished_runs(context, target)
        window = CpuWindow()  # the cores others use while this process builds: the gate's split follows them
        db, scope, built = _build(context, lake, target, full)
        # The gate starts at once, in its own process, on the candidate as built: the counts and
        # the previews are read here meanwhile.
        started = time.perf_counter()
        pending = submit_validation(db, window, scope=scope)
        try:
            counts, previews, report_data, counted = _read_candidate(db, scope, built)
            outcomes = pending.result()
            # One document's content must not block the others: when a contract expectation fails,
            # the screen traces its rows to their documents, which are quarantined, and the
            # candidate is rebuilt without them. Screened only then: on a passing run the screen's
            # SQL would compete with the gate for the cores, and find nothing the gate did not.
            breakers = []
            if blocking_failures(outcomes):
                with _candidate_reader(db, scope) as (con, rows):
                    breakers = quarantine_breakers(lake, screen_candidate(con, scope, rows))
            if breakers:
                for doc_id in breakers:
                    context.log.warning(f"{doc_id}: quarantined: {(lake.document(doc_id) or {}).get('error')}")
                window = CpuWindow()
                db, scope, built = _build(context, lake, target, full)
                started = time.perf_counter()
                pending = submit_validation(db, window, scope=scope)
                counts, previews, report_data, counted = _read_candidate(db, scope, built)
                outcomes = pending.result()
        except BaseException:
            pending.abandon()
            raise
        checks = sum(len(v) for v in outcomes.values())
        failed = sum(not o.success for v in outcomes.values() for o in v)
        within = "" if scope is None else f" over the rows of {len(scope.documents)} documents"
        free = "" if pending.free_cores is None else f" ({pending.free_cores:.1f} cores free at the request)"
        context.log.info(
            f"quality gate: {checks} expectations{within}, {failed} failed, in {time.perf_counter() - started:.1f}s"
            f"{free}"
        )
        if counted is not None:  # the gate's connections are closed: the candidate can be written
            record_row_counts(db, counted)
        save_outcomes(outcomes_path, outcomes)
        rebuilt = True
    if not rebuilt:
        counts, previews, report_data, _ = _read_candidate(db, scope)
    started = time.perf_counter()
    report = write_html_report(
        db, outcomes, target.parent / "reports", documents=None if scope is None else scope.documents, rows=report_data
    )
    context.log.info(f"wrote the quality report in {time.perf_counter() - started:.1f}s")
    for view in FACT_VIEWS:
        failed = [o for o in outcomes.get(view, []) if not o.success]
        yield dg.MaterializeResult(
            asset_key=view,
            metadata={
                "dagster/row_count": counts[view],
                "rebuilt": rebuilt,
                "failed_checks": len(failed),
                "quality_report": dg.MetadataValue.path(str(report)),
                "preview": dg.MetadataValue.md(previews[view]),
            },
        )
    for view in FACT_VIEWS:
        yield from check_results(view, outcomes.get(view, []))
    yield no_document_quarantined(warehouse)


@dg.asset(
    deps=list(FACT_VIEWS),
    group_name="warehouse",
    kinds={"duckdb"},
    description="The DuckDB warehouse analysts query: the validated candidate swapped in atomically.",
    check_specs=[WAREHOUSE_IS_CURRENT],
)
def warehouse_db(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    target = warehouse.warehouse_path
    candidate = candidate_path(target, context.run_id[:8])
    if not candidate.exists():
        published = False
        context.log.info("warehouse already current: not replaced")
    else:
        published = promote(candidate, target, warehouse.lake)
        if not published:
            context.log.info(
                "an overlapping run published the lake as it is now while this run validated a candidate "
                "built before: that warehouse stays, this candidate is discarded"
            )
    counts = row_counts(target)
    md = "\n".join(["| view | rows |", "|---|---|", *[f"| {k} | {v} |" for k, v in counts.items()]])
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "published": published,
            "views": dg.MetadataValue.md(md),
            "quality_report": dg.MetadataValue.path(str(Path(target).parent / "reports" / "latest.html")),
            **{f"rows/{k}": v for k, v in counts.items()},
        }
    )
    yield warehouse_is_current(warehouse, counts)  # after the swap: checks the file analysts now read
