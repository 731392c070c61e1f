"""Source documents: one dynamic partition per registered file, parsed into the lake.

A run materializes many partitions at once (single-run backfill policy), so a nightly batch of a
hundred new files is one run, and each partition still records its own state (loaded,
quarantined with the reason, unchanged) in its materialization metadata.
"""

import time
import warnings

import dagster as dg

from assets.resources import WarehouseResource
from pipelines.publish.gate_process import gate_process_running
from pipelines.publish.warehouse import prepare_candidate_schema
from pipelines.run.limits import current_budget
from pipelines.run.pool import default_workers, parse_entries
from pipelines.run.progress import ParseProgress
from pipelines.validate.expectations import preload_quality_engine

documents_partitions = dg.DynamicPartitionsDefinition(name="documents")

# The single-run backfill policy is marked beta; it is what makes one run cover many documents.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")


def _preview(doc: dict) -> str:
    counts = doc.get("row_counts") or {}
    lines = [
        f"**{doc.get('unit_name') or '(unit unknown)'}** {doc.get('fiscal_year') or ''} "
        f"{doc.get('doc_kind') or ''} {doc.get('scope') or ''}",
        "",
        f"status: `{doc.get('status')}`" + (f" — {doc.get('error')}" if doc.get("error") else ""),
        "",
        "| table | rows |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in sorted(counts.items())]
    notes = doc.get("notes") or []
    if notes:
        lines += ["", "Cells not loaded:", *[f"- {n}" for n in notes[:10]]]
    return "\n".join(lines)


def _meanwhile(warehouse: WarehouseResource) -> None:
    """While the documents are parsed: load Great Expectations for the gate, unless the gate's own
    process (``pipelines/publish/gate_process.py``) has it already: then this process needs none;
    and for a warehouse not yet published, make its first candidate's schema."""
    if not gate_process_running():
        preload_quality_engine()
    prepare_candidate_schema(warehouse.warehouse_path)


class ParseConfig(dg.Config):
    """``workers``: parsing processes (0: ``BUDGETWH_WORKERS`` or one per CPU). ``doc_timeout_s`` /
    ``doc_memory_mb``: the per-document budget (-1: ``BUDGETWH_DOC_TIMEOUT`` /
    ``BUDGETWH_DOC_MEMORY_MB`` or the defaults; 0: no limit). ``dask_scheduler``: the address of a
    Dask scheduler to parse on (empty: ``BUDGETWH_DASK_SCHEDULER``, else the local processes)."""

    workers: int = 0
    doc_timeout_s: float = -1
    doc_memory_mb: int = -1
    dask_scheduler: str = ""


@dg.asset(
    partitions_def=documents_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"pdf", "polars"},
    description="Each source file (PDF or text extraction) read, classified and recognized into "
    "per-document fact frames in the lake. Bad files are quarantined with a reason.",
)
def source_documents(context: dg.AssetExecutionContext, config: ParseConfig, warehouse: WarehouseResource) -> None:
    lake = warehouse.lake
    lake.clean_stale_temp()  # leftovers of a run that was killed
    by_key = lake.by_partition_key()
    entries = []
    for key in context.partition_keys:
        if key in by_key:
            entries.append(by_key[key])
        else:
            context.add_asset_metadata({"status": "not registered in this warehouse"}, partition_key=key)
    workers = config.workers or default_workers()
    started = time.perf_counter()
    parsed_n = skipped_n = 0
    progress = ParseProgress(len(entries), sum(e.size for e in entries), context.log.info)
    budget = current_budget(
        None if config.doc_timeout_s < 0 else config.doc_timeout_s,
        None if config.doc_memory_mb < 0 else config.doc_memory_mb,
    )
    for outcome in parse_entries(
        lake,
        entries,
        workers,
        while_parsing=lambda: _meanwhile(warehouse),
        budget=budget,
        scheduler=config.dask_scheduler or None,
    ):
        entry, doc = outcome.entry, outcome.document
        progress.advance(pages=doc.get("page_count") or 0, size=entry.size, parsed=outcome.parsed_status is not None)
        if outcome.parsed_status is None:
            skipped_n += 1
            state = "duplicate" if doc.get("duplicate_of") else "unchanged"
        else:
            parsed_n += 1
            state = outcome.parsed_status
            if state == "quarantined":
                context.log.warning(f"{entry.source_file}: quarantined: {outcome.parsed_error}")
        context.add_asset_metadata(
            {
                "status": state,
                "document_status": doc.get("status", ""),
                "source_file": entry.source_file,
                "doc_id": entry.doc_id,
                "unit_name": doc.get("unit_name") or "",
                "fiscal_year": doc.get("fiscal_year") or 0,
                "doc_kind": doc.get("doc_kind") or "",
                "pages": doc.get("page_count") or 0,
                "parse_seconds": doc.get("parse_seconds") or 0.0,
                "reason": doc.get("error") or "",
                "preview": dg.MetadataValue.md(_preview(doc)),
            },
            partition_key=entry.partition_key,
        )
    seconds = time.perf_counter() - started
    context.log.info(f"parsed {parsed_n} document(s) with {workers} worker(s) in {seconds:.1f}s, {skipped_n} unchanged")
