"""Two things Great Expectations 1.24.1 recomputes many times within one suite's validation,
computed once per validation instead (``suite_validation``): the same values, the same
expectations run, only fewer rebuilds.

- ``Expectation.configuration`` builds an ``ExpectationConfiguration`` from the expectation's
  pydantic model on every access (``self.dict()``, then a new pydantic object): ~7,300 times for
  the 214 expectations of a one-document gate, ~0.75 s. A validation works on expectation objects
  it makes for itself (``Validator.graph_validate`` builds each from a deep copy of its
  configuration) and never changes them, so within one validation each one's configuration is
  built once.
- ``PandasExecutionEngine._apply_row_condition_filter`` runs ``DataFrame.query`` for each metric of
  each expectation with a ``row_condition``: 180 queries for ~30 distinct conditions, ~0.8 s.
  Within one validation the batch's frame is the same object and is not changed, so each
  condition is applied to it once and the filtered frame reused.

Both are active only inside ``suite_validation`` in the thread that entered it (elsewhere GE
behaves as shipped), and only on the pinned release: another one keeps its own code.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator

# The release whose methods are wrapped here (pyproject.toml pins it).
MEMO_RELEASE = "1.24.1"

_active = threading.local()


def _memo() -> dict | None:
    return getattr(_active, "memo", None)


def install() -> None:
    """Wrap the two methods once per process (a no-op on another GE release)."""
    import great_expectations as gx
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import Expectation

    if gx.__version__ != MEMO_RELEASE or getattr(Expectation, "_budgetwh_memo", False):
        return
    build_configuration = Expectation.configuration.fget
    apply_row_condition = PandasExecutionEngine._apply_row_condition_filter

    def configuration(self):
        memo = _memo()
        if memo is None:
            return build_configuration(self)
        key = ("configuration", id(self))
        hit = memo.get(key)
        if hit is None:  # the object is kept with its entry: its id cannot be reused meanwhile
            hit = memo[key] = (self, build_configuration(self))
        return hit[1]

    def _apply_row_condition_filter(self, data, row_condition, domain_kwargs):
        memo = _memo()
        condition = _condition_key(row_condition)
        if memo is None or condition is None:
            return apply_row_condition(self, data, row_condition, domain_kwargs)
        key = ("rows", id(data), condition, domain_kwargs.get("condition_parser"))
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = (data, apply_row_condition(self, data, row_condition, domain_kwargs))
        return hit[1]

    Expectation.configuration = property(configuration, doc=Expectation.configuration.__doc__)
    PandasExecutionEngine._apply_row_condition_filter = _apply_row_condition_filter
    Expectation._budgetwh_memo = True


def _condition_key(row_condition) -> str | None:
    """What identifies a row condition as GE applies it (a string, its dict form, or a pass-through
    filter); None for another kind, which is applied each time as shipped."""
    from great_expectations.expectations.row_conditions import PassThroughCondition

    if isinstance(row_condition, str):
        return "str:" + row_condition
    if isinstance(row_condition, PassThroughCondition):
        return "pass:" + row_condition.pass_through_filter
    if isinstance(row_condition, dict):
        return "dict:" + json.dumps(row_condition, sort_keys=True, default=str)
    return None


@contextlib.contextmanager
def suite_validation() -> Iterator[None]:
    """Within this block (one suite's validation on one frame), in this thread: each
    expectation's configuration and each row condition's rows computed once."""
    outer = _memo()
    _active.memo = {} if outer is None else outer
    try:
        yield
    finally:
        _active.memo = outer
