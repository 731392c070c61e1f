"""Great Expectations suites (``expectations/<view>.json``, one per public view) and their
evaluation on a frame of rows.

Expectations of severity ``critical`` guard the contract (columns, types, value sets, code
formats, unique keys): one failing blocks publishing and the previous warehouse stays. ``warning``
expectations report publisher defects (the identity rules' FAIL rows): the data loads and the
finding is shown. GE is imported lazily (it takes seconds) and runs in an ephemeral context; it
has no Polars support, so it receives pandas frames. Where the rows come from is the gate's
business (``pipelines.publish.gate``)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path

from pipelines.validate import ge_memo

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"


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
    _read_configuration_once_per_call()
    ge_memo.install()
    return ctx, source


# The Great Expectations release whose ``Expectation`` helpers ``_read_configuration_once_per_call``
# replaces with the same code (pyproject.toml pins it; another release keeps its own helpers).
_HELPERS_OF_RELEASE = "1.24.1"


def _read_configuration_once_per_call() -> None:
    """GE's ``Expectation._get_domain_kwargs`` / ``_get_success_kwargs`` read
    ``self.configuration.kwargs`` once per key, and ``configuration`` rebuilds the expectation's
    whole configuration from its pydantic model each time: ~15,000 rebuilds for the 214
    expectations of a one-document gate, a third of its time. The same helpers, reading the
    configuration once per call: the same values (nothing changes the model in between), the same
    errors."""
    import great_expectations as gx
    from great_expectations.exceptions import InvalidExpectationKwargsError
    from great_expectations.expectations import expectation as expectation_module
    from great_expectations.expectations.expectation import Expectation

    if gx.__version__ != _HELPERS_OF_RELEASE or getattr(Expectation, "_budgetwh_helpers", False):
        return

    def _get_domain_kwargs(self) -> dict:
        kwargs = self.configuration.kwargs
        domain_kwargs = {key: kwargs.get(key, self._get_default_value(key)) for key in self.domain_keys}
        missing_kwargs = set(self.domain_keys) - set(domain_kwargs.keys())
        if missing_kwargs:
            raise InvalidExpectationKwargsError(f"Missing domain kwargs: {list(missing_kwargs)}")
        return domain_kwargs

    def _get_success_kwargs(self) -> dict:
        domain_kwargs = self._get_domain_kwargs()
        kwargs = self.configuration.kwargs
        success_kwargs = {key: kwargs.get(key, self._get_default_value(key)) for key in self.success_keys}
        success_kwargs.update(domain_kwargs)
        return success_kwargs

    def _get_runtime_kwargs(self, runtime_configuration: dict | None = None) -> dict:
        runtime_configuration = runtime_configuration or {}
        success_kwargs = self._get_success_kwargs()
        kwargs = self.configuration.kwargs

        def success_kwarg(key: str):  # ``_get_success_kwarg(key)``, with the configuration read above
            if key in kwargs:
                return kwargs[key]
            field = self.__fields__.get(key)
            if field is not None:
                return field.default if not field.required else None
            return self._get_success_kwarg(key)  # an unknown key: GE's own warning, and None

        runtime_kwargs = {key: runtime_configuration.get(key, success_kwarg(key)) for key in self.runtime_keys}
        runtime_kwargs.update(success_kwargs)
        runtime_kwargs["result_format"] = expectation_module.parse_result_format(runtime_kwargs["result_format"])
        return runtime_kwargs

    Expectation._get_domain_kwargs = _get_domain_kwargs
    Expectation._get_success_kwargs = _get_success_kwargs
    Expectation._get_runtime_kwargs = _get_runtime_kwargs
    Expectation._budgetwh_helpers = True


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


def wait_for_preload() -> None:
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


# Expectations whose rows counted (``element_count``) are all the frame's rows when they hold no
# row condition, and whose unexpected rows are none when they pass (no ``mostly`` in the suites).
# Other types (a table's columns) report no row count.
_COLUMN_MAP_TYPES = frozenset(
    {
        "expect_column_value_lengths_to_equal",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_not_match_regex",
        "expect_compound_columns_to_be_unique",
    }
)


def _counts_of_a_pass(expectation: dict, frame, condition_rows: dict[str, int | None]) -> dict:
    """What GE's SUMMARY format reports for a passing column-map expectation, known without it:
    every row of its domain counted (the frame's rows, or those its pandas ``row_condition``
    selects, as GE selects them), none unexpected. Nothing for other types (a table's columns)."""
    kwargs = expectation.get("kwargs") or {}
    if expectation["type"] not in _COLUMN_MAP_TYPES or "mostly" in kwargs:
        return {}
    condition = kwargs.get("row_condition")
    if not condition:
        return {"element_count": len(frame), "unexpected_count": 0}
    if kwargs.get("condition_parser") != "pandas":
        return {}
    if condition not in condition_rows:  # expectations of a suite share conditions: each is counted once
        try:
            condition_rows[condition] = len(frame.query(condition, parser="pandas"))
        except Exception:  # GE evaluated the condition; a count we cannot reproduce is left out
            condition_rows[condition] = None
    rows = condition_rows[condition]
    return {} if rows is None else {"element_count": rows, "unexpected_count": 0}


def _run(name: str, frame, result_format: str):
    """The suite's validation on ``frame``: what ``ValidationDefinition.run`` does, less keeping
    the result in the ephemeral context's store (nobody reads it; serializing it cost ~10 % of the
    gate) and its freshness check of definitions registered once here."""
    from great_expectations.validator.v1_validator import Validator

    definition = _validation(name)
    validator = Validator(
        batch_definition=definition.batch_definition,
        batch_parameters={"dataframe": frame},
        result_format=result_format,
    )
    with ge_memo.suite_validation() as memo:  # each configuration and row condition computed once
        result = validator.validate_expectation_suite(definition.suite)
    return result, ge_memo.condition_rows(memo, len(frame))


def validate_frame(name: str, frame) -> list[CheckOutcome]:
    """Run suite ``name`` on a pandas DataFrame.

    GE's ``BOOLEAN_ONLY`` result format costs about half of ``SUMMARY`` (no unexpected counts,
    samples or observed values to compute, ~5 ms per expectation instead of ~10 on small frames);
    whether an expectation holds is the same in both. The suite runs with it first; only when an
    expectation fails does it run again with ``SUMMARY``, for the numbers a person needs (counts,
    sample, observed value). A passing expectation reports the counts known exactly without them
    (``_counts_of_a_pass``), and no observed value, whichever format ran."""
    wait_for_preload()
    spec = load_suite(name)
    result, selected = _run(name, frame, "BOOLEAN_ONLY")
    summarized = not result.success
    if summarized:
        result, selected = _run(name, frame, "SUMMARY")
    by_check = {e["meta"]["check"]: e for e in spec["expectations"]}
    # the rows GE's filter selected for each row condition; one it did not apply is counted here
    condition_rows: dict[str, int | None] = dict(selected)
    outcomes = []
    for r in result.results:  # GE does not keep the suite's order: match results by their check name
        e = by_check[r.expectation_config.meta["check"]]
        # a pass reports the same numbers whichever format ran: chunked and whole validation agree
        res = _counts_of_a_pass(e, frame, condition_rows) if r.success else (r.result or {})
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


def blocking_failures(outcomes: dict[str, list[CheckOutcome]]) -> list[CheckOutcome]:
    return [o for results in outcomes.values() for o in results if o.blocks_publish]
