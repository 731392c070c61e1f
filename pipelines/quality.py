"""The quality gate: Great Expectations suites (``expectations/<view>.json``, one per public view)
run against the candidate warehouse before it is published.

Expectations of severity ``critical`` guard the contract (columns, types, value sets, code
formats, unique keys): one failing blocks publishing and the previous warehouse stays. ``warning``
expectations report publisher defects (the identity rules' FAIL rows): the data loads and the
finding is shown. GE is imported lazily (it takes seconds) and runs in an ephemeral context; it
has no Polars support, so it receives pandas frames.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb

from pipelines.lake import atomic_write_text
from pipelines.warehouse import capped_connection, execute_with_headroom, view_names

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"


@dataclass
class CheckOutcome:
    suite: str
    check: str
    expectation_type: str
    severity: str  # critical | warning | info
    success: bool
    description: str = ""
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_sample: list = field(default_factory=list)
    observed: str | None = None
    exception: str | None = None

    @property
    def blocks_publish(self) -> bool:
        return self.severity == "critical" and not self.success

    def summary(self) -> str:
        if self.exception:
            return f"{self.suite}.{self.check}: could not be evaluated: {self.exception}"
        if self.success:
            return f"{self.suite}.{self.check}: passed"
        detail = (
            f"{self.unexpected_count} unexpected of {self.element_count}" if self.unexpected_count is not None else ""
        )
        sample = f" e.g. {self.unexpected_sample[:5]}" if self.unexpected_sample else ""
        observed = f" observed {self.observed}" if self.observed and not sample else ""
        return f"{self.suite}.{self.check} failed: {detail}{sample}{observed}".strip()


def suite_names() -> list[str]:
    return sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


@cache
def load_suite(name: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def suite_checks(name: str) -> list[dict]:
    """(check name, severity, description) of every expectation of a suite, for declaring checks."""
    return [
        {
            "check": e["meta"]["check"],
            "severity": e.get("severity", "critical"),
            "description": e["meta"].get("description") or e["type"],
        }
        for e in load_suite(name)["expectations"]
    ]


@cache
def _context():
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # pragma: no cover - cosmetic only
        pass
    source = ctx.data_sources.add_pandas("budgetwh")
    return ctx, source


def preload_quality_engine() -> threading.Thread:
    """Import Great Expectations (3–5 s) and register the suites in a background thread: the
    ingest job starts it while worker processes parse, so validation does not wait for it."""

    def load() -> None:
        try:
            for name in suite_names():
                _validation(name)
        except Exception:  # the same error is raised again, with its context, when validating
            logging.getLogger(__name__).debug("preloading the quality engine failed", exc_info=True)

    global _preloading
    if _preloading is None:
        # Imported here first, not by the thread: Dagster's storage (this thread) and GE import it
        # lazily, and a thread that meets it half-initialized fails ("partially initialized module
        # 'sqlalchemy.orm.exc'", seen once in CI when a run's parse ended within the GE import).
        import sqlalchemy.orm  # noqa: F401

        _preloading = threading.Thread(target=load, name="budgetwh-preload-ge", daemon=True)
        _preloading.start()
    return _preloading


_preloading: threading.Thread | None = None


def _wait_for_preload() -> None:
    """The suites are registered once per process: validation waits for a preload under way."""
    if _preloading is not None:
        _preloading.join()


def _jsonable(v):
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


@cache
def _validation(name: str):
    """The suite registered once per process with its validation definition over a dataframe batch."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    ctx, source = _context()
    spec = load_suite(name)
    batch_def = source.add_dataframe_asset(f"{name}_asset").add_batch_definition_whole_dataframe(f"{name}_batch")
    suite = ctx.suites.add(ExpectationSuite(name=f"{name}_suite", expectations=[dict(e) for e in spec["expectations"]]))
    return ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}_validation", data=batch_def, suite=suite)
    )


def validate_frame(name: str, frame) -> list[CheckOutcome]:
    """Run suite ``name`` on a pandas DataFrame."""
    _wait_for_preload()
    spec = load_suite(name)
    result = _validation(name).run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    by_check = {e["meta"]["check"]: e for e in spec["expectations"]}
    outcomes = []
    for r in result.results:  # GE does not keep the suite's order: match results by their check name
        e = by_check[r.expectation_config.meta["check"]]
        res = r.result or {}
        exc = (r.exception_info or {}).get("exception_message") if r.exception_info else None
        if isinstance(r.exception_info, dict) and not r.exception_info.get("raised_exception"):
            exc = None
        check = e["meta"]["check"]
        outcomes.append(
            CheckOutcome(
                suite=name,
                check=check,
                expectation_type=e["type"],
                severity=e.get("severity", "critical"),
                success=bool(r.success),
                description=e["meta"].get("description", ""),
                element_count=res.get("element_count"),
                unexpected_count=res.get("unexpected_count"),
                unexpected_sample=_jsonable(res.get("partial_unexpected_list") or [])[:20],
                observed=None if res.get("observed_value") is None else str(_jsonable(res.get("observed_value")))[:500],
                exception=exc,
            )
        )
    return outcomes


# Rows handed to Great Expectations at a time. GE holds a view in pandas with Decimal objects
# (~1.6 MB per 1,000 rows); validating in chunks keeps the gate's memory independent of the
# warehouse's size. Each chunk costs ~0.2 s of GE overhead per suite: 20,000 rows measured
# 446 / 582 / 625 MB for the gate at 100 / 500 / 2,000 synthetic documents (50,000: 447 / – / 860).
DEFAULT_CHUNK_ROWS = 20_000


