"""Operational checks the nightly runs report in the UI: is the published warehouse the lake's
current state, and which documents could not be loaded (with the reason).

Each is a real Dagster asset check, but evaluated inside the step of the asset it checks (the
specs are in ``fact_tables``' and ``warehouse_db``'s ``check_specs``): a check of its own would be a
step of its own, with its start, resources, output and success events and Dagster's set-up of a
step, for a few milliseconds of work (a small run's fixed cost; issue 14)."""

from __future__ import annotations

import dagster as dg

from assets.resources import WarehouseResource
from pipelines.publish.combine import built_fingerprint, read_table
from pipelines.publish.warehouse import read_meta, row_counts

WAREHOUSE_IS_CURRENT = dg.AssetCheckSpec(
    name="warehouse_is_current",
    asset="warehouse_db",
    description="The published DuckDB file was built from the lake's current state and every public view answers.",
)
NO_DOCUMENT_QUARANTINED = dg.AssetCheckSpec(
    name="no_document_quarantined",
    asset="documents",
    description="Lists the documents that could not be loaded, each with its reason (a warning: the run goes on).",
)


def warehouse_is_current(warehouse: WarehouseResource, views: dict[str, int] | None = None) -> dg.AssetCheckResult:
    """``views``: the published file's row counts when the caller read them already."""
    lake = warehouse.lake
    built = built_fingerprint(lake)
    published = read_meta(warehouse.warehouse_path, "lake_fingerprint")
    views = row_counts(warehouse.warehouse_path) if views is None else views
    return dg.AssetCheckResult(
        asset_key=WAREHOUSE_IS_CURRENT.asset_key,
        check_name=WAREHOUSE_IS_CURRENT.name,
        passed=bool(published) and published == built == lake.fingerprint() and "documents" in views,
        metadata={"lake_fingerprint": built or "", "published_fingerprint": published or "", "views": len(views)},
    )


def no_document_quarantined(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    docs = read_table(warehouse.lake, "doc_document")
    bad = docs.filter(docs["status"] == "quarantined")
    lines = [f"- {src.rsplit('/', 1)[-1]}: {err}" for src, err in bad.select("source_file", "error").iter_rows()]
    return dg.AssetCheckResult(
        asset_key=NO_DOCUMENT_QUARANTINED.asset_key,
        check_name=NO_DOCUMENT_QUARANTINED.name,
        passed=bad.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined": bad.height,
            "loaded": docs.filter(docs["status"] == "loaded").height,
            "superseded": docs.filter(docs["status"] == "superseded").height,
            "reasons": dg.MetadataValue.md("\n".join(lines) or "none"),
        },
    )
