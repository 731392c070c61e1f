"""Operational checks the nightly runs report in the UI: is the published warehouse the lake's
current state, and which documents could not be loaded (with the reason)."""

from __future__ import annotations

import dagster as dg

from assets.facts import warehouse_db
from assets.resources import WarehouseResource
from pipelines.publish.combine import built_fingerprint, read_table
from pipelines.publish.warehouse import read_meta, row_counts


@dg.asset_check(
    asset=warehouse_db,
    name="warehouse_is_current",
    description="The published DuckDB file was built from the lake's current state and every public view answers.",
)
def warehouse_is_current(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    lake = warehouse.lake
    built = built_fingerprint(lake)
    published = read_meta(warehouse.warehouse_path, "lake_fingerprint")
    views = row_counts(warehouse.warehouse_path)
    return dg.AssetCheckResult(
        passed=bool(published) and published == built == lake.fingerprint() and "documents" in views,
        metadata={"lake_fingerprint": built or "", "published_fingerprint": published or "", "views": len(views)},
    )


@dg.asset_check(
    asset="documents",
    name="no_document_quarantined",
    description="Lists the documents that could not be loaded, each with its reason (a warning: the run goes on).",
)
def no_document_quarantined(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    docs = read_table(warehouse.lake, "doc_document")
    bad = docs.filter(docs["status"] == "quarantined")
    lines = [f"- {src.rsplit('/', 1)[-1]}: {err}" for src, err in bad.select("source_file", "error").iter_rows()]
    return dg.AssetCheckResult(
        passed=bad.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined": bad.height,
            "loaded": docs.filter(docs["status"] == "loaded").height,
            "superseded": docs.filter(docs["status"] == "superseded").height,
            "reasons": dg.MetadataValue.md("\n".join(lines) or "none"),
        },
    )