def chunk_rows() -> int:
    return int(os.environ.get("BUDGETWH_GATE_CHUNK_ROWS") or DEFAULT_CHUNK_ROWS)


def uniqueness_key(name: str) -> list[str]:
    """The columns a suite requires to be unique together (at most one such expectation per suite)."""
    keys = [
        e["kwargs"].get("column_list") or [e["kwargs"]["column"]]
        for e in load_suite(name)["expectations"]
        if e["type"] in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique")
    ]
    if len(keys) > 1:
        raise ValueError(f"suite {name}: chunked validation supports one uniqueness expectation, found {keys}")
    return keys[0] if keys else []


def view_chunks(con: duckdb.DuckDBPyConnection, view: str, key: list[str], rows: int):
    """The view as pandas frames of about ``rows`` rows each (amounts as exact Decimals).

    With a uniqueness ``key`` the view is evaluated once into a temporary table and split into
    k = ceil(rows of the view / ``rows``) chunks by ``hash(key) % k``: rows that share a key are
    always in the same chunk, so a uniqueness expectation holds on every chunk exactly when it
    holds on the view. Without a key the view is streamed in batches. An empty view gives one
    empty frame with the view's columns.
    """
    if not key:
        reader = con.sql(f"SELECT * FROM {view}").to_arrow_reader(rows)
        emitted = False
        for batch in reader:
            emitted = True
            yield batch.to_pandas()
        if not emitted:
            yield reader.schema.empty_table().to_pandas()
        return
    scratch = f"__gate_{view}"
    execute_with_headroom(con, f"CREATE OR REPLACE TEMP TABLE {scratch} AS SELECT * FROM {view}")
    try:
        total = con.execute(f"SELECT count(*) FROM temp.{scratch}").fetchone()[0]
        chunks = max(1, -(-total // rows))
        for part in range(chunks):
            where = f"WHERE hash({', '.join(key)}) % {chunks} = {part}" if chunks > 1 else ""
            table = con.sql(f"SELECT * FROM temp.{scratch} {where}").arrow().read_all()
            if table.num_rows or chunks == 1:  # a hash value no key took gives no chunk
                yield table.to_pandas()
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.{scratch}")


def merge_chunk_outcomes(chunks: list[list[CheckOutcome]]) -> list[CheckOutcome]:
    """One outcome per expectation from its outcomes on every chunk: it succeeds when it succeeded
    on all; rows and unexpected rows are summed; samples are kept up to 20."""
    merged: list[CheckOutcome] = []
    for per_check in zip(*chunks, strict=True):
        first = per_check[0]
        failing = [o for o in per_check if not o.success]
        counts = [o.element_count for o in per_check if o.element_count is not None]
        unexpected = [o.unexpected_count for o in per_check if o.unexpected_count is not None]
        sample = [v for o in failing for v in o.unexpected_sample][:20]
        merged.append(
            replace(  # suite, check, type, severity and description are the same on every chunk
                first,
                success=not failing,
                element_count=sum(counts) if counts else None,
                unexpected_count=sum(unexpected) if unexpected else None,
                unexpected_sample=sample,
                observed=(failing[0] if failing else first).observed,
                exception=next((o.exception for o in per_check if o.exception), None),
            )
        )
    return merged


def validate_view(con: duckdb.DuckDBPyConnection, name: str, rows: int | None = None) -> list[CheckOutcome]:
    """Suite ``name`` on the view of that name, chunk by chunk."""
    outcomes = []
    for frame in view_chunks(con, name, uniqueness_key(name), rows or chunk_rows()):
        chunk = validate_frame(name, frame)
        outcomes.append(sorted(chunk, key=lambda o: o.check))
        del frame
    order = [c["check"] for c in suite_checks(name)]
    return sorted(merge_chunk_outcomes(outcomes), key=lambda o: order.index(o.check))


# DuckDB's share of the gate: the views are evaluated under this cap (spilling to a scratch folder
# beyond it), so a larger warehouse costs disk and time, not memory.
GATE_MEMORY_LIMIT = "64MB"


def validate_warehouse(db_path: Path, *, rows: int | None = None) -> dict[str, list[CheckOutcome]]:
    """Every suite against the view of the same name in the DuckDB file ``db_path``."""
    _wait_for_preload()  # before this thread imports pyarrow and pandas, which GE's import loads too
    with capped_connection(db_path, GATE_MEMORY_LIMIT) as con:
        views = view_names(con)
        out: dict[str, list[CheckOutcome]] = {}
        for name in suite_names():
            if name not in views:
                out[name] = [
                    CheckOutcome(name, c["check"], "view_exists", c["severity"], False, c["description"],
                                 exception=f"the view '{name}' does not exist")
                    for c in suite_checks(name)
                ]  # fmt: skip
                continue
            out[name] = validate_view(con, name, rows)
        return out


def blocking_failures(outcomes: dict[str, list[CheckOutcome]]) -> list[CheckOutcome]:
    return [o for results in outcomes.values() for o in results if o.blocks_publish]


def save_outcomes(path: Path, outcomes: dict[str, list[CheckOutcome]]) -> None:
    # Atomic: an overlapping run may read the outcomes of a warehouse it finds current.
    atomic_write_text(
        path, json.dumps({k: [asdict(o) for o in v] for k, v in outcomes.items()}, ensure_ascii=False, indent=1)
    )


def load_outcomes(path: Path) -> dict[str, list[CheckOutcome]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: [CheckOutcome(**o) for o in v] for k, v in data.items()}
