"""The quality gate: Great Expectations suites (``expectations/<view>.json``, one per public view)
run against the candidate warehouse before it is published.

Expectations of severity ``critical`` guard the contract (columns, types, value sets, code
formats, unique keys): one failing blocks publishing and the previous warehouse stays. ``warning``
expectations report publisher defects (the identity rules' FAIL rows): the data loads and the
finding is shown. GE is imported lazily (it takes seconds) and runs in an ephemeral context; it
has no Polars support, so it receives pandas frames.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb

from pipelines.lake import atomic_write_text
from pipelines.warehouse import capped_connection, execute_with_headroom, sql_string, view_names

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


# Rows handed to Great Expectations at a time, so that the gate's memory does not grow with the
# warehouse. A chunk is small in pandas (~3 MB per 10,000 func_amounts rows); what grows with the
# number of chunks is freed memory the allocators keep, so it is handed back after every chunk.
# Each chunk costs ~0.2–0.3 s of GE overhead per suite. Measured on the N = 2,000 synthetic
# warehouse (471,656 func_amounts rows), gate alone: 20,000 rows 23 s / 631 MB peak; 10,000 rows
# 38 s / 500 MB; 5,000 rows 68 s / 458 MB.
DEFAULT_CHUNK_ROWS = 10_000


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


# The Parquet writer buffers a row group per thread: with DuckDB's default (122,880 rows) writing
# func_amounts of the N = 2,000 warehouse needs more than the gate's 64 MB cap.
SNAPSHOT_ROW_GROUP = 16_384
CHUNKS_PER_BAND = 32


def view_chunks(con: duckdb.DuckDBPyConnection, view: str, key: list[str], rows: int):
    """The view as pandas frames of about ``rows`` rows each (amounts as exact Decimals).

    With a uniqueness ``key`` the view is evaluated once, streamed into a Parquet file in a
    scratch folder, and read back in k = ceil(rows of the view / ``rows``) chunks by
    ``hash(key) % k`` (through band files of ``CHUNKS_PER_BAND`` chunks, so reading stays
    linear): rows that share a key are always in the same chunk, so a uniqueness expectation
    holds on every chunk exactly when it holds on the view. (A file, not a temporary table: that
    lives in memory up to the cap, so the gate's memory would grow with the warehouse.) Without a
    key the view is streamed in batches. An empty view gives one empty frame with the view's
    columns.
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
    with tempfile.TemporaryDirectory(prefix="budgetwh-gate-") as scratch:
        snapshot = sql_string(Path(scratch) / f"{view}.parquet")
        copy = f"COPY (SELECT * FROM {view}) TO '{snapshot}' (FORMAT parquet, ROW_GROUP_SIZE {SNAPSHOT_ROW_GROUP})"
        execute_with_headroom(con, copy)
        total = con.execute(f"SELECT count(*) FROM read_parquet('{snapshot}')").fetchone()[0]  # from metadata
        chunks = max(1, -(-total // rows))
        if chunks == 1:
            yield con.sql(f"SELECT * FROM read_parquet('{snapshot}')").arrow().read_all().to_pandas()
            return
        # Chunk numbers are read in bands: each band is copied out of the snapshot once, and its
        # chunks are read from that smaller file. One filtered scan of the whole view per chunk
        # made the gate quadratic (980 scans of 9.8 M func_canonical rows took ~6 of its 15
        # minutes); sorting by chunk instead needs more memory than the cap, even at 470,000 rows.
        tagged = f"SELECT *, hash({', '.join(key)}) % {chunks} AS __gate_chunk FROM read_parquet('{snapshot}')"
        band_file = Path(scratch) / f"{view}.band.parquet"
        band = sql_string(band_file)
        for first in range(0, chunks, CHUNKS_PER_BAND):
            last = min(first + CHUNKS_PER_BAND, chunks)
            execute_with_headroom(
                con,
                f"COPY (SELECT * FROM ({tagged}) WHERE __gate_chunk >= {first} AND __gate_chunk < {last}) "
                f"TO '{band}' (FORMAT parquet, ROW_GROUP_SIZE {SNAPSHOT_ROW_GROUP})",
            )
            for part in range(first, last):
                sql = f"SELECT * EXCLUDE (__gate_chunk) FROM read_parquet('{band}') WHERE __gate_chunk = {part}"
                table = con.sql(sql).arrow().read_all()
                if table.num_rows:  # a hash value no key took gives no chunk
                    yield table.to_pandas()
            band_file.unlink()


@cache
def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to hand back
        return None


def release_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc keeps them by default): pandas frames of
    Python objects, freed chunk after chunk, otherwise leave the process larger with every chunk."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


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
        release_freed_memory()
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
