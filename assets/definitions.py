"""All Dagster definitions of budgetwh: assets grouped as ingest → facts → warehouse."""

import dagster as dg

from assets.automation import inbox_sensor, nightly_ingest
from assets.documents import source_documents
from assets.facts import fact_tables, warehouse_db
from assets.resources import WarehouseResource

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(source_documents, fact_tables, warehouse_db),
    description="Parse the selected document partitions, rebuild the fact tables and publish the warehouse.",
)
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.assets(fact_tables, warehouse_db),
    description="Rebuild the fact tables and the warehouse from the lake without parsing anything.",
)

defs = dg.Definitions(
    assets=[source_documents, fact_tables, warehouse_db],
    jobs=[ingest_job, publish_job],
    schedules=[nightly_ingest],
    sensors=[inbox_sensor],
    resources={"warehouse": WarehouseResource()},
)
