"""What a run did, for the person who started it: documents, rows, findings, failed checks; and
the no-op night that needs no run at all."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.publish.lake import Lake, SourceEntry
from pipelines.run.sources import document_for, iter_source_files, register_sources

# ---------------------------------------------------------------------------------------------
# What a run did, for the person who started it


@dataclass
class IngestResult:
    success: bool
    warehouse: Path
    job_name: str
    run_id: str
    seconds: float
    documents: list[dict] = field(default_factory=list)  # this call's files, with their state
    views: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)  # expectations that did not pass
    report: Path | None = None
    error: str | None = None

    @property
    def quarantined(self) -> list[dict]:
        return [d for d in self.documents if d["status"] == "quarantined"]

    def summary(self) -> str:
        loaded = [d for d in self.documents if d["status"] == "loaded" and d["parsed_now"]]
        unchanged = [d for d in self.documents if d["status"] == "loaded" and not d["parsed_now"]]
        superseded = [d for d in self.documents if d["status"] == "superseded"]
        duplicates = [d for d in self.documents if d["status"] == "duplicate"]
        counts = f"{len(loaded)} loaded, {len(unchanged)} unchanged, {len(self.quarantined)} quarantined"
        if duplicates:
            counts += f", {len(duplicates)} duplicate"
        if self.job_name == NOTHING_NEW:
            head = (
                f"budgetwh ingest: nothing new — every file is current and the warehouse is up to date "
                f"(checked in {self.seconds:.1f}s, no run launched) → {self.warehouse}"
            )
        else:
            head = (
                f"budgetwh ingest: run {self.run_id[:8]} ({self.job_name}) "
                f"{'succeeded' if self.success else 'FAILED'} in {self.seconds:.1f}s → {self.warehouse}"
            )
        lines = [
            head,
            f"documents: {counts}" + (f", {len(superseded)} superseded" if superseded else ""),
        ]
        for d in self.quarantined:
            lines.append(f"  quarantined {Path(d['source_file']).name}: {d['error']}")
        for d in duplicates:
            lines.append(f"  duplicate {Path(d['source_file']).name}: {d['error']}")
        for d in superseded:
            lines.append(f"  superseded {Path(d['source_file']).name}: a newer version of it is loaded")
        if self.views:
            lines.append("rows: " + ", ".join(f"{k} {v}" for k, v in self.views.items()))
        if self.findings:
            lines.append("quality findings: " + ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())))
        for check in self.failed_checks:
            lines.append(f"  check {check}")
        if self.report:
            lines.append(f"quality report: {self.report}")
        if self.error:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)


def _current_statuses(warehouse: Path) -> dict[str, str]:
    """doc_id → status as published (a loaded version may since have been superseded)."""
    from pipelines.publish.warehouse import run_query

    if not warehouse.exists():
        return {}
    try:
        return dict(run_query(warehouse, "SELECT doc_id, status FROM documents")[1])
    except Exception:  # an old warehouse without the view: fall back to the lake's statuses
        return {}


def summarize(
    lake: Lake,
    warehouse: Path,
    entries: list[SourceEntry],
    parsed_before: dict[str, str | None],
    *,
    success: bool,
    job_name: str,
    run_id: str,
    seconds: float,
    error: str | None = None,
) -> IngestResult:
    """The state of this call's files, the published views and the checks after a run."""
    from pipelines.publish.combine import tables_dir
    from pipelines.publish.gate import load_outcomes
    from pipelines.publish.warehouse import finding_counts, row_counts

    docs = []
    statuses = _current_statuses(warehouse)
    for e in entries:
        doc = document_for(lake, e)
        doc_id = doc.get("doc_id", e.doc_id)
        docs.append(
            {
                "source_file": e.source_file,
                "doc_id": doc_id,
                "status": statuses.get(doc_id) or doc.get("status", "not parsed"),
                "error": doc.get("error"),
                "parsed_now": parsed_before.get(e.source_file) != doc.get("parsed_at"),
            }
        )
    outcomes = load_outcomes(tables_dir(lake) / "_validation.json")
    failed_checks = [
        f"{'BLOCKED PUBLISH' if o.blocks_publish else 'warning'}: {o.summary()}"
        for results in outcomes.values()
        for o in results
        if not o.success
    ]
    report = warehouse.parent / "reports" / "latest.html"
    views: dict[str, int] = {}
    findings: dict[str, int] = {}
    if warehouse.exists():
        views = row_counts(warehouse)
        findings = finding_counts(warehouse)  # recorded when the warehouse was built
    return IngestResult(
        success=success, warehouse=warehouse, job_name=job_name, run_id=run_id, seconds=seconds, documents=docs,
        views=views, findings=findings, error=error, failed_checks=failed_checks,
        report=report if report.exists() else None,
    )  # fmt: skip


NOTHING_NEW = "nothing new"


def ingest_if_nothing_new(paths: list[Path], warehouse: Path) -> IngestResult | None:
    """The no-op night, without starting Dagster: when every file is registered with bytes and
    parser version already in the lake, and the warehouse was built from exactly this lake, there
    is nothing to parse and nothing to publish. Returns the summary, or None when there is work
    (then the job runs)."""
    from pipelines.publish.combine import built_fingerprint
    from pipelines.publish.lake import lake_dir_for
    from pipelines.publish.warehouse import read_meta

    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    lake_root = lake_dir_for(warehouse)
    if not warehouse.exists() or not lake_root.exists():
        return None
    lake = Lake(lake_root)
    registration = register_sources(lake, iter_source_files(paths))
    if registration.new_keys:
        return None
    built = built_fingerprint(lake)
    if not built or built != lake.fingerprint() or read_meta(warehouse, "lake_fingerprint") != built:
        return None
    entries = registration.entries
    before = {e.source_file: document_for(lake, e).get("parsed_at") for e in entries}
    return summarize(
        lake, warehouse, entries, before, success=True, job_name=NOTHING_NEW, run_id="",
        seconds=time.perf_counter() - started,
    )  # fmt: skip
