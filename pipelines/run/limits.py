"""Per-document budgets: how long one document may take to parse and how much memory its parsing
process may hold. A document over either is quarantined with a sentence saying which limit and how
far it got; its worker process is replaced and the run goes on (``pipelines/run/supervised.py``).

Set by ``budgetwh ingest --doc-timeout S --doc-memory MB``, the environment
(``BUDGETWH_DOC_TIMEOUT`` seconds, ``BUDGETWH_DOC_MEMORY_MB``) or the ``source_documents`` asset's
Dagster config; 0 turns a limit off. The defaults are far above what a real disclosure needs (the
corpus: at most 12 s and ~400 MB per document) and far below what stalls a nightly run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DOC_TIMEOUT_S = 300.0
DEFAULT_DOC_MEMORY_MB = 2048


@dataclass(frozen=True, slots=True)
class DocBudget:
    timeout_s: float = DEFAULT_DOC_TIMEOUT_S  # wall-clock seconds per document, 0: no limit
    memory_mb: int = DEFAULT_DOC_MEMORY_MB  # resident memory of the parsing process, 0: no limit

    @property
    def enabled(self) -> bool:
        return self.timeout_s > 0 or self.memory_mb > 0

    def covers(self, recorded: dict) -> bool:
        """Whether this budget is no larger than the one a document was stopped by (so parsing it
        again would stop it again)."""
        if recorded.get("limit") == "time":
            return 0 < self.timeout_s <= float(recorded.get("timeout_s") or 0)
        if recorded.get("limit") == "memory":
            return 0 < self.memory_mb <= int(recorded.get("memory_mb") or 0)
        return True


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number") from exc


def current_budget(timeout_s: float | None = None, memory_mb: int | None = None) -> DocBudget:
    """The budget given (None: ``BUDGETWH_DOC_TIMEOUT`` / ``BUDGETWH_DOC_MEMORY_MB``, else the defaults)."""
    return DocBudget(
        timeout_s=_number("BUDGETWH_DOC_TIMEOUT", DEFAULT_DOC_TIMEOUT_S) if timeout_s is None else timeout_s,
        memory_mb=int(_number("BUDGETWH_DOC_MEMORY_MB", DEFAULT_DOC_MEMORY_MB)) if memory_mb is None else memory_mb,
    )
