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

- ``registry.get_metric_kwargs`` builds a new expectation object from its configuration
  (``ExpectationConfiguration.to_domain_obj``, pydantic validation) and its runtime kwargs for each
  metric it is asked about: 1,268 times, ~0.4 s. Within one validation a configuration is the same
  object (above) and is not changed, so its expectation object is built once (and only read
  there), and the kwargs of a (metric, configuration, runtime configuration) are computed once;
  each caller gets its own dicts.
- ``IDDict.to_id`` (a metric configuration's id) converts the kwargs to JSON and hashes them: 8,242
  times, ~0.4 s, for a few hundred distinct kwargs. Within one validation the id of equal kwargs
  (the same keys, and values of the same types with the same ``repr``) is computed once.

All five are active only inside ``suite_validation`` in the thread that entered it (elsewhere GE
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
    """Wrap the five methods once per process (a no-op on another GE release)."""
    import great_expectations as gx
    from great_expectations.core.id_dict import IDDict
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine
    from great_expectations.expectations import expectation as expectation_module
    from great_expectations.expectations import registry
    from great_expectations.expectations.core import expect_column_values_to_be_in_type_list as in_type_list_module
    from great_expectations.expectations.core import expect_column_values_to_be_of_type as of_type_module
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    if gx.__version__ != MEMO_RELEASE or getattr(Expectation, "_budgetwh_memo", False):
        return
    build_configuration = Expectation.configuration.fget
    apply_row_condition = PandasExecutionEngine._apply_row_condition_filter

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

    def get_metric_kwargs(metric_name, configuration=None, runtime_configuration=None):
        memo = _memo()
        runtime = _plain_key(runtime_configuration)
        if memo is None or configuration is None or runtime is None:
            return compute_metric_kwargs(metric_name, configuration, runtime_configuration)
        key = ("metric_kwargs", metric_name, id(configuration), runtime)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = (configuration, compute_metric_kwargs(metric_name, configuration, runtime_configuration))
        return {k: IDDict(v) if isinstance(v, IDDict) else v for k, v in hit[1].items()}  # the caller's own dicts

    def to_id(self, id_keys=None, id_ignore_keys=None):
        memo = _memo()
        content = None if memo is None or id_keys is not None or id_ignore_keys is not None else _plain_key(self)
        if content is None:
            return compute_id(self, id_keys, id_ignore_keys)
        key = ("id", type(self), content)
        if key not in memo:
            memo[key] = compute_id(self)
        return memo[key]

    ExpectationConfiguration.to_domain_obj = _once_per_object("domain_obj", ExpectationConfiguration.to_domain_obj)
    compute_metric_kwargs = registry.get_metric_kwargs
    compute_id = IDDict.to_id
    for module in (registry, expectation_module, of_type_module, in_type_list_module):
        module.get_metric_kwargs = get_metric_kwargs
    IDDict.to_id = to_id
    Expectation.configuration = property(
        _once_per_object("configuration", build_configuration), doc=Expectation.configuration.__doc__
    )
    PandasExecutionEngine._apply_row_condition_filter = _apply_row_condition_filter
    Expectation._budgetwh_memo = True


def _once_per_object(kind: str, build):
    """``build(obj)`` computed once per object inside a suite validation (as shipped elsewhere)."""

    def once(obj):
        memo = _memo()
        if memo is None:
            return build(obj)
        key = (kind, id(obj))
        hit = memo.get(key)
        if hit is None:  # the object is kept with its entry: its id cannot be reused meanwhile
            hit = memo[key] = (obj, build(obj))
        return hit[1]

    return once


_PLAIN = (str, int, float, bool, type(None))


def _plain_key(value):
    """A hashable key equal for equal plain values (dicts, lists and tuples of strings, numbers,
    booleans and None; each with its type, so 1, 1.0 and True differ); None for anything else."""
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            part = _plain_key(v)
            if part is None or not isinstance(k, str):
                return None
            items.append((k, part))
        return (type(value).__name__, tuple(sorted(items)))
    if isinstance(value, (list, tuple)):
        parts = tuple(_plain_key(v) for v in value)
        return None if any(p is None for p in parts) else (type(value).__name__, parts)
    if type(value) in _PLAIN:
        return (type(value).__name__, value)
    return None


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
def suite_validation() -> Iterator[dict]:
    """Within this block (one suite's validation on one frame), in this thread: each
    expectation's configuration, expectation object, metric kwargs, metric id and each row
    condition's rows computed once. Yields the memo (``condition_rows`` reads it afterwards)."""
    outer = _memo()
    _active.memo = {} if outer is None else outer
    try:
        yield _active.memo
    finally:
        _active.memo = outer


def condition_rows(memo: dict, frame_rows: int) -> dict[str, int]:
    """The rows each pandas row condition selected in a validation of a frame of ``frame_rows``
    rows, as GE filtered them (``_apply_row_condition_filter`` above): a passing expectation's
    counts without filtering the frame again."""
    found = {}
    for key, hit in memo.items():
        if key[0] != "rows" or key[3] != "pandas" or len(hit[0]) != frame_rows:
            continue
        kind, _, text = key[2].partition(":")
        condition = text if kind in ("str", "pass") else json.loads(text).get("pass_through_filter")
        if isinstance(condition, str):  # GE 1.24 hands a string condition on as a pass-through filter
            found[condition] = len(hit[1])
    return found
